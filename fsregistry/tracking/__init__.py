"""The tracking store: experiments, runs, params, metrics, tags, datasets and MLflow 3
LoggedModels in MLflow's ``mlruns/`` layout, on any :class:`~fsregistry.storage.Storage`.

:class:`~fsregistry.tracking.store.TrackingStore` is the facade ``fsregistry.Client`` calls;
the modules beside it each hold one protocol (experiments, runs, run search, reading runs,
what the change feed vouches for, locations, records, the run index, search rows, run names,
the metric buffer, logged models).
"""
