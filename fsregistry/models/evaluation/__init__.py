"""``mlflow.models.evaluation`` for fsregistry: evaluate classifiers and regressors, log the
metrics and plots to a run, and gate a promotion on metric thresholds.

``evaluate`` (in :mod:`.api`) is MLflow 3's ``mlflow.models.evaluate`` for classic ML: the same
signature, metric names and values, artifact names and ``evaluator_config`` options as MLflow's
default evaluator (see :mod:`.builtin`). :func:`validate_evaluation_results` with
:class:`MetricThreshold` is the promotion gate. Evaluator plugins register by entry point
(:mod:`.registry`). Floor 6 (it loads models through ``fsregistry.pyfunc``); matplotlib and
scikit-learn are imported only when used (``pip install 'fsregistry[evaluate]'``).
"""

from __future__ import annotations

from fsregistry.exceptions import ModelValidationFailedException
from fsregistry.models.evaluation.api import evaluate
from fsregistry.models.evaluation.artifacts import (
    CsvEvaluationArtifact,
    ImageEvaluationArtifact,
    JsonEvaluationArtifact,
    NumpyEvaluationArtifact,
    ParquetEvaluationArtifact,
    PickleEvaluationArtifact,
    TextEvaluationArtifact,
)
from fsregistry.models.evaluation.base import (
    EvaluationArtifact,
    EvaluationMetric,
    EvaluationResult,
    MetricValue,
    ModelEvaluator,
    make_metric,
)
from fsregistry.models.evaluation.registry import list_evaluators
from fsregistry.models.evaluation.validation import (
    MetricThreshold,
    validate_evaluation_results,
)

__all__ = [
    "CsvEvaluationArtifact",
    "EvaluationArtifact",
    "EvaluationMetric",
    "EvaluationResult",
    "ImageEvaluationArtifact",
    "JsonEvaluationArtifact",
    "MetricThreshold",
    "MetricValue",
    "ModelEvaluator",
    "ModelValidationFailedException",
    "NumpyEvaluationArtifact",
    "ParquetEvaluationArtifact",
    "PickleEvaluationArtifact",
    "TextEvaluationArtifact",
    "evaluate",
    "list_evaluators",
    "make_metric",
    "validate_evaluation_results",
]
