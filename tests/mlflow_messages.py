"""MLflow's error messages for the errors fsregistry raises, taken from MLflow's source.

One :class:`Message` per kind of error: MLflow's text as a regular expression (from MLflow
3.17.2; ``note`` says "MLflow 2.22" where 2.22.5 differs), MLflow's error code, where MLflow
raises it, and a ``trigger``: code that makes fsregistry raise it through the public API. The
trigger runs with ``c`` (a ``Client`` on the store), ``m`` (the ``fsregistry`` module, its
tracking URI set to the store), ``Param`` and the ids made by :data:`SETUP`: experiments ``E``
('e'), ``E2`` ('e2') and deleted ``ED`` ('ed'), an active run ``R`` (param p=1) and a deleted
run ``D`` in ``E``, registered models 'rm' (version 1 from ``SRC``) and 'rm2'. With
``in_mlflow3`` the same trigger runs unchanged in real MLflow 3.17.2 and must give the same
regex and code, and in 2.22.5 unless the note says otherwise (tests/test_mlflow_messages.py
checks all three).

``sites`` are the raise sites (file, a fragment of the message template) each entry covers;
:data:`ALLOWED` lists the raise sites that have no MLflow counterpart, with the reason.
fsregistry's messages start with, or contain, MLflow's text and add their detail (the bad value,
the position) after it.
"""

from __future__ import annotations

from tests.mlflow_messages_allowed import ALLOWED as _ALLOWED
from tests.mlflow_messages_allowed_evaluation import ALLOWED_EVALUATION
from tests.mlflow_messages_allowed_flavors import ALLOWED_FLAVORS
from tests.mlflow_messages_allowed_modelsa import ALLOWED_MODELSA
from tests.mlflow_messages_allowed_modelsb import ALLOWED_MODELSB
from tests.mlflow_messages_allowed_spserve import SPSERVE_ALLOWED
from tests.mlflow_messages_base import FS_SETUP, MODEL_SETUP, SETUP, Allowed, Message
from tests.mlflow_messages_data import DATA
from tests.mlflow_messages_deep_flavors import DEEP_FLAVORS
from tests.mlflow_messages_evaluation import EVALUATION
from tests.mlflow_messages_flavors import FLAVORS
from tests.mlflow_messages_inputs import INPUTS
from tests.mlflow_messages_logged_models import LOGGED_MODELS
from tests.mlflow_messages_metrics import ARTIFACTS, METRICS
from tests.mlflow_messages_models import MODELS
from tests.mlflow_messages_modelsa import MODELSA
from tests.mlflow_messages_modelsb import MODELSB
from tests.mlflow_messages_registry import REGISTRY
from tests.mlflow_messages_spserve import SPSERVE
from tests.mlflow_messages_tracking import TRACKING

MESSAGES: tuple[Message, ...] = (
    TRACKING
    + REGISTRY
    + LOGGED_MODELS
    + MODELS
    + SPSERVE
    + MODELSA
    + INPUTS
    + MODELSB
    + EVALUATION
    + ARTIFACTS
    + METRICS
    + DATA
    + FLAVORS
    + DEEP_FLAVORS
)
ALLOWED: tuple[Allowed, ...] = (
    _ALLOWED
    + SPSERVE_ALLOWED
    + ALLOWED_MODELSA
    + ALLOWED_MODELSB
    + ALLOWED_EVALUATION
    + ALLOWED_FLAVORS
)

__all__ = ["ALLOWED", "FS_SETUP", "MESSAGES", "MODEL_SETUP", "SETUP", "Allowed", "Message"]
