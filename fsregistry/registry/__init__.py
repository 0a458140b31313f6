"""The model registry store: MLflow's file layout (``models/``) with safe concurrent writes.

``fsregistry.Client`` exposes it with ``MlflowClient``'s method names. The store
(:class:`~fsregistry.registry.store.RegistryStore`) reads and writes files only: model URIs
are resolved by the layer above (:mod:`fsregistry.uris`) and the result is handed in.
"""
