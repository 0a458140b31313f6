"""The inference parameters a model's ``predict`` accepts: :class:`ParamSchema`, a list of
:class:`ParamSpec` with unique names.

A parameter has a name, a type (a scalar :class:`~fsregistry.models.datatypes.DataType` other
than ``binary``, or an :class:`~fsregistry.models.datatypes.Object`), a default that is checked
against the type when the spec is made, and a shape: None for one value, ``(-1,)`` for a list.

JSON (``signature.params`` in ``MLmodel``): a list of ``{"name", "default", "shape", "type"}``
objects (an object type adds its ``properties``; datetime defaults are ISO strings), exactly as
MLflow writes it; ``dtype`` is also read in place of ``type``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.datatypes import OBJECT_TYPE, DataType, Object, type_to_dict
from fsregistry.models.values import validate_param_value


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
                f"'dtype' must be DataType, Object or str, got {dtype!r} (param {self.name!r})"
            )
        if resolved is DataType.binary:
            # MLflow's text, its missing space included.
            raise InvalidParameterValue(
                "Binary type is not supported for parameters, ParamSpec "
                f"'{self.name}'has dtype 'binary'"
            )
        self.dtype: DataType | Object = resolved
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
        out.update(type_to_dict(self.dtype))
        return out

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> ParamSpec:
        kind = kwargs.get("type") or kwargs.get("dtype")
        if "name" not in kwargs or "default" not in kwargs or kind is None:
            raise InvalidParameterValue(
                "Missing keys in ParamSpec JSON. Expected to find keys `name`, `type`(or `dtype`) "
                f"and `default`. Received keys: {kwargs.keys()}"
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
            raise InvalidParameterValue(
                f"ParamSchema inputs only accept {ParamSpec}, got {[type(p) for p in items]}"
            )
        names = [p.name for p in items]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidParameterValue(f"Duplicated parameters found in schema: {duplicates}")
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


__all__ = ["ParamSchema", "ParamSpec"]
