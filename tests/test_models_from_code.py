"""Models from code: ``pyfunc.save_model/log_model(python_model="model.py")``, ``set_model``,
``ModelConfig``, ``model_config`` at save and load time, on local disk, S3 and GCS, and real
MLflow 3.17.2 loading fsregistry's models from code and the other way round."""

# ruff: noqa: F811

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import fsregistry
from fsreg_testing.models import local_tracking, model_cache, register, tracking  # noqa: F401
from fsregistry import pyfunc
from fsregistry.exceptions import FsRegistryException, InvalidParameterValue
from fsregistry.models import ModelConfig, ModelIntegrityError, set_model
from fsregistry.models.model_config import ModelConfigNotFound

# A model file written for MLflow 3: `import mlflow` (fsregistry runs it as fsregistry).
MLFLOW_STYLE = """
import mlflow
from mlflow.models import ModelConfig
from helper import OFFSET

config = ModelConfig(development_config={"scale": 1})


class Scaler(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        self.bias = context.model_config.get("bias", 0)

    def predict(self, context, model_input, params=None):
        return model_input["x"] * config.get("scale") + OFFSET + self.bias


mlflow.models.set_model(Scaler())
"""

# The same model written for fsregistry, setting a plain function.
FSREG_STYLE = """
import fsregistry as mlflow

config = mlflow.models.ModelConfig(development_config="unused.yaml")


def predict(model_input):
    return model_input["x"] * config.get("scale")


mlflow.models.set_model(predict)
"""

DATA = pd.DataFrame({"x": [1.0, 2.0, 4.0]})


def _write(path: Path, text: str) -> str:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


@pytest.fixture
def model_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """MLFLOW_STYLE in ``src/model.py``; its helper module in ``src/lib/helper.py``, importable
    while saving (as MLflow requires) and shipped with ``code_paths``."""
    src = tmp_path / "src"
    (src / "lib").mkdir(parents=True)
    _write(src / "lib" / "helper.py", "OFFSET = 100\n")
    monkeypatch.syspath_prepend(str(src / "lib"))
    return _write(src / "model.py", MLFLOW_STYLE)


def _forget_helper() -> None:
    """Unload ``helper`` so loading must find it in the model's ``code/``."""
    sys.modules.pop("helper", None)


def test_save_and_load_layout_config_and_override(model_file: str, tmp_path: Path) -> None:
    config = _write(tmp_path / "config.yaml", "scale: 3\nbias: 0\n")
    helper = str(Path(model_file).parent / "lib" / "helper.py")
    out = tmp_path / "out"
    pyfunc.save_model(
        out, python_model=model_file, code_paths=[helper], model_config=config, input_example=DATA
    )
    assert sorted(os.listdir(out)) == [
        "MLmodel",
        "code",
        "conda.yaml",
        "fsreg.hashes.json",
        "input_example.json",
        "model.py",
        "python_env.yaml",
        "requirements.txt",
        "serving_input_example.json",
    ]
    assert (out / "model.py").read_text() == Path(model_file).read_text()
    assert os.listdir(out / "code") == ["helper.py"]
    assert "model.py" in json.loads((out / "fsreg.hashes.json").read_text())["files"]
    _forget_helper()
    model = pyfunc.load_model(str(out))
    conf = model.metadata.flavors["python_function"]
    assert conf["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    assert conf["model_code_path"] == model_file
    assert conf["config"] == {"scale": 3, "bias": 0} and conf["code"] == "code"
    assert "python_model" not in conf  # nothing pickled
    assert model.model_config == {"scale": 3, "bias": 0}
    # signature inferred from the input example by running the file's model
    assert model.metadata.get_input_schema().input_names() == ["x"]
    assert model.metadata.get_output_schema() is not None
    assert list(model.predict(DATA)) == [103.0, 106.0, 112.0]
    # load-time model_config replaces saved keys (a dict or a YAML file); unknown keys ignored
    override = _write(tmp_path / "override.yaml", "scale: 10\n")
    assert list(pyfunc.load_model(str(out), model_config=override).predict(DATA)) == [
        110.0,
        120.0,
        140.0,
    ]
    again = pyfunc.load_model(str(out), model_config={"bias": 1000, "other": 1})
    assert list(again.predict(DATA)) == [1103.0, 1106.0, 1112.0]
    assert "other" not in again.unwrap_python_model().__dict__
    assert type(again.unwrap_python_model()).__name__ == "Scaler"


def test_log_and_load_on_every_store(tracking: str, model_file: str) -> None:
    helper = str(Path(model_file).parent / "lib" / "helper.py")
    with fsregistry.start_run():
        info = pyfunc.log_model(
            name="scaler",
            python_model=model_file,
            code_paths=[helper],
            model_config={"scale": 2, "bias": 0},
            input_example=DATA,
        )
    register(info.model_uri, "from-code")
    _forget_helper()
    for uri in (info.model_uri, "models:/from-code/1"):
        model = pyfunc.load_model(uri)
        assert list(model.predict(DATA)) == [102.0, 104.0, 108.0], uri
    assert info.flavors["python_function"]["config"] == {"scale": 2, "bias": 0}


def test_fsregistry_style_file_sets_a_function(tmp_path: Path) -> None:
    code = _write(tmp_path / "fn_model.py", FSREG_STYLE)
    pyfunc.save_model(tmp_path / "m", python_model=code, model_config={"scale": 7})
    model = pyfunc.load_model(str(tmp_path / "m"))
    assert list(model.predict(DATA)) == [7.0, 14.0, 28.0]
    assert model.metadata.flavors["python_function"]["model_code_path"] == code


def test_a_model_logged_without_config_cannot_read_one(tmp_path: Path) -> None:
    code = _write(tmp_path / "fn_model.py", FSREG_STYLE)
    # MLflow's rule: while a loader runs the file, development_config does not count
    with pytest.raises(FsRegistryException, match="Config file is not provided") as info:
        pyfunc.save_model(tmp_path / "m", python_model=code)
    assert isinstance(info.value.__cause__, ModelConfigNotFound)
    assert not (tmp_path / "m").exists()


def test_model_config_class(tmp_path: Path) -> None:
    config = ModelConfig(development_config={"a": 1, "b": [2, 3]})
    assert config.get("a") == 1 and config.to_dict() == {"a": 1, "b": [2, 3]}
    with pytest.raises(KeyError, match="Key 'c' not found in configuration"):
        config.get("c")
    path = _write(tmp_path / "c.yaml", "k: v\nnested:\n  x: 1\n")
    from_file = ModelConfig(development_config=path)
    assert from_file.get("nested") == {"x": 1} and from_file.to_dict() == {
        "k": "v",
        "nested": {"x": 1},
    }
    with pytest.raises(ModelConfigNotFound, match="Config file is not provided"):
        ModelConfig()
    with pytest.raises(FileNotFoundError, match="not found"):  # as MLflow raises
        ModelConfig(development_config=str(tmp_path / "missing.yaml"))
    bad = _write(tmp_path / "bad.yaml", "a: [1,\n")
    with pytest.raises(InvalidParameterValue, match="Error parsing YAML file"):
        ModelConfig(development_config=bad).get("a")


def test_set_model_outside_a_loader_and_bad_models() -> None:
    set_model(lambda df: df)  # the author running the file directly: accepted, nothing happens
    with pytest.raises(InvalidParameterValue, match="Model should either be an instance"):
        set_model("model.py")
    with pytest.raises(InvalidParameterValue, match="Model should either be an instance"):
        set_model(42)


def test_bad_paths_and_files_write_nothing(tmp_path: Path, local_tracking: str) -> None:
    out = tmp_path / "out"
    before = set(sys.modules)
    with pytest.raises(
        InvalidParameterValue, match=r"does not exist.*Perhaps you meant '.*nope.py'"
    ):
        pyfunc.save_model(out, python_model=str(tmp_path / "nope"))
    text = _write(tmp_path / "model.txt", "x = 1\n")
    with pytest.raises(InvalidParameterValue, match="not a valid Python file path"):
        pyfunc.save_model(out, python_model=text)
    with pytest.raises(InvalidParameterValue, match="not a valid Python file path"):
        pyfunc.save_model(out, python_model=str(tmp_path))
    never = _write(tmp_path / "never.py", "import mlflow\nclass M: pass\n")
    with pytest.raises(FsRegistryException, match=r"mlflow.models.set_model\(\).*never.py"):
        pyfunc.save_model(out, python_model=never)
    broken = _write(tmp_path / "broken.py", "raise RuntimeError('boom')\n")
    with pytest.raises(FsRegistryException, match=r"Failed to run user code .*boom"):
        pyfunc.save_model(out, python_model=broken)
    missing_import = _write(tmp_path / "imp.py", "import no_such_module_xyz\n")
    with pytest.raises(FsRegistryException, match=r"Failed to import code model .*no_such"):
        pyfunc.save_model(out, python_model=missing_import)
    no_flavor = _write(tmp_path / "flavor.py", "import mlflow.catboost\n")
    with pytest.raises(FsRegistryException, match="`mlflow` is fsregistry, which has no"):
        pyfunc.save_model(out, python_model=no_flavor)
    good = _write(tmp_path / "fn_model.py", FSREG_STYLE)
    with pytest.raises(InvalidParameterValue, match="not a valid file path"):
        pyfunc.save_model(out, python_model=good, model_config=str(tmp_path / "none.yaml"))
    with pytest.raises(InvalidParameterValue, match="JSON-serializable"):
        pyfunc.save_model(out, python_model=good, model_config={"scale": object()})
    with pytest.raises(
        InvalidParameterValue, match="The following sets of parameters cannot be specified together"
    ):
        pyfunc.save_model(out, python_model=good, loader_module="x")
    assert not out.exists()
    assert not [m for m in set(sys.modules) - before if m.startswith("code_model_")]
    with fsregistry.start_run() as run, pytest.raises(InvalidParameterValue, match="does not"):
        pyfunc.log_model(name="m", python_model=str(tmp_path / "nope.py"))
    assert fsregistry.Client().list_artifacts(run.info.run_id) == []


def test_loading_runs_the_file_in_a_fresh_module(tmp_path: Path) -> None:
    code = _write(
        tmp_path / "counter.py",
        """
        import mlflow
        calls = []
        def predict(model_input):
            calls.append(1)
            return [len(calls)] * len(model_input)
        mlflow.models.set_model(predict)
        """,
    )
    pyfunc.save_model(tmp_path / "m", python_model=code, input_example=DATA)
    before = set(sys.modules)
    first = pyfunc.load_model(str(tmp_path / "m"))
    second = pyfunc.load_model(str(tmp_path / "m"))
    assert list(first.predict(DATA)) == [1, 1, 1]
    assert list(first.predict(DATA)) == [2, 2, 2]
    assert list(second.predict(DATA)) == [1, 1, 1]  # its own module globals
    added = set(sys.modules) - before
    assert len(added) == 2 and all(m.startswith("code_model_") for m in added)
    assert "mlflow" not in sys.modules  # `import mlflow` in the file never became global


def test_a_tampered_code_file_is_refused_before_it_runs(tmp_path: Path) -> None:
    code = _write(tmp_path / "fn_model.py", FSREG_STYLE)
    out = tmp_path / "m"
    pyfunc.save_model(out, python_model=code, model_config={"scale": 2})
    marker = tmp_path / "ran"
    (out / "fn_model.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n" + (out / "fn_model.py").read_text()
    )
    with pytest.raises(ModelIntegrityError, match=r"fn_model\.py"):
        pyfunc.load_model(str(out))
    assert not marker.exists()
    # an added file in code/ is refused too
    (out / "fn_model.py").write_text(Path(code).read_text())
    (out / "code").mkdir()
    (out / "code" / "evil.py").write_text("x = 1\n")
    with pytest.raises(ModelIntegrityError, match=r"evil\.py"):
        pyfunc.load_model(str(out))


# --------------------------------------------------------------------------- real MLflow 3.17.2
MLFLOW_LOADS = """
import json, sys
import mlflow, pandas as pd
sys.modules.pop("helper", None)
data = pd.DataFrame({"x": [1.0, 2.0, 4.0]})
out = {}
for key, uri in json.load(open("uris.json")).items():
    kwargs = {"model_config": {"bias": 1000}} if key == "override" else {}
    model = mlflow.pyfunc.load_model(uri, **kwargs)
    out[key] = [float(v) for v in model.predict(data)]
print(json.dumps(out))
"""

MLFLOW_LOGS = """
import json, sys
import mlflow, pandas as pd
sys.path.insert(0, "src/lib")
mlflow.set_tracking_uri("mlruns")
with mlflow.start_run() as run:
    info = mlflow.pyfunc.log_model(
        name="scaler", python_model="src/model.py", code_paths=["src/lib/helper.py"],
        model_config={"scale": 5, "bias": 0}, input_example=pd.DataFrame({"x": [1.0, 2.0]}),
    )
    mlflow.pyfunc.save_model("saved", python_model="src/model.py",
                             code_paths=["src/lib/helper.py"], model_config="src/config.yaml")
print(json.dumps({"uri": info.model_uri}))
"""


@pytest.mark.mlflow
def test_mlflow_loads_fsregistry_models_from_code(
    local_tracking: str, model_file: str, tmp_path: Path
) -> None:
    from fsreg_testing.mlflow_env import run_mlflow

    helper = str(Path(model_file).parent / "lib" / "helper.py")
    with fsregistry.start_run():
        info = pyfunc.log_model(
            name="scaler",
            python_model=model_file,
            code_paths=[helper],
            model_config={"scale": 4, "bias": 0},
            input_example=DATA,
        )
    pyfunc.save_model(
        tmp_path / "saved", python_model=model_file, code_paths=[helper], model_config={"scale": 3}
    )
    _forget_helper()
    ours = {
        "logged": list(pyfunc.load_model(info.model_uri).predict(DATA)),
        "override": list(
            pyfunc.load_model(info.model_uri, model_config={"bias": 1000}).predict(DATA)
        ),
        "saved": list(pyfunc.load_model(str(tmp_path / "saved")).predict(DATA)),
    }
    uris = {"logged": info.model_uri, "override": info.model_uri, "saved": "saved"}
    (tmp_path / "uris.json").write_text(json.dumps(uris))
    theirs = run_mlflow("3.17.2", MLFLOW_LOADS, cwd=tmp_path)
    assert ours == {
        "logged": [104.0, 108.0, 116.0],
        "override": [1104.0, 1108.0, 1116.0],
        "saved": [103.0, 106.0, 112.0],
    }
    assert theirs == ours


@pytest.mark.mlflow
def test_fsregistry_loads_mlflow_models_from_code(model_file: str, tmp_path: Path) -> None:
    from fsreg_testing.mlflow_env import run_mlflow

    _write(Path(model_file).parent / "config.yaml", "scale: 6\nbias: 0\n")
    theirs = run_mlflow("3.17.2", MLFLOW_LOGS, cwd=tmp_path)
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    _forget_helper()
    sys.modules.pop("helper", None)
    logged = pyfunc.load_model(theirs["uri"])
    assert logged.metadata.flavors["python_function"]["config"] == {"scale": 5, "bias": 0}
    assert list(logged.predict(DATA)) == [105.0, 110.0, 120.0]
    assert list(logged.metadata.get_input_schema().input_names()) == ["x"]
    override = pyfunc.load_model(theirs["uri"], model_config={"bias": 1000})
    assert list(override.predict(DATA)) == [1105.0, 1110.0, 1120.0]
    saved = pyfunc.load_model(str(tmp_path / "saved"))
    assert list(saved.predict(DATA)) == [106.0, 112.0, 124.0]
    (tmp_path / "uris.json").write_text(
        json.dumps({"logged": theirs["uri"], "override": theirs["uri"], "saved": "saved"})
    )
    again = run_mlflow("3.17.2", MLFLOW_LOADS, cwd=tmp_path)
    assert again == {
        "logged": [105.0, 110.0, 120.0],
        "override": [1105.0, 1110.0, 1120.0],
        "saved": [106.0, 112.0, 124.0],
    }


def test_model_config_is_stored_under_mlflows_key(tmp_path: Path) -> None:
    import yaml

    pyfunc.save_model(tmp_path / "m", python_model=lambda df: df, model_config={"k": 1})
    mlmodel = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    conf = mlmodel["flavors"]["python_function"]
    assert conf["config"] == {"k": 1} and "model_config" not in conf
    assert pyfunc.load_model(str(tmp_path / "m")).model_config == {"k": 1}
    # a model written by earlier fsregistry versions (key `model_config`) keeps its config
    conf["model_config"] = conf.pop("config")
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    old = pyfunc.load_model(str(tmp_path / "m"), verify=False, model_config={"k": 2})
    assert old.model_config == {"k": 1}
    assert old._model_impl.context.model_config == {"k": 2}  # the override reached it


def test_concurrent_loads_each_get_their_own_model(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    paths = []
    for n in range(4):
        code = _write(
            tmp_path / f"m{n}.py",
            f"""
            import time
            import mlflow
            time.sleep(0.05)  # overlap the runs of the files
            mlflow.models.set_model(lambda df: [{n}] * len(df))
            """,
        )
        pyfunc.save_model(tmp_path / f"out{n}", python_model=code)
        paths.append(str(tmp_path / f"out{n}"))
    with ThreadPoolExecutor(4) as pool:
        models = list(pool.map(pyfunc.load_model, paths * 2))
    assert [m.predict(DATA)[0] for m in models] == [0, 1, 2, 3] * 2
