"""``fsreg``: browse and manage an fsregistry store from the shell.

Every command takes ``--tracking-uri`` / ``--registry-uri`` (else ``FSREG_TRACKING_URI``,
``MLFLOW_TRACKING_URI`` when it names a path or bucket, else ``./mlruns``) and ``--json``.
Errors print one line and exit 1; ``--debug`` shows the traceback. Nothing here imports
pandas, and s3fs/gcsfs load only when the store is on S3/GCS.

The commands live in :mod:`fsregistry.cli.commands` (typer), loaded on first use of ``app``:
a plain ``fsreg ls models`` runs without typer at all (:mod:`fsregistry.cli.quick`). Their
JSON output is documented in :mod:`fsregistry.cli.tracking_commands` (experiments, runs,
artifacts) and :mod:`fsregistry.cli.registry_commands` (models, versions, aliases).
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
        from fsregistry.cli.commands import app

        app()
    except FsRegistryException as e:
        _fail(e, f"error: {e.message} [{e.error_code}]")
    except (OSError, ValueError) as e:
        _fail(e, f"error: {e}")


def _set_debug(debug: bool) -> None:
    state.debug = debug


def _fail(exc: BaseException, line: str) -> None:
    if state.debug:
        raise exc
    print(line, file=sys.stderr)
    sys.exit(1)


__all__ = ["app", "main"]
