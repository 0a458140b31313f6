"""The tracking store: experiments, runs, params, metrics, tags, datasets and MLflow 3
LoggedModels in MLflow's ``mlruns/`` layout, on any :class:`~fsregistry.storage.Storage`.

:class:`~fsregistry.tracking.store.TrackingStore` is the facade ``fsregistry.Client`` calls;
the modules beside it each hold one protocol (experiments, runs, run search, reading runs,
what the change feed vouches for, locations, records, the run index, search rows, run names,
the metric buffer, logged models).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fsregistry.namespace import lazy_namespace

# ``from mlflow.tracking import MlflowClient`` is the most common import line in the wild:
# these names mirror ``mlflow.tracking``'s and load on first use (``fsregistry.client`` is a
# floor above the stores; importing this package must not load it).
if TYPE_CHECKING:
    from fsregistry.client import MlflowClient as MlflowClient
    from fsregistry.config import get_registry_uri as get_registry_uri
    from fsregistry.config import get_tracking_uri as get_tracking_uri
    from fsregistry.config import is_tracking_uri_set as is_tracking_uri_set
    from fsregistry.config import set_registry_uri as set_registry_uri
    from fsregistry.config import set_tracking_uri as set_tracking_uri

__getattr__, __dir__, __all__ = lazy_namespace(__name__, __file__)
