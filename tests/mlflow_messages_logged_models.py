"""MLflow 3's messages for LoggedModels (see tests/mlflow_messages.py).

MLflow 2.22 has no LoggedModels, so every entry's note says "MLflow 2.22 has no logged
models": its triggers fail there with an AttributeError of the client or module. A trigger
that needs a model creates it inline (``c.create_logged_model(E)``), in MLflow as in
fsregistry.
"""

from __future__ import annotations

from tests.mlflow_messages_base import (
    FLUENT,
    FS,
    INTERNAL,
    INVALID,
    MISSING,
    STATE,
    SU,
    VAL,
    Message,
    _m,
)

_NO_LM = "MLflow 2.22 has no logged models"
_NO_INPUTS = "MLflow 2.22 has no mlflow.log_inputs"
_CLIENT = "mlflow/tracking/client.py"
_SERVICE = "mlflow/tracking/_tracking_service/client.py"
_WRITING = "fsregistry/tracking/logged_models/writing.py"
_READING = "fsregistry/tracking/logged_models/reading.py"
_SEARCH = "fsregistry/tracking/logged_models/search.py"
_API = "fsregistry/logged_model_api.py"
_CLAUSE = r"Invalid clause\(s\) in filter string"
_ATTR = r"Invalid attribute key '{}' specified"
_NUMERIC_ATTR = r"Expected numeric value type for numeric attribute: creation_timestamp"
_LM_FILTER_NOTE = (
    "MLflow 3.17's file store evaluates these filters unchecked (they match nothing or are "
    "ignored) where its SQL store and fsregistry's other searches refuse them; fsregistry "
    "refuses them before reading, with MLflow's text for the same error elsewhere"
)
_ORDER = f"{SU}:SearchLoggedModelsUtils.parse_order_by_for_logged_models"
_TOKEN = f"{SU}:SearchLoggedModelsPaginationToken.validate (MLflow's SQL store)"
_TOKEN_NOTE = (
    "MLflow's file store pages with tokens holding only the offset and does not check them "
    "against the query; fsregistry's tokens also hold the query, as MLflow's SQL store's do, "
    "and a token of another query is refused with the SQL store's text"
)


def _token(fields: str) -> str:
    """A trigger searching E with a page token of another query (``fields``: JSON members)."""
    return (
        "c.search_logged_models([E], page_token=__import__('base64').b64encode(("
        f"'{{' + {fields} + ', \"offset\": 1}}').encode()).decode())"
    )


LOGGED_MODELS: tuple[Message, ...] = (
    # -- getting, creating, finalizing ------------------------------------------------------------
    _m(
        "logged_model_not_found",
        r"Model 'm-nope' not found",
        MISSING,
        f"{FS}:FileStore._get_model_dict",
        "c.get_logged_model('m-nope')",
        ((_READING, "Model '{}' not found"), (_WRITING, "Model '{}' not found")),
        note=_NO_LM,
    ),
    _m(
        "logged_model_deleted",
        r"Model 'm-[0-9a-f]{32}' not found",
        MISSING,
        f"{FS}:FileStore._get_model_dict (lifecycle_stage deleted)",
        "c.get_logged_model((lambda i: (c.delete_logged_model(i), i)[1])"
        "(c.create_logged_model(E).model_id))",
        ((_WRITING, "Model '{}' not found"),),
        note=_NO_LM,
    ),
    _m(
        "logged_model_uri_deleted",
        r"Model 'm-[0-9a-f]{32}' not found",
        MISSING,
        "mlflow/store/artifact/models_artifact_repo.py:_get_model_uri_infos -> "
        f"{FS}:FileStore._get_model_dict (lifecycle_stage deleted)",
        "m.pyfunc.load_model('models:/' + (lambda i: (c.delete_logged_model(i), i)[1])"
        "(c.create_logged_model(E).model_id))",
        ((_READING, "Model '{}' not found"),),
        note=_NO_LM,
    ),
    _m(
        "logged_model_id_blank",
        r"Model '  ' not found",
        MISSING,
        f"{FS}:FileStore._get_model_dict",
        "c.get_logged_model('  ')",
        ((_WRITING, "Model '{}' not found"),),
        note=_NO_LM,
    ),
    _m(
        "logged_model_id_empty",
        r"`model_id` must be a non-empty string, but got ''",
        INVALID,
        f"{_CLIENT}:_validate_model_id_specified",
        "c.get_logged_model('')",
        (("fsregistry/client_logged_models.py", "`model_id` must be a non-empty string"),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "log_model_params_no_active_model",
        r"`model_id` must be a non-empty string, but got None",
        INVALID,
        f"{FLUENT}:log_model_params -> {_CLIENT}:_validate_model_id_specified",
        "m.log_model_params({'a': 'b'})",
        ((_API, "`model_id` must be a non-empty string, but got None"),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "logged_model_name_invalid",
        r"Invalid model name \('a/b'\) provided\. Model name must be a non-empty string and "
        r"cannot contain the following characters: \('/', ':', '\.', '%', '\"', \"'\"\)",
        INVALID,
        f"{VAL}:_validate_logged_model_name",
        "c.create_logged_model(E, name='a/b')",
        ((_WRITING, "Invalid model name ({}) provided."),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "logged_model_experiment_not_active",
        r"Could not create model under non-active experiment with ID \d+\.",
        STATE,
        f"{FS}:FileStore.create_logged_model",
        "c.create_logged_model(ED)",
        ((_WRITING, "Could not create model under non-active experiment"),),
        note=_NO_LM,
    ),
    _m(
        "logged_model_tag_missing",
        r"No tag with key 'nope' found for model with ID 'm-[0-9a-f]{32}'\.",
        MISSING,
        f"{FS}:FileStore.delete_logged_model_tag",
        "c.delete_logged_model_tag(c.create_logged_model(E).model_id, 'nope')",
        ((_WRITING, "No tag with key {} found for model with ID {}."),),
        note=_NO_LM,
    ),
    _m(
        "logged_model_status_invalid",
        r"'BOGUS' is not a valid LoggedModelStatus",
        "",
        "mlflow/entities/logged_model_status.py:LoggedModelStatus (the enum's ValueError)",
        "c.finalize_logged_model(c.create_logged_model(E).model_id, 'BOGUS')",
        (("fsregistry/entities/logged_models.py", "is not a valid LoggedModelStatus"),),
        note=f"MLflow raises a plain ValueError; fsregistry: INVALID_PARAMETER_VALUE. {_NO_LM}",
        fs_code=INVALID,
    ),
    _m(
        "logged_model_status_unknown_int",
        r"Unknown model status: 9",
        INVALID,
        "mlflow/entities/logged_model_status.py:LoggedModelStatus.from_int",
        "c.finalize_logged_model(c.create_logged_model(E).model_id, 9)",
        (("fsregistry/entities/logged_models.py", "Unknown model status: {}"),),
        in_mlflow3=False,
        note="MLflow's finalize_logged_model fails with an AttributeError on an int status; "
        "the text is that of MLflow's LoggedModelStatus.from_int (its reader of meta.yaml's "
        "status)",
    ),
    # -- the active model -----------------------------------------------------------------------
    _m(
        "set_active_model_no_arguments",
        r"Either name or model_id must be provided",
        INVALID,
        f"{FLUENT}:_set_active_model",
        "m.set_active_model()",
        ((_API, "Either name or model_id must be provided"),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "set_active_model_name_mismatch",
        r"LoggedModel with model_id 'm-[0-9a-f]{32}' has name 'lm', which does not match the "
        r"provided name 'other'\.",
        INVALID,
        f"{FLUENT}:_set_active_model",
        "m.set_active_model(model_id=c.create_logged_model(E, name='lm').model_id, name='other')",
        ((_API, "which does not match the provided name"),),
        note=_NO_LM,
    ),
    # -- search ---------------------------------------------------------------------------------
    _m(
        "search_logged_models_output_format",
        r"Unsupported output format: 'x'\. Supported string values are 'pandas' or 'list'",
        INVALID,
        f"{FLUENT}:search_logged_models",
        "m.search_logged_models(experiment_ids=[E], output_format='x')",
        ((_API, "Unsupported output format: {}."),),
        note=_NO_LM,
    ),
    _m(
        "search_logged_models_experiment_ids",
        r"experiment_ids must be a list of strings, got <class 'str'>",
        INVALID,
        f"{_SERVICE}:TrackingServiceClient.search_logged_models",
        "c.search_logged_models(E)",
        ((_SEARCH, "experiment_ids must be a list of strings"),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "search_logged_models_dataset_name",
        r"`dataset_name` in the `datasets` clause must be specified\.",
        INVALID,
        f"{FS}:FileStore.search_logged_models",
        "c.search_logged_models([E], datasets=[{'dataset_digest': 'd'}])",
        ((_SEARCH, "`dataset_name` in the `datasets` clause must be specified."),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "search_logged_models_order_by_not_dicts",
        r"`order_by` must be a list of dictionaries\.",
        INVALID,
        _ORDER,
        "c.search_logged_models([E], order_by=['name'])",
        ((_SEARCH, "`order_by` must be a list of dictionaries."),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "search_logged_models_order_by_no_field",
        r"`field_name` in the `order_by` clause must be specified\.",
        INVALID,
        _ORDER,
        "c.search_logged_models([E], order_by=[{}])",
        ((_SEARCH, "`field_name` in the `order_by` clause must be specified."),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "search_logged_models_order_by_entity",
        r"Invalid order by field name: params, only `metrics\.<name>` is allowed\.",
        INVALID,
        _ORDER,
        "c.search_logged_models([E], order_by=[{'field_name': 'params.x'}])",
        ((_SEARCH, "only `metrics.<name>` is allowed."),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "search_logged_models_order_by_attribute",
        r"Invalid order by field name: bogus\.",
        INVALID,
        _ORDER,
        "c.search_logged_models([E], order_by=[{'field_name': 'bogus'}])",
        ((_SEARCH, "Invalid order by field name: {}."),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "search_logged_models_order_by_ascending",
        r"Value of `ascending` in the `order_by` clause must be a boolean, got <class 'str'> "
        r"for field name\.",
        INVALID,
        _ORDER,
        "c.search_logged_models([E], order_by=[{'field_name': 'name', 'ascending': 'yes'}])",
        ((_SEARCH, "Value of `ascending` in the `order_by` clause must be a boolean"),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "search_logged_models_order_by_digest",
        r"`dataset_digest` can only be specified if `dataset_name` is also specified\.",
        INVALID,
        _ORDER,
        "c.search_logged_models([E], order_by=[{'field_name': 'metrics.a', "
        "'dataset_digest': 'd'}])",
        ((_SEARCH, "`dataset_digest` can only be specified if `dataset_name`"),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "search_logged_models_max_results_low",
        r"Invalid value 0 for parameter 'max_results' supplied\. It must be a positive integer",
        INVALID,
        f"{FS}:FileStore.search_experiments (its text)",
        "c.search_logged_models([E], max_results=0)",
        (("fsregistry/search/paging.py", "_too_small"),),
        storage=False,
        in_mlflow3=False,
        note="MLflow's file store takes max_results=0 as the default (100) and slices with a "
        "negative one; fsregistry refuses both, with MLflow's text for the other searches",
    ),
    _m(
        "search_logged_models_page_token_not_base64",
        r"Invalid page token, could not base64-decode",
        INVALID,
        f"{SU}:SearchUtils.parse_start_offset_from_page_token (SearchLoggedModelsUtils.paginate)",
        "c.search_logged_models([E], page_token='abc')",
        (("fsregistry/search/paging.py", "Invalid page token, {}"),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "search_logged_models_page_token_not_json",
        r"Invalid page token, decoded value=b'abc'",
        INVALID,
        f"{SU}:SearchUtils.parse_start_offset_from_page_token (SearchLoggedModelsUtils.paginate)",
        "c.search_logged_models([E], page_token='YWJj')",
        (("fsregistry/search/paging.py", "Invalid page token, {}"),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "search_logged_models_page_token_experiments",
        r"Experiment IDs in the page token do not match the requested experiment IDs\. "
        r"Expected: \['\d+'\]\. Found: \['999'\]",
        INVALID,
        _TOKEN,
        _token('\'"experiment_ids": ["999"]\''),
        ((_SEARCH, "Experiment IDs in the page token do not match"),),
        storage=False,
        in_mlflow3=False,
        note=_TOKEN_NOTE,
    ),
    _m(
        "search_logged_models_page_token_filter",
        r"Filter string in the page token does not match the requested filter string\. "
        r"Expected: None\. Found: name = 1",
        INVALID,
        _TOKEN,
        _token('\'"experiment_ids": ["\' + E + \'"], "filter_string": "name = 1"\''),
        ((_SEARCH, "Filter string in the page token does not match"),),
        storage=False,
        in_mlflow3=False,
        note=_TOKEN_NOTE,
    ),
    _m(
        "search_logged_models_page_token_order_by",
        r"Order by in the page token does not match the requested order by\. "
        r"Expected: None\. Found: \[\{'field_name': 'name'\}\]",
        INVALID,
        _TOKEN,
        _token('\'"experiment_ids": ["\' + E + \'"], "order_by": [{"field_name": "name"}]\''),
        ((_SEARCH, "Order by in the page token does not match"),),
        storage=False,
        in_mlflow3=False,
        note=_TOKEN_NOTE,
    ),
    # -- run inputs ------------------------------------------------------------------------------
    _m(
        "log_inputs_lengths_differ",
        r"`mlflow\.log_inputs` requires `datasets`, `contexts`, `tags_list` to be non-empty "
        r"list and have the same length",
        INTERNAL,
        f"{FLUENT}:log_inputs",
        "m.log_inputs([None], contexts=['training'])",
        (("fsregistry/fluent_more.py", "`mlflow.log_inputs` requires"),),
        storage=False,
        note=_NO_INPUTS,
    ),
    _m(
        "log_inputs_models_outside_databricks",
        r"'models' argument is only supported by Databricks managed MLflow\.",
        INTERNAL,
        f"{FLUENT}:log_inputs",
        "m.log_inputs(models=[m.entities.LoggedModelInput('m-1')])",
        (("fsregistry/fluent_more.py", "'models' argument is only supported"),),
        storage=False,
        note=_NO_LM,
    ),
    _m(
        "log_inputs_context_without_dataset",
        r"`dataset` must be specified if `context` or `tags` is specified\.",
        INVALID,
        f"{FLUENT}:_create_dataset_input",
        "m.log_inputs([None], contexts=['training'], tags_list=[None])",
        (("fsregistry/fluent_more.py", "`dataset` must be specified"),),
        storage=False,
        note=_NO_INPUTS,
    ),
    *(
        _m(
            f"search_logged_models_filter: {kind}",
            regex,
            INVALID,
            f"{SU}:SearchLoggedModelsUtils.parse_search_filter_for_logged_models",
            f"c.search_logged_models([E], filter_string={filter_string!r})",
            (),
            storage=False,
            note=_NO_LM,
        )
        for kind, filter_string, regex in (
            ("OR", "name = 'a' OR name = 'b'", _CLAUSE),
            ("a key alone", "name", _CLAUSE),
            ("parentheses", "(name = 'a')", _CLAUSE),
            ("no value", "name = ", _CLAUSE),
            ("unknown entity", "bogus.x = 'a'", r"Invalid entity type 'bogus'"),
            ("unknown attribute", "attributes.bogus = 'a'", _ATTR.format("bogus")),
            ("unknown bare attribute", "run_id ILIKE 'x'", _ATTR.format("run_id")),
            ("metric not a number", "metrics.a = 'x'", r"Expected numeric value type for metric"),
            ("time not a number", "creation_timestamp = 'x'", _NUMERIC_ATTR),
            ("time with LIKE and a string", "creation_timestamp LIKE 'x'", _NUMERIC_ATTR),
            ("param not quoted", "params.a = 1", r"Expected a quoted string value for parameter"),
            (
                "attribute not quoted",
                "model_id = 5",
                r"Expected a quoted string value for attributes",
            ),
        )
    ),
    *(
        _m(
            f"search_logged_models_filter: {kind}",
            regex,
            INVALID,
            "mlflow/store/tracking/sqlalchemy_store.py:SqlAlchemyStore.search_logged_models "
            "(its comparator checks)",
            f"c.search_logged_models([E], filter_string={filter_string!r})",
            (),
            storage=False,
            in_mlflow3=False,
            note=_LM_FILTER_NOTE,
        )
        for kind, filter_string, regex in (
            ("param compared with >", "params.a > 'x'", r"Invalid comparator '>'"),
            ("name compared with >", "name > 'x'", r"Invalid comparator '>'"),
            ("metric compared with LIKE", "metrics.a LIKE 1", r"Invalid comparator 'LIKE'"),
            ("trailing AND", "name = 'a' AND", _CLAUSE),
            ("datasets entity", "datasets.name = 'x'", r"Invalid entity type 'datasets'"),
        )
    ),
)
