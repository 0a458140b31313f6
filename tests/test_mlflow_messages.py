"""fsregistry's error messages contain MLflow's, with MLflow's error code.

The table of MLflow's messages is tests/mlflow_messages.py. Three checks:

* each entry's trigger, run through fsregistry's public API (on every backend when it touches
  the store; on local disk for pure validation), raises an MlflowException whose message
  contains MLflow's text (``re.search``) and whose code is MLflow's;
* each entry marked ``in_mlflow3`` gives that text and code in real MLflow 3.17.2, with the same
  trigger on the same setup (so the table is MLflow's, not fsregistry's);
* every raise site of fsregistry (a call of an MlflowException class or of a subclass
  fsregistry defines, of ``_fail`` or of the search parser's ``fail``) is covered by an entry, or allowed with a reason; and every site the
  table or the allow-list names still exists.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsreg_testing.mlflow_env import mlflow_python_env
from fsregistry.entities import Param
from fsregistry.exceptions import FsRegistryException
from tests.mlflow_messages import ALLOWED, FS_SETUP, MESSAGES, MODEL_SETUP, SETUP, Message

REPO = Path(__file__).resolve().parent.parent


def _check(entry: Message, error: BaseException | None) -> str | None:
    """Why ``error`` is not the entry's MLflow error, or None when it is."""
    if error is None:
        return f"{entry.kind}: {entry.trigger} raised nothing"
    if not isinstance(error, FsRegistryException):
        return f"{entry.kind}: raised {type(error).__name__}: {error}"
    problems = []
    if not re.search(entry.regex, str(error)):
        problems.append(f"message {str(error)!r} does not contain /{entry.regex}/")
    if error.error_code != (entry.fs_code or entry.code):
        problems.append(f"code {error.error_code} is not {entry.fs_code or entry.code}")
    return f"{entry.kind}: {'; '.join(problems)}" if problems else None


def test_every_message_contains_mlflows(store_url: str, store_fs: tuple[Any, str]) -> None:
    """Each table entry's trigger raises MLflow's message and code through fsregistry."""
    fs, root = store_fs
    local = not store_url.startswith(("s3://", "gs://"))
    ns: dict[str, Any] = {
        "m": fsregistry,
        "MlflowClient": fsregistry.Client,
        "URI": store_url,
        "Param": Param,
        "fs": fs,
        "root": root,
    }
    exec(SETUP + FS_SETUP + MODEL_SETUP, ns)
    # Entries that damage the store go last.
    entries = sorted((e for e in MESSAGES if e.storage or local), key=lambda e: bool(e.prepare))
    failures = []
    for entry in entries:
        if entry.prepare:
            exec(entry.prepare, ns)
        error: BaseException | None = None
        try:
            eval(entry.trigger, ns)
        except Exception as e:
            error = e
        finally:
            while fsregistry.active_run() is not None:
                fsregistry.end_run()
        failures.append(_check(entry, error))
    assert [f for f in failures if f] == []
    assert len(entries) == (len(MESSAGES) if local else sum(e.storage for e in MESSAGES))


_MLFLOW_IMPORTS = """
import json, warnings
warnings.simplefilter("ignore")
import mlflow as m
import mlflow.artifacts
from mlflow import MlflowClient
from mlflow.entities import Param
import mlflow.models, mlflow.pyfunc, mlflow.types
"""

_IN_MLFLOW = """
out = {}
for kind, code in TRIGGERS.items():
    try:
        eval(code)
        out[kind] = None
    except Exception as e:
        out[kind] = [type(e).__name__, getattr(e, "error_code", None), str(e)]
    while m.active_run():
        m.end_run()
print(json.dumps(out))
"""


def mlflow_script(entries: Sequence[Message], tmp_path: Path) -> str:
    """The script that runs ``entries``' triggers in an MLflow venv (store under ``tmp_path``)
    and prints, per kind, None or the exception's [type, code, message] as JSON."""
    triggers = {e.kind: e.trigger for e in entries}
    return (
        f"URI = {(tmp_path / 'mlruns').as_uri()!r}\nTRIGGERS = {triggers!r}\n"
        + _MLFLOW_IMPORTS
        + SETUP
        + MODEL_SETUP
        + _IN_MLFLOW
    )


@pytest.mark.mlflow
def test_the_table_is_mlflow3s(tmp_path: Path) -> None:
    """MLflow 3.17.2 gives each ``in_mlflow3`` entry's text and code for the same trigger."""
    entries = [e for e in MESSAGES if e.in_mlflow3]
    code = mlflow_script(entries, tmp_path)
    got = mlflow_python_env("3.17.2").run(code, cwd=tmp_path)
    problems = {}
    for entry in entries:
        answer = got[entry.kind]
        if answer is None:
            problems[entry.kind] = "MLflow raised nothing"
        elif not re.search(entry.regex, answer[2]) or (answer[1] or "") != entry.code:
            problems[entry.kind] = answer
    assert problems == {}
    assert len(entries) > 50


@pytest.mark.mlflow
def test_the_table_holds_for_mlflow2_where_not_noted(tmp_path: Path) -> None:
    """MLflow 2.22.5 gives the same text and code, except where an entry's note says how
    2.22 differs."""
    entries = [e for e in MESSAGES if e.in_mlflow3]
    code = mlflow_script(entries, tmp_path)
    got = mlflow_python_env("2.22.5").run(code, cwd=tmp_path)
    differs = {
        e.kind
        for e in entries
        if got[e.kind] is None
        or not re.search(e.regex, got[e.kind][2])
        or (got[e.kind][1] or "") != e.code
    }
    noted = {e.kind for e in entries if "MLflow 2.22" in e.note}
    assert differs == noted


# -- raise sites ------------------------------------------------------------------------------
_RAISERS = frozenset(
    {
        *("FsRegistryException", "MlflowException", "InvalidParameterValue"),
        *("ResourceDoesNotExist", "ResourceAlreadyExists", "InvalidState"),
        *("UnsupportedOperation", "MissingConfigException", "ConcurrentUpdateError"),
        *("PathConflict", "StorageError", "StorageFull", "StoragePermissionDenied"),
        *("StorageUnavailable", "StoreMissing"),
        # Helpers whose argument is the message (or, for the search parser, its detail).
        *("_fail", "fail"),
    }
)


def _template(node: ast.expr) -> str:
    """A message argument as text: f-string holes as ``{}``, other expressions as ``<code>``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return f"<{ast.unparse(node)}>"


def _name(node: ast.expr) -> str | None:
    return (
        node.id
        if isinstance(node, ast.Name)
        else node.attr
        if isinstance(node, ast.Attribute)
        else None
    )


def _raisers(trees: dict[str, ast.Module]) -> frozenset[str]:
    """:data:`_RAISERS` and every class fsregistry derives from one of them (by name)."""
    names = set(_RAISERS)
    grew = True
    while grew:
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ClassDef)
                    and node.name not in names
                    and any(_name(base) in names for base in node.bases)
                ):
                    names.add(node.name)
                    grew = True
    return frozenset(names)


def raise_sites() -> list[tuple[str, int, str]]:
    """(file, line, message template) of every call of an exception class or raise helper."""
    trees = {
        path.relative_to(REPO).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted((REPO / "fsregistry").rglob("*.py"))
    }
    raisers = _raisers(trees)
    sites = []
    for rel, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            if _name(node.func) in raisers:
                sites.append((rel, node.lineno, _template(node.args[0])))
    return sites


def _allowed(rel: str, allowed_path: str) -> bool:
    return rel == allowed_path or (allowed_path.endswith("/") and rel.startswith(allowed_path))


def test_every_raise_site_is_in_the_table_or_allowed() -> None:
    uncovered = [
        f"{rel}:{line}: {template}"
        for rel, line, template in raise_sites()
        if not any(
            rel == path and fragment in template for e in MESSAGES for path, fragment in e.sites
        )
        and not any(_allowed(rel, a.path) and a.fragment in template for a in ALLOWED)
    ]
    assert uncovered == []


def test_the_table_and_allow_list_name_existing_sites() -> None:
    """A site the table or the allow-list names that no longer exists is a stale entry."""
    sites = raise_sites()
    stale = [
        f"{e.kind}: {path} {fragment!r}"
        for e in MESSAGES
        for path, fragment in e.sites
        if not any(rel == path and fragment in template for rel, _, template in sites)
    ]
    stale += [
        f"allowed: {a.path} {a.fragment!r}"
        for a in ALLOWED
        if not any(_allowed(rel, a.path) and a.fragment in t for rel, _, t in sites)
    ]
    assert stale == []
    assert all(a.reason.strip() for a in ALLOWED)
    assert len({e.kind for e in MESSAGES}) == len(MESSAGES)
    json.dumps([e.__dict__ for e in MESSAGES])  # plain data


def test_the_scan_follows_exception_subclasses() -> None:
    """Raises of fsregistry's own subclasses (SchemaEnforcementError, ModelIntegrityError...)
    are raise sites too."""
    sites = raise_sites()
    assert any(
        rel == "fsregistry/models/enforcement.py" and "Input DataFrame is empty" in template
        for rel, _, template in sites
    )
    assert any(rel == "fsregistry/models/hashes.py" for rel, _, _ in sites)
