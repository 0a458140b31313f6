"""The MLflow coverage page, ``docs/mlflow-coverage.md``, generated from the code.

For each public name MLflow lists (:data:`fsregistry.mlflow_api.names.NAMES`, refreshed from
a real MLflow with ``--refresh-names``), the page gives fsregistry's status:

- **works**: fsregistry has the name and its docstring does not say it differs;
- **differs**: its docstring's first paragraph says "Differs" (the text is quoted);
- **not provided**: fsregistry lacks it; the reason is the one in
  :mod:`fsregistry.mlflow_api.reasons`.

A name fsregistry lacks with no recorded reason has **no status**: the page lists it as such
and ``tests/test_mlflow_coverage.py`` fails until a reason is added. Whatever names exist at
generation time count, so regenerating after a merge picks up new functions.

Usage: ``python -m fsreg_testing.coverage --write`` (rewrite the page),
``--check`` (exit 1 if the page is stale), ``--refresh-names`` (regenerate the names file
from MLflow's virtualenv, see :mod:`fsreg_testing.mlflow_env`).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsregistry.mlflow_api import MIRRORS, reason
from fsregistry.mlflow_api.names import MLFLOW_VERSION, NAMES

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "mlflow-coverage.md"
NAMES_FILE = ROOT / "fsregistry" / "mlflow_api" / "names.py"
_MISSING = object()


@dataclass(frozen=True)
class Entry:
    """One MLflow name's row: status is "works", "differs", "not provided" or "NO STATUS"."""

    module: str
    name: str
    status: str
    note: str


def _fsregistry_owner(mlflow_module: str) -> Any:
    """The fsregistry module or class mirroring an MLflow module (None: not there at all)."""
    if mlflow_module == "mlflow.MlflowClient":
        from fsregistry import Client

        return Client
    package = next(k for k, v in MIRRORS.items() if v == mlflow_module)
    try:
        return importlib.import_module(package)
    except ImportError:
        return None


def _lookup(owner: Any, name: str) -> Any:
    if owner is None:
        return _MISSING
    try:
        return getattr(owner, name)
    except AttributeError:
        return _MISSING


def _difference(obj: Any) -> str | None:
    """What the docstring says differs from MLflow (its first paragraph from "Differs" on,
    and the paragraph after it, which details it), or None when it does not say."""
    if inspect.ismodule(obj):
        return None
    doc = inspect.getdoc(obj) or ""
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n") if p.strip()]
    if not paragraphs or "Differs" not in paragraphs[0]:
        return None
    text = paragraphs[0][paragraphs[0].index("Differs") :]
    if len(paragraphs) > 1:
        text += " " + paragraphs[1]
    return text


def entry(mlflow_module: str, name: str, owner: Any) -> Entry:
    """The status of ``<mlflow_module>.<name>`` in fsregistry as it is now."""
    obj = _lookup(owner, name)
    if obj is _MISSING:
        why = reason(mlflow_module, name)
        if why is None:
            return Entry(mlflow_module, name, "NO STATUS", "missing, and no reason recorded")
        return Entry(mlflow_module, name, "not provided", why)
    text = _difference(obj)
    if text is not None:
        return Entry(mlflow_module, name, "differs", text)
    return Entry(mlflow_module, name, "works", "")


def entries() -> list[Entry]:
    """Every MLflow name's entry, module by module, names sorted."""
    out = []
    for mlflow_module, names in NAMES.items():
        owner = _fsregistry_owner(mlflow_module)
        out.extend(entry(mlflow_module, name, owner) for name in names)
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The page's Markdown."""
    rows = entries()
    lines = [
        "# MLflow coverage",
        "",
        f"What fsregistry provides of MLflow {MLFLOW_VERSION}'s public API, name by name.",
        "**Generated** by `python -m fsreg_testing.coverage --write` from fsregistry's code (a",
        "name counts as provided when fsregistry has it; *differs* quotes its docstring) and",
        "the checked-in list of MLflow's names and reasons (`fsregistry/mlflow_api/`);",
        "`tests/test_mlflow_coverage.py` fails when this page is out of date. Looking up a",
        "name marked *not provided* on `fsregistry` or a `Client` raises an `AttributeError`",
        "that says so. Behaviour that differs from MLflow's stores on purpose (limits, error",
        "codes, refusals) is listed with its reasons in `docs/differences.md`.",
        "",
        "| MLflow module | works | differs | not provided |",
        "| --- | --- | --- | --- |",
    ]
    for mlflow_module in NAMES:
        mine = [e for e in rows if e.module == mlflow_module]
        counts = [sum(e.status == s for e in mine) for s in ("works", "differs", "not provided")]
        lines.append(f"| `{mlflow_module}` | {counts[0]} | {counts[1]} | {counts[2]} |")
    lines.append("")
    no_status = [e for e in rows if e.status == "NO STATUS"]
    if no_status:
        lines += ["## Names with no status", ""]
        lines += [f"- `{e.module}.{e.name}`" for e in no_status]
        lines.append("")
    for mlflow_module in NAMES:
        lines += [f"## `{mlflow_module}`", "", "| Name | Status | Notes |", "| --- | --- | --- |"]
        for e in rows:
            if e.module == mlflow_module:
                lines.append(f"| `{e.name}` | {e.status} | {_cell(e.note)} |")
        lines.append("")
    return "\n".join(lines)


def names_source(version: str, names: dict[str, list[str]]) -> str:
    """The text of ``fsregistry/mlflow_api/names.py`` for MLflow ``version``'s names."""
    out = [
        f'"""MLflow\'s public names per module, as MLflow {version} lists them (``__all__``, the',
        "lazily loaded flavor modules of ``mlflow``, ``MlflowClient``'s public attributes). "
        "Generated by",
        "``python -m fsreg_testing.coverage --refresh-names``; do not edit by hand. Floor 0, "
        "data only.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        f'MLFLOW_VERSION = "{version}"',
        "",
        "NAMES: dict[str, tuple[str, ...]] = {",
    ]
    for module, listed in names.items():
        out.append(f'    "{module}": (')
        out += [f'        "{n}",' for n in listed]
        out.append("    ),")
    out.append("}")
    return "\n".join(out) + "\n"


def mlflow_names(version: str = MLFLOW_VERSION) -> dict[str, Any]:
    """``{"version", "names"}`` as a real MLflow ``version`` lists them."""
    from fsreg_testing.mlflow_env import run_mlflow

    code = (Path(__file__).parent / "mlflow_names_dump.py").read_text(encoding="utf-8")
    result: dict[str, Any] = run_mlflow(version, code, cwd=ROOT)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="rewrite the page")
    group.add_argument("--check", action="store_true", help="exit 1 if the page is stale")
    group.add_argument("--refresh-names", metavar="VERSION", nargs="?", const=MLFLOW_VERSION)
    args = parser.parse_args(argv)
    if args.refresh_names:
        found = mlflow_names(args.refresh_names)
        NAMES_FILE.write_text(names_source(found["version"], found["names"]), encoding="utf-8")
        print(json.dumps({k: len(v) for k, v in found["names"].items()}))
        return 0
    text = render()
    if args.write:
        PAGE.write_text(text, encoding="utf-8")
        return 0
    stale = not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != text
    if stale:
        print(f"{PAGE} is out of date: run python -m fsreg_testing.coverage --write")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
