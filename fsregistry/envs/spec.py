"""What a model environment must contain, read from a local model directory, and its hash.

The source is, as in MLflow, ``python_env.yaml`` (``python``, ``build_dependencies``,
``dependencies`` with ``-r requirements.txt``); a model without it falls back to the pip
section and ``python=`` pin of ``conda.yaml`` (refused when conda.yaml lists conda-only
packages, which pip cannot install), then to a bare ``requirements.txt`` (current Python).

Two lists are added to the model's requirements: the packages fsregistry itself needs to load
and score a model (:data:`LOADER_PACKAGES`, with fsregistry's own version bounds; a model that
names one of them keeps its own pin) and the caller's ``extras``. ``fsregistry`` lines are
dropped: the environment gets the code of the running fsregistry instead (see
:mod:`fsregistry.envs.host_package`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.models.environment import (
    CONDA_FILE,
    PYTHON_ENV_FILE,
    REQUIREMENTS_FILE,
    canonical_name,
    parse_requirements,
    pip_deps_of_conda,
    requirement_name,
)

_logger = logging.getLogger(__name__)

#: Bump when the layout or the build procedure of environments changes (part of the hash).
ENV_FORMAT = 1

#: Distributions ``fsregistry.pyfunc.load_model`` + ``fsregistry.pyfunc.predict`` import to
#: load a model from a local directory and score it (s3fs/gcsfs and typer are not needed: the
#: host downloads the model and passes a local directory).
LOADER_PACKAGES = ("pyyaml", "filelock", "fsspec", "cloudpickle", "pandas")

# Conda packages that do not stop an environment from being rebuilt with pip.
_CONDA_TOOLING = frozenset({"python", "pip", "setuptools", "wheel"})
_VERSION_RE = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?\S*\s*$")


@dataclass(frozen=True)
class EnvSpec:
    """Everything that decides the content of an environment (all of it goes into the hash)."""

    python: str
    """Python version asked for by the model (``3.11.7``, or ``3.11``)."""
    build_dependencies: tuple[str, ...]
    """Installed first, as MLflow does (pinned pip/setuptools/wheel)."""
    requirements: tuple[str, ...]
    """Model requirements (without fsregistry) + loader packages + extras, pip file lines."""
    constraints: tuple[str, ...]
    extras: tuple[str, ...]
    fsregistry_version: str
    model_dir: str
    """Where relative paths in the requirements are resolved (pip runs there)."""
    requirement_keys: tuple[str, ...] = ()
    """The requirement lines as the model writes them (paths relative to the model, so the
    hash does not depend on where the model was downloaded)."""
    file_digests: tuple[str, ...] = ()
    """sha256 of the local files (wheels, sdists) requirement lines name."""

    @property
    def python_minor(self) -> str:
        """``"3.11"``: the part of the version an environment must match."""
        major, minor, _ = parse_python_version(self.python)
        return f"{major}.{minor}"

    def hash_input(self) -> dict[str, Any]:
        return {
            "format": ENV_FORMAT,
            "platform": [sys.platform, platform.machine(), sys.implementation.name],
            "python": self.python_minor,
            "build_dependencies": sorted({_normalized(r) for r in self.build_dependencies}),
            "requirements": sorted({_normalized(r) for r in self.requirement_keys}),
            "constraints": sorted({_normalized(r) for r in self.constraints}),
            "extras": sorted({_normalized(r) for r in self.extras}),
            "files": sorted(self.file_digests),
            "fsregistry": self.fsregistry_version,
        }

    @property
    def env_hash(self) -> str:
        text = json.dumps(self.hash_input(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def parse_python_version(text: str) -> tuple[int, int, int | None]:
    """``(major, minor, patch or None)`` of ``"3.11.7"`` / ``"3.11"``; a clear error otherwise."""
    match = _VERSION_RE.match(str(text))
    if match is None:
        raise InvalidParameterValue(
            f"Invalid Python version {text!r}: expected MAJOR.MINOR or MAJOR.MINOR.PATCH"
        )
    patch = match.group(3)
    return int(match.group(1)), int(match.group(2)), int(patch) if patch is not None else None


def _normalized(line: str) -> str:
    """A requirement line in a form that does not depend on spacing or name spelling."""
    line = " ".join(line.split())
    name = requirement_name(line)
    if name is None:
        return line
    match = re.match(r"^[A-Za-z0-9._-]+", line)
    rest = line[match.end() :] if match else line
    return name + re.sub(r"\s*([<>=!~,;\[\]@]+)\s*", r"\1", rest)


def validate_extras(extras: Sequence[str]) -> tuple[str, ...]:
    if isinstance(extras, str) or not isinstance(extras, Sequence):
        raise InvalidParameterValue(
            f"extras must be a list of pip requirement strings, got {extras!r}"
        )
    bad = [e for e in extras if not isinstance(e, str) or requirement_name(e) is None]
    if bad:
        raise InvalidParameterValue(
            f"Invalid extra requirements {bad!r}: expected pip requirement strings such as "
            "'uvicorn>=0.30'"
        )
    return tuple(e.strip() for e in extras)


def loader_requirements() -> dict[str, str]:
    """``{name: requirement}`` for :data:`LOADER_PACKAGES`, with the bounds fsregistry's own
    metadata declares (bare names when fsregistry is not installed as a distribution)."""
    declared: dict[str, str] = {}
    try:
        for req in importlib.metadata.requires("fsregistry") or []:
            if ";" in req:  # optional extras ('extra == "sklearn"') are not loader needs
                continue
            name = requirement_name(req)
            if name is not None:
                declared[name] = req.strip()
    except importlib.metadata.PackageNotFoundError:
        pass
    return {name: declared.get(name, name) for name in LOADER_PACKAGES}


def _read_yaml(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except yaml.YAMLError as exc:
        raise InvalidParameterValue(f"{path} is not valid YAML: {exc}") from None


def _string_list(value: Any, what: str, path: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidParameterValue(f"{path}: {what} must be a list of strings, got {value!r}")
    return list(value)


def _expand(lines: Sequence[str], model_dir: str, source: str) -> tuple[list[str], list[str]]:
    """Requirements and constraints of ``dependencies`` lines (``-r``/``-c`` read from the
    model directory)."""
    reqs: list[str] = []
    cons: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        option, _, arg = line.partition(" ")
        if option in ("-r", "--requirement", "-c", "--constraint"):
            path = os.path.join(model_dir, arg.strip())
            if not os.path.isfile(path):
                raise ResourceDoesNotExist(
                    f"{source} refers to {arg.strip()!r}, which is not in the model directory "
                    f"{model_dir}"
                )
            more, more_c = parse_requirements(path)
            if option in ("-c", "--constraint"):
                cons += more + more_c
            else:
                reqs += more
                cons += more_c
        else:
            reqs.append(line)
    return reqs, cons


def _source_of_model(model_dir: str) -> tuple[str, list[str], list[str], list[str]]:
    """``(python version, build deps, requirements, constraints)`` as the model states them."""
    env_file = os.path.join(model_dir, PYTHON_ENV_FILE)
    conda_file = os.path.join(model_dir, CONDA_FILE)
    req_file = os.path.join(model_dir, REQUIREMENTS_FILE)
    current = "{}.{}.{}".format(*sys.version_info[:3])
    if os.path.isfile(env_file):
        env = _read_yaml(env_file)
        if not isinstance(env, dict):
            raise InvalidParameterValue(f"{env_file} must hold a mapping, got {env!r}")
        python = env.get("python")
        if python is None:
            raise InvalidParameterValue(f"{env_file} does not say which Python ('python:') to use")
        if isinstance(python, float) and re.fullmatch(r"\d+\.\d", str(python)):
            # YAML read `python: 3.10` as the number 3.1: the trailing zero is lost
            raise InvalidParameterValue(
                f"{env_file}: 'python: {python}' is ambiguous (YAML reads 3.10 as 3.1); "
                f'write the version as a string, e.g. python: "{python}0"'
            )
        build = _string_list(env.get("build_dependencies"), "build_dependencies", env_file)
        deps = _string_list(env.get("dependencies"), "dependencies", env_file)
        reqs, cons = _expand(deps, model_dir, env_file)
        return str(python), build, reqs, cons
    if os.path.isfile(conda_file):
        conda = _read_yaml(conda_file)
        deps_any = conda.get("dependencies", []) if isinstance(conda, dict) else []
        python = current
        conda_only = []
        for dep in deps_any if isinstance(deps_any, list) else []:
            if not isinstance(dep, str):
                continue
            name = re.split(r"[<>=! ]", dep.strip(), maxsplit=1)[0].lower()
            if name == "python":
                pin = dep.strip()[len("python") :].lstrip("=<>! ")
                python = pin or current
            elif name not in _CONDA_TOOLING:
                conda_only.append(dep)
        if conda_only:
            raise InvalidParameterValue(
                f"Cannot build a virtualenv for the model in {model_dir}: its conda.yaml lists "
                f"conda packages pip cannot install ({conda_only}) and it has no "
                f"{PYTHON_ENV_FILE}"
            )
        reqs, cons = _expand(pip_deps_of_conda(conda), model_dir, conda_file)
        return python, [], reqs, cons
    if os.path.isfile(req_file):
        reqs, cons = parse_requirements(req_file)
        return current, [], reqs, cons
    raise ResourceDoesNotExist(
        f"The model in {model_dir} has no {PYTHON_ENV_FILE}, {CONDA_FILE} or {REQUIREMENTS_FILE}: "
        "nothing says what its environment is"
    )


def _localize(line: str, model_dir: str) -> tuple[str, str | None]:
    """A requirement line naming a file or directory of the model made absolute (pip runs in
    the model directory, but an absolute path is unambiguous), and the sha256 of the file it
    names (None for names, URLs, pip options and directories)."""
    editable = line.startswith(("-e ", "--editable "))
    if line.startswith("-") and not editable:
        return line, None  # pip options (--index-url ...) are passed through as written
    target = line.split(None, 1)[1].strip() if editable else line.strip()
    looks_like_path = (
        target.startswith((".", "/", "~"))
        or "/" in target
        or os.sep in target
        or target.endswith((".whl", ".tar.gz", ".zip"))
    )
    if "://" in target or "@" in target or not looks_like_path:
        return line, None
    path = os.path.join(model_dir, os.path.expanduser(target))
    if not os.path.exists(path):
        return line, None
    path = os.path.abspath(path)
    new_line = f"-e {path}" if editable else path
    if not os.path.isfile(path):
        return new_line, None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return new_line, h.hexdigest()


def read_env_spec(model_dir: str, extras: Sequence[str] = ()) -> EnvSpec:
    """The :class:`EnvSpec` of the model in local directory ``model_dir``."""
    from fsregistry.package import __version__

    extra_reqs = validate_extras(extras)
    python, build, model_reqs, constraints = _source_of_model(model_dir)
    parse_python_version(python)
    reqs: list[str] = []
    keys: list[str] = []
    digests: list[str] = []
    for line in model_reqs:
        if requirement_name(line) == "fsregistry":
            if line.strip() != f"fsregistry=={__version__}":
                _logger.warning(
                    "The model asks for %r; the environment gets this host's fsregistry %s",
                    line.strip(),
                    __version__,
                )
            continue
        local_line, digest = _localize(line, model_dir)
        reqs.append(local_line)
        keys.append(line)
        if digest is not None:
            digests.append(digest)
    named = {requirement_name(r) for r in reqs + list(extra_reqs)}
    loader = [
        req for name, req in loader_requirements().items() if canonical_name(name) not in named
    ]
    extras_kept = [e for e in extra_reqs if requirement_name(e) != "fsregistry"]
    return EnvSpec(
        python=python,
        build_dependencies=tuple(build),
        requirements=tuple(reqs + loader + extras_kept),
        requirement_keys=tuple(keys + loader + extras_kept),
        constraints=tuple(constraints),
        extras=extra_reqs,
        fsregistry_version=__version__,
        model_dir=os.path.abspath(model_dir),
        file_digests=tuple(digests),
    )
