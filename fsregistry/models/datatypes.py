"""The types of model signature columns, as MLflow defines them, and their JSON encoding.

A column type is a scalar :class:`DataType` (``boolean``, ``integer``, ``long``, ``float``,
``double``, ``string``, ``binary``, ``datetime``) or a composite: :class:`Array` (items of one
type), :class:`Object` (named :class:`Property` fields, kept sorted by name),
:class:`Map` (string keys, values of one type), :class:`AnyType` (anything, None included) and
:class:`SparkMLVector` (read and written, never inferred). :data:`ColType` is their union.

JSON: a scalar is ``{"type": "<name>"}``; an array ``{"type": "array", "items": <type>}``; an
object ``{"type": "object", "properties": {"<name>": <type> + "required"}}``; a map
``{"type": "map", "values": <type>}``; ``{"type": "any"}``; ``{"type": "sparkml_vector"}``.
This is byte-for-byte what MLflow writes, and :func:`type_from_dict` reads what MLflow 2.x and
3.x write.

Merging (what inference does when two examples disagree): a type merged with itself or with
``AnyType`` is itself (an object's properties become optional); arrays and maps merge their
item types; objects merge property by property, one missing on a side becoming optional;
anything else is an error. numpy is imported only when a numpy dtype is needed.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
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
                f"Unsupported type {name!r}, expected instance of DataType or one of "
                f"{[t.name for t in cls]}"
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
        self.dtype: ColType = coerce_type(dtype, "dtype")

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
        return {"type": ARRAY_TYPE, "items": type_to_dict(self.dtype)}

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> Array:
        items = _checked_json(kwargs, "Array", ARRAY_TYPE, "items")
        if "type" not in items:
            raise InvalidParameterValue(
                f"Missing keys in Array's items JSON. Expected to find key `type` (got {items!r})"
            )
        return cls(type_from_dict(items))

    def merge(self, other: ColType) -> ColType:
        return _merge_items(self, other, Array, "dtype")


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
            raise InvalidParameterValue(
                f"Expected name to be a string, got type {type(name).__name__} ({name!r})"
            )
        self.name = name
        self.dtype: ColType = coerce_type(dtype, "dtype")
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
        d = type_to_dict(self.dtype)
        d["required"] = self.required
        return {self.name: d}

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> Property:
        if len(kwargs) != 1:
            raise InvalidParameterValue(
                "Expected Property JSON to contain a single key as name, got "
                f"{len(kwargs)} keys. ({kwargs!r})"
            )
        name, spec = next(iter(kwargs.items()))
        if not isinstance(spec, dict) or "type" not in spec:
            raise InvalidParameterValue(
                f"Missing keys in Property `{name}`. Expected to find key `type` (got {spec!r})"
            )
        spec = dict(spec)
        required = spec.pop("required", True)
        return cls(name, type_from_dict(spec), required=True if required is None else required)

    def merge(self, other: Property | ColType) -> Property:
        if isinstance(other, AnyType):
            return Property(self.name, self.dtype, required=False)
        if not isinstance(other, Property):
            raise InvalidParameterValue(
                f"Can't merge property with non-property type: {type(other).__name__} ({other!r})"
            )
        if self.name != other.name:
            raise InvalidParameterValue(
                f"Can't merge properties with different names ({self.name!r} and {other.name!r})"
            )
        merged = _merge_types(self.dtype, other.dtype)
        if merged is None:
            raise InvalidParameterValue(
                f"Properties are incompatible for {self.dtype} and {other.dtype} "
                f"(property {self.name!r})"
            )
        return Property(self.name, merged, self.required and other.required)


class Object:
    """A JSON object with a fixed set of properties (kept sorted by name, as MLflow does)."""

    def __init__(self, properties: Sequence[Property]) -> None:
        if not isinstance(properties, list | tuple) or not properties:
            raise InvalidParameterValue(
                f"Creating Object with empty properties is not allowed. (got {properties!r})"
            )
        if not all(isinstance(p, Property) for p in properties):
            raise InvalidParameterValue(
                f"Expected values to be instance of Property (got {list(properties)!r})"
            )
        names = [p.name for p in properties]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidParameterValue(
                f"Found duplicated property names: `{', '.join(duplicates)}`"
            )
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
        props = _checked_json(kwargs, "Object", OBJECT_TYPE, "properties")
        return cls([Property.from_json_dict(**{k: v}) for k, v in props.items()])

    def merge(self, other: ColType) -> ColType:
        if isinstance(other, AnyType):
            return Object([Property(p.name, p.dtype, required=False) for p in self.properties])
        if not isinstance(other, Object):
            raise InvalidParameterValue(
                f"Can't merge object with non-object type: {type(other).__name__} ({other!r})"
            )
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
        self.value_type: ColType = coerce_type(value_type, "value_type")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Map) and self.value_type == other.value_type

    def __hash__(self) -> int:
        return hash(("map", repr(self.value_type)))

    def __repr__(self) -> str:
        return f"Map(str -> {self.value_type!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": MAP_TYPE, "values": type_to_dict(self.value_type)}

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> Map:
        values = _checked_json(kwargs, "Map", MAP_TYPE, "values")
        if "type" not in values:
            raise InvalidParameterValue(
                f"Missing keys in Map's items JSON. Expected to find key `type` (got {values!r})"
            )
        return cls(type_from_dict(values))

    def merge(self, other: ColType) -> ColType:
        return _merge_items(self, other, Map, "value_type")


ColType: TypeAlias = Union[DataType, Array, Object, Map, AnyType]  # noqa: UP007


def coerce_type(value: Any, arg: str) -> ColType:
    """A column type given as a type or a scalar type's name (``arg`` names it in errors)."""
    if isinstance(value, str):
        return DataType.from_name(value)
    if isinstance(value, DataType | Array | Object | Map | AnyType):
        return value
    raise InvalidParameterValue(
        "Expected mlflow.types.schema.Datatype, mlflow.types.schema.Array, "
        "mlflow.types.schema.Object, mlflow.types.schema.Map, mlflow.types.schema.AnyType or str "
        f"for the '{arg}' argument, but got {value!r}"
    )


def type_to_dict(t: ColType) -> dict[str, Any]:
    """A type's JSON encoding (a new dict, which callers may extend)."""
    return {"type": t.name} if isinstance(t, DataType) else t.to_dict()


def type_from_dict(d: dict[str, Any]) -> ColType:
    """The type a JSON encoding describes, by its ``"type"``."""
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
    # A name is looked up; anything else fails with MLflow's message for a bad 'type'.
    return coerce_type(kind, "type")


def _checked_json(kwargs: dict[str, Any], cls: str, kind: str, key: str) -> Any:
    """The ``key`` entry of an Array/Object/Map JSON dict, checked as MLflow's
    ``from_json_dict`` checks it (its messages; MLflow's Map says 'Array JSON' and `items`)."""
    if key not in kwargs or "type" not in kwargs:
        expected = "`properties` and `type`" if kind == OBJECT_TYPE else "`items` and `type`"
        raise InvalidParameterValue(
            f"Missing keys in {'Object' if kind == OBJECT_TYPE else 'Array'} JSON. Expected to "
            f"find keys {expected} (a {cls} needs `{key}` and `type`; got {kwargs!r})"
        )
    if kwargs["type"] != kind:
        raise InvalidParameterValue(
            f"Type mismatch, {cls} expects `{kind}` as the type (got {kwargs['type']!r})"
        )
    value = kwargs[key]
    if kind == OBJECT_TYPE:
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise InvalidParameterValue(
                f"Expected properties to be a dictionary of Property JSON (got {value!r})"
            )
    elif not isinstance(value, dict):
        raise InvalidParameterValue(
            f"Expected {key} to be a dictionary of Object JSON (got {value!r})"
        )
    return value


def _merge_items(
    this: Array | Map, other: ColType, cls: type[Array] | type[Map], attr: str
) -> ColType:
    """An Array or Map merged with ``other``: item types merged, with MLflow's messages."""
    if isinstance(other, AnyType) or this == other:
        return copy.deepcopy(this)
    kind = cls.__name__.lower()
    if not isinstance(other, cls):
        raise InvalidParameterValue(
            f"Can't merge {kind} with non-{kind} type: {type(other).__name__} ({other!r})"
        )
    mine, theirs = getattr(this, attr), getattr(other, attr)
    merged = _merge_types(mine, theirs)
    if merged is None:
        raise InvalidParameterValue(
            f"{cls.__name__} types are incompatible for {this} with {attr}={mine} and "
            f"{other} with {attr}={theirs}"
        )
    return cls(merged)


def _merge_types(a: ColType, b: ColType) -> ColType | None:
    """``a`` and ``b`` merged; None when they are different scalar types (the caller raises
    MLflow's message for its kind)."""
    if isinstance(a, DataType):
        return a if a == b or isinstance(b, AnyType) else None
    return a.merge(b)


__all__ = [
    "ANY_TYPE",
    "ARRAY_TYPE",
    "MAP_TYPE",
    "OBJECT_TYPE",
    "SPARKML_VECTOR_TYPE",
    "AnyType",
    "Array",
    "ColType",
    "DataType",
    "Map",
    "Object",
    "Property",
    "SparkMLVector",
    "coerce_type",
    "type_from_dict",
    "type_to_dict",
]
