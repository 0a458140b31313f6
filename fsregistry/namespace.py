"""Lazy public namespaces: a package lists the names it exports once, in its
``if TYPE_CHECKING:`` block, and they load on first attribute access.

``fsregistry``, ``fsregistry.entities`` and ``fsregistry.models`` mirror ``mlflow``,
``mlflow.entities`` and ``mlflow.models``, whose names live in many modules (some on higher
floors, or heavy to import). Each such ``__init__`` writes::

    if TYPE_CHECKING:
        from fsregistry.fluent import start_run as start_run
        from fsregistry import pyfunc as pyfunc

    __getattr__, __dir__, __all__ = lazy_namespace(__name__, __file__)

The ``name as name`` form is what type checkers take as an explicit re-export; this module
reads that block (its source only: nothing is imported) into the table ``__getattr__`` uses,
so the names are written once. A name imported from the package itself (``from fsregistry
import pyfunc as pyfunc``) is a submodule. Floor 0: imports nothing of fsregistry.
"""

from __future__ import annotations

import ast
import importlib
import textwrap
from collections.abc import Callable
from typing import Any, NamedTuple

_BLOCK = "\nif TYPE_CHECKING:\n"


class Export(NamedTuple):
    """Where an exported name comes from: ``getattr(import_module(module), attr)``, or the
    module itself when ``attr`` is None."""

    module: str
    attr: str | None


def exports(package: str, source: str) -> dict[str, Export]:
    """The names a namespace's ``if TYPE_CHECKING:`` block re-exports, in order."""
    source = "\n" + source
    if _BLOCK not in source:
        raise SyntaxError(f"{package}: no 'if TYPE_CHECKING:' block lists the exports")
    start = source.index(_BLOCK) + len(_BLOCK)
    lines = []
    for line in source[start:].splitlines():
        if line and not line.startswith((" ", "\t")):
            break
        lines.append(line)
    table: dict[str, Export] = {}
    for node in ast.parse(textwrap.dedent("\n".join(lines))).body:
        if not isinstance(node, ast.ImportFrom) or node.module is None or node.level:
            raise SyntaxError(f"{package}: only 'from x import y as y' belongs in the block")
        for alias in node.names:
            if alias.asname != alias.name:
                raise SyntaxError(f"{package}: write '{alias.name} as {alias.name}'")
            if node.module == package:
                table[alias.name] = Export(f"{package}.{alias.name}", None)
            else:
                table[alias.name] = Export(node.module, alias.name)
    return table


def lazy_namespace(
    package: str, file: str, *, also: dict[str, Export] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for the package ``package`` whose ``__init__`` is
    ``file``; ``also`` adds names that are not in the block (none should need it)."""
    with open(file, encoding="utf-8") as f:
        table = {**exports(package, f.read()), **(also or {})}
    namespace = importlib.import_module(package)

    def __getattr__(name: str) -> Any:
        export = table.get(name)
        if export is None:
            from fsregistry.mlflow_api import MIRRORS, missing

            raise missing(f"module {package!r}", MIRRORS.get(package, package), name)
        module = importlib.import_module(export.module)
        value = module if export.attr is None else getattr(module, export.attr)
        setattr(namespace, name, value)  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(namespace), *table})

    return __getattr__, __dir__, sorted(table)
