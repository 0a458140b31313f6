"""The environment written next to every model: ``requirements.txt``, ``python_env.yaml``,
``conda.yaml`` (conda-forge channel only, never ``defaults``), optional ``constraints.txt``.

Requirements are inferred from what the model's files import, without loading them: the
module names a pickle/cloudpickle file refers to are read from its opcodes
(:func:`modules_in_pickle`), those of a skops file from its schema. Each module's top-level
package is mapped to the installed distribution providing it and pinned to the installed
version (``scikit-learn==1.5.2``). The flavor's own requirements are always included.
``pip_requirements`` replaces the inferred list, ``extra_pip_requirements`` adds to it (both
accept a list of strings or a path to a requirements file; ``-c file`` lines are constraints).

File formats follow MLflow exactly: ``requirements.txt`` one requirement per line without a
trailing newline; ``python_env.yaml`` with ``python``, ``build_dependencies`` (pinned pip,
setuptools, wheel) and ``dependencies: [-r requirements.txt]``; ``conda.yaml`` named
``mlflow-env`` with ``python=X.Y.Z``, ``pip<=<installed pip>`` and the pip requirements.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import pickletools
import re
import sys
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import yaml

from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist

REQUIREMENTS_FILE = "requirements.txt"
CONSTRAINTS_FILE = "constraints.txt"
CONDA_FILE = "conda.yaml"
PYTHON_ENV_FILE = "python_env.yaml"
PYTHON_VERSION = "{}.{}.{}".format(*sys.version_info[:3])

_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# Modules whose distributions are build/runtime tooling, never model dependencies.
_NEVER_REQUIRED = frozenset({"pip", "setuptools", "wheel", "pkg_resources", "_distutils_hack"})


def canonical_name(name: str) -> str:
    """PEP 503 normalised distribution name (``Scikit_Learn`` -> ``scikit-learn``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(req: str) -> str | None:
    """Canonical distribution name of a requirement line; None for options/URLs/paths."""
    req = req.strip()
    if not req or req.startswith(("-", "#")) or "://" in req.split(";")[0].split("@")[0]:
        return None
    if "@" in req and not re.match(r"^[A-Za-z0-9._-]+(\[[^\]]*\])?\s*@", req):
        return None
    match = _NAME_RE.match(req)
    return canonical_name(match.group(1)) if match else None


def installed_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def pinned(dist: str) -> str:
    """``dist==<installed version>`` (just ``dist`` when it is not installed)."""
    version = installed_version(dist)
    if version is None:
        return dist
    version = version.split("+", 1)[0]  # local versions (+cpu) are not on package indexes
    return f"{dist}=={version}"


# ----------------------------------------------------------------------------- scanning
def modules_in_pickle(data: bytes) -> set[str]:
    """Top-level module names a pickle refers to, found by reading its opcodes (no unpickling).

    Covers ``GLOBAL``/``STACK_GLOBAL`` references and modules cloudpickle re-imports by name
    (``subimport``/``dynamic_subimport``) for functions and classes pickled by value.
    """
    modules: set[str] = set()
    pushed: list[Any] = []
    memo: dict[int, Any] = {}
    expect_module_arg = False
    try:
        for opcode, arg, _ in pickletools.genops(data):
            name = opcode.name
            if name in ("GLOBAL", "INST", "OBJ") and isinstance(arg, str):
                module, _, attr = arg.partition(" ")
                modules.add(module)
                expect_module_arg = attr in ("subimport", "dynamic_subimport")
                pushed.append(None)
            elif name == "STACK_GLOBAL":
                mod_name, attr_name = (pushed[-2], pushed[-1]) if len(pushed) >= 2 else (None, None)
                if isinstance(mod_name, str):
                    modules.add(mod_name)
                expect_module_arg = attr_name in ("subimport", "dynamic_subimport")
                pushed.append(None)
            elif name in (
                "SHORT_BINUNICODE",
                "BINUNICODE",
                "BINUNICODE8",
                "UNICODE",
                "SHORT_BINSTRING",
                "BINSTRING",
                "STRING",
            ):
                if expect_module_arg and isinstance(arg, str):
                    modules.add(arg)
                    expect_module_arg = False
                pushed.append(arg)
            elif name == "MEMOIZE":
                memo[len(memo)] = pushed[-1] if pushed else None
            elif name in ("PUT", "BINPUT", "LONG_BINPUT") and isinstance(arg, int):
                memo[arg] = pushed[-1] if pushed else None
            elif name in ("GET", "BINGET", "LONG_BINGET") and isinstance(arg, int):
                value = memo.get(arg)
                if expect_module_arg and isinstance(value, str):
                    modules.add(value)
                    expect_module_arg = False
                pushed.append(value)
            elif name not in ("MARK", "TUPLE1", "EMPTY_TUPLE", "FRAME", "PROTO"):
                pushed.append(None)
            if len(pushed) > 64:
                del pushed[:-8]
    except (ValueError, EOFError, IndexError) as exc:
        raise InvalidParameterValue(f"Not a readable pickle: {exc}") from None
    return {m.split(".", 1)[0] for m in modules if m}


def modules_in_skops(path: str) -> set[str]:
    """Top-level module names of the types a skops file contains (read from its schema)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            module = node.get("__module__")
            if isinstance(module, str):
                found.add(module.split(".", 1)[0])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    try:
        with zipfile.ZipFile(path) as zf:
            walk(json.loads(zf.read("schema.json")))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InvalidParameterValue(f"Not a readable skops file {path!r}: {exc}") from None
    return found


def distributions_for_modules(modules: Iterable[str]) -> list[str]:
    """Installed distributions providing these top-level modules (stdlib and unknowns skipped)."""
    mapping = importlib.metadata.packages_distributions()
    dists: set[str] = set()
    for module in modules:
        if module in sys.stdlib_module_names or module in sys.builtin_module_names:
            continue
        if module in _NEVER_REQUIRED or module == "__main__":
            continue
        # Editable installs often list no top-level modules: try a distribution of that name.
        candidates = mapping.get(module) or ([module] if installed_version(module) else [])
        for dist in candidates:
            canon = canonical_name(dist)
            if canon not in _NEVER_REQUIRED:
                dists.add(canon)
    return sorted(dists)


def infer_pip_requirements(
    model_dir: str, files: Sequence[str], defaults: Sequence[str] = ()
) -> list[str]:
    """Pinned requirements of a model from the files it loads, plus ``defaults``."""
    modules: set[str] = set()
    for rel in files:
        path = os.path.join(model_dir, *rel.split("/"))
        if rel.endswith(".skops"):
            modules |= modules_in_skops(path)
        else:
            with open(path, "rb") as f:
                modules |= modules_in_pickle(f.read())
    reqs = {requirement_name(r) or r: r for r in defaults}
    for dist in distributions_for_modules(modules):
        reqs.setdefault(dist, pinned(dist))
    return sorted(reqs.values(), key=lambda r: requirement_name(r) or r)


# ----------------------------------------------------------------------------- processing
def parse_requirements(reqs: Sequence[str] | str | os.PathLike[str]) -> tuple[list[str], list[str]]:
    """``(requirements, constraints)`` from a list of strings or a requirements file path."""
    if isinstance(reqs, str | os.PathLike):
        path = os.fspath(reqs)
        if not os.path.isfile(path):
            raise InvalidParameterValue(
                f"Requirements must be a list of strings or a path to a requirements file; "
                f"{path!r} is not a file"
            )
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        base = os.path.dirname(path)
    else:
        if not isinstance(reqs, list | tuple) or not all(isinstance(r, str) for r in reqs):
            # MLflow's text (a TypeError there: utils/environment.py:_parse_pip_requirements).
            raise InvalidParameterValue(
                "`pip_requirements` must be either a string path to a pip requirements file on "
                "the local filesystem or an iterable of pip requirement strings, but got "
                f"`{type(reqs)}` ({reqs!r})"
            )
        lines = list(reqs)
        base = os.getcwd()
    requirements: list[str] = []
    constraints: list[str] = []
    for raw in lines:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            nested = os.path.join(base, line.split(None, 1)[1])
            more, more_c = parse_requirements(nested)
            requirements += more
            constraints += more_c
        elif line.startswith(("-c ", "--constraint ")):
            nested = os.path.join(base, line.split(None, 1)[1])
            more, more_c = parse_requirements(nested)
            constraints += more + more_c
        else:
            requirements.append(line)
    return requirements, constraints


def process_requirements(
    defaults: Sequence[str],
    pip_requirements: Sequence[str] | str | os.PathLike[str] | None = None,
    extra_pip_requirements: Sequence[str] | str | os.PathLike[str] | None = None,
) -> tuple[list[str], list[str]]:
    """Final ``(requirements, constraints)`` for ``requirements.txt``, deduplicated by name."""
    if pip_requirements is not None and extra_pip_requirements is not None:
        raise InvalidParameterValue(
            "Only one of `conda_env`, `pip_requirements`, and `extra_pip_requirements` can be "
            "specified (got pip_requirements and extra_pip_requirements)"
        )
    constraints: list[str] = []
    if pip_requirements is not None:
        reqs, constraints = parse_requirements(pip_requirements)
    elif extra_pip_requirements is not None:
        extra, constraints = parse_requirements(extra_pip_requirements)
        reqs = list(defaults) + extra
    else:
        reqs = list(defaults)
    by_name: dict[str, str] = {}
    for r in reqs:
        key = requirement_name(r) or r
        by_name[key] = r  # later (user-given) entries win over inferred pins
    out = list(by_name.values())
    if constraints:
        out.append(f"-c {CONSTRAINTS_FILE}")
    return out, constraints


def conda_env(pip_requirements: Sequence[str]) -> dict[str, Any]:
    """MLflow's conda.yaml content, on conda-forge only."""
    deps: list[Any] = [f"python={PYTHON_VERSION}"]
    pip_version = installed_version("pip")
    deps.append(f"pip<={pip_version}" if pip_version else "pip")
    deps.append({"pip": list(pip_requirements)})
    return {"name": "mlflow-env", "channels": ["conda-forge"], "dependencies": deps}


def python_env() -> dict[str, Any]:
    build = [pinned(p) for p in ("pip", "setuptools")] + ["wheel"]
    wheel = installed_version("wheel")
    if wheel:
        build[-1] = f"wheel=={wheel}"
    return {
        "python": PYTHON_VERSION,
        "build_dependencies": build,
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }


def _check_conda_channels(env: dict[str, Any]) -> dict[str, Any]:
    channels = env.get("channels") or []
    if "defaults" in channels:
        raise InvalidParameterValue(
            f"conda_env uses the 'defaults' channel ({channels}); fsregistry writes conda-forge "
            "environments only (Anaconda's defaults channel has licence terms)"
        )
    return env


def write_env_files(
    model_dir: str,
    requirements: Sequence[str],
    constraints: Sequence[str] = (),
    conda: dict[str, Any] | str | None = None,
) -> None:
    """Write requirements.txt, python_env.yaml, conda.yaml (and constraints.txt) into a model."""
    if isinstance(conda, str):
        with open(conda, encoding="utf-8") as f:
            conda = yaml.safe_load(f)
    if conda is not None and not isinstance(conda, dict):
        raise InvalidParameterValue(f"conda_env must describe a mapping, got {conda!r}")
    env = _check_conda_channels(dict(conda)) if conda is not None else conda_env(requirements)
    with open(os.path.join(model_dir, CONDA_FILE), "w", encoding="utf-8") as f:
        yaml.safe_dump(env, f, default_flow_style=False)
    if constraints:
        with open(os.path.join(model_dir, CONSTRAINTS_FILE), "w", encoding="utf-8") as f:
            f.write("\n".join(constraints))
    with open(os.path.join(model_dir, REQUIREMENTS_FILE), "w", encoding="utf-8") as f:
        f.write("\n".join(requirements))
    with open(os.path.join(model_dir, PYTHON_ENV_FILE), "w", encoding="utf-8") as f:
        yaml.safe_dump(python_env(), f, sort_keys=False, default_flow_style=False)


def pip_deps_of_conda(env: Any) -> list[str]:
    deps = env.get("dependencies", []) if isinstance(env, dict) else []
    for dep in deps:
        if isinstance(dep, dict) and "pip" in dep:
            return [str(x) for x in dep["pip"]]
    return []


def validate_conda_env(conda: Any) -> dict[str, Any] | str | None:
    if conda is None:
        return None
    if isinstance(conda, str) and os.path.isfile(conda):
        return conda
    if isinstance(conda, dict):
        return _check_conda_channels(conda)
    if isinstance(conda, str):
        raise InvalidParameterValue(f"conda_env {conda!r} is not a file")
    # MLflow's text (a TypeError there: utils/environment.py:_process_conda_env).
    raise InvalidParameterValue(
        "Expected a string path to a conda env yaml file or a `dict` representing a conda env, "
        f"but got `{type(conda).__name__}` ({conda!r})"
    )


# ----------------------------------------------------------------------------- public API
def get_model_dependencies(model_uri: str, format: Literal["pip", "conda"] = "pip") -> str:
    """Local path of the model's ``requirements.txt`` (``format="pip"``) or ``conda.yaml``.

    Only that file is downloaded. A model without requirements.txt gets one written from the
    pip section of its conda.yaml (conda-only dependencies are dropped).
    """
    import tempfile

    from fsregistry.models.cache import read_model_file, resolve_location

    if format not in ("pip", "conda"):
        raise InvalidParameterValue(
            f"Illegal format argument {format!r}. Expected 'pip' or 'conda'"
        )
    location = resolve_location(model_uri)
    out_dir = tempfile.mkdtemp(prefix="fsreg-deps-")
    if format == "pip":
        try:
            data = read_model_file(model_uri, REQUIREMENTS_FILE, location=location)
        except ResourceDoesNotExist:
            env = yaml.safe_load(read_model_file(model_uri, CONDA_FILE, location=location))
            if not any(isinstance(d, dict) and "pip" in d for d in env.get("dependencies", [])):
                raise ResourceDoesNotExist(
                    "No pip section found in conda.yaml file in the model directory. (The model "
                    f"at {model_uri!r} has no requirements.txt either.)"
                ) from None
            data = ("\n".join(pip_deps_of_conda(env)) + "\n").encode("utf-8")
        path = os.path.join(out_dir, REQUIREMENTS_FILE)
    else:
        data = read_model_file(model_uri, CONDA_FILE, location=location)
        path = os.path.join(out_dir, CONDA_FILE)
    with open(path, "wb") as f:
        f.write(data)
    return path


def update_model_requirements(
    model_uri: str, operation: Literal["add", "remove"], requirement_list: list[str]
) -> None:
    """Add (or overwrite by name) or remove requirements in requirements.txt and conda.yaml.

    Not for ``models:/name/...`` URIs (registered versions are read-only); the model's file
    hashes are updated along with the files.
    """
    from fsregistry.models.cache import read_model_file, resolve_location
    from fsregistry.models.saving import rewrite_model_files

    if operation not in ("add", "remove"):
        raise InvalidParameterValue(f"operation must be 'add' or 'remove', got {operation!r}")
    if not isinstance(requirement_list, list) or not all(
        isinstance(r, str) for r in requirement_list
    ):
        raise InvalidParameterValue(
            f"requirement_list must be a list of strings, got {requirement_list!r}"
        )
    invalid = [r for r in requirement_list if requirement_name(r) is None]
    if invalid:
        raise InvalidParameterValue(f"Found invalid requirements: {invalid}")
    if model_uri.startswith("models:/") and not model_uri.startswith("models:/m-"):
        raise InvalidParameterValue(
            f'Failed to set requirements on "{model_uri}". Model URIs with the `models:/` scheme '
            "are not supported (registered model versions are read-only; use the runs:/ URI or "
            "the storage location of the model)."
        )
    location = resolve_location(model_uri)
    old_txt = read_model_file(model_uri, REQUIREMENTS_FILE, location=location).decode("utf-8")
    conda = yaml.safe_load(read_model_file(model_uri, CONDA_FILE, location=location))

    def apply(old: list[str]) -> list[str]:
        named = {requirement_name(r) or r: r for r in old if r.strip()}
        for r in requirement_list:
            key = requirement_name(r) or r
            if operation == "add":
                named[key] = r.strip()
            else:
                named.pop(key, None)
        return list(named.values())

    new_reqs = apply(old_txt.splitlines())
    deps = conda.get("dependencies", []) if isinstance(conda, dict) else []
    for dep in deps:
        if isinstance(dep, dict) and "pip" in dep:
            dep["pip"] = apply([str(x) for x in dep["pip"]])
    rewrite_model_files(
        location,
        {
            REQUIREMENTS_FILE: "\n".join(new_reqs).encode("utf-8"),
            CONDA_FILE: yaml.safe_dump(conda, default_flow_style=False).encode("utf-8"),
        },
    )
