"""The objects of ``mlflow.models.evaluation``: metric values, metric definitions, artifacts,
results and the evaluator interface.

- :class:`MetricValue` holds per-row ``scores`` / ``justifications`` and ``aggregate_results``;
  numeric scores with no aggregates get MLflow's standard ones (mean, variance, p90).
- :class:`EvaluationMetric` (made by :func:`make_metric`) wraps an ``eval_fn`` whose parameter
  names select its inputs (``predictions``, ``targets``, ``metrics``, input columns,
  ``evaluator_config`` keys, other metrics), exactly as MLflow's default evaluator binds them.
- :class:`EvaluationArtifact` is an artifact's URI plus its lazily loaded content.
- :class:`EvaluationResult` is what ``evaluate`` returns; :meth:`EvaluationResult.save` writes
  MLflow's layout (``metrics.json``, ``artifacts_metadata.json``, ``artifacts/``) with MLflow's
  artifact class names, so either library loads what the other saved.
- :class:`ModelEvaluator` is the plugin interface (``can_evaluate`` + ``evaluate``).
"""

from __future__ import annotations

import json
import keyword
import logging
import math
import os
import pathlib
import urllib.parse
from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from types import FunctionType
from typing import TYPE_CHECKING, Any

from fsregistry.exceptions import InvalidParameterValue

if TYPE_CHECKING:
    import pandas as pd

_logger = logging.getLogger(__name__)

#: The model types MLflow's ``evaluate`` names that fsregistry evaluates.
CLASSIFIER = "classifier"
REGRESSOR = "regressor"
#: MLflow's GenAI model types: out of fsregistry's scope (classic ML only).
GENAI_MODEL_TYPES = (
    "question-answering",
    "text-summarization",
    "text",
    "retriever",
    "databricks-agent",
)


def _is_number(value: object) -> bool:
    import numpy as np

    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def standard_aggregations(scores: Any) -> dict[str, float]:
    """MLflow's aggregates of numeric per-row scores: mean, variance, 90th percentile."""
    import numpy as np

    return {
        "mean": float(np.mean(scores)),
        "variance": float(np.var(scores)),
        "p90": float(np.percentile(scores, 90)),
    }


@dataclass
class MetricValue:
    """A metric's per-row scores, justifications and aggregates. Same as MLflow's."""

    scores: list[Any] | None = None
    justifications: list[str] | None = None
    aggregate_results: dict[str, float] | None = None

    def __post_init__(self) -> None:
        if (
            self.aggregate_results is None
            and isinstance(self.scores, list | tuple)
            and all(_is_number(s) for s in self.scores)
        ):
            self.aggregate_results = standard_aggregations(self.scores)


class EvaluationMetric:
    """A custom metric for ``evaluate(extra_metrics=...)``. Same as MLflow's (no GenAI use)."""

    def __init__(
        self,
        eval_fn: Callable[..., Any],
        name: str,
        greater_is_better: bool,
        long_name: str | None = None,
        version: str | None = None,
        metric_details: str | None = None,
        metric_metadata: dict[str, Any] | None = None,
        genai_metric_args: dict[str, Any] | None = None,
    ) -> None:
        self.eval_fn = eval_fn
        self.name = name
        self.greater_is_better = greater_is_better
        self.long_name = long_name or name
        self.version = version
        self.metric_details = metric_details
        self.metric_metadata = metric_metadata
        self.genai_metric_args = genai_metric_args

    def __call__(self, **kwargs: Any) -> Any:
        """Run ``eval_fn`` with keyword arguments. Same as MLflow's callable metrics."""
        return self.eval_fn(**kwargs)

    def __str__(self) -> str:
        parts = [f"name={self.name}, greater_is_better={self.greater_is_better}"]
        if self.long_name:
            parts.append(f"long_name={self.long_name}")
        if self.version:
            parts.append(f"version={self.version}")
        if self.metric_details:
            parts.append(f"metric_details={self.metric_details}")
        if self.metric_metadata:
            parts.append(f"metric_metadata={self.metric_metadata}")
        return "EvaluationMetric(" + ", ".join(parts) + ")"


def make_metric(
    *,
    eval_fn: Callable[..., Any],
    greater_is_better: bool,
    name: str | None = None,
    long_name: str | None = None,
    version: str | None = None,
    metric_details: str | None = None,
    metric_metadata: dict[str, Any] | None = None,
    genai_metric_args: dict[str, Any] | None = None,
) -> EvaluationMetric:
    """Make an :class:`EvaluationMetric`. Same as MLflow's (same checks and warnings)."""
    if name is None:
        if isinstance(eval_fn, FunctionType) and eval_fn.__name__ == "<lambda>":
            raise InvalidParameterValue(
                "`name` must be specified if `eval_fn` is a lambda function."
            )
        if not hasattr(eval_fn, "__name__"):
            raise InvalidParameterValue(
                "`name` must be specified if `eval_fn` does not have a `__name__` attribute."
            )
        name = str(eval_fn.__name__)
    if "/" in name:
        raise InvalidParameterValue(
            f"Invalid metric name '{name}'. Metric names cannot include forward slashes ('/')."
        )
    if not name.isidentifier() or keyword.iskeyword(name):
        _logger.warning(
            "The metric name '%s' is not a valid Python identifier or is a keyword, which will "
            "prevent its use as a base metric for derived metrics.",
            name,
        )
    if name in ("predictions", "targets", "metrics"):
        _logger.warning(
            "The metric name '%s' is used as a special parameter in MLflow metrics, which will "
            "prevent its use as a base metric for derived metrics.",
            name,
        )
    return EvaluationMetric(
        eval_fn=eval_fn,
        name=name,
        greater_is_better=greater_is_better,
        long_name=long_name,
        version=version,
        metric_details=metric_details,
        metric_metadata=metric_metadata,
        genai_metric_args=genai_metric_args,
    )


class EvaluationArtifact(metaclass=ABCMeta):
    """An evaluation artifact: its URI and its content, loaded on first use. Same as MLflow's."""

    def __init__(self, uri: str, content: Any = None) -> None:
        self._uri = uri
        self._content = content

    @abstractmethod
    def _load_content_from_file(self, local_artifact_path: str) -> Any:
        """Read the content from a local file."""

    @abstractmethod
    def _save(self, output_artifact_path: str) -> None:
        """Write the content to a local file."""

    def _load(self, local_artifact_path: str | None = None) -> Any:
        if local_artifact_path is not None:
            self._content = self._load_content_from_file(local_artifact_path)
            return self._content
        import tempfile

        from fsregistry.artifacts import download_artifacts

        with tempfile.TemporaryDirectory() as tmp:
            local = download_artifacts(artifact_uri=self._uri, dst_path=tmp)
            self._content = self._load_content_from_file(local)
        return self._content

    @property
    def content(self) -> Any:
        """The artifact's content (an image, DataFrame, dict, array, text...)."""
        if self._content is None:
            self._load()
        return self._content

    @property
    def uri(self) -> str:
        """The artifact's URI in the run's artifact store."""
        return self._uri

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(uri='{self.uri}')"


#: The module MLflow's artifact classes live in; ``save`` writes these names.
_MLFLOW_ARTIFACTS_MODULE = "mlflow.models.evaluation.artifacts"


def _artifact_class(class_name: str) -> type[EvaluationArtifact]:
    from fsregistry.models.evaluation import artifacts

    short = class_name.rsplit(".", 1)[-1]
    found = getattr(artifacts, short, None)
    if isinstance(found, type) and issubclass(found, EvaluationArtifact):
        return found
    raise InvalidParameterValue(f"Unknown evaluation artifact class {class_name!r}")


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class EvaluationResult:
    """What ``evaluate`` returns: metrics, artifacts, the run. Same as MLflow's."""

    def __init__(
        self,
        metrics: dict[str, Any],
        artifacts: dict[str, EvaluationArtifact],
        run_id: str | None = None,
    ) -> None:
        self._metrics = metrics
        self._artifacts = artifacts
        if run_id is None:
            from fsregistry.fluent import active_run

            active = active_run()
            run_id = active.info.run_id if active is not None else None
        self._run_id = run_id

    @classmethod
    def load(cls, path: str) -> EvaluationResult:
        """Load results written by :meth:`save` (or by MLflow's ``save``)."""
        with open(os.path.join(path, "metrics.json")) as fp:
            metrics = json.load(fp)
        with open(os.path.join(path, "artifacts_metadata.json")) as fp:
            meta = json.load(fp)
        artifacts: dict[str, EvaluationArtifact] = {}
        for name, entry in meta.items():
            artifact = _artifact_class(entry["class_name"])(uri=entry["uri"])
            filename = pathlib.Path(urllib.parse.urlparse(entry["uri"]).path).name
            artifact._load(os.path.join(path, "artifacts", filename))
            artifacts[name] = artifact
        return EvaluationResult(metrics=metrics, artifacts=artifacts, run_id=None)

    def save(self, path: str) -> None:
        """Write metrics, artifact metadata and artifact files under ``path``. Same layout
        and class names as MLflow, so MLflow's ``EvaluationResult.load`` reads it."""
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "metrics.json"), "w") as fp:
            json.dump(self.metrics, fp, default=_json_default)
        meta = {
            name: {
                "uri": artifact.uri,
                "class_name": f"{_MLFLOW_ARTIFACTS_MODULE}.{type(artifact).__name__}",
            }
            for name, artifact in self.artifacts.items()
        }
        with open(os.path.join(path, "artifacts_metadata.json"), "w") as fp:
            json.dump(meta, fp)
        artifacts_dir = os.path.join(path, "artifacts")
        os.makedirs(artifacts_dir, exist_ok=True)
        for artifact in self.artifacts.values():
            filename = pathlib.Path(urllib.parse.urlparse(artifact.uri).path).name
            if artifact._content is None:
                artifact._load()
            artifact._save(os.path.join(artifacts_dir, filename))

    @property
    def metrics(self) -> dict[str, Any]:
        """Metric name -> scalar value."""
        return self._metrics

    @property
    def artifacts(self) -> dict[str, EvaluationArtifact]:
        """Artifact name (``confusion_matrix``, ``roc_curve_plot``...) -> artifact."""
        return self._artifacts

    @property
    def run_id(self) -> str | None:
        """The run the results were logged to."""
        return self._run_id

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Table artifacts (``eval_results_table``) as DataFrames; other artifacts are left out
        (MLflow tries to load each one as a table and swallows the failure)."""
        from fsregistry.models.evaluation.artifacts import JsonEvaluationArtifact

        tables: dict[str, pd.DataFrame] = {}
        if self._run_id is None:
            _logger.warning("Cannot load eval_results_table because run_id is not specified.")
            return tables
        import pandas as pd

        for name, artifact in self._artifacts.items():
            if not isinstance(artifact, JsonEvaluationArtifact):
                continue
            content = artifact.content
            if isinstance(content, dict) and {"columns", "data"} <= content.keys():
                tables[name] = pd.DataFrame(content["data"], columns=content["columns"])
        return tables

    def __repr__(self) -> str:
        shown = {
            k: (round(v, 6) if isinstance(v, float) and math.isfinite(v) else v)
            for k, v in list(self._metrics.items())[:8]
        }
        return f"EvaluationResult(run_id={self._run_id!r}, metrics={shown}, ...)"


class ModelEvaluator(metaclass=ABCMeta):
    """The evaluator plugin interface. Same as MLflow's ``ModelEvaluator``."""

    @classmethod
    @abstractmethod
    def can_evaluate(
        cls, *, model_type: str | None, evaluator_config: dict[str, Any], **kwargs: Any
    ) -> bool:
        """Whether this evaluator handles ``model_type`` with this config."""

    @abstractmethod
    def evaluate(
        self,
        *,
        model_type: str | None,
        dataset: Any,
        run_id: str,
        evaluator_config: dict[str, Any],
        model: Any = None,
        extra_metrics: list[EvaluationMetric] | None = None,
        custom_artifacts: list[Callable[..., Any]] | None = None,
        predictions: str | None = None,
        **kwargs: Any,
    ) -> EvaluationResult | None:
        """Evaluate and log to ``run_id``; return the result (or None to contribute nothing)."""
