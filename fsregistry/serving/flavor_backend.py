"""``mlflow.models.FlavorBackend``, its pyfunc backend, and ``mlflow.models.build_docker``.

A flavor backend is MLflow's interface for deploying a model locally: ``predict`` from a file,
``serve`` over HTTP, ``prepare_env``, ``generate_dockerfile`` and ``build_image``, and two
capability checks. :class:`PyFuncBackend` implements it for any model with the
``python_function`` flavor on fsregistry's own machinery:

* ``predict`` is :func:`fsregistry.models.predict` (reading stdin when no ``input_path``);
* ``serve`` starts fsregistry's scoring server (``python -m fsregistry.serving``) in a
  subprocess, given this process's tracking and registry URIs so ``models:/`` URIs resolve;
* ``prepare_env`` builds the model environment (:mod:`fsregistry.envs`);
* ``generate_dockerfile`` / ``build_image`` write or build the Docker context of
  :mod:`fsregistry.serving.docker_context`.

``env_manager`` is ``"local"``, ``"virtualenv"`` or ``"uv"`` as everywhere in fsregistry;
``"conda"`` is refused. A Docker image always installs the model's requirements into the
image's Python of the model's version, whatever the manager. Images serve with fsregistry, not
MLflow, so ``install_mlflow=True`` and ``mlflow_home`` (MLflow's development option) are
refused with the reason; ``install_java`` adds a Java runtime (automatic for Spark and H2O
models, as in MLflow).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from abc import ABC, abstractmethod
from typing import IO, Any, Literal

from fsregistry.exceptions import InvalidParameterValue, InvalidState
from fsregistry.models.env_manager import check_env_manager

#: ``env_manager`` values the pyfunc backend accepts.
ENV_MANAGERS = ("local", "virtualenv", "uv")


class FlavorBackend(ABC):
    """MLflow's abstract local-deployment interface for a model flavor (same methods)."""

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        self._config = config

    @abstractmethod
    def predict(
        self,
        model_uri: str,
        input_path: str | None,
        output_path: str | None,
        content_type: str,
    ) -> None:
        """Score the model on a file (stdin if None), writing JSON to a file (stdout if None)."""

    @abstractmethod
    def serve(
        self,
        model_uri: str,
        port: int,
        host: str,
        timeout: float,
        synchronous: bool = True,
        stdout: IO[Any] | int | None = None,
        stderr: IO[Any] | int | None = None,
    ) -> int | subprocess.Popen[bytes]:
        """Serve the model; wait and return 0 (``synchronous``) or return the server process."""

    def prepare_env(self, model_uri: str, capture_output: bool = False) -> None:
        """Prepare what ``predict``/``serve`` need, so that they start fast."""
        return None

    @abstractmethod
    def build_image(
        self,
        model_uri: str,
        image_name: str,
        install_java: bool = False,
        install_mlflow: bool = False,
        mlflow_home: str | None = None,
        base_image: str | None = None,
    ) -> None:
        """Build a Docker image serving the model."""

    @abstractmethod
    def generate_dockerfile(
        self,
        model_uri: str,
        output_dir: str,
        install_java: bool = False,
        install_mlflow: bool = False,
        mlflow_home: str | None = None,
        base_image: str | None = None,
    ) -> None:
        """Write a Docker build context serving the model to ``output_dir``."""

    @abstractmethod
    def can_score_model(self) -> bool:
        """Whether this backend can score the model in the current environment."""

    def can_build_image(self) -> bool:
        """Whether this backend has ``build_image`` (as MLflow: a callable on the class)."""
        return callable(getattr(self.__class__, "build_image", None))


def _check_docker_options(install_mlflow: bool, mlflow_home: str | None) -> None:
    if install_mlflow:
        raise InvalidParameterValue(
            "install_mlflow=True is not supported: fsregistry images serve the model with "
            "fsregistry (installed from a wheel of this version), not MLflow"
        )
    if mlflow_home is not None:
        raise InvalidParameterValue(
            f"mlflow_home={mlflow_home!r} is not supported: it installs MLflow from a source "
            "checkout (MLflow's development option); fsregistry images use fsregistry"
        )


class PyFuncBackend(FlavorBackend):
    """The ``python_function`` backend (MLflow's ``mlflow.pyfunc.backend.PyFuncBackend``)."""

    def __init__(
        self,
        config: dict[str, Any],
        env_manager: str = "virtualenv",
        workers: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, **kwargs)
        check_env_manager(env_manager, ENV_MANAGERS)
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise InvalidParameterValue(f"workers must be a positive integer, got {workers!r}")
        self._env_manager = env_manager
        self._workers = workers

    def predict(
        self,
        model_uri: str,
        input_path: str | None,
        output_path: str | None,
        content_type: str,
    ) -> None:
        """:func:`fsregistry.models.predict`; with no ``input_path``, the input is stdin."""
        from fsregistry.envs.predict import predict

        if content_type not in ("json", "csv"):
            raise InvalidParameterValue(
                f"Unknown content type '{content_type}'. Expected 'json' or 'csv'"
            )
        kind: Literal["json", "csv"] = "csv" if content_type == "csv" else "json"
        manager = None if self._env_manager == "local" else self._env_manager
        if input_path is not None:
            predict(
                model_uri,
                input_path=input_path,
                content_type=kind,
                output_path=output_path,
                env_manager=manager,
            )
            return
        with tempfile.TemporaryDirectory(prefix="fsreg-backend-") as tmp:
            path = os.path.join(tmp, f"stdin.{kind}")
            with open(path, "w", encoding="utf-8") as f:
                shutil.copyfileobj(sys.stdin, f)
            predict(
                model_uri,
                input_path=path,
                content_type=kind,
                output_path=output_path,
                env_manager=manager,
            )

    def serve(
        self,
        model_uri: str,
        port: int,
        host: str,
        timeout: float,
        synchronous: bool = True,
        stdout: IO[Any] | int | None = None,
        stderr: IO[Any] | int | None = None,
    ) -> int | subprocess.Popen[bytes]:
        """The scoring server in a subprocess (see the module doc)."""
        from fsregistry.config import get_registry_uri, get_tracking_uri

        argv = [sys.executable, "-m", "fsregistry.serving", "--model-uri", model_uri]
        argv += ["--host", str(host), "--port", str(int(port)), "--timeout", str(timeout)]
        argv += ["--workers", str(self._workers), "--env-manager", self._env_manager]
        env = dict(os.environ)
        env["MLFLOW_TRACKING_URI"] = get_tracking_uri()
        env["MLFLOW_REGISTRY_URI"] = get_registry_uri()
        try:
            proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=env)
        except OSError as exc:
            raise InvalidState(f"Cannot start the scoring server: {exc}") from None
        if not synchronous:
            return proc
        code = proc.wait()
        if code != 0:
            raise InvalidState(f"The scoring server for {model_uri!r} exited with code {code}")
        return 0

    def prepare_env(self, model_uri: str, capture_output: bool = False) -> None:
        """Build the model environment (nothing to do for ``env_manager="local"``)."""
        if self._env_manager == "local":
            return
        from fsregistry.envs import prepare_env

        prepare_env(model_uri, env_manager=self._env_manager)

    def build_image(
        self,
        model_uri: str,
        image_name: str,
        install_java: bool = False,
        install_mlflow: bool = False,
        mlflow_home: str | None = None,
        base_image: str | None = None,
    ) -> None:
        """``docker build`` the context of :meth:`generate_dockerfile` as ``image_name``."""
        from fsregistry.serving.docker_context import build_image

        _check_docker_options(install_mlflow, mlflow_home)
        build_image(model_uri, image_name, base_image=base_image, install_java=install_java)

    def generate_dockerfile(
        self,
        model_uri: str,
        output_dir: str,
        install_java: bool = False,
        install_mlflow: bool = False,
        mlflow_home: str | None = None,
        base_image: str | None = None,
    ) -> None:
        """Write the Docker build context (Dockerfile, model, fsregistry wheel) to ``output_dir``."""
        from fsregistry.serving.docker_context import generate_build_context

        _check_docker_options(install_mlflow, mlflow_home)
        generate_build_context(
            model_uri, output_dir, base_image=base_image, install_java=install_java
        )

    def can_score_model(self) -> bool:
        """True for ``local`` and ``virtualenv`` (the standard library's venv); for ``uv``,
        whether uv is installed."""
        if self._env_manager != "uv":
            return True
        from fsregistry.envs.errors import EnvironmentBuildError
        from fsregistry.envs.uv import uv_binary

        try:
            uv_binary()
        except EnvironmentBuildError:
            return False
        return True


def get_flavor_backend(
    model_uri: str | None, env_manager: str = "virtualenv", **kwargs: Any
) -> FlavorBackend:
    """The backend for a model: :class:`PyFuncBackend` when it has the ``python_function``
    flavor (the only backend, as in MLflow for classic flavors); ``None`` model: a backend
    with no model configuration."""
    config: dict[str, Any] = {}
    if model_uri is not None:
        from fsregistry.models.cache import local_model_dir
        from fsregistry.models.model import Model

        model = Model.load(local_model_dir(model_uri).path)
        pyfunc_conf = model.flavors.get("python_function")
        if pyfunc_conf is None:
            raise InvalidParameterValue(
                "No suitable flavor backend was found for the model. The model at "
                f"{model_uri!r} has no python_function flavor (flavors: {sorted(model.flavors)})"
            )
        config = dict(pyfunc_conf)
    return PyFuncBackend(config, env_manager=env_manager, **kwargs)


def build_docker(
    model_uri: str | None = None,
    name: str = "mlflow-pyfunc",
    env_manager: str = "virtualenv",
    mlflow_home: str | None = None,
    install_java: bool = False,
    install_mlflow: bool = False,
    base_image: str | None = None,
) -> None:
    """Build a Docker image serving the model on port 8080 (MLflow's ``build_docker``).

    Differs from MLflow: ``model_uri`` is required (the image contains its model; MLflow can
    build a model-less image for a mounted ``/opt/ml/model``), the image serves with fsregistry
    (``install_mlflow``/``mlflow_home`` refused), and a Docker engine must be reachable.
    """
    if model_uri is None:
        raise InvalidParameterValue(
            "build_docker needs model_uri: fsregistry images contain the model they serve "
            "(an image without a model, for a mounted /opt/ml/model, is not supported)"
        )
    backend = get_flavor_backend(model_uri, env_manager=env_manager)
    backend.build_image(
        model_uri,
        name,
        install_java=install_java,
        install_mlflow=install_mlflow,
        mlflow_home=mlflow_home,
        base_image=base_image,
    )


__all__ = ["FlavorBackend", "PyFuncBackend", "build_docker", "get_flavor_backend"]
