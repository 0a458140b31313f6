"""``mlflow.types.schema`` for fsregistry: the schema types, as :mod:`fsregistry.models.schema`
lists them."""

from fsregistry.models import schema
from fsregistry.models.schema import *  # noqa: F403  (the public schema types, one list)

__all__: list[str] = []
__all__ += schema.__all__
