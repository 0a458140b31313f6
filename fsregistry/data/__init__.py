"""``mlflow.data`` for fsregistry: datasets with MLflow's digests, schemas, profiles and
sources, recorded on runs by ``fsregistry.log_input``.

``from_pandas``, ``from_numpy`` and ``from_spark`` build datasets; ``get_source`` reads the
source of a dataset, a dataset entity or a dataset input back; ``fsregistry.data.sources``
holds the source classes. Importing this package loads neither pandas, numpy nor pyspark;
each loads when a dataset of its kind is built.
"""

from __future__ import annotations

from typing import Any

from fsregistry.data import schema as schema
from fsregistry.data import sources as sources
from fsregistry.data.datasets import (
    Dataset,
    NumpyDataset,
    PandasDataset,
    TensorDatasetSchema,
    from_numpy,
    from_pandas,
)
from fsregistry.data.sources import DatasetSource, get_dataset_source_from_json
from fsregistry.data.spark import SparkDataset, from_spark
from fsregistry.entities import Dataset as DatasetEntity
from fsregistry.entities import DatasetInput
from fsregistry.exceptions import InvalidParameterValue

__all__ = [
    "Dataset",
    "DatasetSource",
    "NumpyDataset",
    "PandasDataset",
    "SparkDataset",
    "TensorDatasetSchema",
    "from_numpy",
    "from_pandas",
    "from_spark",
    "get_source",
    "sources",
]


def get_source(dataset: DatasetEntity | DatasetInput | Dataset | Any) -> DatasetSource:
    """The source of a dataset, a dataset entity (as read from a run) or a dataset input;
    same as ``mlflow.data.get_source``."""
    if isinstance(dataset, DatasetInput):
        dataset = dataset.dataset
    if isinstance(dataset, DatasetEntity):
        return get_dataset_source_from_json(dataset.source, dataset.source_type)
    if isinstance(dataset, Dataset):
        return dataset.source
    raise InvalidParameterValue(
        f"Unrecognized dataset type {type(dataset)}. Expected one of: "
        "`mlflow.data.dataset.Dataset`, `mlflow.entities.Dataset`, "
        "`mlflow.entities.DatasetInput`."
    )
