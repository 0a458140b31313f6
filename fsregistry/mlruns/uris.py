"""MLflow's model URI grammar, parsed with no I/O: ``models:/...`` and ``runs:/...``.

Accepted forms (MLflow's, docs/mlflow-format.md §2.5 and §1.10):

* ``models:/<name>/<version>``, ``models:/<name>/latest`` (any case), ``models:/<name>/<stage>``
  (any case), ``models:/<name>@<alias>`` — each optionally followed by ``/<path in model>``;
* ``models:/<model_id>`` — an MLflow 3 LoggedModel;
* ``runs:/<run_id>/<path>`` — a path under a run's artifacts, or an MLflow 3 LoggedModel the run
  logged under the first component of ``<path>``;
* anything else (local paths, ``file://``, ``s3://``, ``gs://``) is already a location.

Turning a parsed URI into a location needs the stores: :mod:`fsregistry.uris` does that.
"""

from __future__ import annotations

from dataclasses import dataclass

from fsregistry.exceptions import InvalidParameterValue

MODELS_SCHEME = "models:"
RUNS_SCHEME = "runs:"
LATEST = "latest"


@dataclass(frozen=True)
class ModelUri:
    """A parsed ``models:/`` URI: exactly one of ``model_id``, ``version``, ``stage``,
    ``alias``, ``latest`` says which version of ``name`` is meant; ``sub_path`` is the path
    inside the model directory ("" for the directory itself)."""

    uri: str
    model_id: str | None = None
    name: str | None = None
    version: int | None = None
    stage: str | None = None
    alias: str | None = None
    latest: bool = False
    sub_path: str = ""


def _improper(uri: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Not a proper models:/ URI: {uri!r}. Models URIs must be of the form "
        "'models:/<name>/<version|stage|latest>[/path]', 'models:/<name>@<alias>[/path]' or "
        "'models:/<model_id>'."
    )


def is_models_uri(uri: object) -> bool:
    return isinstance(uri, str) and uri.startswith(MODELS_SCHEME)


def is_runs_uri(uri: object) -> bool:
    return isinstance(uri, str) and uri.startswith(RUNS_SCHEME)


def parse_models_uri(uri: str) -> ModelUri:
    """Parse a ``models:/`` URI the way MLflow's ``split_models_uri`` + ``_parse_model_uri`` do.

    Only ``models:/`` followed by a path is accepted (no ``models://profile@databricks``).
    """
    if not is_models_uri(uri) or not uri.startswith(f"{MODELS_SCHEME}/"):
        raise _improper(uri if isinstance(uri, str) else repr(uri))
    path = uri[len(MODELS_SCHEME) :].rstrip("/")
    if path.startswith("//"):
        raise _improper(uri)
    parts = path.lstrip("/").split("/")
    if not parts[0].strip():
        raise _improper(uri)
    if "@" in parts[0]:
        # models:/<name>@<alias>[/path]
        name, _, alias = parts[0].rpartition("@")
        if not name.strip() or not alias.strip():
            raise _improper(uri)
        return ModelUri(uri, name=name, alias=alias, sub_path="/".join(parts[1:]))
    if len(parts) == 1:
        return ModelUri(uri, model_id=parts[0])
    name, suffix, sub = parts[0], parts[1], "/".join(parts[2:])
    if not suffix.strip():
        raise _improper(uri)
    if suffix.isdecimal():  # what int() reads: "²" is a digit but not a number
        return ModelUri(uri, name=name, version=int(suffix), sub_path=sub)
    if suffix.lower() == LATEST:
        return ModelUri(uri, name=name, latest=True, sub_path=sub)
    return ModelUri(uri, name=name, stage=suffix, sub_path=sub)


def parse_runs_uri(uri: str) -> tuple[str, str]:
    """``runs:/<run_id>/<path>`` -> (run_id, path)."""
    if not is_runs_uri(uri):
        raise InvalidParameterValue(
            f"Not a proper runs:/ URI: {uri}. Runs URIs must be of the form "
            "'runs:/<run_id>/run-relative/path/to/artifact'"
        )
    rest = uri[len(RUNS_SCHEME) :].lstrip("/")
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise InvalidParameterValue(
            f"Not a proper runs:/ URI: {uri}. Runs URIs must be of the form "
            "'runs:/<run_id>/run-relative/path/to/artifact' (no run id)"
        )
    return run_id, path.strip("/")


__all__ = [
    "LATEST",
    "MODELS_SCHEME",
    "RUNS_SCHEME",
    "ModelUri",
    "is_models_uri",
    "is_runs_uri",
    "parse_models_uri",
    "parse_runs_uri",
]
