"""``fsregistry.pyfunc``: custom Python models (artifacts, code_paths, params, load_context),
on local disk, S3 and GCS."""

# Fixtures come from fsreg_testing.models (imported by name), so pytest's argument names shadow
# them: that is how pytest fixtures are shared without a conftest.
# ruff: noqa: F811

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import fsregistry
from fsreg_testing.models import frame, model_cache, tracking  # noqa: F401 - fixtures
from fsregistry import pyfunc
from fsregistry.exceptions import FsRegistryException, InvalidParameterValue, ResourceDoesNotExist
from fsregistry.models import ModelIntegrityError, infer_signature


class AddN(pyfunc.PythonModel):
    """Adds the number stored in the ``n`` artifact (and the ``offset`` param)."""

    def load_context(self, context: pyfunc.PythonModelContext) -> None:
        self.n = float(Path(context.artifacts["n"]).read_text())
        self.config = context.model_config

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.Series:
        offset = (params or {}).get("offset", 0.0)
        return model_input["x"] + self.n + offset

    def describe(self) -> str:
        return f"add {self.n}"


class NoContext(pyfunc.PythonModel):
    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:  # type: ignore[override]
        return [len(model_input)]


def test_custom_model_with_artifacts_and_params(tracking: str, tmp_path: Path) -> None:
    n_file = tmp_path / "n.txt"
    n_file.write_text("10")
    data = pd.DataFrame({"x": [1.0, 2.0]})
    signature = infer_signature(data, pd.Series([11.0, 12.0]), params={"offset": 0.0})
    with fsregistry.start_run():
        info = pyfunc.log_model(
            name="adder",
            python_model=AddN(),
            artifacts={"n": str(n_file)},
            signature=signature,
            model_config={"mode": "test"},
            input_example=data,
        )
    model = pyfunc.load_model(info.model_uri)
    assert model.loader_module == "mlflow.pyfunc.model"
    assert list(model.predict(data)) == [11.0, 12.0]
    assert list(model.predict(data, params={"offset": 1})) == [12.0, 13.0]
    with pytest.raises(InvalidParameterValue, match="offset"):
        model.predict(data, params={"offset": "lots"})
    with pytest.raises(InvalidParameterValue, match=r"missing inputs \['x'\]"):
        model.predict(pd.DataFrame({"y": [1.0]}))
    unwrapped = model.unwrap_python_model()
    assert isinstance(unwrapped, AddN) and unwrapped.describe() == "add 10.0"
    assert unwrapped.config == {"mode": "test"}
    conf = model.metadata.flavors["python_function"]
    assert conf["artifacts"]["n"] == {"path": "artifacts/n.txt", "uri": str(n_file)}
    assert conf["python_model"] == "python_model.pkl" and conf["cloudpickle_version"]
    # model_config given at load time overrides the saved one
    assert pyfunc.load_model(
        info.model_uri, model_config={"mode": "x"}
    ).unwrap_python_model().config == {"mode": "x"}


def test_predict_without_context_and_functions(tmp_path: Path) -> None:
    pyfunc.save_model(tmp_path / "nc", python_model=NoContext())
    assert pyfunc.load_model(str(tmp_path / "nc")).predict([1, 2, 3]) == [3]
    pyfunc.save_model(tmp_path / "fn", python_model=lambda df: np.asarray(df) * 2)
    out = pyfunc.load_model(str(tmp_path / "fn")).predict(np.array([1, 2]))
    assert list(out) == [2, 4]


def test_code_paths_are_importable_at_load(tmp_path: Path) -> None:
    pkg = tmp_path / "src" / "helper_pkg_for_pyfunc"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("def triple(x):\n    return [3 * v for v in x]\n")
    code = (
        "import fsregistry.pyfunc as p\n"
        "class M(p.PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        import helper_pkg_for_pyfunc\n"
        "        return helper_pkg_for_pyfunc.triple(model_input)\n"
    )
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(code, namespace)  # a class defined in __main__ is pickled by value
    pyfunc.save_model(tmp_path / "m", python_model=namespace["M"](), code_paths=[str(pkg)])
    assert (tmp_path / "m" / "code" / "helper_pkg_for_pyfunc" / "__init__.py").is_file()
    # the class is pickled by value, its fsregistry base class by reference: a requirement
    reqs = (tmp_path / "m" / "requirements.txt").read_text().split("\n")
    assert any(r.startswith("fsregistry==") for r in reqs)
    assert any(r.startswith("cloudpickle==") for r in reqs)
    assert pyfunc.load_model(str(tmp_path / "m")).predict([1, 2]) == [3, 6]


def test_custom_model_tamper_check(tracking: str) -> None:
    with fsregistry.start_run():
        info = pyfunc.log_model(name="nc", python_model=NoContext())
    location = fsregistry.get_logged_model(info.model_id or "").artifact_location
    from fsregistry.storage.artifact_repo import ArtifactRepository

    ArtifactRepository(location).write_bytes("python_model.pkl", b"cos\nsystem\n(S'true'\ntR.")
    with pytest.raises(ModelIntegrityError, match=r"python_model\.pkl"):
        pyfunc.load_model(info.model_uri)


def test_save_model_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(
        InvalidParameterValue, match="Either `loader_module` or `python_model` must be specified"
    ):
        pyfunc.save_model(tmp_path / "x")
    with pytest.raises(ResourceDoesNotExist, match="No such artifact: 'no'"):
        pyfunc.save_model(
            tmp_path / "x", python_model=NoContext(), artifacts={"a": str(tmp_path / "no")}
        )
    with pytest.raises(InvalidParameterValue, match="PythonModel"):
        pyfunc.save_model(tmp_path / "x", python_model=42)  # type: ignore[arg-type]
    assert not (tmp_path / "x").exists()


def test_unsupported_flavor_is_a_clear_error(tmp_path: Path) -> None:
    from fsregistry.models import Model

    model_dir = tmp_path / "catboost"
    model_dir.mkdir()
    Model(flavors={"python_function": {"loader_module": "mlflow.catboost"}}).save(
        model_dir / "MLmodel"
    )
    with pytest.raises(InvalidParameterValue, match=r"mlflow\.catboost"):
        pyfunc.load_model(str(model_dir))
    with pytest.raises(FsRegistryException, match="only available for custom"):
        sk = tmp_path / "sk"
        from fsreg_testing.models import trained_model
        from fsregistry import sklearn as fsk

        fsk.save_model(trained_model(), sk)
        pyfunc.load_model(str(sk)).unwrap_python_model()


def test_sklearn_pyfunc_raw_model(tmp_path: Path) -> None:
    from fsreg_testing.models import trained_model
    from fsregistry import sklearn as fsk

    model = trained_model()
    fsk.save_model(model, tmp_path / "sk")
    loaded = pyfunc.load_model(str(tmp_path / "sk"))
    assert type(loaded.get_raw_model()) is type(model)
    assert "fsregistry.pyfunc.loaded_model" in repr(loaded)
    assert np.array_equal(loaded.predict(frame()), model.predict(frame()))
