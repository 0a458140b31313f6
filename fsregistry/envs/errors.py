"""The error raised when a model environment cannot be built."""

from __future__ import annotations

from fsregistry.exceptions import FsRegistryException


class EnvironmentBuildError(FsRegistryException):
    """A model environment could not be created: no suitable Python interpreter, ``venv``
    failed, or ``pip install`` failed (the message ends with pip's last output lines).
    Nothing is left in the environment root when this is raised."""
