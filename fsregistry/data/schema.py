"""``mlflow.data.schema`` for fsregistry: :class:`TensorDatasetSchema`, the schema of a
NumPy dataset (defined with the datasets in :mod:`fsregistry.data.datasets`)."""

from __future__ import annotations

from fsregistry.data.datasets import TensorDatasetSchema

__all__ = ["TensorDatasetSchema"]
