"""The default ``pickle_module`` of :func:`fsregistry.pytorch.save_model`, as MLflow's
``mlflow.pytorch.pickle_module``: what ``torch.save`` / ``torch.load`` need from a pickle
module, with cloudpickle's pickler (so classes defined in ``__main__`` are saved by value) and
the standard library's unpickler.

Models saved with it record the name ``mlflow.pytorch.pickle_module`` (``MLFLOW_NAME``), so
MLflow loads them with its own module; fsregistry maps that name back to this module.
"""

from __future__ import annotations

from pickle import HIGHEST_PROTOCOL, Unpickler, load, loads

from cloudpickle import CloudPickler as Pickler
from cloudpickle import dump, dumps

#: The name MLflow gives this module; what the model files record.
MLFLOW_NAME = "mlflow.pytorch.pickle_module"

__all__ = [
    "HIGHEST_PROTOCOL",
    "MLFLOW_NAME",
    "Pickler",
    "Unpickler",
    "dump",
    "dumps",
    "load",
    "loads",
]
