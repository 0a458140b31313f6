"""Schemas, signatures, inference and enforcement: MLflow's type names and JSON encoding."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    ModelSignature,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    SchemaEnforcementError,
    TensorSpec,
    infer_signature,
    validate_schema,
)
from fsregistry.models.enforcement import enforce_params_schema, enforce_schema

# Exact strings MLflow 3 writes (docs/mlflow-format.md §3.5).
MLFLOW_TENSOR = '[{"name": "img", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 28, 28]}}]'
MLFLOW_ARRAY = '[{"type": "array", "items": {"type": "string"}, "name": "tags", "required": true}]'
MLFLOW_PARAMS = '[{"name": "temperature", "default": 0.5, "shape": null, "type": "float"}]'
MLFLOW_COLUMNS = (
    '[{"type": "double", "name": "f1", "required": true}, '
    '{"type": "long", "name": "f2", "required": true}]'
)


@pytest.mark.parametrize("text", [MLFLOW_TENSOR, MLFLOW_ARRAY, MLFLOW_COLUMNS])
def test_schema_json_round_trips_mlflow_encoding(text: str) -> None:
    assert Schema.from_json(text).to_json() == text


def test_param_schema_json_round_trip() -> None:
    ps = ParamSchema.from_json(MLFLOW_PARAMS)
    assert ps.params[0].dtype is DataType.float and ps.params[0].default == 0.5
    assert ps.to_json() == MLFLOW_PARAMS
    # readers also accept the old "dtype" key
    old = '[{"name": "k", "dtype": "long", "default": 3, "shape": null}]'
    assert ParamSchema.from_json(old).params[0] == ParamSpec("k", "long", 3)


def test_composite_types_round_trip() -> None:
    schema = Schema(
        [
            ColSpec(Array(Array("long")), "nested"),
            ColSpec(Object([Property("b", "string"), Property("a", "double", False)]), "obj"),
            ColSpec(Map(Array("string")), "m", required=False),
            ColSpec(AnyType(), "anything"),
            ColSpec("datetime", "when"),
            ColSpec("binary", "blob"),
        ]
    )
    again = Schema.from_json(schema.to_json())
    assert again == schema
    # Object properties are sorted by name, as MLflow keeps them
    obj = again.inputs[1].type
    assert isinstance(obj, Object) and [p.name for p in obj.properties] == ["a", "b"]
    assert '"properties": {"a": {"type": "double", "required": false}' in schema.to_json()


def test_schema_rules() -> None:
    with pytest.raises(
        InvalidParameterValue, match="combination of named and unnamed inputs is not allowed"
    ):
        Schema([ColSpec("long", "a"), ColSpec("long")])
    with pytest.raises(InvalidParameterValue, match="Please choose one of ColSpec or TensorSpec"):
        Schema([ColSpec("long", "a"), TensorSpec(np.dtype("float32"), (-1,), "b")])
    with pytest.raises(InvalidParameterValue, match="Unsupported type 'int64'"):
        ColSpec("int64", "a")
    with pytest.raises(
        InvalidParameterValue, match="Creating Schema with empty inputs is not allowed"
    ):
        Schema([])
    with pytest.raises(InvalidParameterValue, match="binary"):
        ParamSpec("p", "binary", b"x")
    with pytest.raises(InvalidParameterValue, match="Failed to validate type and shape for"):
        ParamSpec("p", "long", "not a number")


def test_signature_dict_round_trip() -> None:
    sig = ModelSignature(
        Schema.from_json(MLFLOW_COLUMNS),
        Schema([ColSpec("long")]),
        ParamSchema.from_json(MLFLOW_PARAMS),
    )
    d = sig.to_dict()
    assert d["inputs"] == MLFLOW_COLUMNS
    assert d["outputs"] == '[{"type": "long", "required": true}]'
    assert ModelSignature.from_dict(d) == sig
    with pytest.raises(InvalidParameterValue):
        ModelSignature()


def test_infer_signature_pandas() -> None:
    df = pd.DataFrame(
        {
            "d": [1.0, 2.0],
            "f": np.array([1.0, 2.0], dtype="float32"),
            "i": np.array([1, 2], dtype="int32"),
            "l": [1, 2],
            "b": [True, False],
            "s": ["a", "b"],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "opt": [1.0, None],
            "lst": [["x"], ["y", "z"]],
        }
    )
    sig = infer_signature(df, pd.Series([0, 1]))
    assert sig.inputs is not None
    types = {c.name: (c.type, c.required) for c in sig.inputs.inputs if isinstance(c, ColSpec)}
    assert types["d"] == (DataType.double, True)
    assert types["f"] == (DataType.float, True)
    assert types["i"] == (DataType.integer, True)
    assert types["l"] == (DataType.long, True)
    assert types["b"] == (DataType.boolean, True)
    assert types["s"] == (DataType.string, True)
    assert types["t"] == (DataType.datetime, True)
    assert types["opt"] == (DataType.double, False)
    assert types["lst"] == (Array(DataType.string), True)
    assert (
        sig.outputs is not None and sig.outputs.to_json() == '[{"type": "long", "required": true}]'
    )


def test_infer_signature_numpy_and_dicts() -> None:
    sig = infer_signature(np.zeros((5, 28, 28), dtype="float32"), np.zeros(5, dtype="int64"))
    assert sig.inputs is not None and sig.inputs.to_json() == (
        '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 28, 28]}}]'
    )
    named = infer_signature({"img": np.zeros((2, 28, 28), dtype="float32")})
    assert named.inputs is not None and named.inputs.to_json() == MLFLOW_TENSOR
    js = infer_signature({"tags": ["a", "b"], "n": 3, "o": {"k": "v"}})
    assert js.inputs is not None
    assert js.inputs.to_json() == (
        '[{"type": "array", "items": {"type": "string"}, "name": "tags", "required": true}, '
        '{"type": "long", "name": "n", "required": true}, '
        '{"type": "object", "properties": {"k": {"type": "string", "required": true}}, '
        '"name": "o", "required": true}]'
    )
    rows = infer_signature([{"a": "x", "b": 1}, {"a": "y"}])
    assert rows.inputs is not None
    assert [(c.name, c.type, c.required) for c in rows.inputs.inputs if isinstance(c, ColSpec)] == [
        ("a", DataType.string, True),
        ("b", DataType.long, False),
    ]
    assert infer_signature(["a", "b"]).inputs == Schema([ColSpec("string")])
    assert infer_signature("text").inputs == Schema([ColSpec("string")])


def test_infer_signature_params() -> None:
    sig = infer_signature(
        pd.DataFrame({"a": [1]}),
        params={
            "temperature": 0.5,
            "n": 3,
            "flag": True,
            "name": "x",
            "stops": ["a", "b"],
            "when": dt.datetime(2024, 1, 2, 3, 4, 5),
            "cfg": {"k": 1},
        },
    )
    assert sig.params is not None
    by_name = {p.name: p for p in sig.params}
    assert by_name["temperature"].dtype is DataType.double
    assert by_name["n"].dtype is DataType.long
    assert by_name["flag"].dtype is DataType.boolean
    assert by_name["stops"].shape == (-1,) and by_name["stops"].dtype is DataType.string
    assert by_name["when"].to_dict()["default"] == "2024-01-02T03:04:05"
    assert isinstance(by_name["cfg"].dtype, Object)
    assert ParamSchema.from_json(sig.params.to_json()) == sig.params
    with pytest.raises(InvalidParameterValue, match="1D array or scalar, got 2D array"):
        infer_signature(pd.DataFrame({"a": [1]}), params={"bad": [[1, 2]]})


def test_enforcement_conversions_and_errors() -> None:
    schema = Schema([ColSpec("double", "x"), ColSpec("long", "n"), ColSpec("string", "s")])
    out = enforce_schema(
        pd.DataFrame(
            {
                "n": np.array([1, 2], dtype="int32"),
                "x": np.array([1, 2], dtype="int32"),
                "s": ["a", "b"],
                "extra": [0, 0],
            }
        ),
        schema,
    )
    # int32 -> long, int -> double (safe), column order follows the schema, extras dropped
    assert list(out.columns) == ["x", "n", "s"]
    assert out["x"].dtype == np.float64 and out["n"].dtype == np.int64
    with pytest.raises(SchemaEnforcementError, match=r"missing inputs \['s'\]"):
        validate_schema(pd.DataFrame({"x": [1.0], "n": [1]}), schema)
    with pytest.raises(
        SchemaEnforcementError, match=r"column n\. Can not safely convert float64 to int64"
    ):
        validate_schema(pd.DataFrame({"x": [1.0], "n": [1.5], "s": ["a"]}), schema)
    with pytest.raises(SchemaEnforcementError, match=r"column x\."):
        validate_schema(pd.DataFrame({"x": ["a"], "n": [1], "s": ["a"]}), schema)
    # dict and list-of-records inputs become frames
    assert len(enforce_schema({"x": 1.0, "n": 2, "s": "a"}, schema)) == 1
    # optional columns may be absent
    opt = Schema([ColSpec("double", "x"), ColSpec("long", "o", required=False)])
    assert list(enforce_schema(pd.DataFrame({"x": [1.0]}), opt).columns) == ["x"]


def test_enforcement_tensors_and_composites() -> None:
    tensor = Schema([TensorSpec(np.dtype("float32"), (-1, 2))])
    arr = np.ones((3, 2), dtype="float32")
    assert enforce_schema(arr, tensor) is arr
    with pytest.raises(SchemaEnforcementError, match="Shape of input"):
        validate_schema(np.ones((3, 3), dtype="float32"), tensor)
    with pytest.raises(SchemaEnforcementError, match="dtype of input"):
        validate_schema(np.ones((3, 2), dtype="float64"), tensor)
    comp = Schema([ColSpec(Array("long"), "a"), ColSpec(Object([Property("k", "string")]), "o")])
    ok = enforce_schema(pd.DataFrame({"a": [[1, 2]], "o": [{"k": "v"}]}), comp)
    assert ok["a"].iloc[0] == [1, 2]
    with pytest.raises(SchemaEnforcementError, match="Missing required properties"):
        validate_schema(pd.DataFrame({"a": [[1]], "o": [{"z": "v"}]}), comp)


def test_params_enforcement() -> None:
    schema = ParamSchema(
        [ParamSpec("t", "double", 0.5), ParamSpec("n", "long", 1), ParamSpec("s", "string", "x")]
    )
    assert enforce_params_schema(None, schema) == {"t": 0.5, "n": 1, "s": "x"}
    assert enforce_params_schema({"t": 2, "unknown": 1}, schema) == {"t": 2.0, "n": 1, "s": "x"}
    with pytest.raises(InvalidParameterValue, match="'n'"):
        enforce_params_schema({"n": 1.5}, schema)
    assert enforce_params_schema({"a": 1}, None) == {}
