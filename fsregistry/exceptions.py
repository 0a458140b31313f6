"""One exception family for everything fsregistry raises on purpose.

Error codes are MLflow's (``databricks_pb2.ErrorCode`` names), so code that inspects
``error_code`` keeps working when it moves from ``mlflow`` to ``fsregistry``.
"""

from __future__ import annotations

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
INVALID_STATE = "INVALID_STATE"
INTERNAL_ERROR = "INTERNAL_ERROR"
BAD_REQUEST = "BAD_REQUEST"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"


class FsRegistryException(Exception):
    """Base of every error fsregistry raises deliberately; mirrors ``MlflowException``."""

    default_code = INTERNAL_ERROR

    def __init__(self, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code or self.default_code

    def __str__(self) -> str:
        return self.message


# Drop-in name for code written against ``mlflow.exceptions.MlflowException``.
MlflowException = FsRegistryException


class InvalidParameterValue(FsRegistryException):
    """A name, key, value, URI or argument was rejected before anything was written."""

    default_code = INVALID_PARAMETER_VALUE


class ResourceDoesNotExist(FsRegistryException):
    """The experiment, run, model, version or file asked for is not in the store."""

    default_code = RESOURCE_DOES_NOT_EXIST


class ResourceAlreadyExists(FsRegistryException):
    """A create collided with something that already exists under that name."""

    default_code = RESOURCE_ALREADY_EXISTS


class InvalidState(FsRegistryException):
    """The resource exists but is in a state that forbids the operation (e.g. deleted run)."""

    default_code = INVALID_STATE


class UnsupportedOperation(FsRegistryException):
    """The storage backend cannot guarantee what the operation needs (e.g. atomic create)."""

    default_code = NOT_IMPLEMENTED


class MissingConfigException(FsRegistryException):
    """A file the store's layout requires is missing, e.g. an experiment or run directory
    without its ``meta.yaml``; mirrors MLflow's ``MissingConfigException`` (INTERNAL_ERROR)."""


class ConcurrentUpdateError(FsRegistryException):
    """A compare-and-swap kept losing to other writers; nothing was written by this call."""

    default_code = INTERNAL_ERROR
