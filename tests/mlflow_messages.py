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


MESSAGES: tuple[Message, ...] = (
    # -- experiments ---------------------------------------------------------------------------
    _m(
        "delete_default_experiment",
        r"Cannot delete the default experiment '0'\. This is an internally reserved experiment\.",
        INTERNAL,
        f"{FS}:FileStore.delete_experiment",
        "c.delete_experiment('0')",
        (("fsregistry/tracking/experiments.py", "Cannot delete the default experiment"),),
    ),
    _m(
        "experiment_not_found",
        r"Could not find experiment with ID 98765",
        MISSING,
        f"{FS}:FileStore._get_experiment",
        "c.get_experiment('98765')",
        (("fsregistry/tracking/experiments.py", "Could not find experiment with ID {}"),),
    ),
    _m(
        "experiment_meta_missing",
        r"Experiment '\S+' does not exist\.",
        MISSING,
        f"{FS}:FileStore._get_experiment (meta.yaml names another id)",
        "c.get_experiment('12345')",
        (("fsregistry/tracking/experiments.py", "Experiment '{}' does not exist."),),
        in_mlflow3=False,  # tests/test_tracking_fidelity.py compares it with MLflow
        prepare="X = c.create_experiment('moved')\n"
        "fs.copy(f'{root}/{X}', f'{root}/12345', recursive=True)\n"
        "fs.rm(f'{root}/{X}', recursive=True)",
    ),
    _m(
        "yaml_missing",
        r"Yaml file '.*' does not exist\.",
        INTERNAL,
        "mlflow/utils/file_utils.py:read_yaml (MissingConfigException)",
        "c.get_experiment(X)",
        (
            ("fsregistry/tracking/experiments.py", "Yaml file '{}' does not exist."),
            ("fsregistry/tracking/locations.py", "Yaml file '{}' does not exist."),
        ),
        in_mlflow3=False,  # tests/test_tracking_fidelity.py compares it with MLflow
        prepare="X = c.create_experiment('bare')\nc.create_run(X)\nfs.rm(f'{root}/{X}/meta.yaml')",
    ),
    _m(
        "experiment_exists",
        r"Experiment 'e' already exists\.",
        EXISTS,
        f"{FS}:FileStore._validate_experiment_does_not_exist",
        "c.create_experiment('e')",
        (("fsregistry/tracking/experiments.py", "Experiment '{}' already exists{}."),),
    ),
    _m(
        "experiment_name_empty",
        r"Invalid experiment name: ''",
        INVALID,
        f"{VAL}:_validate_experiment_name",
        "c.create_experiment('')",
        (
            ("fsregistry/mlruns/validation.py", "Invalid experiment name: {} (must not be empty)"),
            ("fsregistry/mlruns/validation.py", "Invalid experiment name: {} (contains a NUL"),
        ),
        storage=False,
    ),
    _m(
        "experiment_name_not_string",
        r"Invalid experiment name: 'None'",
        INVALID,
        f"{VAL}:_validate_experiment_name",
        "c.create_experiment(None)",
        (("fsregistry/mlruns/validation.py", "Invalid experiment name: {} (must be a string)"),),
        storage=False,
    ),
    _m(
        "experiment_name_too_long",
        r"'name' exceeds the maximum length of 500 characters",
        INVALID,
        f"{VAL}:_validate_experiment_name",
        "c.create_experiment('x' * 600)",
        (("fsregistry/mlruns/validation.py", "{} (invalid experiment name {}...)"),),
        storage=False,
    ),
    _m(
        "experiment_id_invalid",
        r"Invalid experiment ID: '\.\./x'",
        INVALID,
        f"{VAL}:_validate_experiment_id",
        "c.get_experiment('../x')",
        (("fsregistry/mlruns/validation.py", "Invalid experiment ID: {}"),),
        storage=False,
    ),
    _m(
        "rename_deleted_experiment",
        r"Cannot rename experiment in non-active lifecycle stage\. Current stage: deleted",
        "",
        f"{FS}:FileStore.rename_experiment",
        "c.rename_experiment(ED, 'zz')",
        (("fsregistry/tracking/experiments.py", "Cannot rename experiment in non-active"),),
        in_mlflow3=False,
        note="MLflow raises a plain Exception (no error code); fsregistry: INVALID_STATE",
        fs_code=STATE,
    ),
    _m(
        "delete_deleted_experiment",
        r"Could not find experiment with ID \d+",
        MISSING,
        f"{FS}:FileStore.delete_experiment",
        "c.delete_experiment(ED)",
        (("fsregistry/tracking/experiments.py", "(it is already deleted)"),),
    ),
    _m(
        "restore_active_experiment",
        r"Could not find deleted experiment with ID \d+",
        MISSING,
        f"{FS}:FileStore.restore_experiment",
        "c.restore_experiment(E)",
        (("fsregistry/tracking/experiments.py", "Could not find deleted experiment with ID"),),
    ),
    _m(
        "experiment_tag_on_deleted",
        r"The experiment \d+ must be in the 'active' lifecycle_stage to set tags",
        INVALID,
        f"{FS}:FileStore.set_experiment_tag",
        "c.set_experiment_tag(ED, 'k', 'v')",
        (("fsregistry/tracking/experiments.py", "lifecycle_stage to set tags"),),
    ),
    _m(
        "experiment_tag_missing",
        r"No tag with name: nope in experiment with id \d+",
        MISSING,
        f"{FS}:FileStore.delete_experiment_tag",
        "c.delete_experiment_tag(E, 'nope')",
        (("fsregistry/tracking/experiments.py", "No tag with name: {} in experiment with id"),),
        note="MLflow 2.22's client has no delete_experiment_tag",
    ),
    # -- runs ----------------------------------------------------------------------------------
    _m(
        "run_not_found",
        r"Run 'abcdef0123' not found",
        MISSING,
        f"{FS}:FileStore._get_run_info",
        "c.get_run('abcdef0123')",
        (
            ("fsregistry/tracking/locations.py", "Run '{}' not found"),
            ("fsregistry/tracking/locations.py", "Run '{}' not found"),
        ),
    ),
    _m(
        "run_metadata_invalid",
        r"Run '\S+' metadata is in invalid state\.",
        STATE,
        f"{FS}:FileStore._get_run_info_from_dir",
        "c.get_run(B)",
        (("fsregistry/tracking/locations.py", "metadata is in invalid state"),),
        in_mlflow3=False,  # tests/test_tracking_fidelity.py compares it with MLflow
        prepare="X = c.create_experiment('there')\n"
        "B = c.create_run(E).info.run_id\n"
        "p = f'{root}/{E}/{B}/meta.yaml'\n"
        "fs.pipe_file(p, fs.cat_file(p).replace(f\"experiment_id: '{E}'\".encode(), "
        "f\"experiment_id: '{X}'\".encode()))",
    ),
    _m(
        "run_id_invalid",
        r"Invalid value \"\.\./x\" for parameter 'run_id' supplied",
        INVALID,
        f"{VAL}:_validate_run_id",
        "c.get_run('../x')",
        (("fsregistry/mlruns/validation.py", "(Invalid run ID {}: expected letters"),),
        storage=False,
    ),
    _m(
        "create_run_in_deleted_experiment",
        r"Could not create run under non-active experiment with ID \d+\.",
        STATE,
        f"{FS}:FileStore.create_run",
        "c.create_run(ED)",
        (("fsregistry/tracking/runs.py", "Could not create run under non-active experiment"),),
    ),
    _m(
        "run_not_active",
        r"The run \w+ must be in 'active' lifecycle_stage\.",
        INVALID,
        "mlflow/entities/run_info.py:check_run_is_active",
        "c.set_tag(D, 't', 'v')",
        (("fsregistry/tracking/runs.py", "must be in 'active' lifecycle_stage"),),
    ),
    _m(
        "run_tag_missing",
        r"No tag with name: nope in run with id \w+",
        MISSING,
        f"{FS}:FileStore.delete_tag",
        "c.delete_tag(R, 'nope')",
        (("fsregistry/tracking/runs.py", "No tag with name: {} in run with id {}"),),
    ),
    _m(
        "param_changed",
        r"Changing param values is not allowed\. Param with key='p' was already logged with "
        r"value='1' for run ID='\w+'\. Attempted logging new value '2'\.",
        INVALID,
        f"{FS}:FileStore._log_run_param",
        "c.log_param(R, 'p', 2)",
        (("fsregistry/tracking/runs.py", "Changing param values is not allowed"),),
    ),
    _m(
        "duplicate_param_keys",
        r"Duplicate parameter keys have been submitted: \['q'\]\. Please ensure the request "
        r"contains only one param value per param key\.",
        INVALID,
        f"{VAL}:_validate_param_keys_unique",
        "c.log_batch(R, params=[Param('q', '1'), Param('q', '2')])",
        (("fsregistry/tracking/runs.py", "Duplicate parameter keys have been submitted"),),
    ),
    _m(
        "key_bad_characters",
        r"Invalid value \"a!b\" for parameter 'key' supplied: Names may only contain "
        r"alphanumerics, underscores \(_\), dashes \(-\), periods \(\.\), spaces \( \), "
        r"colon\(:\) and slashes \(/\)\.",
        INVALID,
        f"{VAL}:_validate_metric_name / validate_param_and_metric_name",
        "c.log_param(R, 'a!b', 1)",
        (("fsregistry/mlruns/validation.py", "{} (invalid {} {})"),),
        storage=False,
    ),
    _m(
        "key_resolves_elsewhere",
        r"Invalid value \"a/\.\./b\" for parameter 'key' supplied: Names may be treated as "
        r"files in certain cases, and must not resolve to other names when treated as such\. "
        r"This name would resolve to 'b'",
        INVALID,
        f"{VAL}:bad_path_message",
        "c.log_param(R, 'a/../b', 1)",
        (("fsregistry/mlruns/validation.py", "Names may be treated as files"),),
        storage=False,
    ),
    _m(
        "key_too_long",
        r"'Param key' exceeds the maximum length of 250 characters",
        INVALID,
        f"{VAL}:_validate_param",
        "c.log_param(R, 'k' * 300, 1)",
        (("fsregistry/mlruns/validation.py", "{} (invalid {} {}...)"),),
        storage=False,
    ),
    _m(
        "key_not_string",
        r"Invalid value 5 for parameter 'key' supplied",
        INVALID,
        f"{VAL}:invalid_value",
        "c.set_tag(R, 5, 'v')",
        (("fsregistry/mlruns/validation.py", "{} (invalid {})"),),
        storage=False,
        in_mlflow3=False,
        note="MLflow's file store str()s a non-string key; fsregistry refuses it",
    ),
    _m(
        "key_empty",
        r"Missing value for required parameter 'key'\.",
        INVALID,
        f"{VAL}:missing_value",
        "c.set_tag(R, '', 'v')",
        (("fsregistry/mlruns/validation.py", "Missing value for required parameter 'key'"),),
        storage=False,
        in_mlflow3=False,
        note="MLflow's file store refuses it with a path error",
    ),
    _m(
        "param_value_too_long",
        r"'Param value' exceeds the maximum length of 6000 characters",
        INVALID,
        f"{VAL}:_validate_param (and the SQL store)",
        "c.log_param(R, 'k', 'v' * 7000)",
        (("fsregistry/mlruns/validation.py", "exceeds the maximum length of {} characters"),),
        storage=False,
        in_mlflow3=False,
        note="MLflow's file store accepts it (its validation truncates); fsregistry keeps the "
        "limit MLflow's SQL store and server apply",
    ),
    _m(
        "metric_not_a_number",
        r"Invalid value \"x\" for parameter 'value' supplied: .*Please specify value as a "
        r"valid double \(64-bit floating point\)",
        INVALID,
        f"{VAL}:_validate_metric",
        "c.log_metric(R, 'm', 'x')",
        (("fsregistry/mlruns/validation.py", "invalid_value('value', value"),),
        storage=False,
    ),
    _m(
        "metric_bad_timestamp",
        r"Invalid value \"x\" for parameter 'timestamp' supplied: metric 'm'.*Timestamp must "
        r"be a nonnegative long \(64-bit integer\)",
        INVALID,
        f"{VAL}:_validate_metric",
        "c.log_metric(R, 'm', 1.0, timestamp='x')",
        (("fsregistry/mlruns/validation.py", "invalid_value('timestamp'"),),
        storage=False,
    ),
    _m(
        "metric_bad_step",
        r"Invalid value \"x\" for parameter 'step' supplied: metric 'm'.*Step must be a "
        r"valid long \(64-bit integer\)\.",
        INVALID,
        f"{VAL}:_validate_metric",
        "c.log_metric(R, 'm', 1.0, step='x')",
        (("fsregistry/mlruns/validation.py", "invalid_value('step'"),),
        storage=False,
    ),
    _m(
        "run_name_conflict",
        r"Both 'run_name' argument and 'mlflow\.runName' tag are specified, but with "
        r"different values \(run_name='a', mlflow\.runName='b'\)\.",
        INVALID,
        f"{FS}:FileStore.create_run",
        "c.create_run(E, run_name='a', tags={'mlflow.runName': 'b'})",
        (("fsregistry/tracking/runs.py", "Both 'run_name' argument"),),
    ),
    _m(
        "run_status_invalid",
        r"Could not get run status corresponding to string BOGUS\. Valid run status strings",
        "",
        "mlflow/entities/run_status.py:RunStatus.from_string",
        "c.set_terminated(R, status='BOGUS')",
        (("fsregistry/entities/tracking.py", "Could not get run status corresponding"),),
        in_mlflow3=False,
        note="MLflow raises a plain Exception; fsregistry: INVALID_PARAMETER_VALUE",
        fs_code=INVALID,
    ),
    _m(
        "view_type_invalid",
        r"Could not get valid view type corresponding to string bogus\.",
        "",
        "mlflow/entities/view_type.py:ViewType.from_string",
        "c.search_experiments(view_type='bogus')",
        (("fsregistry/entities/tracking.py", "Could not get valid view type"),),
        in_mlflow3=False,
        note="MLflow raises a plain Exception (from from_string); fsregistry: "
        "INVALID_PARAMETER_VALUE",
        fs_code=INVALID,
    ),
    _m(
        "runs_uri_improper",
        r"Not a proper runs:/ URI: runs:/\. Runs URIs must be of the form "
        r"'runs:/<run_id>/run-relative/path/to/artifact'",
        INTERNAL,
        "mlflow/store/artifact/runs_artifact_repo.py:RunsArtifactRepository.parse_runs_uri",
        "m.artifacts.download_artifacts('runs:/')",
        (("fsregistry/mlruns/uris.py", "Not a proper runs:/ URI"),),
        note="deliberate: INVALID_PARAMETER_VALUE, the URI is the caller's input (MLflow: "
        "INTERNAL_ERROR, MlflowException's default)",
        fs_code=INVALID,
    ),
    _m(
        "logged_model_not_found",
        r"Model 'm-nope' not found",
        MISSING,
        f"{FS}:FileStore.get_logged_model",
        "c.get_logged_model('m-nope')",
        (("fsregistry/tracking/logged_models.py", "Model '{}' not found"),),
        note="MLflow 2.22 has no logged models",
    ),
    # -- searches ------------------------------------------------------------------------------
    _m(
        "max_results_experiments_low",
        r"Invalid value -1 for parameter 'max_results' supplied\. It must be a positive integer",
        INVALID,
        f"{FS}:FileStore.search_experiments",
        "c.search_experiments(max_results=-1)",
        (("fsregistry/search/paging.py", "_too_small"),),
    ),
    _m(
        "max_results_experiments_high",
        r"Invalid value 60000 for parameter 'max_results' supplied\. It must be at most 50000",
        INVALID,
        f"{FS}:FileStore.search_experiments",
        "c.search_experiments(max_results=60000)",
        (("fsregistry/search/paging.py", "supplied. It must be at most"),),
    ),
    _m(
        "max_results_runs_high",
        r"Invalid value for request parameter max_results\. It must be at most 50000, but got "
        r"value 60000",
        INVALID,
        f"{FS}:FileStore._search_runs",
        "c.search_runs([E], max_results=60000)",
        (("fsregistry/search/paging.py", "Invalid value for request parameter max_results"),),
    ),
    _m(
        "max_results_runs_low",
        r"Invalid value -1 for parameter 'max_results' supplied\. It must be a non-negative "
        r"integer",
        "",
        f"{FS}:FileStore.search_experiments (its text)",
        "c.search_runs([E], max_results=-1)",
        (("fsregistry/tracking/runs.py", "It must be a non-negative integer"),),
        in_mlflow3=False,
        note="MLflow's file store returns an empty page for a negative max_results; "
        "fsregistry refuses it",
        fs_code=INVALID,
    ),
    _m(
        "max_results_models_low",
        r"Invalid value for max_results\. It must be a positive integer, but got -1",
        INVALID,
        f"{MR}:FileStore.search_registered_models",
        "c.search_registered_models(max_results=-1)",
        (("fsregistry/search/paging.py", "_too_small"),),
    ),
    _m(
        "max_results_models_high",
        r"Invalid value for request parameter max_results\. It must be at most 1000, but got "
        r"value 60000",
        INVALID,
        f"{MR}:FileStore.search_registered_models",
        "c.search_registered_models(max_results=60000)",
        (("fsregistry/search/paging.py", "Invalid value for request parameter max_results"),),
    ),
    _m(
        "max_results_versions_low",
        r"Invalid value for max_results\. It must be a positive integer, but got -1",
        INVALID,
        f"{MR}:FileStore.search_model_versions",
        "c.search_model_versions(max_results=-1)",
        (("fsregistry/search/paging.py", "_too_small"),),
    ),
    _m(
        "page_token_not_base64",
        r"Invalid page token, could not base64-decode",
        INVALID,
        f"{SU}:SearchUtils.parse_start_offset_from_page_token",
        "c.search_runs([E], page_token='notbase64!')",
        (("fsregistry/search/paging.py", "Invalid page token, {}"),),
    ),
    _m(
        "page_token_not_json",
        r"Invalid page token, decoded value=b'abc'",
        INVALID,
        f"{SU}:SearchUtils.parse_start_offset_from_page_token",
        "c.search_experiments(page_token='YWJj')",
        (("fsregistry/search/paging.py", "Invalid page token, {}"),),
    ),
    _m(
        "filter_or",
        r"Invalid clause\(s\) in filter string",
        INVALID,
        f"{SU}:SearchUtils._process_statement",
        "c.search_runs([E], \"params.a = '1' OR params.b = '2'\")",
        (
            ("fsregistry/search/grammar.py", "{}. {}: {}"),
            ("fsregistry/search/grammar.py", "OR is not supported"),
            ("fsregistry/search/grammar.py", "NOT is only supported as NOT IN"),
            ("fsregistry/search/grammar.py", "parentheses are only allowed"),
            ("fsregistry/search/grammar.py", "unexpected(scanner"),
            ("fsregistry/search/grammar.py", "unexpected keyword"),
            ("fsregistry/search/grammar.py", "must not be double-quoted"),
            ("fsregistry/search/grammar.py", "unterminated quoted key"),
            ("fsregistry/search/grammar.py", "missing key after"),
            ("fsregistry/search/grammar.py", "invalid key '{}' after"),
            ("fsregistry/search/grammar.py", "empty key after"),
            ("fsregistry/search/grammar.py", "(expected one of =, !="),
            ("fsregistry/search/grammar.py", "_bad_value(f'a parenthesised list"),
            ("fsregistry/search/grammar.py", "_bad_value(f'a quoted string in the IN list"),
            ("fsregistry/search/grammar.py", "empty IN list"),
            ("fsregistry/search/grammar.py", "malformed string"),
            ("fsregistry/search/grammar.py", "IN list item"),
            ("fsregistry/search/filter.py", "unexpected(parser.scanner, 'AND or end"),
        ),
        storage=False,
    ),
    _m(
        "filter_not_string",
        r"Error on parsing filter '5'",
        INVALID,
        f"{SU}:SearchUtils.parse_search_filter",
        "c.search_runs([E], 5)",
        (("fsregistry/search/filter.py", "Error on parsing filter"),),
        storage=False,
    ),
    _m(
        "filter_entity",
        r"Invalid entity type 'foo'",
        INVALID,
        f"{SU}:SearchUtils._get_identifier",
        "c.search_runs([E], \"foo.a = '1'\")",
        (
            ("fsregistry/search/grammar.py", "unknown entity"),
            ("fsregistry/search/grammar.py", "is not supported in {} {}"),
        ),
        storage=False,
    ),
    _m(
        "filter_attribute",
        r"Invalid attribute key 'foo' specified",
        INVALID,
        f"{SU}:SearchUtils._get_identifier",
        "c.search_runs([E], \"attributes.foo = '1'\")",
        (("fsregistry/search/grammar.py", "unknown attribute"),),
        storage=False,
    ),
    _m(
        "filter_dataset_key",
        r"Invalid dataset key 'foo' specified",
        INVALID,
        f"{SU}:SearchUtils._get_identifier",
        "c.search_runs([E], \"datasets.foo = 'x'\")",
        (("fsregistry/search/grammar.py", "unknown dataset key"),),
        storage=False,
    ),
    _m(
        "filter_metric_not_number",
        r"Expected numeric value type for metric",
        INVALID,
        f"{SU}:SearchUtils._get_value",
        "c.search_runs([E], \"metrics.a = 'x'\")",
        (("fsregistry/search/grammar.py", "_bad_value(f'a number for"),),
        storage=False,
    ),
    _m(
        "filter_attribute_not_number",
        r"Expected numeric value type for numeric attribute: start_time",
        INVALID,
        f"{SU}:SearchUtils._get_value",
        "c.search_runs([E], \"attributes.start_time = 'x'\")",
        (
            ("fsregistry/search/grammar.py", "must be a finite number"),
            ("fsregistry/search/grammar.py", "expected an integer for"),
        ),
        storage=False,
    ),
    _m(
        "filter_not_quoted",
        r"Expected a quoted string value for attributes",
        INVALID,
        f"{SU}:SearchUtils._get_value",
        "c.search_runs([E], 'attributes.run_name = 1')",
        (("fsregistry/search/grammar.py", "_bad_value(f'a quoted string for"),),
        storage=False,
    ),
    _m(
        "filter_comparator",
        r"Invalid comparator '>'",
        INVALID,
        f"{SU}:SearchUtils._validate_comparison / SearchModelUtils",
        "c.search_runs([E], \"params.a > 'x'\")",
        (("fsregistry/search/filter.py", "is not supported for {}"),),
        storage=False,
    ),
    _m(
        "filter_comparator_models",
        r"Invalid comparator '>'",
        INVALID,
        f"{SU}:SearchModelUtils._validate_comparison",
        "c.search_registered_models(\"name > 'x'\")",
        (),
        storage=False,
    ),
    _m(
        "order_by_unparsable",
        r"Invalid order_by clause 'params\.my_param '\. Could not be parsed\.?",
        INVALID,
        f"{SU}:SearchUtils._parse_order_by_string",
        "c.search_runs([E], order_by=['params.my_param '])",
        (
            ("fsregistry/search/grammar.py", "{}. Could not be parsed: {}"),
            ("fsregistry/search/order.py", "whitespace (MLflow refuses it)"),
            ("fsregistry/search/order.py", "empty clause"),
            ("fsregistry/search/order.py", "unexpected(parser.scanner, expected)"),
        ),
        storage=False,
    ),
    _m(
        "order_by_attribute",
        r"Invalid attribute key 'version_number' specified",
        INVALID,
        f"{SU}:SearchModelUtils.parse_order_by_for_search_registered_models",
        "c.search_registered_models(order_by=['version_number'])",
        (),
        storage=False,
    ),
    _m(
        "order_by_entity",
        r"Invalid order_by entity: tag",
        INVALID,
        f"{SU}:SearchModelUtils.parse_order_by_for_search_registered_models",
        "c.search_registered_models(order_by=['tags.a'])",
        (),
        storage=False,
    ),
    # -- registry ------------------------------------------------------------------------------
    _m(
        "model_name_missing",
        r"Missing value for required parameter 'name'\.",
        INVALID,
        f"{VAL}:_validate_model_name (missing_value)",
        "c.create_registered_model('')",
        (("fsregistry/mlruns/validation.py", "Missing value for required parameter 'name'"),),
        storage=False,
    ),
    _m(
        "model_name_separator",
        r"Invalid model name 'a/b'\. Names cannot contain '/' or ':'\.",
        INVALID,
        f"{VAL}:_validate_model_name",
        "c.create_registered_model('a/b')",
        (("fsregistry/mlruns/validation.py", "Names cannot contain '/' or ':'"),),
        storage=False,
        note="MLflow 2.22: \"Invalid name: 'a/b'. Registered model name cannot contain path "
        'separator" (its registry file store); fsregistry says both',
    ),
    _m(
        "model_exists",
        r"Registered Model \(name=rm\) already exists\.",
        EXISTS,
        f"{MR}:FileStore.create_registered_model",
        "c.create_registered_model('rm')",
        (
            ("fsregistry/registry/claims.py", "Registered Model (name={}) already exists."),
            ("fsregistry/registry/rename.py", "Registered Model (name={}) already exists."),
            ("fsregistry/registry/prompts.py", "{} (name={}) already exists."),
        ),
    ),
    _m(
        "model_not_found",
        r"Registered Model with name=nope not found",
        MISSING,
        f"{MR}:FileStore._get_registered_model_path / get_registered_model",
        "c.get_registered_model('nope')",
        (
            ("fsregistry/registry/reading.py", "Registered Model with name={} not found"),
            ("fsregistry/registry/edits.py", "Registered Model with name={} not found"),
            ("fsregistry/registry/rename.py", "Registered Model with name={} not found"),
        ),
    ),
    _m(
        "rename_to_taken_name",
        r"Registered Model \(name=rm2\) already exists\.",
        EXISTS,
        f"{MR}:FileStore.rename_registered_model",
        "c.rename_registered_model('rm', 'rm2')",
        (),
    ),
    _m(
        "version_not_found",
        r"Model Version \(name=rm, version=9\) not found",
        MISSING,
        f"{MR}:FileStore._fetch_file_model_version_if_exists",
        "c.get_model_version('rm', '9')",
        (("fsregistry/registry/fields.py", "Model Version (name={}, version={}) not found"),),
    ),
    _m(
        "version_not_integer",
        r"Parameter 'version' must be an integer, got 'abc'\.",
        INVALID,
        f"{VAL}:_validate_model_version (not_integer_value)",
        "c.get_model_version('rm', 'abc')",
        (("fsregistry/registry/fields.py", "Parameter 'version' must be an integer"),),
        storage=False,
    ),
    _m(
        "no_version_in_stage",
        r"Could not find any model version for Production stage",
        INTERNAL,
        "mlflow/tracking/client.py:MlflowClient.set_model_version_tag",
        "c.set_model_version_tag('rm', key='k', value='v', stage='Production')",
        (("fsregistry/client.py", "Could not find any model version for {} stage"),),
        in_mlflow3=False,
        note="MLflow raises INTERNAL_ERROR; fsregistry: RESOURCE_DOES_NOT_EXIST (documented "
        "on Client.set_model_version_tag)",
        fs_code=MISSING,
    ),
    _m(
        "stage_invalid",
        r"Invalid Model Version stage: Foo\. Value must be one of None, Staging, Production, "
        r"Archived\.",
        INVALID,
        "mlflow/entities/model_registry/model_version_stages.py:get_canonical_stage",
        "c.transition_model_version_stage('rm', '1', 'Foo')",
        (("fsregistry/entities/registry.py", "Invalid Model Version stage"),),
        storage=False,
    ),
    _m(
        "archive_to_inactive_stage",
        r"Model version transition cannot archive existing model versions because 'Archived' "
        r"is not an Active stage\. Valid stages are \['Staging', 'Production'\]",
        INTERNAL,
        f"{MR}:FileStore.transition_model_version_stage",
        "c.transition_model_version_stage('rm', '1', 'Archived', archive_existing_versions=True)",
        (("fsregistry/registry/stages.py", "is not an Active stage"),),
        storage=False,
    ),
    _m(
        "registry_tag_too_long",
        r"'value' exceeds the maximum length of 100000 characters",
        INVALID,
        f"{VAL}:_validate_model_version_or_registered_model_tag",
        "c.set_registered_model_tag('rm', 't', 'v' * 100001)",
        (),
        storage=False,
        note="MLflow 2.22: 5000 characters",
    ),
    _m(
        "alias_latest",
        r"'latest' alias name \(case insensitive\) is reserved\.",
        INVALID,
        f"{VAL}:_validate_model_alias_name_reserved",
        "c.set_registered_model_alias('rm', 'latest', '1')",
        (("fsregistry/mlruns/validation.py", "'latest' alias name (case insensitive)"),),
        storage=False,
    ),
    _m(
        "alias_version_like",
        r"Version alias name 'v1' is reserved\.",
        INVALID,
        f"{VAL}:_validate_model_alias_name_reserved",
        "c.set_registered_model_alias('rm', 'v1', '1')",
        (("fsregistry/mlruns/validation.py", "Version alias name {} is reserved."),),
        storage=False,
    ),
    _m(
        "alias_characters",
        r"Invalid alias name: 'a b'\. Names may only contain alphanumerics, underscores "
        r"\(_\), and dashes \(-\)\.",
        INVALID,
        f"{VAL}:_validate_model_alias_name",
        "c.set_registered_model_alias('rm', 'a b', '1')",
        (("fsregistry/mlruns/validation.py", "Invalid alias name: {}"),),
        storage=False,
    ),
    _m(
        "alias_empty",
        r"Registered model alias name cannot be empty\.",
        INVALID,
        f"{VAL}:_validate_model_alias_name",
        "c.set_registered_model_alias('rm', '', '1')",
        (
            ("fsregistry/mlruns/validation.py", "Registered model alias name cannot be empty"),
            ("fsregistry/registry/fields.py", "Registered model alias name cannot be empty"),
        ),
        storage=False,
    ),
    _m(
        "alias_too_long",
        r"'Registered model alias name' exceeds the maximum length of 255 characters",
        INVALID,
        f"{VAL}:_validate_model_alias_name",
        "c.set_registered_model_alias('rm', 'a' * 300, '1')",
        (("fsregistry/mlruns/validation.py", "{} (invalid alias {}...)"),),
        storage=False,
    ),
    _m(
        "alias_not_found",
        r"Registered model alias nope not found",
        INVALID,
        f"{MR}:FileStore.get_model_version_by_alias",
        "c.get_model_version_by_alias('rm', 'nope')",
        (
            ("fsregistry/registry/queries.py", "Registered model alias {} not found"),
            ("fsregistry/registry/queries.py", "Registered model alias {} of model {} points"),
        ),
    ),
    _m(
        "prompt_tag_on_model",
        r"Prompts cannot be registered as models\.",
        INVALID,
        "mlflow/tracking/client.py:MlflowClient.create_registered_model",
        "c.create_registered_model('pp', tags={'mlflow.prompt.is_prompt': 'true'})",
        (("fsregistry/registry/prompts.py", "PROMPTS_AS_MODELS"),),
        storage=False,
    ),
    _m(
        "model_api_on_prompt",
        r"Registered Model with name='pr' not found\.",
        MISSING,
        "mlflow/tracking/client.py:_model_not_found",
        "c.get_registered_model('pr')",
        (("fsregistry/registry/prompts.py", "Registered Model with name={} not found."),),
        in_mlflow3=False,  # tests/test_prompt_refusals.py runs it against MLflow 3.17.2
    ),
    _m(
        "copy_prompt_version",
        r"Model with uri 'models:/pr/1' not found",
        MISSING,
        "mlflow/tracking/client.py:MlflowClient.copy_model_version",
        "c.copy_model_version('models:/pr/1', 'dst')",
        (("fsregistry/client.py", "Model with uri '{}' not found"),),
        in_mlflow3=False,  # tests/test_prompt_refusals.py runs it against MLflow 3.17.2
    ),
    _m(
        "prompt_over_prompt",
        r"Prompt \(name=pr\) already exists\.",
        EXISTS,
        "mlflow/store/model_registry/abstract_store.py (handle_resource_already_exist_error)",
        "c.create_prompt('pr')",
        (("fsregistry/registry/prompts.py", "{} (name={}) already exists."),),
        in_mlflow3=False,  # tests/test_registry_fidelity.py runs it against MLflow
    ),
    _m(
        "model_and_prompt_same_name",
        r"Tried to create a prompt with name 'rm', but the name is already taken by a "
        r"registered model\. MLflow does not allow creating a model and a prompt with the "
        r"same name\.",
        EXISTS,
        "mlflow/prompt/registry_utils.py:handle_resource_already_exist_error",
        "c.create_prompt('rm')",
        (("fsregistry/registry/prompts.py", "Tried to create a {}"),),
        in_mlflow3=False,  # tests/test_registry_fidelity.py runs it against MLflow
    ),
    # -- fluent --------------------------------------------------------------------------------
    _m(
        "set_experiment_both",
        r"Must specify exactly one of: `experiment_id` or `experiment_name`\.",
        INVALID,
        f"{FLUENT}:set_experiment",
        "m.set_experiment(experiment_name='e', experiment_id=E)",
        (("fsregistry/fluent.py", "Must specify exactly one of: `experiment_id`"),),
    ),
    _m(
        "set_deleted_experiment",
        r"Cannot set a deleted experiment 'ed' as the active experiment\. You can restore the "
        r"experiment, or permanently delete the experiment to create a new one\.",
        INVALID,
        f"{FLUENT}:set_experiment",
        "m.set_experiment('ed')",
        (("fsregistry/fluent.py", "Cannot set a deleted experiment"),),
    ),
    _m(
        "run_already_active",
        r"Run with UUID \w+ is already active\. To start a new run, first end the current run "
        r"with mlflow\.end_run\(\)\. To start a nested run, call start_run with nested=True",
        "",
        f"{FLUENT}:start_run",
        "(m.start_run(experiment_id=E), m.start_run(experiment_id=E))",
        (("fsregistry/fluent.py", "is already active"),),
        in_mlflow3=False,
        note="MLflow raises a plain Exception (no error code); fsregistry: INVALID_PARAMETER_VALUE",
        fs_code=INVALID,
    ),
    _m(
        "start_deleted_run",
        r"Cannot start run with ID \w+ because it is in the deleted state\.",
        INTERNAL,
        f"{FLUENT}:start_run",
        "m.start_run(run_id=D)",
        (("fsregistry/fluent.py", "because it is in the deleted state"),),
    ),
    _m(
        "search_runs_output_format",
        r"Unsupported output format: xml\. Supported string values are 'pandas' or 'list'",
        "",
        f"{FLUENT}:search_runs",
        "m.search_runs([E], output_format='xml')",
        (("fsregistry/fluent.py", "Unsupported output format"),),
        in_mlflow3=False,
        note="MLflow raises ValueError; fsregistry: INVALID_PARAMETER_VALUE",
        fs_code=INVALID,
    ),
)


@dataclass(frozen=True)
class Allowed:
    """Raise sites with no MLflow counterpart: ``path`` (a file, or a folder ending in '/'),
    a fragment of the message template ('' for every site there) and why."""

    path: str
    fragment: str
    reason: str


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

ALLOWED: tuple[Allowed, ...] = (
    # -- whole folders -------------------------------------------------------------------------
    Allowed(
        "fsregistry/storage/",
        "",
        "storage layer: I/O, permission, quota, missing bucket "
        "and path-conflict errors of local disk, S3 and GCS; MLflow's file store raises "
        "raw OSError for these",
    ),
    Allowed("fsregistry/maintenance/", "", "fsreg gc/doctor/repair: no MLflow counterpart"),
    Allowed("fsregistry/cli/", "", "fsreg command line: no MLflow counterpart"),
    Allowed(
        "fsregistry/serving/",
        "",
        "fsregistry's server and Docker context: their errors are "
        "HTTP answers and build errors, outside MLflow's store API",
    ),
    Allowed(
        "fsregistry/envs/",
        "",
        "environment builder: MLflow's (virtualenv/conda) errors "
        "are process failures, not store messages",
    ),
    Allowed(
        "fsregistry/models/",
        "",
        "model format, signature, schema and hash checks: MLflow "
        "raises these from its model/pyfunc code, outside the stores this table covers "
        "(integrity and hash errors have no MLflow counterpart)",
    ),
    Allowed(
        "fsregistry/pyfunc/",
        "",
        "pyfunc loading and Spark UDFs: outside the stores this table covers",
    ),
    Allowed("fsregistry/sklearn/", "", "sklearn flavour: outside the stores this table covers"),
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
    Allowed("fsregistry/tracking/logged_models.py", "Invalid logged model ID", _TYPE_CHECK),
    Allowed("fsregistry/tracking/run_search.py", "experiment_ids must be a list", _TYPE_CHECK),
    Allowed("fsregistry/tracking/runs.py", "Invalid run name", _TYPE_CHECK),
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
        "fsregistry/client.py",
        "Give exactly one of version and stage",
        "fsregistry-only "
        "check of set/delete_model_version_tag arguments (MLflow asserts with its own text)",
    ),
    Allowed("fsregistry/client.py", "needs a tag key", _TYPE_CHECK),
    Allowed(
        "fsregistry/client.py",
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
)
