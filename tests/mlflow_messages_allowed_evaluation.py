"""Raise sites of ``evaluate`` and ``mlflow.data`` with no MLflow counterpart, each with its
reason (see tests/mlflow_messages.py and tests/mlflow_messages_evaluation.py)."""

from __future__ import annotations

from tests.mlflow_messages_base import Allowed

_API = "fsregistry/models/evaluation/api.py"
_MT = "fsregistry/models/evaluation/metrics.py"
_SO = "fsregistry/data/sources.py"

ALLOWED_EVALUATION: tuple[Allowed, ...] = (
    Allowed(
        _API,
        "is not supported by fsregistry.evaluate",
        "fsregistry-only: evaluate runs in this Python environment; MLflow builds a virtualenv "
        "or conda environment for a model URI and scores through a local model server",
    ),
    Allowed(
        _API,
        "Deployment endpoint models",
        "fsregistry-only: MLflow evaluates an endpoints:/ or apps:/ URI by querying the "
        "deployment; fsregistry has no deployments client",
    ),
    Allowed(
        _API,
        "is a GenAI model type",
        "fsregistry-only: MLflow 3 sends GenAI model types (question-answering, text, chat...) "
        "to its GenAI evaluators; fsregistry evaluates classic ML only",
    ),
    Allowed(
        _API,
        "evaluator failed:",
        "fsregistry-only: wraps a ValueError/TypeError/IndexError/KeyError of scikit-learn or "
        "numpy inside a built-in evaluator; MLflow lets the raw exception through",
    ),
    Allowed(
        "fsregistry/models/evaluation/dataset.py",
        "If data is a numpy array or list of evaluation features",
        "MLflow's text (data/evaluation_dataset.py EvaluationDataset.__init__), but "
        "mlflow.evaluate converts the array with mlflow.data.from_numpy first, which fails "
        "with a raw AttributeError ('str' object has no attribute 'flatten'), so no trigger "
        "gives MLflow's message",
    ),
    Allowed(
        "fsregistry/models/evaluation/base.py",
        "Unknown evaluation artifact class",
        "fsregistry-only: EvaluationResult.load of an artifact class it does not know; MLflow "
        "looks the class up with getattr and raises a raw AttributeError",
    ),
    Allowed(
        "fsregistry/models/evaluation/validation.py",
        "expected a mapping with keys among",
        "fsregistry-only: MetricThreshold.from_dict reads fsregistry's validation-gate file "
        "format, which MLflow does not have",
    ),
    Allowed(
        _MT,
        "Evaluating classifiers and regressors needs scikit-learn",
        "fsregistry-only: scikit-learn is an optional extra of fsregistry; MLflow imports it "
        "and fails with a raw ImportError",
    ),
    Allowed(
        _MT,
        "is not a valid label. It should be one of",
        "scikit-learn's ValueError text (precision_recall_fscore_support) for a pos_label absent "
        "from the labels; MLflow 3.17.2 computes its binary scores without raising for it "
        "(2.22.5 fails with a raw ValueError unpacking the confusion matrix), so there is no "
        "MLflow message to match",
    ),
    Allowed(
        _MT,
        "(per-class or per-sample scores) is not supported",
        "fsregistry-only: average=None or 'samples' for a multiclass classifier; scikit-learn "
        "accepts them and MLflow then fails logging a per-class array as a metric (raw "
        "exception)",
    ),
    Allowed(
        _SO,
        "Invalid dataset source JSON",
        "fsregistry-only: a recorded source that is not JSON; MLflow's from_json raises the raw "
        "json.JSONDecodeError",
    ),
    Allowed(
        _SO,
        "Dataset source JSON must be an object",
        "fsregistry-only: a recorded source that is JSON but no object; MLflow's from_dict "
        "fails with a raw AttributeError ('list' object has no attribute 'get')",
    ),
)
