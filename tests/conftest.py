"""Shared pytest fixtures: object-store emulators, per-test store roots, real MLflow.

Fixtures
--------
``s3_emulator`` / ``gcs_emulator`` (session)
    A moto / fake-gcs-server process started on first use (per xdist worker) and stopped at
    the end of the session. Starting one also exports its ``.env`` into ``os.environ`` for
    the rest of the session, so s3fs/gcsfs (and subprocesses started by tests) reach the
    emulator without explicit options.
``backend`` (parametrized: ``local``, ``s3``, ``gcs``)
    Which store a test runs on.
``store_url``
    A fresh, empty store root for each test: ``<tmp_path>/mlruns``, ``s3://<new
    bucket>/mlruns`` or ``gs://<new bucket>/mlruns``. A test using it runs three times.
``store_fs``
    ``(filesystem, root_path)`` for looking at ``store_url`` directly, with no instance or
    listings cache.
``mlflow_python`` (parametrized: ``mlflow2``, ``mlflow3``; marked ``mlflow``)
    A real MLflow in its own virtualenv (see ``fsreg_testing/mlflow_env.py``).
``spark`` (session)
    The tests' one local SparkSession per test process (``fsreg_testing/spark_session.py``).
``models_module`` (session)
    The spark_udf tests' custom models (``fsreg_testing/spark_udf.py``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# gcsfs reads this when it is first imported; its experimental default class does not suit
# the emulator.
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"

from fsreg_testing.emulators import Emulator, start_gcs_server, start_s3_server
from fsreg_testing.mlflow_env import MLFLOW_IDS, MLFLOW_VERSIONS, MlflowPython, mlflow_python_env
from fsreg_testing.spark_session import spark  # noqa: F401 - fixture
from fsreg_testing.spark_udf import models_module  # noqa: F401 - the spark_udf tests' fixture

BACKENDS = ("local", "s3", "gcs")

# Variables that would send AWS clients somewhere other than the emulator.
_AWS_OVERRIDES_PREFIXES = ("AWS_ENDPOINT_URL_",)
_AWS_OVERRIDES = ("AWS_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_SESSION_TOKEN")


def _export_env(mp: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key, value in env.items():
        mp.setenv(key, value)
    # fsspec reads FSSPEC_<PROTOCOL>_<KWARG> variables once, at import; refresh its config
    # so filesystems created in this process see the new ones too.
    import fsspec.config

    fsspec.config.set_conf_env(fsspec.config.conf)


@pytest.fixture(scope="session")
def s3_emulator() -> Iterator[Emulator]:
    """Session-wide moto server; its env is exported into ``os.environ``."""
    emu = start_s3_server()
    mp = pytest.MonkeyPatch()
    try:
        for key in list(os.environ):
            if key in _AWS_OVERRIDES or key.startswith(_AWS_OVERRIDES_PREFIXES):
                mp.delenv(key)
        _export_env(mp, emu.env)
        yield emu
    finally:
        mp.undo()
        emu.stop()


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[Emulator]:
    """Session-wide fake-gcs-server; its env is exported into ``os.environ``."""
    emu = start_gcs_server()
    mp = pytest.MonkeyPatch()
    try:
        _export_env(mp, emu.env)
        yield emu
    finally:
        mp.undo()
        emu.stop()


def new_bucket_name() -> str:
    """A bucket name unique across tests and xdist workers, valid on S3 and GCS."""
    return f"fsreg-{uuid.uuid4().hex[:20]}"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``"local"``, ``"s3"`` or ``"gcs"``: the store the test runs against."""
    name: str = request.param
    return name


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store root URL (the root itself does not exist yet)."""
    if backend == "local":
        return str(tmp_path / "mlruns")
    emu: Emulator = request.getfixturevalue(f"{backend}_emulator")
    bucket_url = emu.make_bucket(new_bucket_name())
    return f"{bucket_url}/mlruns"


@pytest.fixture
def store_fs(store_url: str, backend: str, request: pytest.FixtureRequest) -> tuple[Any, str]:
    """``(fs, root)``: an uncached fsspec filesystem and the store root path on it."""
    if backend == "local":
        import fsspec

        return fsspec.filesystem("file"), store_url
    emu: Emulator = request.getfixturevalue(f"{backend}_emulator")
    return emu.filesystem(), store_url.split("://", 1)[1]


@pytest.fixture(
    params=[
        pytest.param(version, id=MLFLOW_IDS[version], marks=pytest.mark.mlflow)
        for version in MLFLOW_VERSIONS
    ]
)
def mlflow_python(request: pytest.FixtureRequest) -> MlflowPython:
    """A real MLflow (2.x and 3.x) in its own cached virtualenv; see ``MlflowPython``."""
    version: str = request.param
    return mlflow_python_env(version)


@pytest.fixture(autouse=True)
def _process_store_settings() -> Iterator[None]:
    """Each test starts with no ``set_tracking_uri``/``set_registry_uri`` and leaves none
    behind: with MLflow's registry rule a process setting applies to every ``Client``.

    The fluent API's process state is reset after each test too (as a new process would
    have it): the active experiment, the run stack and last run, the active model, and
    every autolog integration's patches. Otherwise a test that set an experiment in its own
    temporary store, or enabled autolog and failed, sends the next test in the same worker
    to a deleted experiment or through autolog."""
    from fsregistry import config

    with config.using():
        yield
    _reset_fluent_state()


def _reset_fluent_state() -> None:
    import sys

    fluent = sys.modules.get("fsregistry.fluent")
    if fluent is not None:
        fluent._active_experiment_id = None
        fluent._last_active_run_id = None
        fluent._local.__dict__.clear()
    active_model = sys.modules.get("fsregistry.active_model")
    if active_model is not None:
        active_model._local.__dict__.clear()
    from fsregistry.autologging import INTEGRATIONS

    for flavor, _ in reversed(INTEGRATIONS):  # every integration a test may have left on
        if f"fsregistry.{flavor}.autologging" in sys.modules:
            sys.modules[f"fsregistry.{flavor}"].autolog(disable=True)
