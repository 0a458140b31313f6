"""Docker build contexts (and images) that serve a model with ``fsreg models serve``.

A context holds::

    Dockerfile
    model/                                    the model's files, byte for byte
    fsregistry/fsregistry-<v>-py3-none-any.whl  the fsregistry that wrote the context
    fsregistry/requirements.txt               the model's requirements (+ constraints.txt)

The image is ``python:<X.Y>-slim`` with X.Y the Python the model was saved with
(``python_env.yaml``, else ``conda.yaml``, else this Python). One ``pip install`` resolves the
model's requirements, fsregistry (from the wheel: fsregistry need not be on the index) and the
server's packages together, so a conflict fails the build instead of the first request.
The model's ``requirements.txt`` is used as written, except ``fsregistry`` lines (the wheel
provides fsregistry); nested ``-r``/``-c`` files are flattened into the context's copies.

The container runs ``fsreg models serve -m /opt/ml/model --host 0.0.0.0 --port 8080`` as an
unprivileged user: inside a container the server must listen on every interface to be reached
through a published port (``docker run -p 5001:8080 IMAGE``); outside one it stays on
loopback by default. ``FSREG_SERVING_WORKERS``, ``FSREG_SCORING_SERVER_REQUEST_TIMEOUT`` and
``FSREG_SCORING_MAX_REQUEST_BYTES`` set at ``docker run -e`` tune it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from fsregistry.exceptions import InvalidParameterValue, InvalidState
from fsregistry.models.environment import (
    CONDA_FILE,
    CONSTRAINTS_FILE,
    PYTHON_ENV_FILE,
    REQUIREMENTS_FILE,
    parse_requirements,
    pip_deps_of_conda,
    requirement_name,
)

CONTAINER_MODEL_DIR = "/opt/ml/model"
CONTAINER_FSREG_DIR = "/opt/fsregistry"
CONTAINER_PORT = 8080
MODEL_SUBDIR = "model"
FSREG_SUBDIR = "fsregistry"
SERVER_COMMAND = [
    "fsreg",
    "models",
    "serve",
    "-m",
    CONTAINER_MODEL_DIR,
    "--host",
    "0.0.0.0",
    "--port",
    str(CONTAINER_PORT),
]
_MIN_PYTHON = (3, 11)  # fsregistry's Requires-Python
_PY_RE = re.compile(r"^\s*(\d+)\.(\d+)")


@dataclass(frozen=True)
class BuildContext:
    """A written build context."""

    directory: Path
    base_image: str
    python_version: str
    """The model's Python version (``3.11.7``), or this Python's when the model names none."""
    wheel: str
    """File name of the fsregistry wheel under ``fsregistry/``."""
    requirements: tuple[str, ...]
    """What ``fsregistry/requirements.txt`` holds: the model's requirements, flattened."""


def model_python_version(model_dir: str) -> str:
    """The Python version a model was saved with (``python_env.yaml``, then ``conda.yaml``'s
    ``python=`` pin), else this interpreter's."""
    env_path = os.path.join(model_dir, PYTHON_ENV_FILE)
    if os.path.isfile(env_path):
        with open(env_path, encoding="utf-8") as f:
            env = yaml.safe_load(f) or {}
        if isinstance(env, dict) and env.get("python"):
            return str(env["python"])
    conda_path = os.path.join(model_dir, CONDA_FILE)
    if os.path.isfile(conda_path):
        with open(conda_path, encoding="utf-8") as f:
            conda = yaml.safe_load(f) or {}
        deps = conda.get("dependencies", []) if isinstance(conda, dict) else []
        for dep in deps:
            if isinstance(dep, str) and re.match(r"^python\s*[=<>~]", dep):
                return re.sub(r"^python\s*=*\s*", "", dep)
    return "{}.{}.{}".format(*sys.version_info[:3])


def default_base_image(python_version: str) -> str:
    match = _PY_RE.match(python_version)
    if match is None:
        raise InvalidParameterValue(
            f"Cannot read the model's Python version {python_version!r}: pass --base-image"
        )
    major, minor = int(match.group(1)), int(match.group(2))
    if (major, minor) < _MIN_PYTHON:
        raise InvalidParameterValue(
            f"The model was saved with Python {python_version}; fsregistry needs Python "
            f">= {'.'.join(map(str, _MIN_PYTHON))}. Pass --base-image (e.g. python:3.11-slim) "
            "to build on a newer Python, if the model's requirements install there"
        )
    return f"python:{major}.{minor}-slim"


def model_requirements(model_dir: str) -> tuple[list[str], list[str]]:
    """``(requirements, constraints)`` the image installs for the model, ``fsregistry`` lines
    dropped (the image gets the wheel of the fsregistry writing the context)."""
    req_path = os.path.join(model_dir, REQUIREMENTS_FILE)
    if os.path.isfile(req_path):
        reqs, constraints = parse_requirements(req_path)
    else:
        conda_path = os.path.join(model_dir, CONDA_FILE)
        if not os.path.isfile(conda_path):
            raise InvalidParameterValue(
                f"The model at {model_dir} has neither {REQUIREMENTS_FILE} nor {CONDA_FILE}: "
                "nothing says what the image must install"
            )
        with open(conda_path, encoding="utf-8") as f:
            reqs, constraints = pip_deps_of_conda(yaml.safe_load(f)), []
    keep = [r for r in reqs if requirement_name(r) != "fsregistry"]
    return keep, [c for c in constraints if requirement_name(c) != "fsregistry"]


#: Flavors whose models need a Java runtime in the image (as MLflow's ``build_docker``).
JAVA_FLAVORS = ("spark", "h2o", "johnsnowlabs")
_JAVA = """
# A Java runtime for the model's flavor (or install_java=True).
RUN ["sh", "-c", "apt-get update && apt-get install -y --no-install-recommends default-jre-headless && rm -rf /var/lib/apt/lists/*"]
"""


def needs_java(model_dir: str) -> bool:
    """Whether the model's flavors need Java (MLflow installs it for these flavors too)."""
    try:
        with open(os.path.join(model_dir, "MLmodel"), encoding="utf-8") as f:
            flavors = (yaml.safe_load(f) or {}).get("flavors") or {}
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(flavors, dict) and any(name in flavors for name in JAVA_FLAVORS)


def _dockerfile(
    model_uri: str,
    base_image: str,
    python_version: str,
    wheel: str,
    has_constraints: bool,
    install_java: bool = False,
) -> str:
    from fsregistry.serving.server import SERVE_REQUIREMENTS

    version = wheel.split("-")[1]
    install = [
        "python",
        "-m",
        "pip",
        "install",
        "-r",
        f"{CONTAINER_FSREG_DIR}/{REQUIREMENTS_FILE}",
        f"{CONTAINER_FSREG_DIR}/{wheel}",
        *SERVE_REQUIREMENTS,
    ]
    if has_constraints:
        install[6:6] = ["-c", f"{CONTAINER_FSREG_DIR}/{CONSTRAINTS_FILE}"]
    health = (
        "import urllib.request; "
        f"urllib.request.urlopen('http://127.0.0.1:{CONTAINER_PORT}/ping', timeout=5)"
    )
    source = model_uri.replace("\n", " ")
    return f"""\
# Written by `fsreg models generate-dockerfile` (fsregistry {version}).
# Model: {source} (saved with Python {python_version})
# Build: docker build -t IMAGE .      Run: docker run -p 5001:{CONTAINER_PORT} IMAGE
FROM {base_image}

ENV PYTHONUNBUFFERED=1 \\
    PYTHONDONTWRITEBYTECODE=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1

{_JAVA if install_java else ""}
COPY {FSREG_SUBDIR}/ {CONTAINER_FSREG_DIR}/
COPY {MODEL_SUBDIR}/ {CONTAINER_MODEL_DIR}/
WORKDIR {CONTAINER_MODEL_DIR}

# The model's requirements, fsregistry (the wheel of the fsregistry that wrote this context)
# and the HTTP server's packages, resolved together by one pip run.
RUN {json.dumps(install)}

RUN ["useradd", "--system", "--create-home", "--uid", "10001", "fsreg"]
USER fsreg

# Inside a container the server listens on every interface, or no published port reaches it.
EXPOSE {CONTAINER_PORT}
HEALTHCHECK --interval=30s --timeout=10s CMD {json.dumps(["python", "-c", health])}
CMD {json.dumps(SERVER_COMMAND)}
"""


def _check_output_dir(output_dir: Path) -> None:
    if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
        raise InvalidParameterValue(
            f"Output directory {str(output_dir)!r} exists and is not an empty directory: give "
            "a new one"
        )


def generate_build_context(
    model_uri: str,
    output_dir: str | os.PathLike[str],
    *,
    base_image: str | None = None,
    install_java: bool = False,
) -> BuildContext:
    """Write a build context serving ``model_uri`` to ``output_dir`` (new or empty).

    The context appears whole or not at all: it is written next to ``output_dir`` and renamed
    into place. The image gets a Java runtime with ``install_java`` or when a flavor of the
    model needs one (:data:`JAVA_FLAVORS`).
    """
    from fsregistry.models.cache import local_model_dir
    from fsregistry.serving.wheel import build_wheel

    target = Path(output_dir).expanduser().absolute()
    _check_output_dir(target)
    if base_image is not None and (not base_image.strip() or any(c.isspace() for c in base_image)):
        raise InvalidParameterValue(f"Invalid base image {base_image!r}")
    local_dir = local_model_dir(model_uri).path
    python_version = model_python_version(local_dir)
    image = base_image or default_base_image(python_version)
    reqs, constraints = model_requirements(local_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        shutil.copytree(local_dir, tmp / MODEL_SUBDIR)
        fsreg_dir = tmp / FSREG_SUBDIR
        fsreg_dir.mkdir()
        wheel = build_wheel(fsreg_dir).name
        (fsreg_dir / REQUIREMENTS_FILE).write_text(
            "".join(f"{r}\n" for r in reqs), encoding="utf-8"
        )
        if constraints:
            (fsreg_dir / CONSTRAINTS_FILE).write_text(
                "".join(f"{c}\n" for c in constraints), encoding="utf-8"
            )
        java = install_java or needs_java(local_dir)
        dockerfile = _dockerfile(
            model_uri, image, python_version, wheel, bool(constraints), install_java=java
        )
        (tmp / "Dockerfile").write_text(dockerfile, encoding="utf-8")
        tmp.chmod(0o755)
        if target.exists():
            target.rmdir()  # empty (checked above)
        os.rename(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return BuildContext(target, image, python_version, wheel, tuple(reqs))


def _docker_client() -> str:
    docker = shutil.which("docker")
    if docker is None:
        raise InvalidState(
            "The docker client is not installed (no 'docker' on PATH). Install Docker, or write "
            "the build context with 'fsreg models generate-dockerfile' and build it elsewhere"
        )
    return docker


def _check_engine(docker: str) -> None:
    try:
        proc = subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InvalidState(f"Cannot run the docker client {docker}: {exc}") from None
    if proc.returncode != 0:
        lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"'docker version' exited with {proc.returncode}"
        raise InvalidState(f"Cannot reach the Docker engine: {reason}")


def build_image(
    model_uri: str, image: str, *, base_image: str | None = None, install_java: bool = False
) -> None:
    """``docker build -t IMAGE`` a context generated for ``model_uri`` in a temporary directory
    (removed afterwards). docker's output goes to this process's stdout/stderr."""
    if not image or any(c.isspace() for c in image):
        raise InvalidParameterValue(f"Invalid image name {image!r}")
    docker = _docker_client()
    _check_engine(docker)
    with tempfile.TemporaryDirectory(prefix="fsreg-docker-") as tmp:
        context = generate_build_context(
            model_uri, Path(tmp) / "context", base_image=base_image, install_java=install_java
        )
        sys.stdout.flush()
        try:
            proc = subprocess.run([docker, "build", "-t", image, str(context.directory)])
        except OSError as exc:
            raise InvalidState(f"Cannot run the docker client {docker}: {exc}") from None
    if proc.returncode != 0:
        raise InvalidState(
            f"Docker build failed. docker build -t {image} exited with code {proc.returncode}"
        )
