"""Datasets: a pandas DataFrame or numpy arrays with a name, digest, source, schema and
profile, recorded on a run by ``log_input`` (``mlflow.data.pandas_dataset`` and
``mlflow.data.numpy_dataset``).

What a dataset record holds, as MLflow 3 writes it (``to_dict()``; the entity's fields):

* ``name``: given, else ``"dataset"``;
* ``digest``: given, else :mod:`fsregistry.data.digest`;
* ``source_type`` / ``source``: the source's type and JSON (:mod:`fsregistry.data.sources`);
* ``schema``: pandas: ``{"mlflow_colspec": <Schema.to_dict()>}``; numpy:
  ``{"mlflow_tensorspec": {"features": <Schema JSON>, "targets": <Schema JSON or null>}}``;
  ``None`` when no schema can be inferred;
* ``profile``: pandas: ``{"num_rows", "num_elements"}``; numpy: ``features_shape``,
  ``features_size``, ``features_nbytes`` (and ``targets_*`` with targets), per key for dicts.
"""

from __future__ import annotations

import json
import logging
from functools import cached_property
from typing import Any, ClassVar

from fsregistry.data import digest as digests
from fsregistry.data.sources import CodeDatasetSource, DatasetSource, resolve_dataset_source
from fsregistry.entities import Dataset as DatasetEntity
from fsregistry.exceptions import InvalidParameterValue, MlflowException
from fsregistry.models.inference import infer_schema
from fsregistry.models.schema import Schema

_logger = logging.getLogger(__name__)


class Dataset:
    """Base class of datasets (``mlflow.data.dataset.Dataset``)."""

    def __init__(
        self, source: DatasetSource, name: str | None = None, digest: str | None = None
    ) -> None:
        self._name = name
        self._source = source
        self._digest = digest or self._compute_digest()

    def _compute_digest(self) -> str:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return self._name if self._name is not None else "dataset"

    @property
    def digest(self) -> str:
        return self._digest

    @property
    def source(self) -> DatasetSource:
        return self._source

    @property
    def profile(self) -> Any:
        return None

    @property
    def schema(self) -> Any:
        return None

    def to_dict(self) -> dict[str, Any]:
        """The record's fields: name, digest, source (JSON), source_type (and subclasses'
        schema and profile)."""
        return {
            "name": self.name,
            "digest": self.digest,
            "source": self.source.to_json(),
            "source_type": self.source._get_source_type(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def _get_source_type(self) -> str:
        return self.source._get_source_type()

    def _to_mlflow_entity(self) -> DatasetEntity:
        """The ``fsregistry.entities.Dataset`` that ``log_input`` records."""
        d = self.to_dict()
        return DatasetEntity(
            name=d["name"],
            digest=d["digest"],
            source_type=d["source_type"],
            source=d["source"],
            schema=d.get("schema"),
            profile=d.get("profile"),
        )


class TensorDatasetSchema:
    """The schema of numpy features and targets (``mlflow.data.schema``)."""

    def __init__(self, features: Schema, targets: Schema | None = None) -> None:
        self.features = features
        self.targets = targets

    def to_dict(self) -> dict[str, Any]:
        return {
            "mlflow_tensorspec": {
                "features": self.features.to_json(),
                "targets": self.targets.to_json() if self.targets is not None else None,
            }
        }

    @classmethod
    def from_dict(cls, schema_dict: dict[str, Any]) -> TensorDatasetSchema:
        if "mlflow_tensorspec" not in schema_dict:
            raise InvalidParameterValue(
                "TensorDatasetSchema dictionary is missing expected key 'mlflow_tensorspec'"
            )
        spec = schema_dict["mlflow_tensorspec"]
        targets = spec.get("targets")
        return cls(
            Schema.from_json(spec["features"]),
            Schema.from_json(targets) if targets is not None else None,
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TensorDatasetSchema)
            and self.features == other.features
            and self.targets == other.targets
        )

    __hash__ = None  # type: ignore[assignment]


def _check_column(df: Any, column: str | None, what: str, kind: str) -> None:
    if column is not None and column not in df.columns:
        raise InvalidParameterValue(
            f"The specified {kind} does not contain the specified {what} column '{column}'."
        )


class FrameDataset(Dataset):
    """A dataset over a DataFrame (pandas or Spark) with optional target and prediction
    columns; subclasses name the frame kind for errors and compute digest and profile."""

    _frame_kind: ClassVar[str] = "DataFrame"

    def __init__(
        self,
        df: Any,
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
        predictions: str | None = None,
    ) -> None:
        _check_column(df, targets, "targets", self._frame_kind)
        _check_column(df, predictions, "predictions", self._frame_kind)
        self._df = df
        self._targets = targets
        self._predictions = predictions
        super().__init__(source=source, name=name, digest=digest)

    @property
    def df(self) -> Any:
        return self._df

    @property
    def targets(self) -> str | None:
        return self._targets

    @property
    def predictions(self) -> str | None:
        return self._predictions


class PandasDataset(FrameDataset):
    """A pandas DataFrame dataset (``mlflow.data.pandas_dataset.PandasDataset``)."""

    _frame_kind = "pandas DataFrame"

    def _compute_digest(self) -> str:
        return digests.pandas_digest(self._df)

    @property
    def profile(self) -> Any:
        return {"num_rows": len(self._df), "num_elements": int(self._df.size)}

    @cached_property
    def schema(self) -> Schema | None:
        try:
            return infer_schema(self._df)
        except (MlflowException, TypeError, ValueError) as exc:
            _logger.debug("Failed to infer schema for Pandas dataset. Exception: %s", exc)
            return None

    def to_dict(self) -> dict[str, Any]:
        config = super().to_dict()
        schema = self.schema
        config["schema"] = (
            json.dumps({"mlflow_colspec": _labelled(schema.to_dict(), self._df)})
            if schema
            else None
        )
        config["profile"] = json.dumps(self.profile)
        return config


def _labelled(specs: list[dict[str, Any]], df: Any) -> list[dict[str, Any]]:
    """Column specs named by the frame's own labels, as MLflow records them (an int label
    stays an int in the JSON; signatures name columns by their ``str``)."""
    labels = list(df.columns)
    if len(labels) != len(specs):
        return specs
    return [
        {**spec, "name": label} if isinstance(label, int | float) else spec
        for spec, label in zip(specs, labels, strict=True)
    ]


class NumpyDataset(Dataset):
    """A numpy dataset (``mlflow.data.numpy_dataset.NumpyDataset``): an array or a dict of
    arrays as features, optional targets likewise."""

    def __init__(
        self,
        features: Any,
        source: DatasetSource,
        targets: Any = None,
        name: str | None = None,
        digest: str | None = None,
    ) -> None:
        self._features = features
        self._targets = targets
        super().__init__(source=source, name=name, digest=digest)

    def _compute_digest(self) -> str:
        return digests.numpy_digest(self._features, self._targets)

    @property
    def features(self) -> Any:
        return self._features

    @property
    def targets(self) -> Any:
        return self._targets

    @property
    def profile(self) -> Any:
        def attr(data: Any, name: str) -> Any:
            if isinstance(data, dict):
                return {k: getattr(v, name) for k, v in data.items()}
            return getattr(data, name)

        profile = {f"features_{a}": attr(self._features, a) for a in ("shape", "size", "nbytes")}
        if self._targets is not None:
            profile.update(
                {f"targets_{a}": attr(self._targets, a) for a in ("shape", "size", "nbytes")}
            )
        return profile

    @cached_property
    def schema(self) -> TensorDatasetSchema | None:
        try:
            features = infer_schema(self._features)
            targets = infer_schema(self._targets) if self._targets is not None else None
        except (MlflowException, TypeError, ValueError) as exc:
            _logger.warning("Failed to infer schema for NumPy dataset. Exception: %s", exc)
            return None
        return TensorDatasetSchema(features, targets)

    def to_dict(self) -> dict[str, Any]:
        config = super().to_dict()
        schema = self.schema
        config["schema"] = json.dumps(schema.to_dict()) if schema else None
        config["profile"] = json.dumps(self.profile)
        return config


def code_source() -> CodeDatasetSource:
    """The source of a dataset given none: the run context tags, as MLflow resolves them."""
    from fsregistry import fluent

    return CodeDatasetSource(tags={"mlflow.user": fluent._user(), **fluent._source_tags()})


def resolve_source(source: str | DatasetSource | Any) -> DatasetSource:
    """A ``source=`` argument as a DatasetSource (None: the code source)."""
    if source is None:
        return code_source()
    if isinstance(source, DatasetSource):
        return source
    return resolve_dataset_source(source)


def from_pandas(
    df: Any,
    source: str | DatasetSource | None = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> PandasDataset:
    """A PandasDataset of ``df``; same as ``mlflow.data.from_pandas``."""
    return PandasDataset(
        df=df,
        source=resolve_source(source),
        targets=targets,
        name=name,
        digest=digest,
        predictions=predictions,
    )


def from_numpy(
    features: Any,
    source: str | DatasetSource | None = None,
    targets: Any = None,
    name: str | None = None,
    digest: str | None = None,
) -> NumpyDataset:
    """A NumpyDataset of ``features`` (and ``targets``); same as ``mlflow.data.from_numpy``."""
    return NumpyDataset(
        features=features, source=resolve_source(source), targets=targets, name=name, digest=digest
    )
