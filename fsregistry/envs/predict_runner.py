"""Run :func:`fsregistry.pyfunc.predict.predict_local` inside a model environment.

The host writes the input to a file, runs ``<env python> -m fsregistry.envs.predict_runner``
on the local model directory, and reads the ``{"predictions": ...}`` JSON back from an output
file (the model's own prints to stdout cannot corrupt it). An error fsregistry raises on
purpose inside the environment (bad input, schema mismatch, integrity check) is written as JSON
to an error file and raised again in the host as the same exception class with the same
message; anything else (the model's code failing, a missing import) becomes an
``FsRegistryException`` carrying the last lines of the child's stderr.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from fsregistry.exceptions import FsRegistryException

_TAIL_LINES = 25


def _exception_classes() -> dict[str, type[FsRegistryException]]:
    from fsregistry import exceptions
    from fsregistry.models.enforcement import SchemaEnforcementError
    from fsregistry.models.hashes import ModelIntegrityError

    classes: dict[str, type[FsRegistryException]] = {
        "SchemaEnforcementError": SchemaEnforcementError,
        "ModelIntegrityError": ModelIntegrityError,
    }
    for name in dir(exceptions):
        obj = getattr(exceptions, name)
        if isinstance(obj, type) and issubclass(obj, FsRegistryException):
            classes[obj.__name__] = obj
    return classes


def run_in_env(
    python: Path,
    model_dir: str,
    input_path: str,
    content_type: str,
    output_path: str,
    error_path: str,
    verify: bool,
    env: dict[str, str],
) -> None:
    """Predict with the model in ``model_dir`` using interpreter ``python``; raises what the
    prediction raised."""
    # -I: neither the current directory (a source checkout, a stray pandas/) nor PYTHON*
    # variables may put the host's code on the environment's sys.path.
    cmd = [
        str(python),
        "-I",
        "-m",
        "fsregistry.envs.predict_runner",
        model_dir,
        "--input",
        input_path,
        "--content-type",
        content_type,
        "--output",
        output_path,
        "--error-file",
        error_path,
    ]
    if not verify:
        cmd.append("--no-verify")
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, errors="replace", stdin=subprocess.DEVNULL
    )
    if proc.returncode == 0:
        if proc.stderr:
            sys.stderr.write(proc.stderr)  # the model's warnings and logs
        return
    error = None
    try:
        with open(error_path, encoding="utf-8") as f:
            error = json.load(f)
    except (OSError, ValueError):
        pass
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        cls = _exception_classes().get(str(error.get("type")), FsRegistryException)
        raise cls(error["message"], error_code=error.get("error_code"))
    tail = "\n".join([ln for ln in proc.stderr.splitlines() if ln.strip()][-_TAIL_LINES:])
    raise FsRegistryException(
        f"Prediction failed in the model environment ({python}, exit {proc.returncode}). "
        f"Last lines of its output:\n{tail}"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point inside the environment."""
    parser = argparse.ArgumentParser(prog="python -m fsregistry.envs.predict_runner")
    parser.add_argument("model_dir")
    parser.add_argument("--input", required=True)
    parser.add_argument("--content-type", choices=("json", "csv"), required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--error-file", required=True)
    parser.add_argument("--no-verify", action="store_true")
    args = parser.parse_args(argv)
    from fsregistry.pyfunc.predict import predict_local

    try:
        predict_local(
            args.model_dir,
            input_path=args.input,
            content_type=args.content_type,
            output_path=args.output,
            verify=not args.no_verify,
        )
    except FsRegistryException as exc:
        with open(args.error_file, "w", encoding="utf-8") as f:
            json.dump(
                {"type": type(exc).__name__, "error_code": exc.error_code, "message": exc.message},
                f,
            )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
