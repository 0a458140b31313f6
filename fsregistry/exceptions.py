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
IO_ERROR = "IO_ERROR"
RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
PERMISSION_DENIED = "PERMISSION_DENIED"
TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"

# Values longer than this are shortened in messages: a 10,000-character name must not make a
# 10,000-character error.
SHOWN_CHARS = 100


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` for a message, shortened when long: ``'aaaa'... (10000 characters)``.
    Never fails itself: ``repr`` of an int of more than 4300 digits raises ValueError."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    try:
        text = repr(value)
    except ValueError:
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit + 2 else f"{text[:limit]}... ({len(text)} characters)"


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


class PathConflict(InvalidParameterValue):
    """A file cannot be written where a directory is, nor below a file (``a.txt/b`` while
    ``a.txt`` is a file): on local disk the filesystem refuses it, and on object stores a key
    that is both a file and a prefix could never be downloaded or read by MLflow."""


class StorageError(FsRegistryException):
    """The store could not do a read or write for a reason outside the request: an I/O
    error. The subclasses name the usual causes. The call that raised it changed nothing."""

    default_code = IO_ERROR


class StorageFull(StorageError):
    """The disk or quota is full (ENOSPC, EDQUOT): no room for the file being written."""

    default_code = RESOURCE_EXHAUSTED


class StoragePermissionDenied(StorageError):
    """The store refuses the operation: a read-only filesystem, file modes, a bucket's
    permissions or missing credentials."""

    default_code = PERMISSION_DENIED


class StorageUnavailable(StorageError):
    """The store cannot be reached or is overloaded for now (too many open files, a lock held
    too long, a connection refused, throttling); the same call may succeed later."""

    default_code = TEMPORARILY_UNAVAILABLE


class StoreMissing(StorageError):
    """The store's bucket does not exist, so nothing can be written there (it is not created:
    creating buckets is a decision for their owner)."""

    default_code = RESOURCE_DOES_NOT_EXIST


class ModelValidationFailedException(FsRegistryException):
    """A candidate model's evaluation failed its metric thresholds (MLflow's class of the same
    name, ``BAD_REQUEST``); the message lists every failed threshold, one per line."""

    default_code = BAD_REQUEST
