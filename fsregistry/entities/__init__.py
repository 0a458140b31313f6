"""Typed entities with MLflow's field names (``mlflow.entities`` equivalents).

Each submodule loads on first use of one of its names: ``fsreg ls models`` needs the registry
entities only, and defining the tracking dataclasses costs more than its listing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fsregistry.entities.paged_list import PagedList
    from fsregistry.entities.registry import (
        ModelVersion,
        ModelVersionStatus,
        ModelVersionTag,
        RegisteredModel,
        RegisteredModelAlias,
        RegisteredModelTag,
    )
    from fsregistry.entities.tracking import (
        Dataset,
        DatasetInput,
        Experiment,
        ExperimentTag,
        FileInfo,
        InputTag,
        LifecycleStage,
        LoggedModel,
        Metric,
        Param,
        Run,
        RunData,
        RunInfo,
        RunInputs,
        RunStatus,
        RunTag,
        ViewType,
    )

_PAGED = ("PagedList",)
_REGISTRY = (
    "ModelVersion",
    "ModelVersionStatus",
    "ModelVersionTag",
    "RegisteredModel",
    "RegisteredModelAlias",
    "RegisteredModelTag",
)
_SUBMODULE = {
    **dict.fromkeys(_PAGED, "paged_list"),
    **dict.fromkeys(_REGISTRY, "registry"),
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_SUBMODULE.get(name, 'tracking')}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "ExperimentTag",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "Metric",
    "ModelVersion",
    "ModelVersionStatus",
    "ModelVersionTag",
    "PagedList",
    "Param",
    "RegisteredModel",
    "RegisteredModelAlias",
    "RegisteredModelTag",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunStatus",
    "RunTag",
    "ViewType",
]
