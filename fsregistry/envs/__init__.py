"""Isolated Python environments for models: ``fsreg models prepare-env`` and
``env_manager="virtualenv"`` or ``"uv"`` (MLflow's ``mlflow models prepare-env`` /
``env_manager``).

:func:`prepare_env` builds, once, a ``venv`` holding what the model's ``python_env.yaml`` (else
``conda.yaml``'s pip section, else ``requirements.txt``) asks for, and returns a
:class:`ModelEnvironment` whose ``python`` can load and score the model::

    env = fsregistry.envs.prepare_env("models:/churn@champion")
    subprocess.run([env.python, "-I", "-c", "import sklearn; print(sklearn.__version__)"])

What goes into an environment
    * A ``venv`` (with pip, from the standard library) made by a Python of the model's
      MAJOR.MINOR: this interpreter when it matches, else ``pythonX.Y`` from ``PATH`` or an
      existing pyenv installation. A different patch version is accepted (same ABI); Python
      is never downloaded. See :mod:`fsregistry.envs.interpreters`.
    * ``build_dependencies`` (pip, setuptools, wheel pins), then in one ``pip install`` (one
      resolution, so every pin is honoured or the build fails): the model's requirements and
      constraints, the packages fsregistry needs to load a model (pyyaml, filelock, fsspec,
      cloudpickle, pandas: the model's own pins of these win) and the caller's ``extras``.
    * fsregistry itself is the code of this process, copied in, never installed from an index
      (so an unreleased version, or a site whose index does not carry fsregistry, works; a
      model's ``fsregistry==...`` line is replaced by this copy). When this process's code
      changes, the next call switches the environment to it without a rebuild (see
      :mod:`fsregistry.envs.host_package`). ``mlflow`` lines a model saved by MLflow lists
      are installed as written.

Where, and when it is reused
    ``$FSREG_ENV_ROOT/<hash>`` (default ``~/.cache/fsregistry/envs/<hash>``). The hash covers
    the Python MAJOR.MINOR, the build dependencies, the normalized requirement and constraint
    lines, the sha256 of local wheel/sdist files they name, the extras, the platform and the
    fsregistry version. A second call with the same content returns the same directory
    without touching it. Concurrent callers build it once (file lock); a failed build leaves
    nothing behind, one killed half-way is never used and is rebuilt by the next call (see
    :mod:`fsregistry.envs.builder`). Environments are never deleted automatically: remove the
    directories to reclaim space.

Offline and air-gapped sites
    pip runs with the caller's environment and configuration, so the usual pip settings
    choose where packages come from, e.g.::

        export PIP_INDEX_URL=https://pypi.mirror.internal/simple   # an internal index
        export PIP_EXTRA_INDEX_URL=https://more.mirror.internal/simple
        export PIP_NO_INDEX=1 PIP_FIND_LINKS=/shared/wheels         # a wheel directory only

    or the same keys in ``pip.conf`` (``index-url``, ``extra-index-url``, ``no-index``,
    ``find-links``; ``PIP_CONFIG_FILE`` names another file). A wheel directory can be filled on
    a connected machine with ``pip download -d /shared/wheels -r requirements.txt pip
    setuptools wheel pyyaml filelock fsspec cloudpickle pandas`` (the model's requirements,
    its build dependencies and fsregistry's loader packages) for the target platform and
    Python version.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fsregistry.envs.builder import ModelEnvironment, env_root
from fsregistry.envs.errors import EnvironmentBuildError

__all__ = [
    "EnvironmentBuildError",
    "ModelEnvironment",
    "env_root",
    "prepare_env",
    "prepare_env_for_model_dir",
]


def prepare_env_for_model_dir(
    model_dir: str | Path, *, extras: Sequence[str] = (), env_manager: str = "virtualenv"
) -> ModelEnvironment:
    """:func:`prepare_env` for a model already in a local directory."""
    from fsregistry.envs.builder import get_or_create
    from fsregistry.envs.spec import read_env_spec

    check_env_manager(env_manager)
    return get_or_create(read_env_spec(str(model_dir), extras), env_manager=env_manager)


def check_env_manager(env_manager: str) -> None:
    """Refuse an ``env_manager`` that does not build an isolated environment."""
    from fsregistry.envs.builder import ISOLATED_MANAGERS
    from fsregistry.models import env_manager as managers

    managers.check_env_manager(env_manager, ISOLATED_MANAGERS)


def prepare_env(
    model_uri: str, *, extras: Sequence[str] = (), env_manager: str = "virtualenv"
) -> ModelEnvironment:
    """The isolated environment of the model at ``model_uri`` (any model URI: local path,
    ``runs:/``, ``models:/``, ``s3://``, ``gs://``), created on first use.

    ``extras`` are pip requirement strings installed along with the model's requirements
    (e.g. a scoring server's own dependencies); they are part of the environment hash. A
    remote model is downloaded into the model cache first (a later ``predict`` or ``serve``
    of the same model reuses that download). ``env_manager="uv"`` builds it with uv
    (:mod:`fsregistry.envs.uv`), in a directory of its own.
    """
    from fsregistry.envs.spec import validate_extras
    from fsregistry.models.cache import local_model_dir

    validate_extras(extras)  # before any download
    check_env_manager(env_manager)
    local = local_model_dir(model_uri).path
    return prepare_env_for_model_dir(local, extras=extras, env_manager=env_manager)
