"""The flavor kit: what every model flavor shares, so a flavor module is its library's save and
load calls plus a :class:`Flavor` description.

A flavor module (``fsregistry.xgboost``, a third-party ``fsreg_catboost``...) declares one
:class:`Flavor` (MLmodel flavor name, framework import name, the fsregistry extra that
installs it, the flavor-conf key of the framework version, the pyfunc ``loader_module``) and
calls:

- :func:`save_model` with the shared :class:`ModelOptions` and a ``write(model_dir)`` callback
  that writes the native files and returns a :class:`SavedData` (the model-relative data path,
  the rest of the flavor conf, the pickle/skops files to scan for requirements). The kit does
  the rest, as MLflow lays a model out: refuses a non-empty target, copies ``code_paths`` to
  ``code/`` and ``extra_files`` to ``extra_files/``, saves the input example and infers the
  signature from it (through the flavor's ``predict``), adds the ``python_function`` flavor
  (``loader_module``, ``data``, ``env``, ``code``, ``python_version`` and the flavor's
  ``SavedData.pyfunc`` keys; none when that is None) and the flavor's own entry
  (``<version_key>``, ``<data_key>`` (``data``), ``code``, ``extra_files`` and its keys), writes
  ``requirements.txt`` / ``python_env.yaml`` / ``conda.yaml`` (the framework pinned to the
  installed distribution that provides it, plus what the scanned pickles import) and the hash
  manifest. Any failure removes what was written: nothing is left behind. A flavor whose
  MLflow entry lacks some of the kit's keys says so in its ``SavedData`` (``omit``: e.g. no
  ``data`` for a TF ``tf.Module``, no ``code`` for Keras 3; ``pyfunc_data=False``: no
  ``python_function`` ``data``).
- :func:`log_model`: ``Model.log`` with the flavor module: the one logging path (run artifacts,
  run tags, registration with ``registered_model_name``) every flavor shares.
- :func:`load_local` (native ``load_model``) and :func:`pyfunc_model_dir` (the flavor's
  ``_load_pyfunc``): fetch and hash-check the model, find the flavor entry, put ``code/`` on
  ``sys.path``, import the framework (:func:`Flavor.require`: missing, it is an
  ``InvalidParameterValue`` naming ``pip install 'fsregistry[<extra>]'``) and warn when the
  recorded framework major version differs from the installed one (both versions named).
- :func:`reading` around the library's load call: a corrupted or truncated model file becomes
  a :class:`~fsregistry.models.hashes.ModelIntegrityError` naming the file, never the
  library's own exception.
- :class:`ModelWrapper`: the pyfunc contract (``predict(data, params=None)``,
  ``get_raw_model()``) a flavor's ``_load_pyfunc`` returns.

Third-party flavors are found by :func:`fsregistry.pyfunc.load_model` through the entry point
group ``fsregistry.flavors`` (name: the flavor name, value: the module with ``_load_pyfunc``),
for ``loader_module: mlflow.<name>`` models; see ``docs/custom-flavors.md``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist

if TYPE_CHECKING:
    from fsregistry.models.model import Model, ModelInfo
    from fsregistry.models.signature import ModelSignature

_logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "fsregistry.flavors"
EXTRA_FILES_DIR = "extra_files"


@dataclass(frozen=True)
class Flavor:
    """What the kit needs to know about one flavor."""

    name: str  # the MLmodel flavor key, e.g. "xgboost"
    package: str  # the framework's import name, e.g. "xgboost"
    version_key: str  # flavor-conf key of the framework version, e.g. "xgb_version"
    loader_module: str  # the python_function loader_module, e.g. "mlflow.xgboost"
    extra: str | None = None  # fsregistry's extra for it: pip install 'fsregistry[<extra>]'
    distribution: str | None = None  # its pip name (default: package) when there is no extra
    data_key: str = "data"  # flavor-conf key of the data path ("model_data": pytorch, spark)

    def require(self) -> ModuleType:
        """The framework module, or an ``InvalidParameterValue`` naming what to install."""
        try:
            return importlib.import_module(self.package)
        except ImportError as exc:
            install = (
                f"'fsregistry[{self.extra}]'" if self.extra else (self.distribution or self.package)
            )
            raise InvalidParameterValue(
                f"The {self.name} flavor needs the {self.package} package, which cannot be "
                f"imported ({exc}): pip install {install}"
            ) from None

    def version(self) -> str:
        """The installed framework's version."""
        return str(getattr(self.require(), "__version__", "unknown"))

    def requirement(self) -> str:
        """The installed distribution providing the framework, pinned (``xgboost-cpu==3.2.0``)."""
        from fsregistry.models.environment import canonical_name, pinned

        dists = importlib.metadata.packages_distributions().get(self.package)
        if dists:
            return pinned(canonical_name(dists[0]))
        name = self.distribution or self.package
        version = getattr(sys.modules.get(self.package), "__version__", None)
        return f"{name}=={version}" if isinstance(version, str) else name


@dataclass
class ModelOptions:
    """The ``save_model`` arguments every flavor takes, as MLflow names them."""

    conda_env: dict[str, Any] | str | None = None
    code_paths: Sequence[str] | None = None
    mlflow_model: Model | None = None
    signature: ModelSignature | bool | None = None
    input_example: Any = None
    pip_requirements: Sequence[str] | str | None = None
    extra_pip_requirements: Sequence[str] | str | None = None
    metadata: dict[str, Any] | None = None
    extra_files: Sequence[str] | None = None


@dataclass
class SavedData:
    """What a flavor's ``write`` callback wrote."""

    data: str | None  # model-relative path of the native model file (or directory)
    conf: dict[str, Any] = field(default_factory=dict)  # the flavor's own MLmodel keys
    scan: list[str] = field(default_factory=list)  # pickle/skops files to infer requirements
    requirements: list[str] = field(default_factory=list)  # default pip requirements
    #: extra python_function keys (e.g. ``model_config``); None: no python_function flavor
    pyfunc: dict[str, Any] | None = field(default_factory=dict)
    pyfunc_data: bool = True  # python_function's ``data`` is ``data`` too (else: none)
    omit: tuple[str, ...] = ()  # kit keys MLflow's entry lacks ("data", "code", version key)


@dataclass(frozen=True)
class LocalModel:
    """A model fetched for loading: its local directory, MLmodel and flavor entry."""

    path: str
    meta: Model
    conf: dict[str, Any]

    def file(self, rel: str | None = None) -> str:
        """Local path of a model-relative file (default: the flavor's ``data``)."""
        rel = rel if rel is not None else self.conf.get("data")
        if not isinstance(rel, str) or not rel or rel.startswith("/") or ".." in rel.split("/"):
            raise InvalidParameterValue(
                f"The model at {self.path} has an invalid data path {rel!r} in its MLmodel"
            )
        return os.path.join(self.path, *rel.split("/"))


# ----------------------------------------------------------------------------- saving
def check_options(options: ModelOptions) -> list[str]:
    """Reject bad shared arguments before anything is written; returns the code paths."""
    from fsregistry.models import saving

    codes = saving.check_code_paths(options.code_paths)
    saving.check_env_arguments(
        options.conda_env, options.pip_requirements, options.extra_pip_requirements
    )
    if options.metadata is not None and not isinstance(options.metadata, dict):
        raise InvalidParameterValue(
            f"metadata must be a dict, got {type(options.metadata).__name__}"
        )
    extra = options.extra_files
    if extra is not None and (
        not isinstance(extra, list | tuple) or not all(isinstance(f, str) for f in extra)
    ):
        raise InvalidParameterValue(
            f"Extra files argument should be a list of paths or URIs, got {extra!r}"
        )
    return codes


def copy_extra_files(extra_files: Sequence[str] | None, model_dir: str) -> dict[str, Any]:
    """Copy files (local paths or artifact URIs) to ``extra_files/``; MLflow's conf entry."""
    if not extra_files:
        return {}
    from fsregistry.storage import local_path_of

    root = os.path.join(model_dir, EXTRA_FILES_DIR)
    os.makedirs(root, exist_ok=True)
    entries = []
    for uri in extra_files:
        local = local_path_of(uri)
        if local is None or uri.startswith(("runs:", "models:")):
            from fsregistry.artifacts import download_artifacts

            local = download_artifacts(artifact_uri=uri, dst_path=root)
        elif not os.path.isfile(local):
            raise InvalidParameterValue(f"extra_files: {uri!r} is not a file")
        else:
            shutil.copy2(local, os.path.join(root, os.path.basename(local)))
        entries.append({"path": f"{EXTRA_FILES_DIR}/{os.path.basename(local)}"})
    return {"extra_files": entries}


def save_model(
    flavor: Flavor,
    path: str | os.PathLike[str],
    options: ModelOptions,
    write: Callable[[str], SavedData],
    predict: Callable[[Any, dict[str, Any] | None], Any] | None,
    library_errors: tuple[type[BaseException], ...] = (),
) -> None:
    """Save a model directory at ``path`` (new or empty): ``write`` the native files, the kit
    writes everything else. ``predict`` infers the signature from the input example;
    ``library_errors`` raised by ``write`` become ``InvalidParameterValue``."""
    from fsregistry import pyfunc
    from fsregistry.models import saving
    from fsregistry.models.model import Model

    codes = check_options(options)
    version = flavor.version()
    mlflow_model = options.mlflow_model if options.mlflow_model is not None else Model()
    if options.metadata is not None:
        mlflow_model.metadata = options.metadata
    with saving.ModelDirWriter(path) as model_dir:
        code_dir = saving.copy_code_paths(codes, model_dir)
        saving.save_example_and_signature(
            model_dir, mlflow_model, options.input_example, options.signature, predict
        )
        errors: tuple[type[BaseException], ...] = (*library_errors, OSError, ValueError, TypeError)
        try:
            saved = write(model_dir)
        except errors as exc:
            if isinstance(exc, InvalidParameterValue):
                raise
            raise InvalidParameterValue(
                f"Saving the {flavor.name} model failed: {type(exc).__name__}: {exc}"
            ) from exc
        extra = copy_extra_files(options.extra_files, model_dir)
        if saved.pyfunc is not None:
            pyfunc.add_to_model(
                mlflow_model,
                loader_module=flavor.loader_module,
                data=saved.data if saved.pyfunc_data else None,
                conda_env="conda.yaml",
                python_env="python_env.yaml",
                code=code_dir,
                **saved.pyfunc,
            )
        entry = {
            flavor.version_key: version,
            flavor.data_key: saved.data,
            **saved.conf,
            "code": code_dir,
        }
        for key in saved.omit:
            entry.pop(key, None)
        mlflow_model.add_flavor(flavor.name, **entry, **extra)
        saving.finish_model_dir(
            model_dir,
            mlflow_model,
            scan_files=saved.scan,
            default_requirements=saved.requirements or [flavor.requirement()],
            pip_requirements=options.pip_requirements,
            extra_pip_requirements=options.extra_pip_requirements,
            conda_env=options.conda_env,
        )


def log_model(flavor_module: ModuleType, **kwargs: Any) -> ModelInfo:
    """Log through the shared path (``Model.log``: ``<flavor_module>.save_model`` into the
    run's artifacts, run tags, registration); MLflow's ``await_registration_for`` is dropped
    (registration is synchronous here)."""
    from fsregistry.models.model import Model

    kwargs.pop("await_registration_for", None)
    return Model.log(flavor=flavor_module, **kwargs)


def checked_extra_tags(extra_tags: Any) -> dict[str, Any]:
    """An ``autolog(extra_tags=...)`` argument as a dict; anything but a dict or None is
    MLflow's error (``autologging_integration``), raised before anything is patched."""
    if extra_tags is None:
        return {}
    if not isinstance(extra_tags, dict):
        raise InvalidParameterValue(
            f"Invalid `extra_tags` type: expecting dictionary, received "
            f"`{type(extra_tags).__name__}`"
        )
    return dict(extra_tags)


# ----------------------------------------------------------------------------- loading
def missing_flavor(name: str, meta: Model, where: str) -> ResourceDoesNotExist:
    """MLflow's error for a model without the flavor ``name`` (``_get_flavor_configuration``:
    RESOURCE_DOES_NOT_EXIST), naming the model and the flavors it has."""
    return ResourceDoesNotExist(
        f'Model does not have the "{name}" flavor: the model at {where!r} has the flavors '
        f"{sorted(meta.flavors)}"
    )


def flavor_conf(flavor: Flavor, meta: Model, where: str) -> dict[str, Any]:
    conf = meta.flavors.get(flavor.name)
    if not isinstance(conf, dict):
        raise missing_flavor(flavor.name, meta, where)
    return conf


def _major(version: Any) -> int | None:
    match = re.match(r"\s*(\d+)\.", str(version)) if version is not None else None
    return int(match.group(1)) if match else None


def check_version(flavor: Flavor, recorded: Any, where: str) -> None:
    """Warn when the model's framework major version is not the installed one."""
    installed = flavor.version()
    saved, now = _major(recorded), _major(installed)
    if saved is not None and now is not None and saved != now:
        _logger.warning(
            "The model at %s was saved with %s %s; this is %s %s, another major version, "
            "which may fail to load it or predict differently",
            where,
            flavor.package,
            recorded,
            flavor.package,
            installed,
        )


def load_local(
    flavor: Flavor,
    model_uri: str,
    dst_path: str | None = None,
    verify: bool = True,
    expected_digest: str | None = None,
) -> LocalModel:
    """The start of every native ``load_model``: fetch, verify, check framework and version."""
    from fsregistry.pyfunc import add_code_to_path, prepare_local_model

    local, meta = prepare_local_model(model_uri, dst_path, verify, expected_digest)
    conf = flavor_conf(flavor, meta, model_uri)
    add_code_to_path(local, conf)
    flavor.require()
    check_version(flavor, conf.get(flavor.version_key), model_uri)
    return LocalModel(local, meta, conf)


def pyfunc_model_dir(flavor: Flavor, path: str) -> LocalModel:
    """The start of a ``_load_pyfunc(path)`` (``path``: the model directory or its data file,
    as MLflow's pyfunc passes it); the model was already fetched and verified."""
    from fsregistry.models.model import Model

    model_dir = path  # the data may be a file or a directory inside the model directory
    if not os.path.isfile(os.path.join(model_dir, "MLmodel")):
        model_dir = os.path.dirname(os.path.abspath(path))
    meta = Model.load(model_dir)
    conf = flavor_conf(flavor, meta, model_dir)
    flavor.require()
    check_version(flavor, conf.get(flavor.version_key), model_dir)
    return LocalModel(model_dir, meta, conf)


@contextmanager
def reading(
    flavor: Flavor, path: str, library_errors: tuple[type[BaseException], ...] = ()
) -> Iterator[None]:
    """Around the library's load call: unreadable model files become ``ModelIntegrityError``."""
    import pickle

    from fsregistry.exceptions import FsRegistryException
    from fsregistry.models.hashes import ModelIntegrityError

    errors: tuple[type[BaseException], ...] = (
        *library_errors,
        OSError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        KeyError,
        IndexError,
        pickle.UnpicklingError,
        ImportError,
    )
    try:
        yield
    except FsRegistryException:
        raise
    except errors as exc:
        raise ModelIntegrityError(
            f"The {flavor.name} model file {path} cannot be read; the model directory is "
            f"corrupted or incomplete ({type(exc).__name__}: {exc})"
        ) from exc


class ModelWrapper:
    """The pyfunc contract a flavor's ``_load_pyfunc`` returns: ``predict(data, params=None)``
    on the native model (override it) and ``get_raw_model()``."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def get_raw_model(self) -> Any:
        """The native model object."""
        return self.model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.model.predict(data)


def class_name(obj: Any) -> str:
    """``module.Class`` of an object, as MLflow records ``model_class``."""
    return f"{type(obj).__module__}.{type(obj).__name__}"


def class_from_name(name: str, allowed_prefix: str) -> type[Any]:
    """The class a ``model_class`` entry names, only from the framework's own package."""
    module, _, attr = name.rpartition(".")
    if not module or not (module == allowed_prefix or module.startswith(allowed_prefix + ".")):
        raise InvalidParameterValue(
            f"model_class {name!r} is not a class of the {allowed_prefix} package"
        )
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise InvalidParameterValue(f"model_class {name!r} cannot be imported: {exc}") from None
    if not isinstance(cls, type):
        raise InvalidParameterValue(f"model_class {name!r} is not a class")
    return cls


__all__ = [
    "ENTRY_POINT_GROUP",
    "Flavor",
    "LocalModel",
    "ModelOptions",
    "ModelWrapper",
    "SavedData",
    "check_version",
    "checked_extra_tags",
    "class_from_name",
    "class_name",
    "copy_extra_files",
    "load_local",
    "log_model",
    "missing_flavor",
    "pyfunc_model_dir",
    "reading",
    "save_model",
]
