"""The package's floors, computed from the code's own imports (every ``import`` statement,
function-level ones included), so a new upward import or cycle fails here.

The floors, bottom-up (``docs/architecture.md``): a module may import its own floor and the
floors below it, never above, and no two packages may import each other, directly or round a
loop. One exception, by design: a public namespace ``__init__`` that loads its names lazily
(:func:`fsregistry.namespace.lazy_namespace`, as ``fsregistry`` and ``fsregistry.models``
mirror ``mlflow`` and ``mlflow.models``) may name higher floors in its ``if TYPE_CHECKING:``
block, the list of its exports; at run time each loads on first attribute access, never at
import.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

import fsregistry

PACKAGE = Path(fsregistry.__file__).parent

#: Floor of each top-level module or package of ``fsregistry``, bottom-up.
FLOORS: dict[str, int] = {
    "exceptions": 0,
    "namespace": 0,
    "mlflow_api": 0,
    "package": 0,
    "storage": 1,
    "mlruns": 2,
    "search": 2,
    "entities": 2,
    "tracking": 3,
    "registry": 3,
    "config": 4,
    "uris": 4,
    "client": 4,
    "client_logged_models": 4,
    "client_registry": 4,
    "active_model": 4,
    "logged_model_api": 4,
    "fluent": 4,
    "fluent_more": 4,
    "run_frames": 4,
    "media": 4,
    "artifacts": 4,
    "models": 5,
    "types": 5,
    "data": 5,
    "pyfunc": 6,
    "sklearn": 6,
    "flavors": 6,
    "xgboost": 6,
    "onnx": 6,
    "tensorflow": 6,
    "keras": 6,
    "lightgbm": 6,
    "statsmodels": 6,
    "pytorch": 6,
    "spark": 6,
    "spark.runs": 7,  # reads runs for Spark in the Parquet export's schema
    "h2o": 6,
    "models.evaluation": 6,
    "metrics": 6,  # a sub-package above its parent: it loads models (pyfunc)
    "envs": 7,
    "autologging": 7,
    "serving": 7,
    "mlflow_plugin": 7,  # the MLflow store plugin: the only importer of mlflow
    "export": 7,
    "cli": 8,
    "maintenance": 8,
    "": 9,  # the ``fsregistry`` namespace itself
}


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    is_init = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_init else parts), is_init


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module, lazy_namespace: bool) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement in the module, but for the type-checking block of a lazy
    namespace ``__init__``."""
    skip: set[int] = set()
    if lazy_namespace:
        for node in tree.body:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                skip.update(id(n) for n in ast.walk(node))
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom) and id(n) not in skip
    ]


def _targets(module: str, is_init: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        if not is_init:
            parts = parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    return [f"{base}.{a.name}" for a in node.names]


def _unit(module: str) -> str:
    """The top-level module or package of ``fsregistry`` a dotted name belongs to (or the
    sub-package with a floor of its own in FLOORS, such as ``models.evaluation``)."""
    parts = module.split(".")
    if len(parts) > 2 and f"{parts[1]}.{parts[2]}" in FLOORS:
        return f"{parts[1]}.{parts[2]}"
    return parts[1] if len(parts) > 1 else ""


def package_imports() -> dict[str, set[tuple[str, str]]]:
    """unit -> {(importing module, imported unit)} for imports between different units."""
    edges: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        module, is_init = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lazy = is_init and any(
            isinstance(n, ast.Assign)
            and isinstance(n.value, ast.Call)
            and isinstance(n.value.func, ast.Name)
            and n.value.func.id == "lazy_namespace"
            for n in tree.body
        )
        for node in _imports(tree, lazy):
            for target in _targets(module, is_init, node):
                if target != "fsregistry" and not target.startswith("fsregistry."):
                    continue
                src, dst = _unit(module), _unit(target)
                if target.count(".") == 1 and dst not in FLOORS:
                    dst = ""  # ``from fsregistry import name``: the namespace itself
                if src != dst:
                    edges[src].add((module, dst))
    return edges


def cycles(edges: dict[str, set[tuple[str, str]]]) -> list[list[str]]:
    """Strongly connected groups of more than one unit (Tarjan)."""
    graph = {u: {d for _, d in e} for u, e in edges.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def test_every_unit_has_a_floor() -> None:
    units = {_unit(_module_name(p)[0]) for p in PACKAGE.rglob("*.py")}
    assert units - FLOORS.keys() == set(), "give the new module or package a floor here"


def test_imports_point_down_only() -> None:
    upward = sorted(
        f"{module} (floor {FLOORS[src]}) imports fsregistry.{dst or '<namespace>'} "
        f"(floor {FLOORS[dst]})"
        for src, edges in package_imports().items()
        for module, dst in edges
        if FLOORS[dst] > FLOORS[src]
    )
    assert upward == []


def test_no_import_cycles_between_packages() -> None:
    assert cycles(package_imports()) == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {("m", "b")}, "b": {("n", "a")}}, [["a", "b"]]),
        ({"a": {("m", "b")}, "b": {("n", "c")}, "c": {("o", "a")}}, [["a", "b", "c"]]),
        ({"a": {("m", "b")}, "b": set()}, []),
    ],
)
def test_cycle_finder_finds_loops(
    edges: dict[str, set[tuple[str, str]]], expected: list[list[str]]
) -> None:
    assert cycles(edges) == expected


def test_an_upward_import_is_seen(tmp_path: Path) -> None:
    """The scanner sees function-level and relative imports (what a store reaching up to
    ``config`` inside a method looks like)."""
    tree = ast.parse(
        "def f():\n    from fsregistry import config\n    from ..client import Client\n"
    )
    found = [
        t for n in _imports(tree, False) for t in _targets("fsregistry.registry.store", False, n)
    ]
    assert found == ["fsregistry.config", "fsregistry.client.Client"]
    assert [_unit(t) for t in found] == ["config", "client"]


def test_lazy_namespaces_export_what_they_list() -> None:
    """Each name of a lazy namespace's block resolves to the object it names, and nothing
    outside the block is exported by accident."""
    import importlib

    from fsregistry.namespace import exports

    for package in ("fsregistry", "fsregistry.entities", "fsregistry.models"):
        module = importlib.import_module(package)
        assert module.__file__ is not None
        table = exports(package, Path(module.__file__).read_text(encoding="utf-8"))
        assert table, package
        for name, export in table.items():
            target = importlib.import_module(export.module)
            expected = target if export.attr is None else getattr(target, export.attr)
            assert getattr(module, name) is expected, (package, name)
            assert name in module.__all__ and name in dir(module)
        with pytest.raises(AttributeError, match="no attribute 'nope'"):
            _ = module.nope


def test_namespace_block_must_re_export_explicitly() -> None:
    from fsregistry.namespace import exports

    ok = "x = 1\nif TYPE_CHECKING:\n    from a.b import c as c\n    from p import m as m\n\ny = 2\n"
    assert exports("p", ok) == {"c": ("a.b", "c"), "m": ("p.m", None)}
    with pytest.raises(SyntaxError, match="'c as c'"):
        exports("p", "if TYPE_CHECKING:\n    from a.b import c\n")
