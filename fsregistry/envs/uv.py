"""Building model environments with uv (``env_manager="uv"``, as MLflow 3 offers).

uv makes the same standard ``venv`` as ``python -m venv`` + pip, faster: ``uv venv --python
<interpreter>`` (never downloading a Python: ``UV_PYTHON_DOWNLOADS=never``) and ``uv pip
install --python <env python>``. The environment is otherwise identical to a virtualenv one (the
same requirements, fsregistry copy and import check; see :mod:`fsregistry.envs.builder`), kept
in its own directory ``<hash>-uv`` so that choosing uv really builds with uv.

Where packages come from: uv reads its own settings (``UV_INDEX_URL``, ``UV_DEFAULT_INDEX``,
``UV_EXTRA_INDEX_URL``, ``UV_FIND_LINKS``, ``UV_NO_INDEX``, ``uv.toml``), not pip.conf. So that
one configuration serves both managers, pip's environment variables are passed on as uv flags
when the matching ``UV_*`` variable is not set: ``PIP_INDEX_URL`` (``--index-url``),
``PIP_EXTRA_INDEX_URL`` (``--extra-index-url``, space-separated), ``PIP_FIND_LINKS``
(``--find-links``), ``PIP_NO_INDEX`` (``--no-index``).

uv is found as the ``uv`` Python package's binary (``pip install uv``, or the extra
``fsregistry[uv]``), else on ``PATH``; when it is missing the call fails before anything is
written, naming the install command.
"""

from __future__ import annotations

import os
import shutil

from fsregistry.envs.errors import EnvironmentBuildError

#: The ``env_manager`` value, and the suffix of environment directories uv builds.
UV = "uv"
DIR_SUFFIX = "-uv"

_TRUE = ("1", "true", "yes", "on")


def uv_binary() -> str:
    """The uv executable, or an error saying how to install it."""
    try:
        import uv  # the PyPI package ships the binary

        path = uv.find_uv_bin()
        if path and os.path.isfile(path):
            return str(path)
    except (ImportError, FileNotFoundError):
        pass  # not installed as a package: look on PATH
    found = shutil.which("uv")
    if found:
        return found
    raise EnvironmentBuildError(
        "Found 'uv' as env_manager, but the 'uv' command is not found in the PATH. "
        "fsregistry: run `pip install uv` (or `pip install 'fsregistry[uv]'`), or use "
        "env_manager='virtualenv'"
    )


def index_flags(env: dict[str, str]) -> list[str]:
    """pip's index settings from ``env`` as ``uv pip install`` flags (see the module doc)."""
    flags: list[str] = []
    if env.get("PIP_INDEX_URL") and not (env.get("UV_INDEX_URL") or env.get("UV_DEFAULT_INDEX")):
        flags += ["--index-url", env["PIP_INDEX_URL"]]
    if env.get("PIP_EXTRA_INDEX_URL") and not env.get("UV_EXTRA_INDEX_URL"):
        for url in env["PIP_EXTRA_INDEX_URL"].split():
            flags += ["--extra-index-url", url]
    if env.get("PIP_FIND_LINKS") and not env.get("UV_FIND_LINKS"):
        for link in env["PIP_FIND_LINKS"].split():
            flags += ["--find-links", link]
    if env.get("PIP_NO_INDEX", "").strip().lower() in _TRUE and not env.get("UV_NO_INDEX"):
        flags.append("--no-index")
    return flags


def uv_environment(env: dict[str, str]) -> dict[str, str]:
    """``env`` for running uv: never download a Python, never read a project's settings."""
    out = dict(env)
    out["UV_PYTHON_DOWNLOADS"] = "never"
    out.setdefault("UV_NO_PROGRESS", "1")
    return out
