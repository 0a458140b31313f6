"""``mlflow.models.infer_pip_requirements``: a stored model's requirements, bounded in time.

The requirements come from the modules the model's pickle and skops files reference
(:func:`fsregistry.models.environment.infer_pip_requirements`): the files are scanned as data,
never loaded, so inference runs no model code and needs no subprocess. ``timeout`` is a
deadline checked after the download and before each file is scanned; a timeout raises
:class:`RequirementsInferenceTimeout` (MLflow's ``MlflowTimeoutError`` case). With
``fallback``, an error or a timeout is logged as MLflow logs it and ``fallback`` is returned;
``MLFLOW_REQUIREMENTS_INFERENCE_RAISE_ERRORS=true`` makes it raise anyway, as in MLflow.
"""

from __future__ import annotations

import logging
import os
import time

from fsregistry.exceptions import FsRegistryException, InvalidParameterValue

_logger = logging.getLogger("fsregistry.models")

RAISE_ERRORS_ENV = "MLFLOW_REQUIREMENTS_INFERENCE_RAISE_ERRORS"
TIMEOUT_ENV = "MLFLOW_INPUT_EXAMPLE_INFERENCE_TIMEOUT"
_SCANNED = (".pkl", ".pickle", ".skops")


class RequirementsInferenceTimeout(FsRegistryException):
    """Requirement inference did not finish within its ``timeout``."""


def _raise_errors() -> bool:
    return os.environ.get(RAISE_ERRORS_ENV, "").strip().lower() in ("true", "1")


def _check_timeout(timeout: float | None) -> None:
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise InvalidParameterValue(
            f"infer_pip_requirements: timeout must be a positive number of seconds, got {timeout!r}"
        )


def _scan(model_uri: str, deadline: float | None, timeout: float | None) -> list[str]:
    from fsregistry.models.cache import local_model_dir
    from fsregistry.models.environment import infer_pip_requirements as infer
    from fsregistry.models.environment import requirement_name
    from fsregistry.models.hashes import local_files

    def check_deadline() -> None:
        if deadline is not None and time.monotonic() > deadline:
            # MLflow's MlflowTimeoutError text (utils/timeout.py:run_with_timeout).
            raise RequirementsInferenceTimeout(
                f"Operation timed out after {timeout} seconds (inferring the pip requirements "
                f"of {model_uri!r})"
            )

    local = local_model_dir(model_uri).path
    check_deadline()
    scan = [
        f
        for f in local_files(local)
        if f.endswith(_SCANNED) and os.path.getsize(os.path.join(local, f))
    ]
    requirements: dict[str, str] = {}
    for rel in scan:
        check_deadline()
        for req in infer(local, [rel]):
            requirements.setdefault(requirement_name(req) or req, req)
    return sorted(requirements.values(), key=lambda r: requirement_name(r) or r)


def infer_model_requirements(
    model_uri: str,
    *,
    flavor: str | None,
    fallback: list[str] | None,
    timeout: float | None,
) -> list[str]:
    """See :func:`fsregistry.models.infer_pip_requirements`."""
    _check_timeout(timeout)
    deadline = None if timeout is None else time.monotonic() + float(timeout)
    try:
        return _scan(model_uri, deadline, timeout)
    except (FsRegistryException, OSError, ValueError) as exc:
        if fallback is None or _raise_errors():
            raise
        if isinstance(exc, RequirementsInferenceTimeout):
            _logger.warning(
                "Attempted to infer pip requirements for the saved model or pipeline but the "
                "operation timed out in %s seconds. Fall back to return %s. You can specify a "
                "different timeout by setting the environment variable %s.",
                timeout,
                fallback,
                TIMEOUT_ENV,
            )
        else:
            _logger.warning(
                "Encountered an unexpected error while inferring pip requirements "
                "(model URI: %s, flavor: %s). Fall back to return %s. "
                "Set logging level to DEBUG to see the full traceback. (%s)",
                model_uri,
                flavor,
                fallback,
                exc,
            )
            _logger.debug("", exc_info=True)
        return fallback
