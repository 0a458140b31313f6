"""``mlflow.h2o`` for fsregistry: save, log and load H2O models.

Layout (MLflow 3's): the model is fetched from the cluster with ``h2o.download_model`` into the
directory ``model.h2o/`` (``h2o.save_model`` on h2o versions without it), beside
``model.h2o/h2o.yaml``: the ``settings`` given to ``save_model`` plus ``full_file``,
``model_file`` and ``model_dir``; its ``init`` entry holds the arguments of ``h2o.init()``
used when the model is loaded as pyfunc, as the MLflow Models reference says. The MLmodel
entry is MLflow's (``h2o_version``, ``data: model.h2o``, ``code``, ``extra_files``) beside
``python_function`` with ``loader_module: mlflow.h2o``.

Loading: :func:`load_model` uploads the model file to the H2O cluster this process is connected
to (``h2o.upload_model``; ``h2o.load_model`` on old versions) and, as in MLflow, does not call
``h2o.init``: with no connection it is an ``InvalidParameterValue`` saying so (MLflow fails
inside h2o). pyfunc (``_load_pyfunc``) first calls ``h2o.init(**init)`` (which connects to, or
starts, a cluster), then ``h2o.no_progress()``; ``predict`` scores ``H2OFrame(data)`` and returns
the prediction frame as pandas, indexed like the input.

Unlike MLflow: ``settings`` is copied, not updated in place; ``model_dir`` and ``full_file``
record the directory the model is saved at (not a staging directory); ``model_file`` must name a
file inside ``model.h2o/`` when loading. Needs ``pip install 'fsregistry[h2o]'`` and Java.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from fsregistry import flavors as kit
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.model import Model, ModelInfo
from fsregistry.models.signature import ModelSignature

FLAVOR_NAME = "h2o"
H2O_DATA_SUBPATH = "model.h2o"
SETTINGS_FILE = "h2o.yaml"
FLAVOR = kit.Flavor(
    name=FLAVOR_NAME,
    package="h2o",
    extra="h2o",
    version_key="h2o_version",
    loader_module="mlflow.h2o",
)


def get_default_pip_requirements() -> list[str]:
    """Pinned h2o."""
    return [FLAVOR.requirement()]


def get_default_conda_env() -> dict[str, Any]:
    """MLflow's conda environment with :func:`get_default_pip_requirements` (conda-forge)."""
    from fsregistry.models.environment import conda_env

    return conda_env(get_default_pip_requirements())


def _h2o_errors() -> tuple[type[BaseException], ...]:
    from h2o.exceptions import H2OError  # type: ignore[import-not-found,import-untyped,unused-ignore]

    return (H2OError,)


def _check_settings(settings: Any) -> dict[str, Any]:
    if settings is None:
        return {}
    if not isinstance(settings, dict) or not all(isinstance(k, str) for k in settings):
        raise InvalidParameterValue(f"settings must be a dict with str keys, got {settings!r}")
    init = settings.get("init")
    if init is not None and not isinstance(init, dict):
        raise InvalidParameterValue(
            f"settings['init'] must be a dict of h2o.init() arguments, got {init!r}"
        )
    return dict(settings)


def save_model(
    h2o_model: Any,
    path: str | os.PathLike[str],
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    settings: dict[str, Any] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
) -> None:
    """Save an H2O model at ``path`` (new or empty); ``settings['init']``: ``h2o.init()``
    arguments for loading it as pyfunc.

    Unlike MLflow: an object that is not an H2O model, or bad ``settings``, is an
    ``InvalidParameterValue`` before anything is written; no ``**kwargs`` (MLflow ignores them).
    """
    h2o = FLAVOR.require()
    from h2o.model import ModelBase  # type: ignore[import-not-found,import-untyped,unused-ignore]

    if not isinstance(h2o_model, ModelBase):
        raise InvalidParameterValue(
            f"h2o_model must be a trained H2O model (h2o.model.ModelBase), got "
            f"{kit.class_name(h2o_model)}"
        )
    conf = _check_settings(settings)
    final_dir = os.path.join(os.path.abspath(os.fspath(path)), H2O_DATA_SUBPATH)

    def write(model_dir: str) -> kit.SavedData:
        import yaml

        data_dir = os.path.join(model_dir, H2O_DATA_SUBPATH)
        os.makedirs(data_dir)
        if hasattr(h2o, "download_model"):
            saved = h2o.download_model(model=h2o_model, path=data_dir)
        else:  # pragma: no cover - h2o < 3.30
            saved = h2o.save_model(model=h2o_model, path=data_dir, force=True)
        model_file = os.path.basename(saved)
        conf.update(
            full_file=os.path.join(final_dir, model_file),
            model_file=model_file,
            model_dir=final_dir,
        )
        with open(os.path.join(data_dir, SETTINGS_FILE), "w", encoding="utf-8") as f:
            yaml.safe_dump(conf, stream=f)
        return kit.SavedData(data=H2O_DATA_SUBPATH)

    kit.save_model(
        FLAVOR,
        path,
        kit.ModelOptions(
            conda_env=conda_env,
            code_paths=code_paths,
            mlflow_model=mlflow_model,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
            extra_files=extra_files,
        ),
        write,
        _H2OModelWrapper(h2o_model).predict,
        library_errors=_h2o_errors(),
    )


def log_model(
    h2o_model: Any,
    artifact_path: str | None = None,
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
    name: str | None = None,
    settings: dict[str, Any] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log an H2O model as an MLflow 3 LoggedModel named ``name`` (``models:/<model_id>``;
    no run is started); ``artifact_path`` is MLflow's deprecated alias of ``name``.

    ``params``, ``tags``, ``model_type``, ``step``, ``model_id`` and ``run_id`` pass through as
    for every flavor; ``await_registration_for`` is accepted and ignored.
    """
    return kit.log_model(
        sys.modules[__name__],
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        metadata=metadata,
        h2o_model=h2o_model,
        conda_env=conda_env,
        code_paths=code_paths,
        settings=settings,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        extra_files=extra_files,
        **kwargs,
    )


def _read_settings(data_dir: str) -> dict[str, Any]:
    import yaml

    path = os.path.join(data_dir, SETTINGS_FILE)
    with kit.reading(FLAVOR, path, (yaml.YAMLError,)), open(path, encoding="utf-8") as f:
        params = yaml.safe_load(f)
    model_file = params.get("model_file") if isinstance(params, dict) else None
    if (
        not isinstance(params, dict)
        or not isinstance(model_file, str)
        or not model_file
        or os.path.basename(model_file) != model_file
        or model_file in (".", "..")
    ):
        from fsregistry.models.hashes import ModelIntegrityError

        raise ModelIntegrityError(
            f"The h2o settings file {path} has no valid model_file (a file name in "
            f"{H2O_DATA_SUBPATH}/); the model directory is corrupted or incomplete"
        )
    init = params.get("init")
    if init is not None and not isinstance(init, dict):
        raise InvalidParameterValue(f"{path}: init must be a dict of h2o.init() arguments")
    return params


def _load(local: kit.LocalModel, init: bool) -> Any:
    h2o = FLAVOR.require()
    data_dir = local.file(local.conf.get("data", H2O_DATA_SUBPATH))
    params = _read_settings(data_dir)
    if init:
        args = params.get("init") or {}
        errors: tuple[type[BaseException], ...] = (*_h2o_errors(), TypeError)
        try:
            h2o.init(**args)
        except errors as exc:  # no cluster there, or bad arguments
            raise InvalidParameterValue(
                f"h2o.init(**{args!r}) (the init settings of {data_dir}/{SETTINGS_FILE}) "
                f"failed: {type(exc).__name__}: {exc}"
            ) from exc
        h2o.no_progress()
    elif h2o.connection() is None or not h2o.connection().connected:
        raise InvalidParameterValue(
            "fsregistry.h2o.load_model needs a running H2O cluster: call h2o.init() (or "
            "h2o.connect()) first, as with mlflow.h2o.load_model"
        )
    model_path = os.path.join(data_dir, params["model_file"])
    with kit.reading(FLAVOR, model_path, _h2o_errors()):
        if not os.path.isfile(model_path):
            raise FileNotFoundError(f"{model_path} does not exist")
        if hasattr(h2o, "upload_model"):
            return h2o.upload_model(model_path)
        return h2o.load_model(model_path)  # pragma: no cover - h2o < 3.30


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    *,
    verify: bool = True,
    expected_digest: str | None = None,
) -> Any:
    """Load the H2O model at ``model_uri`` into the connected cluster (``h2o.init()`` first).

    Unlike MLflow: files are checked against their recorded hashes first (``verify``), no
    connection is a clear error, and another h2o major version warns.
    """
    return _load(kit.load_local(FLAVOR, model_uri, dst_path, verify, expected_digest), False)


class _H2OModelWrapper(kit.ModelWrapper):
    """pyfunc implementation: ``model.predict(H2OFrame(data))`` as pandas, input's index."""

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import h2o  # type: ignore[import-not-found,import-untyped,unused-ignore]
        import pandas as pd

        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        predicted = self.model.predict(h2o.H2OFrame(frame)).as_data_frame()
        predicted.index = frame.index
        return predicted


def _load_pyfunc(path: str) -> _H2OModelWrapper:
    """pyfunc loader for ``loader_module: mlflow.h2o`` (``path``: the ``model.h2o`` dir)."""
    return _H2OModelWrapper(_load(kit.pyfunc_model_dir(FLAVOR, path), True))


__all__ = [
    "FLAVOR_NAME",
    "H2O_DATA_SUBPATH",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]
