"""``Model``: the ``MLmodel`` file, read and written in MLflow's format; ``ModelInfo``.

``MLmodel`` is YAML (``yaml.safe_dump``, keys sorted) with ``flavors``, ``run_id``,
``artifact_path``, ``model_uuid``, ``utc_time_created``, ``signature``,
``saved_input_example_info``, ``model_size_bytes``, ``metadata``, MLflow 3's ``model_id`` and
whatever else a writer put there: unknown keys are kept and written back unchanged, so
rewriting an MLmodel written by MLflow (e.g. :func:`fsregistry.models.set_signature`) loses
nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import yaml

from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.models.cache import MLMODEL_FILE_NAME, read_model_file, resolve_location
from fsregistry.models.signature import ModelSignature

if TYPE_CHECKING:
    from types import ModuleType

    from fsregistry.models.schema import ParamSchema, Schema

_logger = logging.getLogger(__name__)

# Keys with a dedicated attribute; everything else in an MLmodel goes to ``Model.extra``.
_KNOWN_KEYS = (
    "artifact_path",
    "run_id",
    "utc_time_created",
    "flavors",
    "signature",
    "saved_input_example_info",
    "model_uuid",
    "mlflow_version",
    "metadata",
    "model_size_bytes",
    "model_id",
    "is_signature_from_type_hint",
    "type_hint_from_example",
)
LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"


def _utc_now() -> str:
    return str(dt.datetime.now(dt.UTC).replace(tzinfo=None))


class Model:
    """An MLflow Model: its flavors and metadata, as stored in ``MLmodel``."""

    def __init__(
        self,
        artifact_path: str | None = None,
        run_id: str | None = None,
        utc_time_created: str | dt.datetime | None = None,
        flavors: dict[str, dict[str, Any]] | None = None,
        signature: ModelSignature | None = None,
        saved_input_example_info: dict[str, Any] | None = None,
        model_uuid: str | Callable[[], str] | None = lambda: uuid.uuid4().hex,
        mlflow_version: str | None = None,
        metadata: dict[str, Any] | None = None,
        model_size_bytes: int | None = None,
        model_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.artifact_path = artifact_path
        self.run_id = run_id
        self.utc_time_created = str(utc_time_created or _utc_now())
        self.flavors: dict[str, dict[str, Any]] = flavors if flavors is not None else {}
        self.signature = signature
        self.saved_input_example_info = saved_input_example_info
        self.model_uuid = model_uuid() if callable(model_uuid) else model_uuid
        self.mlflow_version = mlflow_version
        self.metadata = metadata
        self.model_size_bytes = model_size_bytes
        self.model_id = model_id
        # Other MLmodel keys (written by MLflow or by fsregistry), kept verbatim.
        self.extra: dict[str, Any] = dict(kwargs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        return self.to_yaml()

    # -- schema accessors ---------------------------------------------------------------
    def get_input_schema(self) -> Schema | None:
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self) -> Schema | None:
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self) -> ParamSchema | None:
        return self.signature.params if self.signature is not None else None

    def add_flavor(self, name: str, **params: Any) -> Model:
        """Add (or replace) the configuration of flavor ``name``; returns self."""
        self.flavors[name] = params
        return self

    # -- input examples -----------------------------------------------------------------
    def load_input_example(self, path: str | None = None) -> Any:
        """The saved input example as data (DataFrame, ndarray, dict...), or None.

        ``path`` is the model directory or any model URI; default: ``runs:/<run_id>/<artifact_path>``.
        """
        from fsregistry.models.input_example import read_input_example

        if self.saved_input_example_info is None:
            return None
        return read_input_example(self, path or self._default_uri())

    def load_input_example_params(self, path: str | None = None) -> dict[str, Any] | None:
        from fsregistry.models.input_example import read_input_example_params

        if self.saved_input_example_info is None:
            return None
        return read_input_example_params(self, path or self._default_uri())

    def get_serving_input(self, path: str) -> str | None:
        """Text of ``serving_input_example.json`` in the model at ``path``, or None."""
        info = self.saved_input_example_info or {}
        rel = info.get("serving_input_path")
        if not rel:
            return None
        from fsregistry.models.input_example import read_text

        return read_text(path, rel)

    def _default_uri(self) -> str:
        if self.run_id is None or self.artifact_path is None:
            raise InvalidParameterValue("This model has no run_id/artifact_path: pass path=")
        if "://" in self.artifact_path:
            return self.artifact_path
        return f"runs:/{self.run_id}/{self.artifact_path}"

    # -- serialization ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The MLmodel mapping; null artifact_path/run_id/mlflow_version/model_id are left out
        (MLflow 2.x writes no ``model_id``; MLflow 3 reads a missing one as null)."""
        res: dict[str, Any] = dict(self.extra)
        res.update(
            {
                "utc_time_created": self.utc_time_created,
                "flavors": self.flavors,
                "model_uuid": self.model_uuid,
            }
        )
        for key in ("artifact_path", "run_id", "mlflow_version", "model_id"):
            value = getattr(self, key)
            if value is not None:
                res[key] = value
        if self.signature is not None:
            res["signature"] = self.signature.to_dict()
            res["is_signature_from_type_hint"] = self.signature.is_signature_from_type_hint
            res["type_hint_from_example"] = self.signature.type_hint_from_example
        if self.saved_input_example_info is not None:
            res["saved_input_example_info"] = self.saved_input_example_info
        if self.metadata is not None:
            res["metadata"] = self.metadata
        if self.model_size_bytes is not None:
            res["model_size_bytes"] = self.model_size_bytes
        return res

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), default_flow_style=False)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``MLmodel`` to a local file path."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_yaml())

    @classmethod
    def from_dict(cls, model_dict: dict[str, Any]) -> Model:
        if not isinstance(model_dict, dict):
            raise InvalidParameterValue(
                f"Invalid MLmodel content: expected a mapping, got {model_dict!r}"
            )
        d = dict(model_dict)
        signature = None
        raw_sig = d.pop("signature", None)
        from_hint = bool(d.pop("is_signature_from_type_hint", False))
        from_example = bool(d.pop("type_hint_from_example", False))
        if isinstance(raw_sig, dict):
            signature = ModelSignature.from_dict(raw_sig)
            signature.is_signature_from_type_hint = from_hint
            signature.type_hint_from_example = from_example
        flavors = d.pop("flavors", None) or {}
        if not isinstance(flavors, dict):
            raise InvalidParameterValue(
                f"Invalid MLmodel: 'flavors' must be a mapping, got {flavors!r}"
            )
        known = {k: d.pop(k) for k in list(d) if k in _KNOWN_KEYS}
        return cls(
            artifact_path=known.get("artifact_path"),
            run_id=known.get("run_id"),
            utc_time_created=known.get("utc_time_created"),
            flavors=flavors,
            signature=signature,
            saved_input_example_info=known.get("saved_input_example_info"),
            model_uuid=known.get("model_uuid"),
            mlflow_version=known.get("mlflow_version"),
            metadata=known.get("metadata"),
            model_size_bytes=known.get("model_size_bytes"),
            model_id=known.get("model_id"),
            **d,
        )

    @classmethod
    def from_yaml(cls, text: str | bytes, where: str = "MLmodel") -> Model:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidParameterValue(f"{where} is not valid YAML: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read an MLmodel: a local file or directory, or any model URI (only MLmodel is fetched)."""
        path = os.fspath(path)
        local = path if "://" not in path and ":" not in path.split("/", 1)[0] else None
        if local is not None:
            file = (
                local
                if os.path.basename(local.rstrip("/")) == MLMODEL_FILE_NAME
                else (os.path.join(local, MLMODEL_FILE_NAME))
            )
            if not os.path.isfile(file):
                raise ResourceDoesNotExist(
                    f'Could not find an "MLmodel" configuration file at "{path}"'
                )
            with open(file, "rb") as f:
                return cls.from_yaml(f.read(), file)
        uri = path.rstrip("/")
        if uri.endswith("/" + MLMODEL_FILE_NAME) and not uri.startswith(("runs:", "models:")):
            uri = uri[: -len(MLMODEL_FILE_NAME) - 1]
        return cls.from_yaml(read_model_file(uri, MLMODEL_FILE_NAME), f"MLmodel of {path}")

    # -- logging ------------------------------------------------------------------------
    def get_tags_dict(self) -> dict[str, Any]:
        """The entry MLflow 2.x appends to the run tag ``mlflow.log-model.history``."""
        d = self.to_dict()
        tags: dict[str, Any] = {
            k: d[k] for k in ("run_id", "artifact_path", "utc_time_created", "model_uuid") if k in d
        }
        tags["flavors"] = {
            name: {k: v for k, v in conf.items() if k != "config"}
            if isinstance(conf, dict)
            else conf
            for name, conf in self.flavors.items()
        }
        return tags

    def get_model_info(self) -> ModelInfo:
        if self.model_id:
            uri = f"models:/{self.model_id}"
        else:
            uri = f"runs:/{self.run_id}/{self.artifact_path}"
        return ModelInfo(
            artifact_path=self.artifact_path,
            flavors=self.flavors,
            model_uri=uri,
            model_uuid=self.model_uuid,
            run_id=self.run_id,
            saved_input_example_info=self.saved_input_example_info,
            signature=self.signature,
            utc_time_created=self.utc_time_created,
            mlflow_version=self.mlflow_version,
            metadata=self.metadata,
            model_id=self.model_id,
            model_size_bytes=self.model_size_bytes,
        )

    @classmethod
    def log(
        cls,
        name: str | None,
        flavor: ModuleType,
        registered_model_name: str | None = None,
        metadata: dict[str, Any] | None = None,
        run_id: str | None = None,
        artifact_path: str | None = None,
        tags: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        model_type: str | None = None,
        step: int = 0,
        model_id: str | None = None,
        **kwargs: Any,
    ) -> ModelInfo:
        """Save the model with ``flavor.save_model`` and log it as an MLflow 3 LoggedModel.

        As MLflow 3: the files go to ``<experiment>/models/<model_id>/artifacts/``,
        ``ModelInfo.model_uri`` is ``models:/<model_id>``, several models may share a name, and
        without an active run the model is logged to the active experiment with no run (none
        is started). ``params`` and ``tags`` go on the LoggedModel (``tags`` also on the
        registered version), ``step`` on the run's output record; ``model_id`` logs into a
        model made by ``initialize_logged_model``. Differs: ``artifact_path=""`` (or no name)
        draws a random name (MLflow 3 refuses ``""``), and a failed call leaves no FAILED model.
        """
        from fsregistry.models.saving import log_model_dir

        return log_model_dir(
            cls,
            _check_name(name, artifact_path),
            flavor,
            registered_model_name=registered_model_name,
            metadata=metadata,
            run_id=run_id,
            tags=tags,
            params=params,
            model_type=model_type,
            step=step,
            model_id=model_id,
            **kwargs,
        )


def _check_name(name: str | None, artifact_path: str | None) -> str | None:
    """The LoggedModel name (None: a random one), as MLflow 3 reads ``name`` and its
    deprecated spelling ``artifact_path``."""
    if name is not None and artifact_path is not None:
        raise InvalidParameterValue(
            "Both `artifact_path` (deprecated) and `name` parameters were specified. "
            f"Please only specify `name` (name={name!r}, artifact_path={artifact_path!r})."
        )
    if artifact_path is not None:
        import warnings

        warnings.warn(
            "`artifact_path` is deprecated. Please use `name` instead.", FutureWarning, stacklevel=4
        )
        name = artifact_path or None
    return name


class ModelInfo:
    """Metadata of a logged model, as returned by ``log_model``/``get_model_info``."""

    def __init__(
        self,
        artifact_path: str | None,
        flavors: dict[str, Any],
        model_uri: str,
        model_uuid: str | None,
        run_id: str | None,
        saved_input_example_info: dict[str, Any] | None,
        signature: ModelSignature | None,
        utc_time_created: str,
        mlflow_version: str | None,
        metadata: dict[str, Any] | None = None,
        registered_model_version: int | None = None,
        model_id: str | None = None,
        model_size_bytes: int | None = None,
        files_digest: str | None = None,
    ) -> None:
        self.artifact_path = artifact_path
        self.flavors = flavors
        self.model_uri = model_uri
        self.model_uuid = model_uuid
        self.run_id = run_id
        self.saved_input_example_info = saved_input_example_info
        self.signature = signature
        self.utc_time_created = utc_time_created
        self.mlflow_version = mlflow_version
        self.metadata = metadata
        self.registered_model_version = registered_model_version
        self.model_id = model_id
        self.model_size_bytes = model_size_bytes
        # ``sha256:<hex>`` of the model's file-hash manifest; pass as ``expected_digest=``.
        self.files_digest = files_digest
        # MLflow 3: what the LoggedModel says (set by log_model).
        self.name: str | None = None
        self.params: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.metrics: list[Any] | None = None
        self.creation_timestamp: int | None = None

    def attach(self, logged_model: Any) -> None:
        """Take name, params, tags, metrics and creation time from the LoggedModel."""
        self.name = logged_model.name
        self.params = dict(logged_model.params)
        self.tags = dict(logged_model.tags)
        self.metrics = list(logged_model.metrics)
        self.creation_timestamp = logged_model.creation_timestamp

    def __repr__(self) -> str:
        return f"ModelInfo(model_uri={self.model_uri!r}, flavors={sorted(self.flavors)})"


def get_model_info(model_uri: str) -> ModelInfo:
    """Metadata of the model at ``model_uri``; reads only its MLmodel (and hash manifest)."""
    from fsregistry.models.hashes import HASHES_FILE, manifest_digest

    location = resolve_location(model_uri)
    model = Model.from_yaml(
        read_model_file(model_uri, MLMODEL_FILE_NAME, location=location), f"MLmodel of {model_uri}"
    )
    info = model.get_model_info()
    if model.run_id is None or model.artifact_path is None:
        info.model_uri = model_uri
    try:
        info.files_digest = manifest_digest(
            read_model_file(model_uri, HASHES_FILE, location=location)
        )
    except ResourceDoesNotExist:
        info.files_digest = None
    return info


def rewrite_mlmodel(model_uri: str, change: Callable[[Model], None], operation: str) -> None:
    """Apply ``change`` to the MLmodel at ``model_uri`` and write it back (hashes updated)."""
    from fsregistry.models.saving import rewrite_model_files

    if model_uri.startswith("models:/") and not model_uri.startswith("models:/m-"):
        # MLflow's text ("Failed to set signature on ...", models/signature.py:set_signature).
        raise InvalidParameterValue(
            f"Failed to {operation.replace('_', ' ')} on {model_uri!r}. Model URIs with the "
            "`models:/<name>/<version>` scheme are not supported (registered model versions "
            "are read-only; use the runs:/ URI or the storage location of the model)."
        )
    location = resolve_location(model_uri)
    raw = read_model_file(model_uri, MLMODEL_FILE_NAME, location=location)
    model = Model.from_yaml(raw, f"MLmodel of {model_uri}")
    change(model)
    rewrite_model_files(location, {MLMODEL_FILE_NAME: model.to_yaml().encode("utf-8")})
