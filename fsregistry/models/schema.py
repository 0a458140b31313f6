"""Schemas of model inputs and outputs (MLflow's ``mlflow.types.schema``), and the one list of
the public schema types.

A :class:`Schema` is a non-empty list of :class:`ColSpec` (column-based: a DataFrame-like
input) or of :class:`TensorSpec` (tensor-based: numpy arrays), never a mix; all named or all
unnamed (several tensors need names; unnamed inputs are required), names unique. Column types
are in :mod:`fsregistry.models.datatypes`; the ``params`` a model's ``predict`` accepts are
described by :class:`ParamSchema` (:mod:`fsregistry.models.params`).

JSON: :meth:`Schema.to_json` is ``json.dumps`` of the list of spec dicts, byte-for-byte the
encoding MLflow stores in ``MLmodel`` (``signature.inputs`` and ``outputs``): a column is its
type's dict plus ``name`` (when named) and ``required``; a tensor is
``{"name", "type": "tensor", "tensor-spec": {"dtype", "shape"}}``. ``from_json`` reads what
MLflow 2.x and 3.x write. numpy is imported only when a tensor dtype is needed.

``__all__`` below is the one list of the public schema types: ``fsregistry.types``,
``fsregistry.types.schema`` and ``fsregistry.models`` export what it names, by importing it.
"""

from __future__ import annotations

import json
from builtins import type as builtins_type
from collections.abc import Iterator, Sequence
from typing import Any, TypeAlias

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.datatypes import (
    AnyType,
    Array,
    ColType,
    DataType,
    Map,
    Object,
    Property,
    SparkMLVector,
    coerce_type,
    type_from_dict,
    type_to_dict,
)
from fsregistry.models.params import ParamSchema, ParamSpec


class ColSpec:
    """One column: a type, an optional name and whether it must be present."""

    def __init__(self, type: ColType | str, name: str | None = None, required: bool = True) -> None:
        self.type: ColType = coerce_type(type, "type")
        self.name = name
        self.required = bool(required)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ColSpec)
            and self.name == other.name
            and self.type == other.type
            and self.required == other.required
        )

    def __hash__(self) -> int:
        return hash((self.name, repr(self.type), self.required))

    def __repr__(self) -> str:
        req = "required" if self.required else "optional"
        return (
            f"{self.type!r} ({req})"
            if self.name is None
            else f"{self.name!r}: {self.type!r} ({req})"
        )

    def to_dict(self) -> dict[str, Any]:
        d = type_to_dict(self.type)
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> ColSpec:
        if "type" not in kwargs:
            raise InvalidParameterValue(
                f"Missing keys in ColSpec JSON. Expected to find key `type` (got {kwargs!r})"
            )
        spec = dict(kwargs)
        name = spec.pop("name", None)
        required = spec.pop("required", True)
        return cls(type_from_dict(spec), name, True if required is None else required)


class TensorSpec:
    """A named or unnamed numpy tensor: dtype and shape (``-1`` = any size on that axis)."""

    def __init__(self, type: Any, shape: Sequence[int], name: str | None = None) -> None:
        import numpy as np

        if not isinstance(type, np.dtype):
            raise InvalidParameterValue(
                f"Expected `dtype` to be instance of `{np.dtype}`, received `{builtins_type(type)}`"
            )
        if type.char in ("U", "S") and not type.name.isalpha():
            raise InvalidParameterValue(
                "MLflow does not support size information in flexible numpy data types. Use "
                f'np.dtype("{type.name.rstrip("0123456789")}") instead (got {type.name})'
            )
        if not isinstance(shape, list | tuple):
            raise InvalidParameterValue(
                f"Expected `shape` to be instance of `{tuple}` or `{list}`, received "
                f"`{builtins_type(shape)}`"
            )
        self.type: np.dtype[Any] = type
        self.shape: tuple[int, ...] = tuple(shape)
        self.name = name

    @property
    def required(self) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TensorSpec)
            and self.name == other.name
            and self.type == other.type
            and self.shape == other.shape
        )

    def __hash__(self) -> int:
        return hash((self.name, str(self.type), self.shape))

    def __repr__(self) -> str:
        base = f"Tensor({self.type.name!r}, {self.shape!r})"
        return base if self.name is None else f"{self.name!r}: {base}"

    def to_dict(self) -> dict[str, Any]:
        spec = {"dtype": self.type.name, "shape": list(self.shape)}
        if self.name is None:
            return {"type": "tensor", "tensor-spec": spec}
        return {"name": self.name, "type": "tensor", "tensor-spec": spec}

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> TensorSpec:
        import numpy as np

        if "tensor-spec" not in kwargs or "type" not in kwargs:
            raise InvalidParameterValue(
                "Missing keys in TensorSpec JSON. Expected to find keys `tensor-spec` and `type` "
                f"(got {kwargs!r})"
            )
        if kwargs["type"] != "tensor":
            raise InvalidParameterValue(
                f"Type mismatch, TensorSpec expects `tensor` as the type (got {kwargs['type']!r})"
            )
        spec = kwargs["tensor-spec"]
        if not isinstance(spec, dict) or "dtype" not in spec or "shape" not in spec:
            raise InvalidParameterValue(
                "Missing keys in TensorSpec JSON. Expected to find keys `dtype` and `shape` "
                f"(in `tensor-spec`, got {spec!r})"
            )
        try:
            dtype = np.dtype(spec["dtype"])
        except TypeError:
            raise InvalidParameterValue(f"Unknown tensor dtype {spec['dtype']!r}") from None
        return cls(dtype, tuple(spec["shape"]), kwargs.get("name"))


Spec: TypeAlias = ColSpec | TensorSpec


class Schema:
    """Inputs or outputs of a model: all ColSpec or all TensorSpec, all named or all unnamed."""

    def __init__(self, inputs: Sequence[Spec]) -> None:
        if not isinstance(inputs, list | tuple) or not inputs:
            raise InvalidParameterValue(
                f"Creating Schema with empty inputs is not allowed. (got {inputs!r})"
            )
        items = list(inputs)
        if not (
            all(isinstance(x, ColSpec) for x in items)
            or all(isinstance(x, TensorSpec) for x in items)
        ):
            raise InvalidParameterValue(
                "Creating Schema with a combination of ColSpec and TensorSpec (or other objects) "
                f"is not supported. Please choose one of ColSpec or TensorSpec (got {items!r})"
            )
        named = [x.name is not None for x in items]
        if any(named) and not all(named):
            raise InvalidParameterValue(
                "Creating Schema with a combination of named and unnamed inputs is not allowed. "
                f"Got input names {[x.name for x in items]}"
            )
        if isinstance(items[0], TensorSpec) and len(items) > 1 and not all(named):
            raise InvalidParameterValue(
                "Creating Schema with multiple unnamed TensorSpecs is not supported. Please "
                "provide names for each TensorSpec."
            )
        if not any(named) and not all(x.required for x in items):
            raise InvalidParameterValue(
                "Creating Schema with unnamed optional inputs is not supported. Please name all "
                "inputs or make all inputs required."
            )
        names = [x.name for x in items if x.name is not None]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidParameterValue(f"Duplicated input names in Schema: {duplicates}")
        self.inputs: list[Spec] = items

    def __len__(self) -> int:
        return len(self.inputs)

    def __iter__(self) -> Iterator[Spec]:
        return iter(self.inputs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.inputs == other.inputs

    def __hash__(self) -> int:
        return hash(tuple(self.inputs))

    def __repr__(self) -> str:
        return repr(self.inputs)

    def is_tensor_spec(self) -> bool:
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        return self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        return [x.name if x.name is not None else i for i, x in enumerate(self.inputs)]

    def required_input_names(self) -> list[str | int]:
        return [n for n, x in zip(self.input_names(), self.inputs, strict=True) if x.required]

    def optional_input_names(self) -> list[str | int]:
        return [n for n, x in zip(self.input_names(), self.inputs, strict=True) if not x.required]

    def input_types(self) -> list[Any]:
        return [x.type for x in self.inputs]

    def input_dict(self) -> dict[str, Spec]:
        if not self.has_input_names():
            raise InvalidParameterValue(
                f"Cannot get input dict for schema without names. (schema {self!r})"
            )
        return {str(x.name): x for x in self.inputs}

    def input_types_dict(self) -> dict[str, Any]:
        return {k: v.type for k, v in self.input_dict().items()}

    def numpy_types(self) -> list[Any]:
        if self.is_tensor_spec():
            return [x.type for x in self.inputs]
        types = self.input_types()
        if not all(isinstance(t, DataType) for t in types):
            raise InvalidParameterValue(
                "Failed to get numpy types as some of the inputs types are not DataType. "
                f"(types {types!r})"
            )
        return [t.to_numpy() for t in types]

    def pandas_types(self) -> list[Any]:
        if self.is_tensor_spec():
            raise InvalidParameterValue(
                "TensorSpec only supports numpy types, use numpy_types() instead"
            )
        types = self.input_types()
        if not all(isinstance(t, DataType) for t in types):
            raise InvalidParameterValue(
                "Failed to get pandas types as some of the inputs types are not DataType. "
                f"(types {types!r})"
            )
        return [t.to_pandas() for t in types]

    def to_dict(self) -> list[dict[str, Any]]:
        return [x.to_dict() for x in self.inputs]

    def to_json(self) -> str:
        """MLflow's encoding: ``json.dumps`` of the list of spec dicts."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, json_str: str) -> Schema:
        try:
            items = json.loads(json_str)
        except ValueError as exc:
            raise InvalidParameterValue(f"Invalid schema JSON {json_str!r}: {exc}") from None
        if not isinstance(items, list):
            raise InvalidParameterValue(f"Schema JSON must be a list, got {json_str!r}")
        return cls([_spec_from_dict(x) for x in items])


def _spec_from_dict(x: Any) -> Spec:
    if not isinstance(x, dict):
        raise InvalidParameterValue(f"Schema entries must be objects, got {x!r}")
    if x.get("type") == "tensor":
        return TensorSpec.from_json_dict(**x)
    return ColSpec.from_json_dict(**x)


__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "ColType",
    "DataType",
    "Map",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "SparkMLVector",
    "TensorSpec",
]
