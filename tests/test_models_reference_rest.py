"""The rest of the ``mlflow.models`` reference (issue 21 §3): ``infer_pip_requirements`` with
``timeout``/``fallback``, ``set_retriever_schema`` and ``Model.load_input_example_params``,
checked against real MLflow 3.17.2 where MLflow writes or reads the same files."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from fsregistry import pyfunc
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.models import Model, infer_pip_requirements, set_retriever_schema
from fsregistry.models.requirements_inference import RequirementsInferenceTimeout

DATA = pd.DataFrame({"x": [1.0, 2.0]})


@pytest.fixture
def sk_model(tmp_path: Path) -> str:
    """A saved scikit-learn model (its pickle references sklearn and numpy)."""
    from sklearn.linear_model import LinearRegression

    from fsregistry import sklearn as fsk

    model = LinearRegression().fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0])
    path = tmp_path / "sk"
    fsk.save_model(model, path)
    return str(path)


# ----------------------------------------------------------------- infer_pip_requirements
def test_infer_pip_requirements_pins_the_pickled_libraries(sk_model: str) -> None:
    import sklearn

    reqs = infer_pip_requirements(sk_model, "sklearn")
    assert f"scikit-learn=={sklearn.__version__}" in reqs
    assert reqs == sorted(reqs, key=lambda r: r.split("=")[0].lower())


def test_infer_pip_requirements_timeout_raises_or_falls_back(
    sk_model: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A deadline that has always passed by the time the first file is scanned.
    with pytest.raises(RequirementsInferenceTimeout, match="timed out after 1e-09 seconds"):
        infer_pip_requirements(sk_model, "sklearn", timeout=1e-9)
    with caplog.at_level(logging.WARNING, logger="fsregistry.models"):
        got = infer_pip_requirements(sk_model, "sklearn", fallback=["fb==1"], timeout=1e-9)
    assert got == ["fb==1"]
    assert "operation timed out in 1e-09 seconds. Fall back to return ['fb==1']" in caplog.text
    # A generous timeout changes nothing.
    assert infer_pip_requirements(sk_model, timeout=600) == infer_pip_requirements(sk_model)


def test_infer_pip_requirements_error_falls_back_unless_told_to_raise(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = str(tmp_path / "nope")
    with pytest.raises(ResourceDoesNotExist):
        infer_pip_requirements(missing, "sklearn")
    with caplog.at_level(logging.WARNING, logger="fsregistry.models"):
        assert infer_pip_requirements(missing, "sklearn", fallback=[]) == []
    assert "Encountered an unexpected error while inferring pip requirements" in caplog.text
    assert missing in caplog.text
    monkeypatch.setenv("MLFLOW_REQUIREMENTS_INFERENCE_RAISE_ERRORS", "true")
    with pytest.raises(ResourceDoesNotExist):
        infer_pip_requirements(missing, "sklearn", fallback=[])


@pytest.mark.parametrize("bad", [0, -1, "5", True])
def test_infer_pip_requirements_rejects_a_bad_timeout(sk_model: str, bad: object) -> None:
    with pytest.raises(InvalidParameterValue, match="timeout must be a positive number"):
        infer_pip_requirements(sk_model, timeout=bad)  # type: ignore[arg-type]


# ----------------------------------------------------------------- set_retriever_schema
def _schemas(path: Path) -> object:
    return (Model.load(path).metadata or {}).get("dependencies_schemas")


def test_set_retriever_schema_goes_into_the_next_pyfunc_model_only(tmp_path: Path) -> None:
    with pytest.warns(FutureWarning, match="set_retriever_schema is deprecated"):
        set_retriever_schema(primary_key="id", text_column="text", doc_uri="uri")
    with pytest.warns(FutureWarning):
        set_retriever_schema(
            primary_key="pk", text_column="body", other_columns=["title"], name="docs"
        )
    pyfunc.save_model(tmp_path / "a", python_model=lambda df: df, metadata={"team": "x"})
    meta = Model.load(tmp_path / "a").metadata
    assert meta == {
        "team": "x",
        "dependencies_schemas": {
            "retrievers": [
                {
                    "name": "retriever",
                    "primary_key": "id",
                    "text_column": "text",
                    "doc_uri": "uri",
                    "other_columns": [],
                },
                {
                    "name": "docs",
                    "primary_key": "pk",
                    "text_column": "body",
                    "doc_uri": None,
                    "other_columns": ["title"],
                },
            ]
        },
    }
    # Taken by that save: the next model has none.
    pyfunc.save_model(tmp_path / "b", python_model=lambda df: df)
    assert _schemas(tmp_path / "b") is None


def test_set_retriever_schema_same_name_overrides(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.warns(FutureWarning):
        set_retriever_schema(primary_key="a", text_column="t")
        set_retriever_schema(primary_key="a", text_column="t")  # same: kept silently
    assert "already exists" not in caplog.text
    with pytest.warns(FutureWarning), caplog.at_level(logging.WARNING):
        set_retriever_schema(primary_key="b", text_column="t")
    assert "A retriever schema with the name 'retriever' already exists" in caplog.text
    pyfunc.save_model(tmp_path / "m", python_model=lambda df: df)
    entries = _schemas(tmp_path / "m")
    assert isinstance(entries, dict)
    assert [e["primary_key"] for e in entries["retrievers"]] == ["b"]


def test_set_retriever_schema_checks_its_arguments(tmp_path: Path) -> None:
    with pytest.warns(FutureWarning), pytest.raises(InvalidParameterValue, match="primary_key"):
        set_retriever_schema(primary_key=3, text_column="t")  # type: ignore[arg-type]
    with pytest.warns(FutureWarning), pytest.raises(InvalidParameterValue, match="other_columns"):
        set_retriever_schema(primary_key="a", text_column="t", other_columns=[1])  # type: ignore[list-item]
    pyfunc.save_model(tmp_path / "m", python_model=lambda df: df)
    assert _schemas(tmp_path / "m") is None  # nothing was recorded


MODEL_FILE = """
import mlflow
from mlflow.models import set_retriever_schema

set_retriever_schema(primary_key="doc_id", text_column="chunk", doc_uri="source")


def predict(model_input):
    return model_input["x"] * 2


mlflow.models.set_model(predict)
"""

MLFLOW_SIDE = """
import json, warnings
import mlflow, pandas as pd
from mlflow.models import Model, set_retriever_schema
warnings.simplefilter("ignore")
ours = Model.load("ours")
out = {"ours_meta": ours.metadata, "ours_params": ours.load_input_example_params("ours")}
mlflow.pyfunc.save_model("theirs_code", python_model="model.py", pip_requirements=["pandas"])
set_retriever_schema(primary_key="k", text_column="v", name="r2")

class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input

mlflow.pyfunc.save_model(
    "theirs_obj", python_model=Echo(),
    input_example=(pd.DataFrame({"x": [1.0]}), {"k": 5, "s": "a"}),
)
print(json.dumps(out))
"""


@pytest.mark.mlflow
@pytest.mark.filterwarnings("ignore:set_retriever_schema is deprecated:FutureWarning")
def test_schemas_and_example_params_cross_mlflow(tmp_path: Path) -> None:
    from fsreg_testing.mlflow_env import run_mlflow

    (tmp_path / "model.py").write_text(textwrap.dedent(MODEL_FILE), encoding="utf-8")
    pyfunc.save_model(
        tmp_path / "ours",
        python_model=str(tmp_path / "model.py"),
        input_example=(DATA, {"temperature": 0.5, "n": 3}),
    )
    ours = Model.load(tmp_path / "ours")
    expected_schema = {
        "retrievers": [
            {
                "name": "retriever",
                "primary_key": "doc_id",
                "text_column": "chunk",
                "doc_uri": "source",
                "other_columns": [],
            }
        ]
    }
    assert (ours.metadata or {})["dependencies_schemas"] == expected_schema
    assert ours.load_input_example_params(str(tmp_path / "ours")) == {"temperature": 0.5, "n": 3}
    theirs = run_mlflow("3.17.2", MLFLOW_SIDE, cwd=tmp_path)
    # MLflow reads both from fsregistry's model...
    assert theirs["ours_meta"]["dependencies_schemas"] == expected_schema
    assert theirs["ours_params"] == {"temperature": 0.5, "n": 3}
    # ...and fsregistry reads both from MLflow's.
    assert _schemas(tmp_path / "theirs_code") == expected_schema
    obj = Model.load(tmp_path / "theirs_obj")
    assert (obj.metadata or {})["dependencies_schemas"]["retrievers"][0]["name"] == "r2"
    assert obj.load_input_example_params(str(tmp_path / "theirs_obj")) == {"k": 5, "s": "a"}
    plain = Model.load(tmp_path / "theirs_code")
    assert plain.load_input_example_params(str(tmp_path / "theirs_code")) is None
    # Loading a model whose file declares a schema leaves nothing behind for the next save.
    assert list(pyfunc.load_model(str(tmp_path / "ours")).predict(DATA)) == [2.0, 4.0]
    pyfunc.save_model(tmp_path / "after", python_model=lambda df: df)
    assert _schemas(tmp_path / "after") is None
    assert json.loads(json.dumps(theirs))  # plain JSON both ways
