"""``mlflow.models`` for fsregistry: the MLflow Model format, signatures, input examples,
environments, and prediction, with no MLflow installed.

A model is a directory with an ``MLmodel`` file (:class:`Model`), the flavor's files, an
environment (``requirements.txt``, ``python_env.yaml``, ``conda.yaml`` on conda-forge) and
optionally an input example. Models logged here load in MLflow 2.22 and 3.x, and models logged
by those MLflow versions load here. Every function taking a ``model_uri`` accepts
``models:/name@alias``, ``models:/name/latest``, ``models:/name/<version>``,
``runs:/<run_id>/<path>``, local paths, ``file://``, ``s3://`` and ``gs://`` URIs.

Security
--------
**Loading a pickled model runs code from the store.** ``pickle``/``cloudpickle`` files (the
sklearn flavor's ``model.pkl``, a custom model's ``python_model.pkl``) can execute anything
when read, and so can a model's ``code/`` directory, which is put on ``sys.path``. Only load
models from stores you trust as much as your own code. To make the safer path easy:

* ``fsregistry.sklearn.save_model/log_model(..., serialization_format="skops")`` stores
  scikit-learn models with skops, which only rebuilds allow-listed types (MLflow 3's default;
  MLflow 2.x cannot read it, which is why cloudpickle stays the default here).
* Every model saved by fsregistry carries ``fsreg.hashes.json``, the sha256 of each of its
  files. Loaders check the files against it *before* unpickling anything and raise
  :class:`ModelIntegrityError` naming each changed, missing or added file (``verify=False``
  opts out). ``ModelInfo.files_digest`` pins the manifest itself: pass it as
  ``expected_digest=`` to ``load_model`` or :func:`verify_model` to also catch a rewritten
  manifest. Models written by MLflow have no manifest and are loaded unchecked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fsregistry.models import schema
from fsregistry.models.enforcement import SchemaEnforcementError, validate_schema
from fsregistry.models.environment import get_model_dependencies, update_model_requirements
from fsregistry.models.hashes import ModelIntegrityError
from fsregistry.models.input_example import (
    convert_input_example_to_serving_input,
    load_serving_example,
)
from fsregistry.models.model import Model, ModelInfo, get_model_info
from fsregistry.models.schema import *  # noqa: F403  (the public schema types, one list)
from fsregistry.models.signature import ModelSignature, infer_signature, set_signature
from fsregistry.namespace import lazy_namespace

# ``mlflow.models`` also names functions that score a model, which live on the floors above
# this format package (pyfunc, envs); they load on first use, never at import.
if TYPE_CHECKING:
    from fsregistry.envs.predict import predict as predict
    from fsregistry.models.dependencies_schemas import (
        set_retriever_schema as set_retriever_schema,
    )
    from fsregistry.models.evaluation import EvaluationArtifact as EvaluationArtifact
    from fsregistry.models.evaluation import EvaluationMetric as EvaluationMetric
    from fsregistry.models.evaluation import EvaluationResult as EvaluationResult
    from fsregistry.models.evaluation import MetricThreshold as MetricThreshold
    from fsregistry.models.evaluation import evaluate as evaluate
    from fsregistry.models.evaluation import list_evaluators as list_evaluators
    from fsregistry.models.evaluation import make_metric as make_metric
    from fsregistry.models.evaluation import (
        validate_evaluation_results as validate_evaluation_results,
    )
    from fsregistry.models.model_config import ModelConfig as ModelConfig
    from fsregistry.models.model_config import set_model as set_model
    from fsregistry.models.wheeled_model import (
        add_libraries_to_model as add_libraries_to_model,
    )
    from fsregistry.pyfunc.predict import validate_serving_input as validate_serving_input
    from fsregistry.serving.flavor_backend import FlavorBackend as FlavorBackend
    from fsregistry.serving.flavor_backend import build_docker as build_docker

__getattr__, __dir__, _above = lazy_namespace(__name__, __file__)


#: What ``input_example=`` accepts (DataFrame, ndarray, dict, list, scalar, sparse matrix,
#: or a ``(data, params)`` tuple).
ModelInputExample = Any


def verify_model(model_uri: str, expected_digest: str | None = None) -> str | None:
    """Check a stored model's files against its recorded hashes without loading it.

    Downloads the model if it is remote. Returns the manifest digest (``sha256:...``), or None
    for a model without a manifest (one written by MLflow) when no ``expected_digest`` is given;
    raises :class:`ModelIntegrityError` naming every file that differs.
    """
    from fsregistry.models.cache import local_model_dir
    from fsregistry.models.hashes import verify_local_model

    local = local_model_dir(model_uri)
    return verify_local_model(
        local.path,
        expected_digest=expected_digest,
        registered_digest=local.registered_digest,
        where=model_uri,
    )


def infer_pip_requirements(
    model_uri: str,
    flavor: str | None = None,
    fallback: list[str] | None = None,
    timeout: float | None = None,
    extra_env_vars: dict[str, str] | None = None,
) -> list[str]:
    """Pinned requirements inferred from the files of a stored model (pickles and skops files).

    Where it differs from MLflow: the files are scanned, never loaded, so ``flavor`` and
    ``extra_env_vars`` (MLflow's subprocess environment) are accepted and unused. As in
    MLflow, ``timeout`` (seconds) bounds the inference, and with ``fallback`` an error or a
    timeout logs a warning and returns ``fallback`` instead of raising (unless
    ``MLFLOW_REQUIREMENTS_INFERENCE_RAISE_ERRORS`` is true).
    """
    from fsregistry.models.requirements_inference import infer_model_requirements

    return infer_model_requirements(model_uri, flavor=flavor, fallback=fallback, timeout=timeout)


__all__: list[str] = [
    "Model",
    "ModelInfo",
    "ModelInputExample",
    "ModelIntegrityError",
    "ModelSignature",
    "SchemaEnforcementError",
    "convert_input_example_to_serving_input",
    "get_model_dependencies",
    "get_model_info",
    "infer_pip_requirements",
    "infer_signature",
    "load_serving_example",
    "set_signature",
    "update_model_requirements",
    "validate_schema",
    "verify_model",
    *_above,
]
__all__ += schema.__all__
