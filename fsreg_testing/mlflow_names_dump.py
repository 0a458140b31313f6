"""Run under a real MLflow: print MLflow's public names per module as JSON (the list
``fsregistry/mlflow_api/names.py`` holds; see :mod:`fsreg_testing.coverage`)."""

import importlib
import inspect
import json

import mlflow
from mlflow.utils.lazy_load import LazyLoader

MODULES = [
    "mlflow.models",
    "mlflow.pyfunc",
    "mlflow.sklearn",
    "mlflow.data",
    "mlflow.artifacts",
    "mlflow.entities",
    "mlflow.tracking",
]


def _public_defined(mod):
    out = []
    for name, value in vars(mod).items():
        if name.startswith("_") or inspect.ismodule(value) or isinstance(value, LazyLoader):
            continue
        where = getattr(value, "__module__", None) or ""
        if (inspect.isfunction(value) or inspect.isclass(value)) and where.startswith(mod.__name__):
            out.append(name)
    return out


names = {
    "mlflow": sorted(
        set(mlflow.__all__) | {n for n, v in vars(mlflow).items() if isinstance(v, LazyLoader)}
    ),
    "mlflow.MlflowClient": sorted(n for n in dir(mlflow.MlflowClient) if not n.startswith("_")),
}
for module_name in MODULES:
    module = importlib.import_module(module_name)
    listed = getattr(module, "__all__", None) or _public_defined(module)
    names[module_name] = sorted(n for n in listed if not n.startswith("_"))
print(json.dumps({"version": mlflow.__version__, "names": names}))
