"""Models in the committed stores written by real MLflow 2.22.5 (cloudpickle) and 3.17.2
(skops, MLflow 3 LoggedModel layout), loaded by fsregistry without MLflow, through every URI
form, from a copied ("relocated") tree on local disk and from S3/GCS uploads."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import fsregistry
from fsreg_testing.fixture_trees import copy_fixture_tree, load_expected, upload_fixture_tree
from fsreg_testing.mlflow_env import MLFLOW_VERSIONS
from fsreg_testing.models import model_cache  # noqa: F401 - fixture
from fsregistry import pyfunc
from fsregistry import sklearn as fsk
from fsregistry.models import get_model_info


def _point_at(url: str) -> None:
    fsregistry.set_tracking_uri(url)
    fsregistry.set_registry_uri(url)


@pytest.mark.parametrize("version", MLFLOW_VERSIONS)
def test_mlflow_fixture_models_load_locally(version: str, tmp_path: Path) -> None:
    root = copy_fixture_tree(version, tmp_path / "mlruns")
    _point_at(str(root))
    expected = load_expected(version)
    X = pd.DataFrame(expected["frame"])
    champion = expected["predictions"]["models:/demo-model@champion"]
    alpha = expected["created"]["runs"]["alpha"]
    beta = expected["created"]["runs"]["beta"]  # version 2 = champion comes from beta
    for uri in (
        "models:/demo-model@champion",
        "models:/demo-model/2",
        f"runs:/{beta}/model",
    ):
        assert pyfunc.load_model(uri).predict(X).tolist() == champion, uri
        assert fsk.load_model(uri).predict(X).tolist() == champion, uri
    for uri in ("models:/demo-model/latest", "models:/demo-model/1", f"runs:/{alpha}/model"):
        assert len(pyfunc.load_model(uri).predict(X)) == len(X), uri
    info = get_model_info("models:/demo-model@champion")
    fmt = "skops" if version.startswith("3") else "cloudpickle"
    assert info.flavors["sklearn"]["serialization_format"] == fmt
    assert info.signature is not None and info.signature.inputs is not None
    assert info.signature.inputs.input_names() == ["f1", "f2"]
    model = pyfunc.load_model("models:/demo-model@champion")
    pd.testing.assert_frame_equal(model.input_example, X.iloc[:2])
    assert model.metadata.run_id == beta


@pytest.mark.parametrize("version", MLFLOW_VERSIONS)
def test_mlflow_fixture_models_load_from_object_stores(
    version: str, backend: str, store_url: str
) -> None:
    if backend == "local":
        pytest.skip("covered by test_mlflow_fixture_models_load_locally")
    upload_fixture_tree(version, store_url)
    _point_at(store_url)
    expected = load_expected(version)
    X = pd.DataFrame(expected["frame"])
    champion = expected["predictions"]["models:/demo-model@champion"]
    assert pyfunc.load_model("models:/demo-model@champion").predict(X).tolist() == champion
    beta = expected["created"]["runs"]["beta"]
    assert fsk.load_model(f"runs:/{beta}/model").predict(X).tolist() == champion
