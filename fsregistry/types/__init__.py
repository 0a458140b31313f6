"""``mlflow.types`` for fsregistry: the schema types of model signatures.

The same classes as :mod:`fsregistry.models.schema` (``from mlflow.types import Schema,
ColSpec`` becomes ``from fsregistry.types import Schema, ColSpec``).
"""

from fsregistry.models.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Map",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "TensorSpec",
]
