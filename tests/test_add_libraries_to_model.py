"""``fsregistry.models.add_libraries_to_model``: a registered model re-logged with its
dependencies as wheels, on local disk, S3 and GCS. Offline: the model's only requirement is a
wheel file built here, and pip runs with ``PIP_NO_INDEX``."""

# ruff: noqa: F811

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

import fsregistry
from fsreg_testing.models import model_cache, tracking  # noqa: F401
from fsregistry import pyfunc
from fsregistry.client import Client
from fsregistry.exceptions import FsRegistryException, InvalidParameterValue
from fsregistry.models import add_libraries_to_model

WHEEL = "tinypkg-1.0-py3-none-any.whl"


def _wheel(directory: Path) -> Path:
    """A minimal valid pure-Python wheel (no dependencies)."""
    files = {
        "tinypkg/__init__.py": b"VALUE = 1\n",
        "tinypkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n",
        "tinypkg-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("tinypkg-1.0.dist-info/RECORD,,")
    path = directory / WHEEL
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr("tinypkg-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return path


def double(df: pd.DataFrame) -> pd.Series:
    return df["x"] * 2


@pytest.fixture(autouse=True)
def _offline_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")


def test_add_libraries_logs_a_new_version_with_wheels(tracking: str, tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    data = pd.DataFrame({"x": [1.0, 2.0]})
    with fsregistry.start_run() as run:
        pyfunc.log_model(
            name="model",
            python_model=double,
            pip_requirements=[str(wheel)],
            registered_model_name="wm",
        )
    info = add_libraries_to_model("models:/wm/1")
    assert info.registered_model_version == 2
    assert info.run_id == run.info.run_id  # the version's source run, as MLflow does
    # MLflow 3 logging: the wheeled model is a new LoggedModel of the source run
    assert info.model_uri == f"models:/{info.model_id}"
    client = Client()
    assert client.get_logged_model(info.model_id).source_run_id == run.info.run_id
    assert client.get_model_version("wm", "2").model_id == info.model_id
    local = Path(fsregistry.artifacts.download_artifacts(info.model_uri))
    assert [p.name for p in (local / "wheels").iterdir()] == [WHEEL]
    assert (local / "requirements.txt").read_text() == f"wheels/{WHEEL}\n"
    assert (local / "original_requirements.txt").read_text().strip() == str(wheel)
    conda = yaml.safe_load((local / "conda.yaml").read_text())
    assert {"pip": [f"wheels/{WHEEL}"]} in conda["dependencies"]
    mlmodel = yaml.safe_load((local / "MLmodel").read_text())
    assert set(mlmodel["wheels"]) == {"platform"}
    assert mlmodel["run_id"] == run.info.run_id and mlmodel["model_id"] == info.model_id
    model = pyfunc.load_model("models:/wm/2")  # verified against its new manifest
    assert list(model.predict(data)) == [2.0, 4.0]
    # a wheeled model cannot be wheeled again; nothing is logged
    with pytest.raises(FsRegistryException, match="Model libraries are already added"):
        add_libraries_to_model("models:/wm/2")
    assert len(client.search_model_versions("name='wm'")) == 2
    # registered under another name, into the active run
    with fsregistry.start_run() as other:
        moved = add_libraries_to_model("models:/wm/1", registered_model_name="wm-libs")
    assert moved.run_id == other.info.run_id and moved.registered_model_version == 1


def test_failures_log_nothing(
    tracking: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fsregistry.start_run() as run:
        pyfunc.log_model(
            name="model",
            python_model=double,
            pip_requirements=[str(tmp_path / "missing-1.0-py3-none-any.whl")],
            registered_model_name="broken",
        )
    with pytest.raises(FsRegistryException, match="downloading the dependency wheels"):
        add_libraries_to_model("models:/broken/1")
    with pytest.raises(InvalidParameterValue, match="Not a proper models:/ URI"):
        add_libraries_to_model(f"runs:/{run.info.run_id}/model")
    monkeypatch.setenv("MLFLOW_WHEELED_MODEL_PIP_DOWNLOAD_OPTIONS", "--index-url=http://x")
    with pytest.raises(InvalidParameterValue, match="Invalid pip wheel option"):
        add_libraries_to_model("models:/broken/1")
    client = Client()
    assert len(client.search_model_versions("name='broken'")) == 1
    # MLflow 3 logging: the model is a LoggedModel, not a run artifact; a failure adds neither
    assert client.list_artifacts(run.info.run_id) == []
    models = client.search_logged_models([run.info.experiment_id])
    assert [m.name for m in models] == ["model"]
    assert len(fsregistry.search_runs(output_format="list")) == 1
