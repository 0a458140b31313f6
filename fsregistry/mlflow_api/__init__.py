"""What fsregistry says about MLflow names it does not provide.

:data:`~fsregistry.mlflow_api.names.NAMES` lists MLflow's public names per module (generated
from a real MLflow); :mod:`~fsregistry.mlflow_api.reasons` says why fsregistry lacks some.
Looking up such a name on ``fsregistry``, its lazy namespaces (``fsregistry.models``,
``fsregistry.entities``, ``fsregistry.tracking``) or a ``fsregistry.Client`` raises an
``AttributeError`` that says so and points to the coverage page; any other missing name
raises Python's usual one. Nothing here is imported until a lookup fails. Floor 0.
"""

from __future__ import annotations

import fnmatch
from typing import Any, NoReturn

COVERAGE_PAGE = "docs/mlflow-coverage.md"

#: fsregistry namespace -> the MLflow module it mirrors.
MIRRORS: dict[str, str] = {
    "fsregistry": "mlflow",
    "fsregistry.models": "mlflow.models",
    "fsregistry.entities": "mlflow.entities",
    "fsregistry.tracking": "mlflow.tracking",
    "fsregistry.pyfunc": "mlflow.pyfunc",
    "fsregistry.sklearn": "mlflow.sklearn",
    "fsregistry.artifacts": "mlflow.artifacts",
    "fsregistry.data": "mlflow.data",
}


def reason(mlflow_module: str, name: str) -> str | None:
    """Why fsregistry lacks ``<mlflow_module>.<name>``, or None if no reason is recorded."""
    from fsregistry.mlflow_api.reasons import EXACT, PATTERNS

    found = EXACT.get(f"{mlflow_module}.{name}")
    if found is not None:
        return found
    for module_pattern, name_pattern, why in PATTERNS:
        if fnmatch.fnmatchcase(mlflow_module, module_pattern) and fnmatch.fnmatchcase(
            name, name_pattern
        ):
            return why
    return None


def is_mlflow_name(mlflow_module: str, name: str) -> bool:
    """Whether MLflow's ``mlflow_module`` has the public name ``name``."""
    from fsregistry.mlflow_api.names import NAMES

    return name in NAMES.get(mlflow_module, ())


def missing(owner: str, mlflow_module: str, name: str) -> AttributeError:
    """The AttributeError for ``owner.name`` (``owner``: what was looked up, for the message);
    it names the MLflow feature when ``name`` is one fsregistry does not provide."""
    from fsregistry.mlflow_api.names import MLFLOW_VERSION

    if name.startswith("_") or not is_mlflow_name(mlflow_module, name):
        return AttributeError(f"{owner} has no attribute {name!r}")
    why = reason(mlflow_module, name) or "not provided"
    return AttributeError(
        f"{owner} has no attribute {name!r}: {mlflow_module}.{name} is an MLflow "
        f"{MLFLOW_VERSION} feature that fsregistry does not provide ({why}). See "
        f"{COVERAGE_PAGE} for what fsregistry covers."
    )


class NotProvidedMethods:
    """Mixin for ``fsregistry.Client``: a missing ``MlflowClient`` method raises the
    explanatory AttributeError (see :func:`missing`)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> NoReturn:
        raise missing(f"{type(self).__name__!r} object", "mlflow.MlflowClient", name)


def module_getattr(package: str) -> Any:
    """A module-level ``__getattr__`` for ``package`` that raises :func:`missing`."""
    mlflow_module = MIRRORS.get(package, package)

    def __getattr__(name: str) -> NoReturn:
        raise missing(f"module {package!r}", mlflow_module, name)

    return __getattr__
