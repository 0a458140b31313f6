"""``fsreg``: browse and manage an fsregistry store from the shell.

Every command takes ``--tracking-uri`` / ``--registry-uri`` (else ``FSREG_TRACKING_URI``,
``MLFLOW_TRACKING_URI`` when it names a path or bucket, else ``./mlruns``) and ``--json``.
Errors print one line and exit 1 (with ``--json``, one JSON object on stderr:
``{"error": {"code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}}``, the code being MLflow's
error code); ``--debug`` shows the traceback. Usage errors are click's (text, exit code 2). Nothing here imports
pandas, and s3fs/gcsfs load only when the store is on S3/GCS.

The commands live in :mod:`fsregistry.cli.commands` (typer), loaded on first use of ``app``:
a plain ``fsreg ls models`` runs without typer at all (:mod:`fsregistry.cli.quick`). Their
JSON output is documented in :mod:`fsregistry.cli.tracking_commands` (experiments, runs,
artifacts) and :mod:`fsregistry.cli.registry_commands` (models, versions, aliases),
:mod:`fsregistry.cli.history_commands` (the audit trail) and :mod:`fsregistry.cli.plot_commands`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from fsregistry.cli import quick
from fsregistry.cli.state import state
from fsregistry.exceptions import FsRegistryException

if TYPE_CHECKING:
    import typer

    app: typer.Typer


def __getattr__(name: str) -> Any:
    # ``from fsregistry.cli.app import app`` keeps working; typer loads only then.
    if name == "app":
        from fsregistry.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console entry point: one-line errors, exit code 1 (2 for usage errors)."""
    # Typer prints usage errors itself and exits 2; our own errors come through here.
    try:
        fast = quick.parse(sys.argv[1:])
        if fast is not None:
            quick.run(fast, _set_debug)
            return
        from fsregistry.cli.commands import run

        run()
    except FsRegistryException as e:
        _fail(e, e.error_code, e.message, f"error: {e.message} [{e.error_code}]")
    except OSError as e:
        _fail(e, "IO_ERROR", str(e), f"error: {e}")
    except ValueError as e:
        _fail(e, "INVALID_PARAMETER_VALUE", str(e), f"error: {e}")


def _set_debug(debug: bool) -> None:
    state.debug = debug


def _fail(exc: BaseException, code: str, message: str, line: str) -> None:
    if state.debug:
        raise exc
    if _wants_json(sys.argv[1:]):
        import json

        print(json.dumps({"error": {"code": code, "message": message}}), file=sys.stderr)
    else:
        print(line, file=sys.stderr)
    sys.exit(1)


def _wants_json(argv: list[str]) -> bool:
    """Whether the command line asks for JSON output (``--json`` before any ``--``)."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


__all__ = ["app", "main"]
