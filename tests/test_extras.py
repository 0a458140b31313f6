"""S3 and GCS support are extras: without them an ``s3://`` or ``gs://`` store is one clear error.

Each test runs Python in a subprocess whose ``PYTHONPATH`` starts with a directory holding
``s3fs``, ``gcsfs`` and ``adlfs`` packages that fail to import, as if they were not installed
(the shared test environment has the real ones).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fsspec.registry import known_implementations

REPO = Path(__file__).resolve().parent.parent
FSREG = os.path.join(os.path.dirname(sys.executable), "fsreg")
BLOCKED = ("s3fs", "gcsfs", "adlfs")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a Python in which s3fs, gcsfs and adlfs cannot be imported."""
    blocker = tmp_path / "blocked"
    for name in BLOCKED:
        (blocker / name).mkdir(parents=True)
        (blocker / name / "__init__.py").write_text(
            f'raise ImportError("No module named {name}")\n'
        )
    paths = [str(blocker), str(REPO), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_blocked_packages_cannot_be_imported(env: dict[str, str]) -> None:
    proc = run_python(
        """
        import importlib
        for name in ("s3fs", "gcsfs", "adlfs"):
            try:
                importlib.import_module(name)
            except ImportError as e:
                print(name, e)
        """,
        env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"{name} No module named {name}" for name in BLOCKED]


def test_client_on_a_bucket_without_the_extra(env: dict[str, str], tmp_path: Path) -> None:
    proc = run_python(
        f"""
        import json
        import fsregistry

        local = {str(tmp_path / "mlruns")!r}
        calls = {{
            "s3://b/x": lambda: fsregistry.Client(tracking_uri="s3://b/x"),
            "s3a://b/x": lambda: fsregistry.Client(tracking_uri="s3a://b/x"),
            "gs://b/x": lambda: fsregistry.Client(tracking_uri="gs://b/x"),
            "gcs://b/x": lambda: fsregistry.Client(tracking_uri="gcs://b/x"),
            "registry gs://b/r": lambda: fsregistry.Client(
                tracking_uri=local, registry_uri="gs://b/r"
            ).search_registered_models(),
            "abfs://c/x": lambda: fsregistry.Client(tracking_uri="abfs://c/x"),
        }}
        out = {{}}
        for name, call in calls.items():
            try:
                call()
                out[name] = None
            except Exception as e:
                out[name] = {{
                    "mlflow": isinstance(e, fsregistry.MlflowException),
                    "type": type(e).__name__,
                    "code": getattr(e, "error_code", None),
                    "message": str(e),
                }}
        # A local store needs neither package.
        client = fsregistry.Client(tracking_uri=local)
        out["local"] = client.get_experiment(client.create_experiment("e")).name
        print(json.dumps(out))
        """,
        env,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out.pop("local") == "e"
    azure = out.pop("abfs://c/x")
    expected = {
        "s3://b/x": ("s3://b/x", "S3", "s3fs", "s3"),
        "s3a://b/x": ("s3a://b/x", "S3", "s3fs", "s3"),
        "gs://b/x": ("gs://b/x", "GCS", "gcsfs", "gcs"),
        "gcs://b/x": ("gcs://b/x", "GCS", "gcsfs", "gcs"),
        "registry gs://b/r": ("gs://b/r", "GCS", "gcsfs", "gcs"),
    }
    assert set(out) == set(expected)
    for name, (url, service, package, extra) in expected.items():
        assert out[name] == {
            "mlflow": True,
            "type": "InvalidParameterValue",
            "code": "INVALID_PARAMETER_VALUE",
            "message": (
                f"Cannot open {url!r}: {service} stores need {package}, which could not be "
                f"imported (No module named {package}). "
                f"Install it with: pip install 'fsregistry[{extra}]'"
            ),
        }, name
    # Any other fsspec protocol: the package fsspec says it needs.
    assert azure == {
        "mlflow": True,
        "type": "InvalidParameterValue",
        "code": "INVALID_PARAMETER_VALUE",
        "message": (
            f"Cannot open 'abfs://c/x': {known_implementations['abfs']['err']} "
            "(No module named adlfs)"
        ),
    }


@pytest.mark.parametrize(
    "args",
    [
        ["ls", "models", "-t", "s3://b/x", "--json"],  # the fast path (no typer)
        ["ls", "experiments", "-t", "s3://b/x", "--json"],  # through typer
        ["ls", "models", "-t", "gs://b/x"],
    ],
    ids=lambda a: " ".join(a),
)
def test_cli_on_a_bucket_without_the_extra(env: dict[str, str], args: list[str]) -> None:
    proc = subprocess.run(
        [FSREG, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    url = args[args.index("-t") + 1]
    service, package, extra = ("S3", "s3fs", "s3") if url[:2] == "s3" else ("GCS", "gcsfs", "gcs")
    assert proc.returncode == 1
    assert proc.stdout == ""
    message = (
        f"Cannot open {url!r}: {service} stores need {package}, which could not be "
        f"imported (No module named {package}). Install it with: pip install "
        f"'fsregistry[{extra}]'"
    )
    if "--json" in args:  # errors as JSON on stderr too
        error = {"code": "INVALID_PARAMETER_VALUE", "message": message}
        assert [json.loads(line) for line in proc.stderr.splitlines()] == [{"error": error}]
    else:
        assert proc.stderr.splitlines() == [f"error: {message} [INVALID_PARAMETER_VALUE]"]


FRAMEWORKS = (
    "xgboost",
    "lightgbm",
    "statsmodels",
    "onnx",
    "onnxruntime",
    "sklearn",
    "pandas",
    "torch",
    "tensorflow",
    "keras",
)
FRAMEWORKS += ("pyspark", "py4j", "h2o")


def test_flavor_modules_import_no_framework(env: dict[str, str], tmp_path: Path) -> None:
    """``import fsregistry``, its flavor modules and ``fsreg ls models`` import no framework
    (each is imported when a model is saved or loaded)."""
    url = str(tmp_path / "mlruns")
    proc = run_python(
        f"""
        import os, sys
        import fsregistry
        os.makedirs(os.path.join({url!r}, "models"))  # a real (empty) registry to list
        fsregistry.xgboost.FLAVOR_NAME, fsregistry.lightgbm.FLAVOR_NAME
        fsregistry.statsmodels.FLAVOR_NAME, fsregistry.flavors.Flavor
        fsregistry.onnx.FLAVOR_NAME
        fsregistry.pytorch.FLAVOR_NAME
        fsregistry.spark.FLAVOR_NAME, fsregistry.h2o.FLAVOR_NAME
        fsregistry.tensorflow.FLAVOR_NAME, fsregistry.keras.FLAVOR_NAME
        sys.argv = ["fsreg", "ls", "models", "-t", {url!r}]
        from fsregistry.cli.app import main
        try:
            main()
        except SystemExit:
            pass
        print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules), file=sys.stderr)
        """,
        env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "[]"
