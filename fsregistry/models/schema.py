"""Schemas of model inputs, outputs and inference parameters: MLflow's types and JSON encoding.

A :class:`Schema` is a list of :class:`ColSpec` (column-based: a DataFrame-like input) or of
:class:`TensorSpec` (tensor-based: numpy arrays), never a mix. Column types are a
:class:`DataType` or a composite: :class:`Array`, :class:`Object` (made of :class:`Property`),
:class:`Map`, :class:`AnyType`. :class:`ParamSchema` describes the ``params`` a model's
``predict`` accepts.

The JSON written by :meth:`Schema.to_json` / :meth:`ParamSchema.to_json` is byte-for-byte the
encoding MLflow stores in ``MLmodel`` (``signature.inputs`` etc.), and ``from_json`` reads what
MLflow 2.x and 3.x write. numpy is imported only when a tensor dtype or a numpy type is needed.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeAlias, Union

from fsregistry.exceptions import InvalidParameterValue

if TYPE_CHECKING:
    import numpy as np

ARRAY_TYPE = "array"
OBJECT_TYPE = "object"
MAP_TYPE = "map"
ANY_TYPE = "any"
SPARKML_VECTOR_TYPE = "sparkml_vector"


class DataType(Enum):
    """MLflow's scalar types. ``name`` is the JSON spelling (``"double"``, ``"long"``...)."""

    boolean = 1
    integer = 2
    long = 3
    float = 4
    double = 5
    string = 6
    binary = 7
    datetime = 8

    def __repr__(self) -> str:
        return self.name

    def to_numpy(self) -> np.dtype[Any]:
        """The numpy dtype values of this type are held in (``str``/``bytes`` unsized)."""
        import numpy as np

        return np.dtype(_NUMPY_NAMES[self])

    def to_pandas(self) -> Any:
        """The pandas column dtype: numpy's, except ``object`` for string and binary."""
        if self in (DataType.string, DataType.binary):
            return object
        return self.to_numpy()

    def to_python(self) -> type:
        """The Python type of a single value (``int`` for integer/long, ``date`` for datetime)."""
        return _PYTHON_TYPES[self]

    @classmethod
    def from_name(cls, name: str) -> DataType:
        """``DataType["double"]`` with an error that lists the valid names."""
        try:
            return cls[name]
        except KeyError:
            raise InvalidParameterValue(
                f"Unsupported type {name!r}, expected one of {[t.name for t in cls]}"
            ) from None

    @classmethod
    def check_type(cls, data_type: DataType, value: Any) -> bool:
        """Whether ``value``'s exact type is one a value of ``data_type`` may have."""
        import numpy as np

        types: list[Any] = [data_type.to_numpy().type, data_type.to_python()]
        if data_type is DataType.datetime:
            types += [np.datetime64, dt.datetime]
        if data_type is DataType.binary:
            types.append(bytearray)
        if data_type is DataType.string:
            types.append(np.str_)
        return type(value) in types


_NUMPY_NAMES = {
    DataType.boolean: "bool",
    DataType.integer: "int32",
    DataType.long: "int64",
    DataType.float: "float32",
    DataType.double: "float64",
    DataType.string: "str",
    DataType.binary: "bytes",
    DataType.datetime: "datetime64[ns]",
}
_PYTHON_TYPES: dict[DataType, type] = {
    DataType.boolean: bool,
    DataType.integer: int,
    DataType.long: int,
    DataType.float: float,
    DataType.double: float,
    DataType.string: str,
    DataType.binary: bytes,
    DataType.datetime: dt.date,
}


class AnyType:
    """Any JSON value, including None; nothing is validated."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyType)

    def __hash__(self) -> int:
        return hash("any")

    def __repr__(self) -> str:
        return "Any"

    def to_dict(self) -> dict[str, Any]:
        return {"type": ANY_TYPE}

    def merge(self, other: ColType) -> ColType:
        """Any merged with a type is that type (made optional where it has properties)."""
        if isinstance(other, AnyType | DataType):
            return copy.deepcopy(other)
        return other.merge(self)


class Array:
    """A list whose items all have type ``dtype``."""

    def __init__(self, dtype: ColType | str) -> None:
        self.dtype: ColType = _coerce_type(dtype, "dtype")

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Array)
            and not isinstance(other, SparkMLVector)
            and (self.dtype == other.dtype)
        )

    def __hash__(self) -> int:
        return hash(("array", repr(self.dtype)))

    def __repr__(self) -> str:
        return f"Array({self.dtype!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": ARRAY_TYPE, "items": _type_to_dict(self.dtype)}

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> Array:
        items = kwargs.get("items")
        if kwargs.get("type") != ARRAY_TYPE or not isinstance(items, dict) or "type" not in items:
            raise InvalidParameterValue(
                f"Invalid array type {kwargs!r}: expected {{'type': 'array', 'items': {{'type': ...}}}}"
            )
        return cls(_type_from_dict(items))

    def merge(self, other: ColType) -> ColType:
        if isinstance(other, AnyType) or self == other:
            return copy.deepcopy(self)
        if not isinstance(other, Array):
            raise InvalidParameterValue(f"Cannot merge {self!r} with {other!r}")
        return Array(_merge_types(self.dtype, other.dtype))


class SparkMLVector(Array):
    """A Spark ML vector column (read and written, never produced by inference here)."""

    def __init__(self) -> None:
        super().__init__(DataType.double)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SparkMLVector)

    def __hash__(self) -> int:
        return hash(SPARKML_VECTOR_TYPE)

    def __repr__(self) -> str:
        return "SparkML vector"

    def to_dict(self) -> dict[str, Any]:
        return {"type": SPARKML_VECTOR_TYPE}


class Property:
    """A named, typed field of an :class:`Object`."""

    def __init__(self, name: str, dtype: ColType | str, required: bool = True) -> None:
        if not isinstance(name, str):
            raise InvalidParameterValue(f"Property name must be a string, got {name!r}")
        self.name = name
        self.dtype: ColType = _coerce_type(dtype, "dtype")
        self.required = bool(required)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Property)
            and self.name == other.name
            and self.dtype == other.dtype
            and self.required == other.required
        )

    def __hash__(self) -> int:
        return hash((self.name, repr(self.dtype), self.required))

    def __lt__(self, other: Property) -> bool:
        return self.name < other.name

    def __repr__(self) -> str:
        return f"{self.name}: {self.dtype!r} ({'required' if self.required else 'optional'})"

    def to_dict(self) -> dict[str, Any]:
        d = _type_to_dict(self.dtype)
        d["required"] = self.required
        return {self.name: d}

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> Property:
        if len(kwargs) != 1:
            raise InvalidParameterValue(f"Property JSON must have exactly one key, got {kwargs!r}")
        name, spec = next(iter(kwargs.items()))
        if not isinstance(spec, dict) or "type" not in spec:
            raise InvalidParameterValue(f"Property {name!r} has no 'type': {spec!r}")
        spec = dict(spec)
        required = spec.pop("required", True)
        return cls(name, _type_from_dict(spec), required=True if required is None else required)

    def merge(self, other: Property | AnyType) -> Property:
        if isinstance(other, AnyType):
            return Property(self.name, self.dtype, required=False)
        if self.name != other.name:
            raise InvalidParameterValue(f"Cannot merge properties {self.name!r}/{other.name!r}")
        return Property(
            self.name, _merge_types(self.dtype, other.dtype), self.required and other.required
        )


class Object:
    """A JSON object with a fixed set of properties (kept sorted by name, as MLflow does)."""

    def __init__(self, properties: Sequence[Property]) -> None:
        if not isinstance(properties, list | tuple) or not properties:
            raise InvalidParameterValue(
                f"Object needs a non-empty list of Property, got {properties!r}"
            )
        if not all(isinstance(p, Property) for p in properties):
            raise InvalidParameterValue("Object properties must be Property instances")
        names = [p.name for p in properties]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidParameterValue(f"Duplicated property names: {duplicates}")
        self.properties: list[Property] = sorted(properties)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Object) and self.properties == other.properties

    def __hash__(self) -> int:
        return hash(tuple(self.properties))

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self.properties)) + "}"

    def to_dict(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        for p in self.properties:
            props.update(p.to_dict())
        return {"type": OBJECT_TYPE, "properties": props}

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> Object:
        props = kwargs.get("properties")
        if kwargs.get("type") != OBJECT_TYPE or not isinstance(props, dict):
            raise InvalidParameterValue(
                f"Invalid object type {kwargs!r}: expected {{'type': 'object', 'properties': {{...}}}}"
            )
        return cls([Property.from_json_dict(**{k: v}) for k, v in props.items()])

    def merge(self, other: ColType) -> ColType:
        if isinstance(other, AnyType):
            return Object([Property(p.name, p.dtype, required=False) for p in self.properties])
        if not isinstance(other, Object):
            raise InvalidParameterValue(f"Cannot merge {self!r} with {other!r}")
        mine = {p.name: p for p in self.properties}
        theirs = {p.name: p for p in other.properties}
        merged = [
            mine[k].merge(theirs[k]) if k in theirs else Property(k, mine[k].dtype, False)
            for k in mine
        ]
        merged += [Property(k, p.dtype, False) for k, p in theirs.items() if k not in mine]
        return Object(merged)


class Map:
    """A JSON object with string keys and values of one type."""

    def __init__(self, value_type: ColType | str) -> None:
        self.value_type: ColType = _coerce_type(value_type, "value_type")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Map) and self.value_type == other.value_type

    def __hash__(self) -> int:
        return hash(("map", repr(self.value_type)))

    def __repr__(self) -> str:
        return f"Map(str -> {self.value_type!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": MAP_TYPE, "values": _type_to_dict(self.value_type)}

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> Map:
        values = kwargs.get("values")
        if kwargs.get("type") != MAP_TYPE or not isinstance(values, dict) or "type" not in values:
            raise InvalidParameterValue(
                f"Invalid map type {kwargs!r}: expected {{'type': 'map', 'values': {{'type': ...}}}}"
            )
        return cls(_type_from_dict(values))

    def merge(self, other: ColType) -> ColType:
        if isinstance(other, AnyType) or self == other:
            return copy.deepcopy(self)
        if not isinstance(other, Map):
            raise InvalidParameterValue(f"Cannot merge {self!r} with {other!r}")
        return Map(_merge_types(self.value_type, other.value_type))


ColType: TypeAlias = Union[DataType, Array, Object, Map, AnyType]  # noqa: UP007


def _coerce_type(value: Any, arg: str) -> ColType:
    if isinstance(value, str):
        return DataType.from_name(value)
    if isinstance(value, DataType | Array | Object | Map | AnyType):
        return value
    raise InvalidParameterValue(
        f"Invalid {arg} {value!r}: expected a DataType, Array, Object, Map, AnyType or type name"
    )


def _type_to_dict(t: ColType) -> dict[str, Any]:
    return {"type": t.name} if isinstance(t, DataType) else t.to_dict()


def _type_from_dict(d: dict[str, Any]) -> ColType:
    kind = d.get("type")
    if kind == ARRAY_TYPE:
        return Array.from_json_dict(**d)
    if kind == OBJECT_TYPE:
        return Object.from_json_dict(**d)
    if kind == MAP_TYPE:
        return Map.from_json_dict(**d)
    if kind == ANY_TYPE:
        return AnyType()
    if kind == SPARKML_VECTOR_TYPE:
        return SparkMLVector()
    if not isinstance(kind, str):
        raise InvalidParameterValue(f"Invalid type {d!r}: 'type' must be a string")
    return DataType.from_name(kind)


def _merge_types(a: ColType, b: ColType) -> ColType:
    if isinstance(a, DataType):
        if a == b or isinstance(b, AnyType):
            return a
        raise InvalidParameterValue(f"Incompatible types {a!r} and {b!r}")
    return a.merge(b)


class ColSpec:
    """One column: a type, an optional name and whether it must be present."""

    def __init__(self, type: ColType | str, name: str | None = None, required: bool = True) -> None:
        self.type: ColType = _coerce_type(type, "type")
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
        d = _type_to_dict(self.type)
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> ColSpec:
        if "type" not in kwargs:
            raise InvalidParameterValue(f"Column spec without 'type': {kwargs!r}")
        spec = dict(kwargs)
        name = spec.pop("name", None)
        required = spec.pop("required", True)
        return cls(_type_from_dict(spec), name, True if required is None else required)


class TensorSpec:
    """A named or unnamed numpy tensor: dtype and shape (``-1`` = any size on that axis)."""

    def __init__(self, type: Any, shape: Sequence[int], name: str | None = None) -> None:
        import numpy as np

        if not isinstance(type, np.dtype):
            raise InvalidParameterValue(f"TensorSpec type must be a numpy.dtype, got {type!r}")
        if type.char in ("U", "S") and not type.name.isalpha():
            raise InvalidParameterValue(
                f"Sized string dtypes are not supported ({type.name}); "
                f"use np.dtype({type.name.rstrip('0123456789')!r})"
            )
        if not isinstance(shape, list | tuple):
            raise InvalidParameterValue(f"TensorSpec shape must be a tuple or list, got {shape!r}")
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

        spec = kwargs.get("tensor-spec")
        if kwargs.get("type") != "tensor" or not isinstance(spec, dict):
            raise InvalidParameterValue(f"Invalid tensor spec {kwargs!r}")
        if "dtype" not in spec or "shape" not in spec:
            raise InvalidParameterValue(f"Tensor spec needs 'dtype' and 'shape': {spec!r}")
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
            raise InvalidParameterValue(f"A Schema needs a non-empty list of specs, got {inputs!r}")
        items = list(inputs)
        if not (
            all(isinstance(x, ColSpec) for x in items)
            or all(isinstance(x, TensorSpec) for x in items)
        ):
            raise InvalidParameterValue(
                f"A Schema cannot mix ColSpec and TensorSpec (or hold other objects): {items!r}"
            )
        named = [x.name is not None for x in items]
        if any(named) and not all(named):
            raise InvalidParameterValue(
                f"A Schema cannot mix named and unnamed inputs: {[x.name for x in items]}"
            )
        if isinstance(items[0], TensorSpec) and len(items) > 1 and not all(named):
            raise InvalidParameterValue("Several TensorSpecs need names")
        if not any(named) and not all(x.required for x in items):
            raise InvalidParameterValue("Unnamed inputs cannot be optional")
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
            raise InvalidParameterValue("This schema has no input names")
        return {str(x.name): x for x in self.inputs}

    def input_types_dict(self) -> dict[str, Any]:
        return {k: v.type for k, v in self.input_dict().items()}

    def numpy_types(self) -> list[Any]:
        if self.is_tensor_spec():
            return [x.type for x in self.inputs]
        types = self.input_types()
        if not all(isinstance(t, DataType) for t in types):
            raise InvalidParameterValue("Some column types are not scalar DataTypes")
        return [t.to_numpy() for t in types]

    def pandas_types(self) -> list[Any]:
        if self.is_tensor_spec():
            raise InvalidParameterValue("A tensor schema has numpy types, not pandas types")
        types = self.input_types()
        if not all(isinstance(t, DataType) for t in types):
            raise InvalidParameterValue("Some column types are not scalar DataTypes")
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


class ParamSpec:
    """One inference parameter: name, type (scalar DataType or Object), default, shape.

    ``shape`` is None for a scalar (or object) and ``(-1,)`` for a 1-D list.
    """

    def __init__(
        self,
        name: str,
        dtype: DataType | Object | str,
        default: Any,
        shape: Sequence[int] | None = None,
    ) -> None:
        self.name = str(name)
        self.shape: tuple[int, ...] | None = tuple(shape) if shape is not None else None
        resolved = DataType.from_name(dtype) if isinstance(dtype, str) else dtype
        if not isinstance(resolved, DataType | Object):
            raise InvalidParameterValue(
                f"Param {self.name!r}: dtype must be a DataType, Object or type name, got {dtype!r}"
            )
        if resolved is DataType.binary:
            raise InvalidParameterValue(f"Param {self.name!r}: binary params are not supported")
        self.dtype: DataType | Object = resolved
        from fsregistry.models.enforcement import validate_param_value

        self.default: Any = default
        self.default = validate_param_value(repr(self), default, self.dtype, self.shape)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ParamSpec)
            and self.name == other.name
            and self.dtype == other.dtype
            and self.default == other.default
            and self.shape == other.shape
        )

    def __hash__(self) -> int:
        return hash((self.name, repr(self.dtype), self.shape))

    def __repr__(self) -> str:
        shape = f" (shape: {self.shape})" if self.shape is not None else ""
        return f"{self.name!r}: {self.dtype!r} (default: {self.default}){shape}"

    def to_dict(self) -> dict[str, Any]:
        default = self.default
        if self.dtype is DataType.datetime and default is not None:
            default = (
                [v.isoformat() for v in default] if self.shape == (-1,) else default.isoformat()
            )
        out: dict[str, Any] = {
            "name": self.name,
            "default": default,
            "shape": list(self.shape) if self.shape is not None else None,
        }
        out.update(_type_to_dict(self.dtype))
        return out

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> ParamSpec:
        kind = kwargs.get("type") or kwargs.get("dtype")
        if "name" not in kwargs or "default" not in kwargs or kind is None:
            raise InvalidParameterValue(
                f"Param spec needs 'name', 'type' (or 'dtype') and 'default', got {kwargs!r}"
            )
        dtype: DataType | Object = (
            Object.from_json_dict(**{**kwargs, "type": OBJECT_TYPE})
            if kind == OBJECT_TYPE
            else DataType.from_name(str(kind))
        )
        return cls(str(kwargs["name"]), dtype, kwargs["default"], kwargs.get("shape"))


class ParamSchema:
    """The inference parameters a model accepts (names unique)."""

    def __init__(self, params: Sequence[ParamSpec]) -> None:
        items = list(params)
        if not all(isinstance(p, ParamSpec) for p in items):
            raise InvalidParameterValue("ParamSchema takes a list of ParamSpec")
        names = [p.name for p in items]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidParameterValue(f"Duplicated parameters in ParamSchema: {duplicates}")
        self.params: list[ParamSpec] = items

    def __len__(self) -> int:
        return len(self.params)

    def __iter__(self) -> Iterator[ParamSpec]:
        return iter(self.params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSchema) and self.params == other.params

    def __hash__(self) -> int:
        return hash(tuple(self.params))

    def __repr__(self) -> str:
        return repr(self.params)

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, json_str: str) -> ParamSchema:
        try:
            items = json.loads(json_str)
        except ValueError as exc:
            raise InvalidParameterValue(f"Invalid params JSON {json_str!r}: {exc}") from None
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            raise InvalidParameterValue(f"Params JSON must be a list of objects: {json_str!r}")
        return cls([ParamSpec.from_json_dict(**x) for x in items])


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
