"""``ModelSignature``: the input, output and params schemas stored in ``MLmodel``.

In ``MLmodel`` a signature is ``{inputs: <JSON str>, outputs: <JSON str>, params: <JSON str or
null>}``, exactly as MLflow writes it, so signatures written here are read by MLflow 2.x/3.x and
the other way round.
"""

from __future__ import annotations

import logging
from typing import Any

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.schema import AnyType, ColSpec, ParamSchema, Schema

_logger = logging.getLogger(__name__)


class ModelSignature:
    """Schemas of a model's inputs, outputs and inference params (at least one given)."""

    def __init__(
        self,
        inputs: Schema | None = None,
        outputs: Schema | None = None,
        params: ParamSchema | None = None,
    ) -> None:
        for arg, value, cls in (
            ("inputs", inputs, Schema),
            ("outputs", outputs, Schema),
            ("params", params, ParamSchema),
        ):
            if value is not None and not isinstance(value, cls):
                raise InvalidParameterValue(
                    f"{arg} must be either None, mlflow.models.signature.{cls.__name__}, or a "
                    f"dataclass,got '{type(value).__name__}'"
                )
        if inputs is None and outputs is None and params is None:
            raise InvalidParameterValue(
                "At least one of inputs, outputs or params must be provided"
            )
        self.inputs = inputs
        self.outputs = outputs
        self.params = params
        # MLflow records whether a signature came from type hints; kept to round-trip MLmodel.
        self.is_signature_from_type_hint = False
        self.type_hint_from_example = False

    def to_dict(self) -> dict[str, Any]:
        """MLflow's MLmodel form: schemas as JSON strings."""
        return {
            "inputs": self.inputs.to_json() if self.inputs else None,
            "outputs": self.outputs.to_json() if self.outputs else None,
            "params": self.params.to_json() if self.params else None,
        }

    @classmethod
    def from_dict(cls, signature_dict: dict[str, Any]) -> ModelSignature:
        if not isinstance(signature_dict, dict):
            raise InvalidParameterValue(f"Invalid signature {signature_dict!r}: expected a dict")
        inputs = signature_dict.get("inputs")
        outputs = signature_dict.get("outputs")
        params = signature_dict.get("params")
        return cls(
            Schema.from_json(inputs) if inputs else None,
            Schema.from_json(outputs) if outputs else None,
            ParamSchema.from_json(params) if params else None,
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ModelSignature)
            and self.inputs == other.inputs
            and self.outputs == other.outputs
            and self.params == other.params
        )

    def __hash__(self) -> int:
        return hash((self.inputs, self.outputs, self.params))

    def __repr__(self) -> str:
        return (
            f"inputs: \n  {self.inputs!r}\noutputs: \n  {self.outputs!r}\n"
            f"params: \n  {self.params!r}\n"
        )


def infer_signature(
    model_input: Any = None,
    model_output: Any = None,
    params: dict[str, Any] | None = None,
) -> ModelSignature:
    """Signature inferred from example input, output and params, as ``mlflow.models.infer_signature``.

    Input and output may be pandas DataFrames/Series, numpy arrays, dicts of arrays, scipy
    sparse matrices, or dicts/lists of JSON-like values (see
    :func:`fsregistry.models.inference.infer_schema`). An output whose schema cannot be inferred
    becomes ``Schema([ColSpec(AnyType())])`` with a warning, as in MLflow; an input that cannot
    be inferred raises.
    """
    from fsregistry.models.inference import infer_param_schema, infer_schema

    schemas: dict[str, Schema | None] = {"inputs": None, "outputs": None}
    for key, data in (("inputs", model_input), ("outputs", model_output)):
        if data is None:
            continue
        try:
            schemas[key] = infer_schema(data)
        except InvalidParameterValue as exc:
            _logger.warning(
                "Failed to infer the %s schema (%s); using Schema([ColSpec(AnyType())]), "
                "which is not validated at inference time.",
                key,
                exc.message,
            )
            schemas[key] = Schema([ColSpec(AnyType())])
    param_schema = infer_param_schema(params) if params else None
    if schemas["inputs"] is None and schemas["outputs"] is None and param_schema is None:
        raise InvalidParameterValue(
            "At least one of inputs, outputs or params must be provided (infer_signature was "
            "given no model_input, model_output or params)"
        )
    return ModelSignature(schemas["inputs"], schemas["outputs"], param_schema)


def set_signature(model_uri: str, signature: ModelSignature) -> None:
    """Replace the signature in the MLmodel of a logged or saved model (not ``models:/``).

    Registered versions are read-only in MLflow; register a new version instead. The model's
    recorded file hashes are updated along with MLmodel.
    """
    if not isinstance(signature, ModelSignature):
        raise InvalidParameterValue(
            "The signature argument must be a ModelSignature object (got "
            f"{type(signature).__name__})"
        )
    from fsregistry.models.model import rewrite_mlmodel

    def change(model: Any) -> None:
        model.signature = signature

    rewrite_mlmodel(model_uri, change, operation="set_signature")
