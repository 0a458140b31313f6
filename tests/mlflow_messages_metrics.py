"""MLflow's messages for evaluation artifacts (``evaluate``'s custom artifacts, reading one
back), ``make_metric``, validation thresholds, and ``evaluate``'s model_id check, whose trigger
only fsregistry can run (tests/mlflow_messages.py's table; the ``evaluate`` helpers and
conventions are tests/mlflow_messages_evaluation.py's)."""

from __future__ import annotations

from tests.mlflow_messages_base import INTERNAL, INVALID, Message, _m
from tests.mlflow_messages_evaluation import (
    API,
    AR,
    BA,
    DE,
    DF,
    EV,
    ON_P,
    UNCODED,
    VL,
    B,
    art,
    ev,
    val,
)

#: MLflow's prefix of every MetricThreshold error.
MT_PREFIX = r"Could not instantiate MetricThreshold class: "
VA = "mlflow/models/evaluation/validation.py:MetricThreshold.__init__"

_HEADER = r"Custom artifact function '<lambda>' at index \d in the `custom_artifacts` parameter "
#: MLflow 3.17.2 and 2.22.5 name custom artifacts "Custom metric function ... in the
#: `custom_metrics` parameter" in their inference errors; the message after it is the same.
_ANY_HEADER = r"Custom \w+ function '<lambda>' at index 0 in the `custom_\w+` parameter "

ARTIFACTS: tuple[Message, ...] = (
    ev(
        "evaluate: two custom artifacts of one name",
        _HEADER + r"produced an artifact 'a' that cannot be logged because there already "
        r"exists an artifact with the same name\.",
        INTERNAL,
        f"{DE}:_log_custom_metric_artifact",
        ON_P + ", custom_artifacts=[lambda e, mm, d: {'a': {'k': 1}}, "
        "lambda e, mm, d: {'a': {'k': 2}}])",
        (EV, "that cannot be logged because there already exists"),
        storage=True,
        note=UNCODED,
        fs_code=INVALID,
    ),
    ev(
        "evaluate: a custom artifact string neither path nor JSON",
        _ANY_HEADER + r"produced an artifact 'a' with string representation 'not json \{' that "
        r"is neither a valid path to a file nor a JSON string\.",
        INTERNAL,
        "mlflow/models/evaluation/artifacts.py:_infer_artifact_type_and_ext",
        art("'not json {'"),
        (AR, "with string representation"),
        storage=True,
        note=UNCODED + "; MLflow's header says 'Custom metric function ... `custom_metrics`', "
        "fsregistry's 'Custom artifact function ... `custom_artifacts`'",
        fs_code=INVALID,
    ),
    ev(
        "evaluate: a custom artifact path that does not exist",
        _ANY_HEADER + r"produced an artifact 'a' with path '/nonexistent/x\.json' does not "
        r"exist\.",
        INTERNAL,
        "mlflow/models/evaluation/artifacts.py:_infer_artifact_type_and_ext",
        art('__import__("pathlib").Path("/nonexistent/x.json")'),
        (AR, "with path '{}' does not exist."),
        storage=True,
        note=UNCODED,
        fs_code=INVALID,
    ),
    ev(
        "evaluate: a custom artifact path that is a directory",
        _ANY_HEADER + r"produced an artifact 'a' with path '[^']+' is not a file\.",
        INTERNAL,
        "mlflow/models/evaluation/artifacts.py:_infer_artifact_type_and_ext",
        art('__import__("pathlib").Path(TMPD)'),
        (AR, "with path '{}' is not a file."),
        storage=True,
        note=UNCODED,
        fs_code=INVALID,
    ),
    ev(
        "evaluate: a custom artifact file of an unknown extension",
        _ANY_HEADER + r"produced an artifact 'a' with path '[^']+/MLmodel' does not match any "
        r"of the supported file extensions: \.png, \.jpg, \.jpeg, \.json, \.npy, \.csv, "
        r"\.parquet, \.txt\.",
        INTERNAL,
        "mlflow/models/evaluation/artifacts.py:_infer_artifact_type_and_ext",
        art('__import__("pathlib").Path(NOPF + "/MLmodel")'),
        (AR, "does not match any of the supported file"),
        storage=True,
        note=UNCODED,
        fs_code=INVALID,
    ),
    ev(
        "evaluate: a custom artifact that cannot be pickled",
        _HEADER + r"produced an unsupported artifact 'a' with type '<class '[\w.]*U'>' that "
        r"cannot be pickled\. Supported object types for artifacts are:\n- A string uri "
        r"representing the file path to the artifact\. MLflow  will infer the type of the "
        r"artifact based on the file extension\.\n- A string representation of a JSON object\. "
        r"This will be saved as a \.json artifact\.\n- Pandas DataFrame\. This will be saved as "
        r"a \.csv artifact\.- Numpy array\. This will be saved as a \.npy artifact\.- Matplotlib "
        r"Figure\. This will be saved as an \.png image artifact\.- Other objects will be "
        r"attempted to be pickled with default protocol\.",
        INTERNAL,
        f"{DE}:_log_custom_metric_artifact",
        art(
            'type("U", (), {"__module__": "u", "__reduce__": lambda self: (_ for _ in ()).throw('
            '__import__("pickle").PicklingError("no"))})()'
        ),
        (AR, "that cannot be pickled."),
        storage=True,
        note=UNCODED + "; MLflow wraps only pickle.PickleError (a lambda's AttributeError or "
        "TypeError escapes raw), fsregistry those too",
        fs_code=INVALID,
    ),
    ev(
        "evaluation artifact: unpickling not allowed",
        r"Deserializing evaluation artifacts using pickle is disallowed\. Set environment "
        r"variable 'MLFLOW_ALLOW_PICKLE_DESERIALIZATION' to 'true' to allow deserializing "
        r"evaluation artifacts using pickle\.",
        INTERNAL,
        "mlflow/models/evaluation/artifacts.py:PickleEvaluationArtifact._load_content_from_file",
        '__import__("unittest.mock").mock.patch.dict("os.environ", '
        '{"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false"})(lambda: importlib.import_module('
        'm.__name__ + ".models.evaluation.artifacts").PickleEvaluationArtifact("x")'
        '._load_content_from_file("nope"))()',
        (AR, "Deserializing evaluation artifacts using pickle"),
        note="MLflow 2.22 unpickles without asking (no such check). MLflow 3.17.2's default is "
        "to allow (the variable defaults to True); fsregistry refuses unless it is 'true'",
    ),
)

METRICS: tuple[Message, ...] = (
    _m(
        "evaluate: model_id contradicts the model's",
        r"The specified value of the 'model_id' parameter 'm-def' contradicts the model_id "
        r"'m-abc' associated with the model\. Please ensure they match or omit the 'model_id' "
        r"parameter\.",
        INVALID,
        B,
        'm.evaluate(m.pyfunc.PyFuncModel(m.models.Model(model_id="m-abc"), _ECHO), '
        f'data={DF}, model_type="regressor", targets="y", model_id="m-def")',
        ((API, "contradicts the model_id"),),
        in_mlflow3=False,
        storage=False,
        note="MLflow 3 only (2.22's evaluate has no model_id). MLflow's PyFuncModel takes the "
        "id as a constructor argument, fsregistry's reads it from the MLmodel, so the trigger "
        "differs; the text is base.py:evaluate's",
    ),
    val(
        "make_metric: a lambda without a name",
        r"`name` must be specified if `eval_fn` is a lambda function\.",
        INVALID,
        "mlflow/models/evaluation/base.py:make_metric",
        "m.models.make_metric(eval_fn=lambda a, b: 1, greater_is_better=True)",
        (BA, "`name` must be specified if `eval_fn` is a lambda"),
    ),
    val(
        "make_metric: a function without __name__",
        r"`name` must be specified if `eval_fn` does not have a `__name__` attribute\.",
        INVALID,
        "mlflow/models/evaluation/base.py:make_metric",
        'm.models.make_metric(eval_fn=__import__("functools").partial(max), '
        "greater_is_better=True)",
        (BA, "`name` must be specified if `eval_fn` does not have"),
    ),
    val(
        "make_metric: a name with a slash",
        r"Invalid metric name 'a/b'\. Metric names cannot include forward slashes \('/'\)\.",
        INVALID,
        "mlflow/models/evaluation/base.py:make_metric",
        'm.models.make_metric(eval_fn=lambda a, b: 1, greater_is_better=True, name="a/b")',
        (BA, "Metric names cannot include forward slashes"),
    ),
    val(
        "MetricThreshold: threshold not a number",
        MT_PREFIX + r"`threshold` parameter must be a number\.",
        INVALID,
        VA,
        'm.models.MetricThreshold(threshold="x")',
        (VL, "`threshold` parameter must be a number."),
    ),
    val(
        "MetricThreshold: negative min_absolute_change",
        MT_PREFIX + r"`min_absolute_change` parameter must be a positive number\.",
        INVALID,
        VA,
        "m.models.MetricThreshold(min_absolute_change=-1, greater_is_better=True)",
        (VL, "`min_absolute_change` parameter must be"),
    ),
    val(
        "MetricThreshold: min_relative_change not a float",
        MT_PREFIX + r"`min_relative_change` parameter must be a floating point number\.",
        INVALID,
        VA,
        "m.models.MetricThreshold(min_relative_change=1, greater_is_better=True)",
        (VL, "`min_relative_change` parameter must be a floating"),
    ),
    val(
        "MetricThreshold: min_relative_change above 1",
        MT_PREFIX + r"`min_relative_change` parameter must be between 0 and 1\.",
        INVALID,
        VA,
        "m.models.MetricThreshold(min_relative_change=1.5, greater_is_better=True)",
        (VL, "`min_relative_change` parameter must be between"),
    ),
    val(
        "MetricThreshold: greater_is_better missing",
        MT_PREFIX + r"`greater_is_better` parameter must be defined\.",
        INVALID,
        VA,
        "m.models.MetricThreshold(threshold=1)",
        (VL, "`greater_is_better` parameter must be defined."),
    ),
    val(
        "MetricThreshold: greater_is_better not a bool",
        MT_PREFIX + r"`greater_is_better` parameter must be a boolean\.",
        INVALID,
        VA,
        'm.models.MetricThreshold(threshold=1, greater_is_better="yes")',
        (VL, "`greater_is_better` parameter must be a boolean."),
    ),
    val(
        "MetricThreshold: no threshold",
        MT_PREFIX + r"no threshold was specified\.",
        INVALID,
        VA,
        "m.models.MetricThreshold(greater_is_better=True)",
        (VL, "no threshold was specified."),
    ),
    val(
        "validate_evaluation_results: thresholds not a dict",
        r"The validation thresholds argument must be a dictionary that maps strings to "
        r"MetricThreshold objects\.",
        INVALID,
        "mlflow/models/evaluation/validation.py:validate_evaluation_results",
        "m.validate_evaluation_results(validation_thresholds=[1], "
        'candidate_result=m.models.EvaluationResult({"a": 1}, {}))',
        (VL, "The validation thresholds argument must be"),
    ),
    val(
        "validate_evaluation_results: a threshold not met",
        r"Metric a value threshold check failed: candidate model a = 1, a threshold = 2\.",
        "BAD_REQUEST",
        "mlflow/models/evaluation/validation.py:_validate",
        'm.validate_evaluation_results(validation_thresholds={"a": m.models.MetricThreshold('
        "threshold=2, greater_is_better=True)}, candidate_result=m.models.EvaluationResult("
        '{"a": 1}, {}))',
        (VL, "<os.linesep.join(failures)>"),
    ),
)
