"""``fsregistry.models``: MLmodel, input examples and serving JSON, predict, set_signature,
environment capture."""

# Fixtures come from fsreg_testing.models (imported by name), so pytest's argument names shadow
# them: that is how pytest fixtures are shared without a conftest.
# ruff: noqa: F811

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import fsregistry
from fsreg_testing.fixture_trees import FIXTURE_ROOT
from fsreg_testing.models import frame, model_cache, tracking, trained_model  # noqa: F401 - fixtures
from fsregistry import sklearn as fsk
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models import (
    ColSpec,
    Model,
    ModelSignature,
    Schema,
    convert_input_example_to_serving_input,
    get_model_info,
    infer_signature,
    predict,
    set_signature,
    validate_serving_input,
)
from fsregistry.models.environment import modules_in_pickle
from fsregistry.models.input_example import InputExample, InvalidInputError, parse_serving_input


def _mlflow_mlmodels() -> list[Path]:
    return sorted(FIXTURE_ROOT.glob("mlflow-*/mlruns/**/MLmodel"))


@pytest.mark.parametrize("path", _mlflow_mlmodels(), ids=lambda p: p.parts[-6])
def test_mlmodel_written_by_mlflow_round_trips(path: Path) -> None:
    original = yaml.safe_load(path.read_text())
    model = Model.load(path)
    assert model.flavors["sklearn"]["serialization_format"] in ("cloudpickle", "skops")
    assert model.signature is not None and model.signature.inputs is not None
    assert model.signature.inputs.input_names() == ["f1", "f2"]
    assert yaml.safe_load(model.to_yaml()) == original  # unknown keys (prompts...) kept


def test_input_example_encodings() -> None:
    df = InputExample(pd.DataFrame({"a": [1, 2], "b": ["x", None]}))
    assert df.json_input_example == '{"columns": ["a", "b"], "data": [[1, "x"], [2, null]]}'
    assert json.loads(df.json_serving_input) == {
        "dataframe_split": {"columns": ["a", "b"], "data": [[1, "x"], [2, None]]}
    }
    assert df.info == {
        "artifact_path": "input_example.json",
        "type": "dataframe",
        "pandas_orient": "split",
        "serving_input_path": "serving_input_example.json",
    }
    nd = InputExample(np.array([[1.0, np.nan]]))
    assert nd.json_input_example == "[[1.0, null]]" and nd.info["type"] == "ndarray"
    with_params = InputExample((["hi"], {"temperature": 0.5}))
    assert json.loads(with_params.json_input_example) == {
        "inputs": ["hi"],
        "params": {"temperature": 0.5},
    }
    assert json.loads(with_params.json_serving_input) == {
        "inputs": ["hi"],
        "params": {"temperature": 0.5},
    }
    assert with_params.info["params"] == "true" and with_params.info["type"] == "json_object"
    assert json.loads(convert_input_example_to_serving_input({"q": "text"}) or "") == {
        "inputs": {"q": "text"}
    }
    assert convert_input_example_to_serving_input(None) is None


def test_parse_serving_input_formats() -> None:
    schema = Schema([ColSpec("double", "f1"), ColSpec("long", "f2")])
    split, params = parse_serving_input(
        '{"dataframe_split": {"columns": ["f1", "f2"], "data": [[1, 2]]}, "params": {"a": 1}}',
        schema,
    )
    assert split["f1"].dtype == np.float64 and params == {"a": 1}
    records, _ = parse_serving_input({"dataframe_records": [{"f1": 1.5, "f2": 3}]}, schema)
    assert records.to_dict("list") == {"f1": [1.5], "f2": [3]}
    inputs, _ = parse_serving_input({"inputs": {"f1": [1.0], "f2": [2]}}, schema)
    assert inputs["f2"].dtype == np.int64
    inst, _ = parse_serving_input(
        {"instances": [{"f1": 1.0, "f2": 2}, {"f1": 2.0, "f2": 3}]}, schema
    )
    assert list(inst["f2"]) == [2, 3]
    with pytest.raises(InvalidInputError, match="exactly one of the input fields"):
        parse_serving_input({"data": []}, schema)
    with pytest.raises(
        InvalidInputError, match="Ensure that input is a valid JSON formatted string"
    ):
        parse_serving_input("{nope", schema)


def test_saved_example_loads_back(tracking: str) -> None:
    with fsregistry.start_run():
        info = fsk.log_model(trained_model(), name="m", input_example=frame()[:3])
    meta = Model.load(info.model_uri)
    example = meta.load_input_example()
    pd.testing.assert_frame_equal(example, frame()[:3])
    serving = meta.get_serving_input(info.model_uri)
    assert serving is not None and json.loads(serving)["dataframe_split"]["columns"] == ["f1", "f2"]
    preds = validate_serving_input(info.model_uri, serving)
    assert list(preds) == list(trained_model().predict(frame()[:3]))


def test_predict_json_and_csv(
    tracking: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = trained_model()
    with fsregistry.start_run():
        info = fsk.log_model(model, name="m", input_example=frame()[:2])
    expected = model.predict(frame()).tolist()
    out = tmp_path / "out.json"
    predict(info.model_uri, input_data=frame(), output_path=str(out))
    assert json.loads(out.read_text()) == {"predictions": expected}
    body = tmp_path / "in.json"
    body.write_text(json.dumps({"dataframe_records": frame().to_dict("records")}))
    predict(info.model_uri, input_path=str(body))
    assert json.loads(capsys.readouterr().out) == {"predictions": expected}
    csv = tmp_path / "in.csv"
    frame().to_csv(csv, index=False)
    predict(info.model_uri, input_path=str(csv), content_type="csv", output_path=str(out))
    assert json.loads(out.read_text()) == {"predictions": expected}
    predict(
        info.model_uri,
        input_data=frame().to_csv(index=False),
        content_type="csv",
        output_path=str(out),
    )
    assert json.loads(out.read_text()) == {"predictions": expected}
    with pytest.raises(InvalidParameterValue, match="env_manager"):
        predict(info.model_uri, input_data=frame(), env_manager="conda")
    with pytest.raises(
        InvalidParameterValue, match="Neither input_data nor input_path is provided"
    ):
        predict(info.model_uri)


def test_set_signature(tracking: str) -> None:
    with fsregistry.start_run():
        info = fsk.log_model(trained_model(), name="m")
    assert info.signature is None
    sig = infer_signature(frame(), np.array([0, 1]))
    set_signature(info.model_uri, sig)
    assert get_model_info(info.model_uri).signature == sig
    fsk.load_model(info.model_uri)  # the hash manifest was updated with MLmodel
    with pytest.raises(InvalidParameterValue, match="read-only"):
        set_signature("models:/some-model/1", sig)
    with pytest.raises(InvalidParameterValue, match="ModelSignature"):
        set_signature(info.model_uri, "nope")  # type: ignore[arg-type]


def test_signature_false_and_explicit(tmp_path: Path) -> None:
    fsk.save_model(trained_model(), tmp_path / "a", input_example=frame()[:2], signature=False)  # type: ignore[arg-type]
    assert Model.load(tmp_path / "a").signature is None
    sig = ModelSignature(Schema([ColSpec("double", "f1"), ColSpec("long", "f2")]))
    fsk.save_model(trained_model(), tmp_path / "b", signature=sig)
    assert Model.load(tmp_path / "b").signature == sig


def test_pickle_scan_finds_modules_without_unpickling() -> None:
    import cloudpickle

    mods = modules_in_pickle(pickle.dumps(trained_model()))
    assert {"sklearn", "numpy"} <= mods
    local_fn = lambda x: pd.DataFrame(x)  # noqa: E731 - pickled by value, references pandas
    mods = modules_in_pickle(cloudpickle.dumps(local_fn))
    assert "pandas" in mods


def test_model_info_of_plain_path(tmp_path: Path) -> None:
    fsk.save_model(trained_model(), tmp_path / "p")
    info = get_model_info(str(tmp_path / "p"))
    assert info.model_uri == str(tmp_path / "p") and info.run_id is None
    assert info.files_digest is not None
