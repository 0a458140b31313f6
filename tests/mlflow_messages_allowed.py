"""Raise sites of fsregistry with no MLflow counterpart, each with its reason (see
tests/mlflow_messages.py)."""

from __future__ import annotations

from tests.mlflow_messages_base import Allowed

_FSREG_ONLY_NAME = (
    "fsregistry-only: model names are directory and object-key names, so fsregistry refuses "
    "names MLflow's stores accept but other systems (Windows, object stores, listings) cannot "
    "hold or show"
)
_TYPE_CHECK = (
    "fsregistry-only argument type check: MLflow fails later with a TypeError or "
    "AttributeError of its own, not an MlflowException"
)
_CAS = (
    "fsregistry-only: a compare-and-swap lost to other writers too often, or a rename is in "
    "progress; MLflow's stores do not write concurrently safely, so have no such error"
)

_MODEL_ID_TYPE = (
    "fsregistry-only argument type check: a model id that is not a string, at the store (the "
    'client refuses it first with MLflow\'s "`model_id` must be a non-empty string"); '
    "MLflow's file store looks it up as text and answers \"Model '5' not found\""
)

ALLOWED: tuple[Allowed, ...] = (
    # -- whole folders -------------------------------------------------------------------------
    Allowed(
        "fsregistry/storage/",
        "",
        "storage layer: I/O, permission, quota, missing bucket "
        "and path-conflict errors of local disk, S3 and GCS; MLflow's file store raises "
        "raw OSError for these",
    ),
    Allowed(
        "fsregistry/maintenance/",
        "",
        "fsreg gc/doctor/repair: command-line errors, not store API errors; gc's refusals "
        "(a run or experiment not deleted, or not old enough, an unknown id, a bad "
        "--older-than) carry `mlflow gc`'s texts (mlflow/cli/__init__.py), checked in "
        "tests/test_cli_health.py::test_gc_removes_deleted_runs_and_experiments; doctor and "
        "repair have no MLflow counterpart",
    ),
    Allowed("fsregistry/cli/", "", "fsreg command line: no MLflow counterpart"),
    Allowed(
        "fsregistry/registry/history.py",
        "",
        "the registry audit trail (Client.get_model_history): an fsregistry extension, "
        "no MLflow counterpart",
    ),
    Allowed(
        "fsregistry/export/",
        "",
        "fsreg export/import (MLflow's database, Parquet): no MLflow counterpart; errors name "
        "the database URL or the missing package",
    ),
    Allowed(
        "fsregistry/mlflow_plugin/",
        "",
        "the MLflow store plugin's own URI parsing and refusals (write gate, version gate); "
        "store errors pass through with MLflow's codes, tested against MLflow's server",
    ),
    Allowed(
        "fsregistry/media.py",
        "",
        "log_figure/log_image/log_table/load_table argument checks: outside the stores this "
        "table covers; where MLflow has a message (load_table, log_table) it is used verbatim",
    ),
    Allowed("fsregistry/fluent.py", "log_input", _TYPE_CHECK),
    Allowed(
        "fsregistry/artifacts.py",
        "",
        "fsregistry-only argument checks of "
        "download_artifacts/load_* (MLflow resolves through its artifact repositories)",
    ),
    Allowed(
        "fsregistry/uris.py",
        "",
        "fsregistry's resolution of runs:/ and models:/ URIs "
        "against a store; MLflow's wording lives in its artifact repositories",
    ),
    # -- single sites --------------------------------------------------------------------------
    Allowed(
        "fsregistry/mlruns/validation.py",
        "<message>",
        "_fail forwards a message built at its call sites, each checked on its own",
    ),
    Allowed(
        "fsregistry/mlruns/validation.py",
        "contains a NUL character",
        "fsregistry-only: NUL cannot be stored in file names or read back from MLflow's files",
    ),
    Allowed(
        "fsregistry/mlruns/validation.py",
        "is a lone surrogate",
        "fsregistry-only: UTF-8 cannot encode it; MLflow fails with UnicodeEncodeError",
    ),
    Allowed(
        "fsregistry/mlruns/validation.py",
        "str() refused it",
        "fsregistry-only: str() of the value raises; MLflow lets that ValueError out",
    ),
    Allowed("fsregistry/mlruns/validation.py", "must be an integer (milliseconds)", _TYPE_CHECK),
    Allowed(
        "fsregistry/mlruns/validation.py",
        "must be between 0 and 2**63 - 1 ms",
        "fsregistry-only: a run time outside int64, which MLflow's SQL store cannot hold either",
    ),
    Allowed("fsregistry/mlruns/validation.py", "Invalid registered model name", _FSREG_ONLY_NAME),
    Allowed("fsregistry/mlruns/validation.py", "Invalid dataset", _TYPE_CHECK),
    Allowed("fsregistry/mlruns/validation.py", "Invalid tag", _TYPE_CHECK),
    Allowed(
        "fsregistry/mlruns/artifact_uris.py",
        "",
        "fsregistry-only: an artifact location "
        "fsregistry cannot append experiment and run paths to (MLflow writes such URIs "
        "unchecked)",
    ),
    Allowed(
        "fsregistry/mlruns/uris.py",
        "Not a proper models:/ URI",
        "already MLflow's text (mlflow/store/artifact/utils/models.py:_improper_model_uri_msg)",
    ),
    Allowed("fsregistry/registry/claims.py", "Could not claim", _CAS),
    Allowed("fsregistry/registry/claims.py", "cannot be created yet", _CAS),
    Allowed("fsregistry/registry/edits.py", "too contended", _CAS),
    Allowed("fsregistry/registry/rename.py", "kept changing during the rename", _CAS),
    Allowed("fsregistry/registry/rename.py", "vanished during the rename", _CAS),
    Allowed("fsregistry/tracking/experiments.py", "Could not allocate an experiment id", _CAS),
    Allowed(
        "fsregistry/tracking/experiments.py",
        "vanished",
        "fsregistry-only: the meta.yaml was "
        "deleted between two reads of one call (a concurrent delete)",
    ),
    Allowed(
        "fsregistry/fluent.py",
        "vanished",
        "fsregistry-only: the experiment was deleted "
        "between two reads of one call (a concurrent delete)",
    ),
    Allowed("fsregistry/registry/claims.py", "Invalid model version source", _TYPE_CHECK),
    Allowed(
        "fsregistry/registry/claims.py",
        "no resolver given",
        "internal: the store was called without the locator the client always gives",
    ),
    Allowed(
        "fsregistry/registry/copies.py",
        "No model files found",
        "fsregistry-only: copy_model_version across registries found no files to copy",
    ),
    Allowed(
        "fsregistry/registry/edits.py",
        "it collides with an existing key",
        "fsregistry-only: "
        "keys are file paths, so 'a' and 'a/b' cannot both exist (MLflow's file store fails "
        "with an OSError)",
    ),
    Allowed(
        "fsregistry/tracking/runs.py",
        "it collides with an existing key",
        "fsregistry-only: "
        "keys are file paths, so 'a' and 'a/b' cannot both exist (MLflow's file store fails "
        "with an OSError)",
    ),
    Allowed(
        "fsregistry/registry/fields.py",
        "must be >= 1",
        "deliberate: a version below 1 is "
        "refused as input (INVALID_PARAMETER_VALUE) before any read; MLflow looks it up and "
        "answers RESOURCE_DOES_NOT_EXIST 'Model Version (name=..., version=0) not found'",
    ),
    Allowed("fsregistry/registry/fields.py", "must be a string", _TYPE_CHECK),
    Allowed("fsregistry/registry/prompts.py", "Invalid prompt tags", _TYPE_CHECK),
    Allowed(
        "fsregistry/registry/queries.py",
        "records no location",
        "fsregistry-only: a version "
        "whose meta.yaml has neither storage_location nor source (damaged)",
    ),
    Allowed("fsregistry/registry/queries.py", "Invalid stages", _TYPE_CHECK),
    Allowed(
        "fsregistry/registry/queries.py",
        "names a logged model, not a version",
        "fsregistry-only: a models:/m-<id> URI where a registered version is needed",
    ),
    Allowed(
        "fsregistry/registry/queries.py",
        "No versions of model with name",
        "already "
        "MLflow's text (mlflow/store/artifact/utils/models.py:_get_latest_model_version), "
        "raised resolving models:/<name>/<stage|latest>",
    ),
    Allowed(
        "fsregistry/search/order.py",
        "Invalid order_by",
        "fsregistry-only: order_by given "
        "as a string or a non-list (MLflow iterates a string character by character)",
    ),
    Allowed("fsregistry/tracking/run_search.py", "experiment_ids must be a list", _TYPE_CHECK),
    Allowed("fsregistry/tracking/runs.py", "Invalid run name", _TYPE_CHECK),
    Allowed("fsregistry/tracking/store.py", "Invalid models", _TYPE_CHECK),
    Allowed(
        "fsregistry/artifacts.py",
        "for downloaded artifacts cannot be created",
        "fsregistry-only: the OSError MLflow lets through when download_artifacts cannot "
        "create dst_path",
    ),
    Allowed("fsregistry/tracking/store.py", "Invalid item", _TYPE_CHECK),
    Allowed("fsregistry/tracking/logged_models/writing.py", "Invalid models", _TYPE_CHECK),
    Allowed("fsregistry/tracking/logged_models/writing.py", "Invalid item", _TYPE_CHECK),
    Allowed(
        "fsregistry/tracking/logged_models/writing.py",
        "Invalid step",
        "fsregistry-only: log_outputs with a step that is no integer; MLflow's file store "
        "writes it into the output's meta.yaml, which its reader then fails on",
    ),
    Allowed("fsregistry/fluent_more.py", "log_inputs expects", _TYPE_CHECK),
    Allowed(
        "fsregistry/tracking/runs.py",
        "Batch too large",
        "fsregistry-only: a bound ten times "
        "MLflow's server limits (MLflow's file store has none) so one call cannot write "
        "unbounded files",
    ),
    Allowed("fsregistry/tracking/runs.py", "expected a list of", _TYPE_CHECK),
    Allowed("fsregistry/tracking/runs.py", "Invalid item", _TYPE_CHECK),
    Allowed(
        "fsregistry/tracking/runs.py",
        "is not a JSON list",
        "fsregistry-only: the run's "
        "mlflow.log-model.history tag is damaged; MLflow would overwrite it",
    ),
    Allowed(
        "fsregistry/tracking/experiments.py",
        "Invalid artifact location",
        "fsregistry-only: an artifact location that is not a string, or a runs:/ / models:/ URI",
    ),
    Allowed("fsregistry/client.py", "log_text expects a str", _TYPE_CHECK),
    Allowed(
        "fsregistry/client_registry.py",
        "Give exactly one of version and stage",
        "fsregistry-only "
        "check of set/delete_model_version_tag arguments (MLflow asserts with its own text)",
    ),
    Allowed("fsregistry/client_registry.py", "needs a tag key", _TYPE_CHECK),
    Allowed(
        "fsregistry/client_registry.py",
        "Unsupported source model URI",
        "fsregistry-only: "
        "copy_model_version of a URI that names no registered version (MLflow: "
        "INTERNAL_ERROR from its URI parser)",
    ),
    Allowed(
        "fsregistry/fluent.py",
        "belongs to experiment",
        "fsregistry-only: start_run(run_id=, "
        "experiment_id=) naming two different experiments (MLflow ignores experiment_id)",
    ),
    Allowed(
        "fsregistry/fluent.py",
        "is not the active run",
        "fsregistry-only: parent_run_id "
        "that is not the active run (MLflow 3 raises a plain Exception with its own text)",
    ),
    Allowed("fsregistry/fluent.py", "Invalid artifact path", _TYPE_CHECK),
    Allowed(
        "fsregistry/fluent.py", "for parameter 'max_results': it must be an integer", _TYPE_CHECK
    ),
    # MalformedMetaFile (found once the scan followed exception subclasses).
    Allowed(
        "fsregistry/mlruns/metafile.py",
        "Malformed meta file",
        "fsregistry-only: a meta.yaml that is empty, not YAML or not a mapping; MLflow's file "
        "store lets yaml's error out or fails reading the None it parses",
    ),
    Allowed(
        "fsregistry/tracking/records.py",
        "Malformed metric file",
        "fsregistry-only: a metric line that does not parse; MLflow's file store lets "
        "int()/float()'s ValueError out (its 'is malformed' text is for a wrong field count)",
    ),
    # -- models/ and pyfunc/ ------------------------------------------------------------------------
    # Compared with MLflow 3.17.2 (tests/mlflow_messages_models.py); these sites have no MLflow
    # counterpart.
    Allowed(
        "fsregistry/models/enforcement.py",
        "Column {} cannot be converted to {}: {}",
        "fsregistry-only: MLflow lets numpy's ValueError out of np.array(column, dtype=...) "
        "(predict wraps it as 'Failed to enforce schema of data ... Error: <numpy's text>', as "
        "fsregistry's wrapper does); fsregistry names the column and keeps numpy's text",
    ),
    Allowed(
        "fsregistry/models/values.py",
        "Invalid data type",
        "internal: a column type that is none of DataType, Array, Object, Map, AnyType "
        "(Schema refuses those first)",
    ),
    Allowed(
        "fsregistry/models/values.py",
        "datetime values must be timezone-naive",
        "fsregistry-only: MLflow lets pandas' TypeError for a timezone-aware column out",
    ),
    Allowed(
        "fsregistry/models/values.py",
        "object params cannot have a shape",
        "fsregistry-only: an object param with shape (-1,); MLflow fails inside "
        "_enforce_param_datatype with an AttributeError of its own",
    ),
    Allowed(
        "fsregistry/pyfunc/__init__.py",
        "has no loader_module",
        "fsregistry-only: a damaged MLmodel; MLflow fails with a KeyError",
    ),
    Allowed(
        "fsregistry/pyfunc/__init__.py",
        "data_path {} does not exist",
        "fsregistry-only: MLflow's save_model copies the path and lets the OSError out "
        "after creating the model directory",
    ),
    Allowed("fsregistry/pyfunc/__init__.py", "metadata must be a dict", _TYPE_CHECK),
    Allowed(
        "fsregistry/pyfunc/__init__.py",
        "Could not pickle the python_model",
        "fsregistry-only: MLflow lets cloudpickle's error out, leaving a half-written model "
        "directory",
    ),
    Allowed(
        "fsregistry/pyfunc/loaders.py",
        "Unsupported model flavor",
        "fsregistry-only: a flavor fsregistry does not implement; MLflow imports its own "
        "loader module",
    ),
    # -- LoggedModels (MLflow 3) -----------------------------------------------------------------
    Allowed(
        "fsregistry/tracking/logged_models/reading.py",
        "Invalid logged model ID",
        _MODEL_ID_TYPE,
    ),
    Allowed(
        "fsregistry/tracking/logged_models/writing.py",
        "Invalid logged model ID",
        _MODEL_ID_TYPE,
    ),
    Allowed(
        "fsregistry/tracking/logged_models/writing.py",
        "Invalid model_type",
        "fsregistry-only: MLflow's file store writes a model_type that is not a string into "
        "meta.yaml unchecked, where readers expecting a string (the REST API's proto) fail",
    ),
    Allowed(
        "fsregistry/tracking/logged_models/writing.py",
        "Invalid source_run_id",
        "fsregistry-only: MLflow's file store writes a source_run_id that is not a string into "
        "meta.yaml unchecked, where readers expecting a run id fail",
    ),
    Allowed(
        "fsregistry/tracking/logged_models/writing.py",
        "it collides with an existing key",
        "fsregistry-only: "
        "keys are file paths, so 'a' and 'a/b' cannot both exist (MLflow's file store fails "
        "with an OSError)",
    ),
    Allowed(
        "fsregistry/tracking/logged_models/writing.py",
        "is not a JSON list",
        "fsregistry-only: the model's "
        "mlflow.modelVersions tag is damaged; MLflow's register_model fails with a raw "
        "JSONDecodeError",
    ),
    Allowed("fsregistry/tracking/logged_models/search.py", "Invalid datasets", _TYPE_CHECK),
    Allowed("fsregistry/client_logged_models.py", "must be a dict", _TYPE_CHECK),
    Allowed("fsregistry/active_model.py", "Invalid dataset", _TYPE_CHECK),
)
