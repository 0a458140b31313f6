"""Where the stores are: set_*_uri, FSREG_*, MLFLOW_* when it names a path or bucket, ./mlruns."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsregistry import Client, MlflowException, config
from fsregistry.uris import resolve_model_uri


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "FSREG_TRACKING_URI",
        "MLFLOW_TRACKING_URI",
        "FSREG_REGISTRY_URI",
        "MLFLOW_REGISTRY_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    with config.using():
        yield


def test_default_is_local_mlruns_as_a_file_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    expected = (tmp_path / "mlruns").absolute().as_uri()  # what MLflow returns for ./mlruns
    assert expected.startswith("file:///")
    assert config.get_tracking_uri() == expected
    assert config.get_registry_uri() == expected
    assert fsregistry.Client().tracking_uri == expected
    with fsregistry.start_run() as run:
        pass
    fsregistry.fluent._active_experiment_id = None
    assert (tmp_path / "mlruns" / "0" / run.info.run_id / "meta.yaml").is_file()


def test_path_objects_become_file_uris_strings_stay(tmp_path: Path) -> None:
    config.set_tracking_uri(tmp_path / "a")
    assert config.get_tracking_uri() == (tmp_path / "a").resolve().as_uri()
    config.set_registry_uri(tmp_path / "b")
    assert config.get_registry_uri() == (tmp_path / "b").resolve().as_uri()
    config.set_tracking_uri(str(tmp_path / "c"))
    assert config.get_tracking_uri() == str(tmp_path / "c")  # as MLflow: kept as given


def test_fsreg_variable_wins_over_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "s3://mlflow-bucket/x")
    assert config.get_tracking_uri() == "s3://mlflow-bucket/x"
    monkeypatch.setenv("FSREG_TRACKING_URI", "gs://ours/y")
    assert config.get_tracking_uri() == "gs://ours/y"
    assert config.get_registry_uri() == "gs://ours/y"  # registry follows tracking


@pytest.mark.parametrize(
    "server", ["http://mlflow:5000", "https://x", "databricks", "sqlite:///m.db"]
)
def test_mlflow_server_uris_are_not_ours(monkeypatch: pytest.MonkeyPatch, server: str) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    assert config.get_tracking_uri() == Path("mlruns").absolute().as_uri()


def test_explicit_settings_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FSREG_TRACKING_URI", "/env/path")
    config.set_tracking_uri("/explicit")
    assert config.get_tracking_uri() == "/explicit"
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", "s3://reg/models")
    assert config.get_registry_uri() == "s3://reg/models"
    config.set_registry_uri("/explicit-registry")
    assert config.get_registry_uri() == "/explicit-registry"


# -- which registry goes with a tracking URI: one rule for Python and the CLI ----------------
def _two_stores(tmp_path: Path) -> tuple[str, str]:
    """Stores A and B, each a tracking store with a registry holding one model of its own."""
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    for url, name in ((a, "in-a"), (b, "in-b")):
        client = Client(tracking_uri=url, registry_uri=url)
        client.create_registered_model(name)
        client.create_model_version(name, str(tmp_path / "model"))
    return a, b


def test_registry_uri_precedence_is_mlflows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow's ``_resolve_registry_uri``: explicit argument, then ``set_registry_uri`` /
    the registry environment variables, then the tracking URI given, then the process one."""
    a, b = _two_stores(tmp_path)
    assert Client(tracking_uri=a).registry_uri == a
    assert config.registry_uri_for(a) == a
    assert config.registry_uri_for(None) == Path("mlruns").absolute().as_uri()
    for var in ("MLFLOW_REGISTRY_URI", "FSREG_REGISTRY_URI"):
        with monkeypatch.context() as m:
            m.setenv(var, b)
            assert config.registry_uri_for(a) == b
            assert Client(tracking_uri=a).registry_uri == b
            assert Client(tracking_uri=a).search_registered_models()[0].name == "in-b"
            assert Client(tracking_uri=a, registry_uri=a).registry_uri == a
            # The resolver reads the same registry as the client.
            assert resolve_model_uri("models:/in-b/1", tracking_uri=a) == str(tmp_path / "model")
            with pytest.raises(MlflowException, match="in-a"):
                resolve_model_uri("models:/in-a/1", tracking_uri=a)
    with config.using(registry_uri=b):
        assert Client(tracking_uri=a).registry_uri == b
        assert config.get_registry_uri() == b
    assert (
        config.get_registry_uri() == Path("mlruns").absolute().as_uri()
    )  # using() restored the settings


def test_cli_commands_use_the_same_registry_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _two_stores(tmp_path)
    fsreg = shutil.which("fsreg", path=os.path.dirname(sys.executable)) or "fsreg"

    def run(*args: str, registry_env: str | None = b) -> Any:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_REGISTRY_URI")}
        env.pop("FSREG_TRACKING_URI", None)
        env.pop("MLFLOW_TRACKING_URI", None)
        if registry_env:
            env["FSREG_REGISTRY_URI"] = registry_env
        proc = subprocess.run(
            [fsreg, *args, "--json"], capture_output=True, text=True, env=env, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    names = lambda rows: sorted(r["name"] for r in rows)  # noqa: E731
    # ls models has a fast path of its own; ls versions goes through typer and the Client.
    assert names(run("ls", "models", "-t", a)) == ["in-b"]
    assert names(run("ls", "models", "-t", a, "--registry-uri", a)) == ["in-a"]
    assert names(run("ls", "models", "-t", a, registry_env=None)) == ["in-a"]
    assert [v["name"] for v in run("ls", "versions", "in-b", "-t", a)] == ["in-b"]
    assert run("doctor", "-t", a)["stores"] == [
        Client(tracking_uri=a).store.storage.root_uri,
        Client(tracking_uri=b).store.storage.root_uri,
    ]
    registered = run("register", str(tmp_path / "model"), "in-b", "-t", a)
    assert int(registered["version"]) == 2
    assert len(Client(tracking_uri=b).search_model_versions("name = 'in-b'")) == 2
    assert len(Client(tracking_uri=a, registry_uri=a).search_model_versions("name='in-a'")) == 1
