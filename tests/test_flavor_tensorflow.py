"""``fsregistry.tensorflow`` / ``fsregistry.keras``.

TensorFlow is not in the shared test venv (too heavy): ``test_tensorflow_suite`` runs
the ``tests/flavor_tensorflow*_cases.py`` files (``CASES``) with
pytest inside the cached TensorFlow venv (``fsreg_testing/tf_env.py``: core + test deps +
tensorflow-cpu, built on first use) and fails unless every case there passed (none skipped).
The other tests here run in the shared venv, where TensorFlow really is missing: the flavors must say which extra to install.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from fsreg_testing.tf_env import run_tf_suite
from fsregistry import keras as fkeras
from fsregistry import pyfunc
from fsregistry import tensorflow as ftf
from fsregistry.exceptions import InvalidParameterValue

CASES = [
    "tests/flavor_tensorflow_cases.py",
    "tests/flavor_tensorflow_mlflow_cases.py",
    "tests/flavor_tensorflow_autolog_cases.py",
]
#: The number of test cases in CASES (a case lost to a collection error fails the count).
N_CASES = 14 + 2 + 6


@pytest.mark.mlflow
def test_tensorflow_suite(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    proc = run_tf_suite(CASES, junit)
    report = f"--- stdout ---\n{proc.stdout[-12000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, report
    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert suite is not None, report
    counts = {k: int(suite.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": N_CASES, "failures": 0, "errors": 0, "skipped": 0}, report


def _fake_model(path: Path, flavor: str, conf: dict[str, object], loader: str) -> None:
    """An MLmodel naming a TF/Keras model (the files do not matter: TF is missing)."""
    path.mkdir()
    mlmodel = {
        "flavors": {
            flavor: conf,
            "python_function": {"loader_module": loader, "python_version": "3.11.7"},
        }
    }
    (path / "MLmodel").write_text(yaml.safe_dump(mlmodel))


@pytest.mark.parametrize(
    ("flavor", "extra"), [(ftf, "tensorflow"), (fkeras, "keras")], ids=["tensorflow", "keras"]
)
def test_missing_framework_names_the_extra(flavor: object, extra: str, tmp_path: Path) -> None:
    module = flavor
    assert module in (ftf, fkeras)
    name = module.FLAVOR_NAME  # type: ignore[attr-defined]
    with pytest.raises(InvalidParameterValue, match=rf"pip install 'fsregistry\[{extra}\]'"):
        module.save_model(object(), tmp_path / "new")  # type: ignore[attr-defined]
    assert not (tmp_path / "new").exists()
    path = tmp_path / "m"
    conf = {"data": "data", "keras_version": "2.21.0", "model_type": "keras"}
    _fake_model(path, name, conf, f"mlflow.{name}")
    for load in (module.load_model, pyfunc.load_model):  # type: ignore[attr-defined]
        with pytest.raises(InvalidParameterValue, match=rf"pip install 'fsregistry\[{extra}\]'"):
            load(str(path), verify=False)
