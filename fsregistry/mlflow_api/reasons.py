"""Why fsregistry does not provide an MLflow name: the hand-written half of the coverage page
(``docs/mlflow-coverage.md``; the other half is read from fsregistry's code).

``EXACT`` maps ``"<mlflow module>.<name>"`` to a reason; ``PATTERNS`` are
``(mlflow module, fnmatch pattern, reason)``, tried in order when no exact entry applies.
A reason is used only while fsregistry lacks the name: once a name exists, the page shows
its docstring's "Same as" / "Differs" line instead. Floor 0, data only.
"""

from __future__ import annotations

GENAI = "GenAI / tracing / prompt feature; fsregistry covers classic ML tracking and registry"
SERVER = "needs an MLflow tracking server or Databricks; fsregistry has no server"
FLAVOR = (
    "flavor not provided yet (a model of this flavor logged by MLflow is still listed, "
    "registered and downloaded as files; `docs/custom-flavors.md` shows how to add one)"
)
EVALUATION = "GenAI evaluation is not provided; `evaluate` covers classifiers and regressors"
LATER = "not provided yet; planned (see the project's open issues)"
LOGGED_MODELS = "MLflow 3 LoggedModel API, not provided yet"
DATASETS = "mlflow.data datasets, not provided yet"
AUTOLOG = "autologging, not provided yet"
SYSTEM_METRICS = "system metrics (a psutil/GPU sampling thread) are not provided"
GENAI_DATASETS = "MLflow 3 evaluation datasets (server-side GenAI feature) are not provided"

EXACT: dict[str, str] = {
    # -- mlflow ---------------------------------------------------------------------------
    "mlflow.autolog": AUTOLOG,
    "mlflow.evaluate": EVALUATION,
    "mlflow.validate_evaluation_results": EVALUATION,
    "mlflow.metrics": EVALUATION,
    "mlflow.doctor": "prints MLflow's environment; `fsreg doctor` checks a store instead",
    "mlflow.run": "MLflow Projects are not provided",
    "mlflow.login": SERVER,
    "mlflow.test": "MLflow's own test helpers",
    "mlflow.gateway": GENAI,
    "mlflow.context": GENAI,
    "mlflow.otel": GENAI,
    "mlflow.typesafe": "typed GenAI model interfaces are not provided",
    "mlflow.enable_system_metrics_logging": SYSTEM_METRICS,
    "mlflow.disable_system_metrics_logging": SYSTEM_METRICS,
    "mlflow.ActiveModel": LOGGED_MODELS,
    "mlflow.clear_active_model": LOGGED_MODELS,
    "mlflow.create_external_model": LOGGED_MODELS,
    "mlflow.finalize_logged_model": LOGGED_MODELS,
    "mlflow.get_active_model_id": LOGGED_MODELS,
    "mlflow.get_logged_model": LOGGED_MODELS,
    "mlflow.import_checkpoints": LOGGED_MODELS,
    "mlflow.initialize_logged_model": LOGGED_MODELS,
    "mlflow.last_logged_model": LOGGED_MODELS,
    "mlflow.log_model_params": LOGGED_MODELS,
    "mlflow.log_outputs": LOGGED_MODELS,
    "mlflow.search_logged_models": LOGGED_MODELS,
    "mlflow.set_active_model": LOGGED_MODELS,
    "mlflow.set_logged_model_tags": LOGGED_MODELS,
    "mlflow.delete_logged_model_tag": LOGGED_MODELS,
    # -- mlflow.MlflowClient -------------------------------------------------------------
    "mlflow.MlflowClient.log_outputs": LOGGED_MODELS,
    "mlflow.MlflowClient.log_model_params": LOGGED_MODELS,
    "mlflow.MlflowClient.get_workspace_store_uri": SERVER,
    # -- mlflow.models ---------------------------------------------------------------------
    "mlflow.models.Resource": GENAI,
    "mlflow.models.ResourceType": GENAI,
    # -- mlflow.pyfunc ---------------------------------------------------------------------
    "mlflow.pyfunc.ChatAgent": GENAI,
    "mlflow.pyfunc.ChatModel": GENAI,
    "mlflow.pyfunc.ResponsesAgent": GENAI,
    "mlflow.pyfunc.set_prediction_context": GENAI,
    "mlflow.pyfunc.DBConnectArtifactCache": SERVER,
    "mlflow.pyfunc.Context": "MLflow's per-prediction tracing context (GenAI)",
    "mlflow.pyfunc.EnvType": "model environments: `fsreg models prepare-env` (fsregistry.envs)",
    "mlflow.pyfunc.build_model_env": (
        "model environments: `fsreg models prepare-env` (fsregistry.envs)"
    ),
    "mlflow.pyfunc.archive_directory": "MLflow's Spark UDF internals",
    "mlflow.pyfunc.extract_archive_to_dir": "MLflow's Spark UDF internals",
    "mlflow.pyfunc.get_default_conda_env": (
        "fsregistry writes conda.yaml from pinned requirements; no module-level default"
    ),
    "mlflow.pyfunc.get_default_pip_requirements": (
        "fsregistry infers requirements when saving; no module-level default"
    ),
    "mlflow.pyfunc.update_signature_for_type_hint_from_example": (
        "type-hint signatures are not provided"
    ),
    # -- mlflow.sklearn --------------------------------------------------------------------
    "mlflow.sklearn.autolog": AUTOLOG,
    # -- mlflow.data -----------------------------------------------------------------------
    "mlflow.data.from_pandas": DATASETS,
    "mlflow.data.from_numpy": DATASETS,
    "mlflow.data.from_spark": DATASETS,
    "mlflow.data.get_source": DATASETS,
    "mlflow.data.from_huggingface": "Hugging Face datasets are not provided",
    "mlflow.data.from_tensorflow": "TensorFlow datasets are not provided",
    "mlflow.data.load_delta": "Delta tables are not provided",
}

PATTERNS: list[tuple[str, str, str]] = [
    # GenAI and tracing, everywhere
    ("*", "*trace*", GENAI),
    ("*", "*span*", GENAI),
    ("*", "*Span*", GENAI),
    ("*", "*Trace*", GENAI),
    ("*", "*prompt*", GENAI),
    ("*", "*Prompt*", GENAI),
    ("*", "*assessment*", GENAI),
    ("*", "Assessment*", GENAI),
    ("*", "*feedback*", GENAI),
    ("*", "Feedback", GENAI),
    ("*", "*expectation*", GENAI),
    ("*", "Expectation", GENAI),
    ("*", "*issue*", GENAI),
    ("*", "Issue*", GENAI),
    ("*", "*session*", GENAI),
    ("*", "Session", GENAI),
    ("*", "*mcp*", GENAI),
    ("*", "MCP*", GENAI),
    ("*", "Gateway*", GENAI),
    ("*", "Guardrail*", GENAI),
    ("*", "Budget*", GENAI),
    ("*", "Fallback*", GENAI),
    ("*", "RoutingStrategy", GENAI),
    ("*", "ConnectOptionSettings", GENAI),
    ("*", "Document", GENAI),
    ("*", "ScorerVersion", GENAI),
    ("*", "Link", GENAI),
    ("*", "EntityAssociationType", GENAI),
    ("*", "*Location*", GENAI),
    ("*", "UnityCatalog", GENAI),
    ("*", "LiveSpan", GENAI),
    ("*", "NoOpSpan", GENAI),
    ("*", "*webhook*", SERVER),
    ("*", "Webhook*", SERVER),
    ("*", "*workspace*", SERVER),
    ("*", "Workspace*", SERVER),
    ("*", "*system_metrics*", SYSTEM_METRICS),
    ("*", "*dataset*", GENAI_DATASETS),
    ("mlflow.entities", "DatasetRecord*", GENAI_DATASETS),
    ("*", "*logged_model*", LOGGED_MODELS),
    ("*", "*model_artifact*", LOGGED_MODELS),
    ("mlflow.entities", "LoggedModel*", LOGGED_MODELS),
    ("mlflow.entities", "SourceType", "MLflow's run source types (tags are written as strings)"),
    ("mlflow.models", "*valuat*", EVALUATION),
    ("mlflow.models", "*etric*", EVALUATION),
]

FLAVORS = [
    "ag2",
    "agno",
    "anthropic",
    "autogen",
    "bedrock",
    "catboost",
    "crewai",
    "diffusers",
    "dspy",
    "gemini",
    "groq",
    "h2o",
    "haystack",
    "johnsnowlabs",
    "keras",
    "langchain",
    "lightgbm",
    "litellm",
    "llama_index",
    "mistral",
    "onnx",
    "openai",
    "paddle",
    "pmdarima",
    "prophet",
    "pydantic_ai",
    "pyspark",
    "pytorch",
    "rfunc",
    "semantic_kernel",
    "sentence_transformers",
    "shap",
    "smolagents",
    "spacy",
    "spark",
    "statsmodels",
    "strands",
    "tensorflow",
    "transformers",
    "txtai",
    "xgboost",
]
EXACT.update({f"mlflow.{flavor}": FLAVOR for flavor in FLAVORS})
