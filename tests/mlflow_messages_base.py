"""The shapes of tests/mlflow_messages.py's table: :class:`Message` (one kind of MLflow error)
and :class:`Allowed` (a raise site with no MLflow counterpart), the setup triggers run on, and
MLflow's source files and error codes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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


def validation(
    kind: str,
    regex: str,
    code: str,
    source: str,
    trigger: str,
    *sites: tuple[str, str],
    **kw: object,
) -> Message:
    """An entry whose trigger involves no store (an argument or input check, or scratch model
    directories): run on local disk only."""
    return _m(kind, regex, code, source, trigger, sites, storage=False, **kw)


#: One table entry as written in the table modules: kind, regex, code, source, trigger, sites.
Entry = tuple[str, str, str, str, str, tuple[tuple[str, str], ...]]


def coded_validations(
    entries: Iterable[Entry],
    code_note: str,
    notes: Callable[[str, str], Iterable[str | None]],
    fs_codes: Mapping[str, str] | None = None,
) -> tuple[Message, ...]:
    """:func:`validation` entries where fsregistry gives InvalidParameterValue for MLflow's
    code-less errors and INTERNAL_ERROR, ``code_note`` saying so, unless ``fs_codes`` names
    fsregistry's code for the kind; ``notes(kind, trigger)`` adds the entry's other notes."""
    fs_codes = fs_codes or {}
    return tuple(
        validation(
            kind,
            regex,
            code,
            source,
            trigger,
            *sites,
            fs_code=fs_codes.get(kind) or (INVALID if code in (INTERNAL, "") else ""),
            note=" ".join(
                n
                for n in (
                    code_note if code in (INTERNAL, "") and kind not in fs_codes else "",
                    *notes(kind, trigger),
                )
                if n
            ),
        )
        for kind, regex, code, source, trigger, sites in entries
    )


@dataclass(frozen=True)
class Allowed:
    """Raise sites with no MLflow counterpart: ``path`` (a file, or a folder ending in '/'),
    a fragment of the message template ('' for every site there) and why."""

    path: str
    fragment: str
    reason: str


#: Pyfunc models for schema-enforcement triggers, the same code in MLflow 3.17.2 and fsregistry
#: (``m.pyfunc.PyFuncModel`` over an MLmodel with a signature and an echoing implementation; no
#: store involved). Column ('COLS', 'UCOLS' unnamed), tensor ('TEN' unnamed, 'NTEN'/'STEN'
#: named, 'FTEN' with a fixed first dimension), array ('ARR'), object ('OBJ') and params
#: ('PAR') signatures; ``TMPD``, a scratch directory, and ``NOPF``, a model directory whose MLmodel
#: has no python_function flavor.
MODEL_SETUP = """
import importlib
import numpy as np
import pandas as pd
from types import SimpleNamespace as _NS
T = m.types
TS = importlib.import_module(m.__name__ + ".types.schema")
_ECHO = _NS(predict=lambda d, params=None: d)
def PF(inputs=None, params=None):
    sig = m.models.ModelSignature(inputs=inputs, params=params)
    return m.pyfunc.PyFuncModel(m.models.Model(signature=sig), _ECHO)
_F64 = np.dtype("float64")
COLS = PF(T.Schema([T.ColSpec("long", "a"), T.ColSpec("string", "b")]))
UCOLS = PF(T.Schema([T.ColSpec("long"), T.ColSpec("string")]))
TEN = PF(T.Schema([T.TensorSpec(_F64, (-1, 3))]))
NTEN = PF(T.Schema([T.TensorSpec(_F64, (-1, 3), "x"), T.TensorSpec(_F64, (-1, 2), "y")]))
FTEN = PF(T.Schema([T.TensorSpec(_F64, (2, 3), "x")]))
STEN = PF(T.Schema([T.TensorSpec(_F64, (-1, 3), "x")]))
ARR = PF(T.Schema([T.ColSpec(TS.Array(T.DataType.long), "a")]))
OBJ = PF(T.Schema([T.ColSpec(TS.Object([TS.Property("k", T.DataType.long)]), "a")]))
MAP = PF(T.Schema([T.ColSpec(TS.Map(T.DataType.long), "a")]))
PAR = PF(
    T.Schema([T.ColSpec("long", "a")]),
    T.ParamSchema([
        T.ParamSpec("n", "long", 1),
        T.ParamSpec("when", "datetime", None),
        T.ParamSpec("xs", "long", [1], (-1,)),
    ]),
)
A1 = pd.DataFrame({"a": [1]})
import os, tempfile
TMPD = tempfile.mkdtemp()
NOPF = os.path.join(TMPD, "no-pyfunc")
os.makedirs(NOPF)
with open(os.path.join(NOPF, "MLmodel"), "w") as _f:
    _f.write("flavors:\\n  other: {}\\n")
"""
