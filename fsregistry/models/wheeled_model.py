"""``mlflow.models.add_libraries_to_model``: re-log a registered model with its dependencies as
wheels, so it installs with no package index.

:func:`add_libraries_to_model` reads the registered version (its files are checked against
their hash manifest first), runs ``pip wheel`` on its ``requirements.txt`` (or the pip section
of ``conda.yaml``) into ``wheels/``, keeps the original as ``original_requirements.txt``,
rewrites ``requirements.txt`` and ``conda.yaml``'s pip list to the ``wheels/<file>.whl`` paths,
adds MLflow's ``wheels: {platform: ...}`` MLmodel key, and logs the result as a new model
(``<name>_wheels`` in the run) registered as a new version, as MLflow does. ``pip wheel``'s
options come from ``MLFLOW_WHEELED_MODEL_PIP_DOWNLOAD_OPTIONS`` (default
``--only-binary=:all:``, restricted to MLflow's allowed set). Any failure (pip included)
raises before anything is logged.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING, Any

from fsregistry.exceptions import BAD_REQUEST, FsRegistryException, InvalidParameterValue

if TYPE_CHECKING:
    from fsregistry.models.model import Model, ModelInfo

WHEELS = "wheels"
ORIGINAL_REQUIREMENTS = "original_requirements.txt"
_ALLOWED_OPTIONS = frozenset(
    {
        "--only-binary=:all:",
        "--only-binary=:none:",
        "--no-binary=:all:",
        "--no-binary=:none:",
        "--prefer-binary",
        "--no-build-isolation",
        "--use-pep517",
        "--check-build-dependencies",
        "--ignore-requires-python",
        "--no-deps",
        "--no-verify",
        "--pre",
        "--require-hashes",
        "--no-clean",
    }
)
# MLmodel fields of the new model that stay its own; the rest come from the original.
_OWN_FIELDS = ("artifact_path", "run_id", "utc_time_created", "model_uuid", "model_id")


def _pip_options() -> list[str]:
    raw = os.environ.get("MLFLOW_WHEELED_MODEL_PIP_DOWNLOAD_OPTIONS", "--only-binary=:all:")
    options = raw.split()
    bad = [o for o in options if o not in _ALLOWED_OPTIONS]
    if bad:
        raise InvalidParameterValue(
            "Invalid pip wheel option passed to `MLFLOW_WHEELED_MODEL_PIP_DOWNLOAD_OPTIONS`. "
            f"Allowed options: {', '.join(sorted(_ALLOWED_OPTIONS))}. (Refused: {bad}.)"
        )
    return options


def _download_wheels(requirements: str, wheels_dir: str) -> None:
    os.makedirs(wheels_dir, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "wheel", *_pip_options(), "--wheel-dir", wheels_dir]
    cmd += ["-r", requirements, "--no-cache-dir", "--progress-bar=off"]
    try:
        proc = subprocess.run(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        raise FsRegistryException(f"Could not run pip to download the wheels: {exc}") from None
    if proc.returncode != 0:
        raise FsRegistryException(
            "An error occurred while downloading the dependency wheels: "
            + proc.stdout.decode("utf-8", errors="replace")
        )


def build(model_uri: str, model_dir: str) -> Model:
    """Write the model at ``model_uri`` with its dependency wheels into the new directory
    ``model_dir`` (no manifest yet); returns its original MLmodel."""
    import yaml

    from fsregistry.models.cache import local_model_dir
    from fsregistry.models.environment import pip_deps_of_conda
    from fsregistry.models.hashes import HASHES_FILE, verify_local_model
    from fsregistry.models.model import Model

    source = local_model_dir(model_uri)
    verify_local_model(source.path, registered_digest=source.registered_digest, where=model_uri)
    original = Model.load(source.path)
    if original.extra.get(WHEELS) is not None:
        raise FsRegistryException("Model libraries are already added", BAD_REQUEST)
    env = (original.flavors.get("python_function") or {}).get("env")
    conda_rel = env.get("conda") if isinstance(env, dict) else env
    shutil.copytree(
        source.path, model_dir, ignore=shutil.ignore_patterns(HASHES_FILE, "__pycache__")
    )
    requirements = os.path.join(model_dir, "requirements.txt")
    conda_path = os.path.join(model_dir, str(conda_rel)) if conda_rel else None
    if not os.path.isfile(requirements):
        if conda_path is None or not os.path.isfile(conda_path):
            raise FsRegistryException(
                "Cannot add libraries for model with no logged dependencies.", BAD_REQUEST
            )
        with open(conda_path, encoding="utf-8") as f:
            deps = pip_deps_of_conda(yaml.safe_load(f))
        with open(requirements, "w", encoding="utf-8") as f:
            f.write("".join(d + "\n" for d in deps))
    wheels_dir = os.path.join(model_dir, WHEELS)
    _download_wheels(requirements, wheels_dir)
    shutil.copy2(requirements, os.path.join(model_dir, ORIGINAL_REQUIREMENTS))
    wheels = [f"{WHEELS}/{n}" for n in sorted(os.listdir(wheels_dir)) if n.endswith(".whl")]
    with open(requirements, "w", encoding="utf-8") as f:
        f.write("".join(w + "\n" for w in wheels))
    if conda_path is not None and os.path.isfile(conda_path):
        _rewrite_conda_pip(conda_path, wheels)
    return original


def save_model(path: str, mlflow_model: Model, built: str, original: Model) -> None:
    """Copy a directory made by :func:`build` to ``path`` (called by ``Model.log``);
    ``mlflow_model`` keeps its identity (run, path, time, uuid) and takes everything else
    from the ``original`` MLmodel, plus MLflow's ``wheels`` key."""
    from fsregistry.models.cache import MLMODEL_FILE_NAME
    from fsregistry.models.hashes import write_manifest
    from fsregistry.models.saving import ModelDirWriter

    with ModelDirWriter(path) as model_dir:
        shutil.copytree(built, model_dir, dirs_exist_ok=True)
        own = {k: getattr(mlflow_model, k) for k in _OWN_FIELDS}
        mlflow_model.__dict__.update(original.__dict__)
        mlflow_model.extra = dict(original.extra)
        mlflow_model.__dict__.update(own)
        mlflow_model.extra[WHEELS] = {"platform": platform.platform()}
        mlflow_model.save(os.path.join(model_dir, MLMODEL_FILE_NAME))
        write_manifest(model_dir)


def _rewrite_conda_pip(conda_path: str, wheels: list[str]) -> None:
    """Replace the pip list of a conda.yaml with ``wheels`` (adding ``pip`` if absent)."""
    import yaml

    with open(conda_path, encoding="utf-8") as f:
        env: Any = yaml.safe_load(f) or {}
    deps = [d for d in env.get("dependencies") or [] if not (isinstance(d, dict) and "pip" in d)]
    if not any(isinstance(d, str) and d.split("=")[0].strip() == "pip" for d in deps):
        deps.append("pip")
    deps.append({"pip": wheels})
    env["dependencies"] = deps
    with open(conda_path, "w", encoding="utf-8") as f:
        yaml.safe_dump(env, f, default_flow_style=False)


def add_libraries_to_model(
    model_uri: str, run_id: str | None = None, registered_model_name: str | None = None
) -> ModelInfo:
    """Re-log a registered model (``models:/<name>/<version|stage|latest>`` or ``@alias``)
    with its dependencies as wheels, registered as a new version.

    Logs to the active run, else ``run_id``, else the version's source run (a new run when it
    has none), as MLflow does; the model goes to ``<original name>_wheels`` in that run (MLflow
    3 logs a new LoggedModel). Wheels only fit the platform they were built on.
    """
    from fsregistry import config, fluent
    from fsregistry.mlruns.uris import is_models_uri, parse_models_uri
    from fsregistry.models.model import Model

    parsed = parse_models_uri(model_uri) if is_models_uri(model_uri) else None
    if parsed is None or parsed.name is None:
        # MLflow's text (store/artifact/utils/models.py:_improper_model_uri_msg).
        raise InvalidParameterValue(
            f"Not a proper models:/ URI: {model_uri}. Models URIs must be of the form "
            "'models:/name/suffix' or 'models:/name@alias' where suffix is a version, stage, or "
            "the string 'latest' and where alias is a registered model alias. Only one of suffix "
            "or alias can be defined at a time. (add_libraries_to_model needs the URI of a "
            "registered model version.)"
        )
    store = config.registry_store(config.registry_uri_for(None, None))
    version = store.get_model_version(parsed.name, store.version_for_uri(parsed))
    name = f"{(version.source or '').rstrip('/').rsplit('/', 1)[-1] or 'model'}_{WHEELS}"
    target = registered_model_name or parsed.name
    if fluent.active_run() is not None:
        run_id = None
    elif run_id is None:
        run_id = version.run_id or None
    with tempfile.TemporaryDirectory(prefix="fsreg-wheels-") as tmp:
        built = os.path.join(tmp, "model")
        original = build(model_uri, built)
        kwargs: dict[str, Any] = {
            "name": name,
            "flavor": sys.modules[__name__],
            "registered_model_name": target,
            "built": built,
            "original": original,
        }
        if fluent.active_run() is None and run_id is None:
            with fluent.start_run():
                return Model.log(**kwargs)
        return Model.log(run_id=run_id, **kwargs)
