"""The shapes of tests/mlflow_messages.py's table: :class:`Message` (one kind of MLflow error)
and :class:`Allowed` (a raise site with no MLflow counterpart), the setup triggers run on, and
MLflow's source files and error codes."""

from __future__ import annotations

from dataclasses import dataclass

INVALID = "INVALID_PARAMETER_VALUE"
MISSING = "RESOURCE_DOES_NOT_EXIST"
EXISTS = "RESOURCE_ALREADY_EXISTS"
STATE = "INVALID_STATE"
INTERNAL = "INTERNAL_ERROR"

#: Builds the objects triggers use (the same code runs in MLflow 3.17.2 and in fsregistry).
SETUP = """
m.set_tracking_uri(URI)
m.set_registry_uri(URI)
c = MlflowClient(tracking_uri=URI, registry_uri=URI)
E = c.create_experiment("e")
E2 = c.create_experiment("e2")
ED = c.create_experiment("ed")
c.delete_experiment(ED)
R = c.create_run(E).info.run_id
c.log_param(R, "p", 1)
D = c.create_run(E).info.run_id
c.delete_run(D)
c.create_registered_model("rm")
c.create_registered_model("rm2")
SRC = c.get_run(R).info.artifact_uri + "/model"
c.create_model_version("rm", SRC, run_id=R)
"""

#: fsregistry only (MLflow 3's side is in tests/test_prompt_refusals.py): a prompt 'pr' with a
#: version as MLflow's ``register_prompt`` writes it (tagged).
FS_SETUP = """
c.create_prompt("pr")
c.registry_store.create_model_version("pr", SRC, tags={"mlflow.prompt.is_prompt": "true"})
"""

FS = "mlflow/store/tracking/file_store.py"
MR = "mlflow/store/model_registry/file_store.py"
VAL = "mlflow/utils/validation.py"
SU = "mlflow/utils/search_utils.py"
FLUENT = "mlflow/tracking/fluent.py"


@dataclass(frozen=True)
class Message:
    """One kind of error: MLflow's text and code, and how to make fsregistry raise it."""

    kind: str
    regex: str
    code: str
    source: str
    trigger: str
    sites: tuple[tuple[str, str], ...]
    #: The same trigger gives the same regex and code in MLflow 3.17.2.
    in_mlflow3: bool = True
    #: The trigger reads or writes the store (run on every backend), else it is validation.
    storage: bool = True
    #: Where MLflow 2.22.5 differs, or why fsregistry's code or acceptance differs.
    note: str = ""
    #: fsregistry's code where it deliberately differs from ``code`` ('' when MLflow raises a
    #: plain Exception or ValueError, which has none); the reason is in ``note``.
    fs_code: str = ""
    #: Run before the trigger, with ``fs`` and ``root`` (the store's fsspec filesystem and
    #: root): damages the store for errors only a damaged store gives.
    prepare: str = ""


def _m(*args: object, **kwargs: object) -> Message:
    return Message(*args, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Allowed:
    """Raise sites with no MLflow counterpart: ``path`` (a file, or a folder ending in '/'),
    a fragment of the message template ('' for every site there) and why."""

    path: str
    fragment: str
    reason: str
