"""Typed entities with MLflow's field names (``mlflow.entities`` equivalents).

Each submodule loads on first use of one of its names: ``fsreg ls models`` needs the registry
entities only, and defining the tracking dataclasses costs more than its listing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fsregistry.namespace import lazy_namespace

if TYPE_CHECKING:
    from fsregistry.entities.history import (
        ModelEvent as ModelEvent,
    )
    from fsregistry.entities.logged_models import (
        LoggedModelInput as LoggedModelInput,
    )
    from fsregistry.entities.logged_models import (
        LoggedModelOutput as LoggedModelOutput,
    )
    from fsregistry.entities.logged_models import (
        LoggedModelParameter as LoggedModelParameter,
    )
    from fsregistry.entities.logged_models import (
        LoggedModelStatus as LoggedModelStatus,
    )
    from fsregistry.entities.logged_models import (
        LoggedModelTag as LoggedModelTag,
    )
    from fsregistry.entities.paged_list import PagedList as PagedList
    from fsregistry.entities.registry import (
        ModelVersion as ModelVersion,
    )
    from fsregistry.entities.registry import (
        ModelVersionStatus as ModelVersionStatus,
    )
    from fsregistry.entities.registry import (
        ModelVersionTag as ModelVersionTag,
    )
    from fsregistry.entities.registry import (
        Prompt as Prompt,
    )
    from fsregistry.entities.registry import (
        RegisteredModel as RegisteredModel,
    )
    from fsregistry.entities.registry import (
        RegisteredModelAlias as RegisteredModelAlias,
    )
    from fsregistry.entities.registry import (
        RegisteredModelTag as RegisteredModelTag,
    )
    from fsregistry.entities.tracking import (
        Dataset as Dataset,
    )
    from fsregistry.entities.tracking import (
        DatasetInput as DatasetInput,
    )
    from fsregistry.entities.tracking import (
        Experiment as Experiment,
    )
    from fsregistry.entities.tracking import (
        ExperimentTag as ExperimentTag,
    )
    from fsregistry.entities.tracking import (
        FileInfo as FileInfo,
    )
    from fsregistry.entities.tracking import (
        InputTag as InputTag,
    )
    from fsregistry.entities.tracking import (
        LifecycleStage as LifecycleStage,
    )
    from fsregistry.entities.tracking import (
        LoggedModel as LoggedModel,
    )
    from fsregistry.entities.tracking import (
        Metric as Metric,
    )
    from fsregistry.entities.tracking import (
        Param as Param,
    )
    from fsregistry.entities.tracking import (
        Run as Run,
    )
    from fsregistry.entities.tracking import (
        RunData as RunData,
    )
    from fsregistry.entities.tracking import (
        RunInfo as RunInfo,
    )
    from fsregistry.entities.tracking import (
        RunInputs as RunInputs,
    )
    from fsregistry.entities.tracking import (
        RunOutputs as RunOutputs,
    )
    from fsregistry.entities.tracking import (
        RunStatus as RunStatus,
    )
    from fsregistry.entities.tracking import (
        RunTag as RunTag,
    )
    from fsregistry.entities.tracking import (
        ViewType as ViewType,
    )

__getattr__, __dir__, __all__ = lazy_namespace(__name__, __file__)
