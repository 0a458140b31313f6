"""``mlflow.types`` for fsregistry: the schema types of model signatures.

The same classes as :mod:`fsregistry.models.schema`, whose ``__all__`` lists them
(``from mlflow.types import Schema, ColSpec`` becomes ``from fsregistry.types import Schema,
ColSpec``).
"""

from fsregistry.models import schema
from fsregistry.models.schema import *  # noqa: F403  (the public schema types, one list)

__all__: list[str] = []
__all__ += schema.__all__
