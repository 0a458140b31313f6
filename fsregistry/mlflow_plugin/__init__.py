"""MLflow backend-store plugin: MLflow's server and UI over any fsregistry store.

MLflow finds tracking and registry stores by URI scheme through the entry-point groups
``mlflow.tracking_store`` and ``mlflow.model_registry_store``; fsregistry registers
``fsreg+file``, ``fsreg+s3``, ``fsreg+s3a``, ``fsreg+gs`` and ``fsreg+gcs`` (pyproject.toml),
so ``mlflow server --backend-store-uri fsreg+s3://bucket/mlruns`` serves a bucket, which MLflow's
own file store refuses. ``fsreg ui`` starts that server.

- ``locations``: ``fsreg+...`` URIs <-> store URLs, the write gate, the MLflow version gate
  (no MLflow import: the CLI uses it);
- ``entry``: the builders the entry points name (checks the version, then builds a store);
- ``convert``: fsregistry entities -> MLflow entities (field-for-field copies), fsregistry
  errors -> MLflow errors;
- ``forward``: the one declaration of a store method that only forwards to fsregistry's
  store (``Forward``), with its docstring;
- ``readonly``: the storage of a read-only store, which writes nothing and shows an empty
  store's Default experiment virtually;
- ``tracking`` / ``registry``: the stores, MLflow's ``AbstractStore`` interfaces over
  fsregistry's ``TrackingStore`` / ``RegistryStore`` (so every write takes fsregistry's atomic
  paths and writers through the server and through fsregistry stay race-free);
- ``unsupported``: what fsregistry lacks (traces, assessments, GenAI datasets, scorers...)
  answers as MLflow's own file store does: empty lists for the reads a UI page makes, "does
  not exist" for a lookup, MLflow's "not supported" error (HTTP 400) for the rest, never an
  HTTP 500.

This package is the only place in fsregistry that imports ``mlflow`` (inside ``entry``,
``convert``, ``tracking``, ``registry`` and ``unsupported``, which only MLflow loads).
"""

from __future__ import annotations
