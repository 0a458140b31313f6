"""MLflow API spellings that code in the wild uses: ``from mlflow.tracking import
MlflowClient`` and MLflow 2's ``code_path=``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import fsregistry
from fsregistry.exceptions import InvalidParameterValue


def test_tracking_package_exports_mlflow_client_lazily() -> None:
    code = (
        "import sys\n"
        "import fsregistry.tracking.store\n"
        "assert 'fsregistry.client' not in sys.modules\n"
        "from fsregistry.tracking import MlflowClient, get_tracking_uri, set_tracking_uri\n"
        "import fsregistry\n"
        "assert MlflowClient is fsregistry.MlflowClient\n"
        "from fsregistry.tracking import runs\n"  # submodules still import
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "ok"


class Echo(fsregistry.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        import helper_mod  # type: ignore[import-not-found]

        return helper_mod.VALUE


@pytest.fixture
def helper(tmp_path: Path) -> str:
    path = tmp_path / "helper_mod.py"
    path.write_text("VALUE = 42\n")
    return str(path)


def test_code_path_is_the_2x_spelling_of_code_paths(tmp_path: Path, helper: str) -> None:
    with pytest.warns(UserWarning, match="`code_path` argument is replaced by `code_paths`"):
        fsregistry.pyfunc.save_model(tmp_path / "m", python_model=Echo(), code_path=[helper])
    assert (tmp_path / "m" / "code" / "helper_mod.py").is_file()
    with pytest.raises(InvalidParameterValue, match="Both `code_path` and `code_paths`"):
        fsregistry.pyfunc.save_model(
            tmp_path / "n", python_model=Echo(), code_path=[helper], code_paths=[helper]
        )
    assert not (tmp_path / "n").exists()


def test_code_path_in_log_model_and_sklearn(tmp_path: Path, helper: str) -> None:
    sklearn = pytest.importorskip("sklearn.linear_model")
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    with fsregistry.start_run():
        with pytest.warns(UserWarning, match="code_path"):
            info = fsregistry.pyfunc.log_model(name="m", python_model=Echo(), code_path=[helper])
        with pytest.warns(UserWarning, match="code_path"):
            sk = fsregistry.sklearn.log_model(
                sklearn.LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]),
                name="sk",
                code_path=[helper],
            )
    local = fsregistry.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path))
    assert (Path(local) / "code" / "helper_mod.py").is_file()
    local = fsregistry.artifacts.download_artifacts(sk.model_uri, dst_path=str(tmp_path))
    assert (Path(local) / "code" / "helper_mod.py").is_file()
