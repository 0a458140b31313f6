"""MLflow's messages for ``evaluate``: its arguments, data and built-in evaluators
(tests/mlflow_messages.py's table, evaluation part; custom artifacts, metrics and thresholds are
in tests/mlflow_messages_metrics.py, ``mlflow.data`` in tests/mlflow_messages_data.py).

MLflow's ``mlflow.evaluate`` imports matplotlib, which the base MLflow venv of
tests/test_mlflow_messages.py lacks, so the ``evaluate`` entries (made by :func:`ev`) are
``in_mlflow3=False`` there; tests/test_mlflow_messages_evaluation.py runs their triggers in
MLflow 3.17.2 and 2.22.5 venvs with matplotlib and checks MLflow's text and code (2.22.5 unless
the note says "MLflow 2.22"). Several of MLflow's evaluator errors are raised without a code (so
INTERNAL_ERROR) or are scikit-learn's ValueError; fsregistry raises them as
INVALID_PARAMETER_VALUE (``fs_code``), an argument error of the caller. Sources are in
``mlflow/models/evaluation/`` and ``mlflow/data/``.
"""

from __future__ import annotations

from tests.mlflow_messages_base import INTERNAL, INVALID, Message, _m

API = "fsregistry/models/evaluation/api.py"
DS = "fsregistry/models/evaluation/dataset.py"
BI = "fsregistry/models/evaluation/builtin.py"
EV = "fsregistry/models/evaluation/evaluator.py"
AR = "fsregistry/models/evaluation/artifacts.py"
BA = "fsregistry/models/evaluation/base.py"
VL = "fsregistry/models/evaluation/validation.py"
MT = "fsregistry/models/evaluation/metrics.py"
B = "mlflow/models/evaluation/base.py:evaluate"
DE = "mlflow/models/evaluation/default_evaluator.py"
ED = "mlflow/data/evaluation_dataset.py:EvaluationDataset.__init__"

#: A frame with a feature, labels and predictions (written into each trigger).
DF = 'pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0], "p": [0, 1, 1]})'
#: Three classes.
DF3 = 'pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 2, 0], "p": [0, 1, 1, 2]})'
#: ``evaluate`` on DF's predictions.
ON_P = f'm.evaluate(data={DF}, model_type="regressor", targets="y", predictions="p"'
#: A metric whose third argument names no column.
ZZ = 'm.models.make_metric(eval_fn=lambda predictions, targets, zz: 1.0, greater_is_better=True, name="mm")'


def art(value: str) -> str:
    """``evaluate`` with a custom artifact function returning ``{"a": <value>}``."""
    return f"{ON_P}, custom_artifacts=[lambda e, mm, d: {{'a': {value}}}])"


def ev(
    kind: str,
    regex: str,
    code: str,
    source: str,
    trigger: str,
    *sites: tuple[str, str],
    storage: bool = False,
    note: str = "",
    fs_code: str = "",
) -> Message:
    """An ``evaluate`` error, checked against MLflow in its matplotlib venv."""
    return _m(
        kind,
        regex,
        code,
        source,
        trigger,
        sites,
        in_mlflow3=False,
        storage=storage,
        note=note,
        fs_code=fs_code,
    )


def val(
    kind: str,
    regex: str,
    code: str,
    source: str,
    trigger: str,
    *sites: tuple[str, str],
    note: str = "",
) -> Message:
    """A validation error outside ``evaluate`` (checked in the base MLflow venv)."""
    return _m(kind, regex, code, source, trigger, sites, storage=False, note=note)


UNCODED = (
    "MLflow raises it without an error code (INTERNAL_ERROR); fsregistry's is "
    "INVALID_PARAMETER_VALUE, a bad argument of the caller"
)
_SKLEARN = (
    "scikit-learn's ValueError, which MLflow's classifier evaluator lets through (no code); "
    "fsregistry computes the scores itself and raises the same text as INVALID_PARAMETER_VALUE"
)

_EVALUATE: tuple[Message, ...] = (
    ev(
        "evaluate: inference_params without an endpoint",
        r"The inference_params argument can only be specified when the model is an MLflow "
        r"Deployments endpoint URI like `endpoints:/my-chat`",
        INVALID,
        B,
        f'{ON_P}, inference_params={{"a": 1}})',
        (API, "The inference_params argument can only be specified"),
    ),
    ev(
        "evaluate: data is None",
        r"The data argument cannot be None\.",
        INVALID,
        B,
        'm.evaluate(data=None, model_type="classifier", targets="y")',
        (API, "The data argument cannot be None."),
    ),
    ev(
        "evaluate: no targets for a classifier",
        r"The targets argument must be specified for classifier models\.",
        INVALID,
        B,
        f'm.evaluate(data={DF}, model_type="classifier", predictions="p")',
        (API, "The targets argument must be specified for"),
    ),
    ev(
        "evaluate: no model type and no extra metrics",
        r"The extra_metrics argument must be specified model_type is None\.",
        INVALID,
        B,
        f'm.evaluate(data={DF}, predictions="p")',
        (API, "The extra_metrics argument must be specified"),
    ),
    ev(
        "evaluate: an extra metric of the wrong type",
        r"In the 'extra_metrics' parameter, the following metrics have the wrong type:\n"
        r"- Metric '1' has type 'int'\nPlease ensure that all extra metrics are instances of "
        r"mlflow\.metrics\.EvaluationMetric\.",
        INTERNAL,
        f"{DE}:DefaultEvaluator.evaluate",
        f"{ON_P}, extra_metrics=[1])",
        (API, "In the 'extra_metrics' parameter"),
        note=UNCODED + "; fsregistry checks before starting the run",
        fs_code=INVALID,
    ),
    ev(
        "evaluate: model_config with a PyFuncModel",
        r"Indicating ``model_config`` when passing a `PyFuncModel`` object as model argument is "
        r"not allowed\. If you need to change the model configuration for the evaluation "
        r"model, use ``mlflow\.pyfunc\.load_model\(model_uri, model_config=<value>\)`` and "
        r"indicate the desired configuration there\.",
        INVALID,
        B,
        f'm.evaluate(COLS, data={DF}, model_type="classifier", targets="y", '
        'model_config={"a": 1})',
        (API, "Indicating ``model_config``"),
    ),
    ev(
        "evaluate: a model that is no URI, PyFuncModel or function",
        r"The model argument must be a string URI referring to an MLflow model, an MLflow "
        r"Deployments endpoint URI, an instance of `mlflow\.pyfunc\.PyFuncModel`, a function, "
        r"or None\.",
        INVALID,
        B,
        f'm.evaluate(5, data={DF}, model_type="classifier", targets="y")',
        (API, "The model argument must be a string URI"),
    ),
    ev(
        "evaluate: an evaluator name with a config that is no dict",
        r"If `evaluators` argument is the name of an evaluator, evaluator_config must be None "
        r"or a dict containing config items for the evaluator\.",
        INVALID,
        "mlflow/models/evaluation/base.py:resolve_evaluators_and_configs",
        f'{ON_P}, evaluators="default", evaluator_config=pd.Series(dtype=object))',
        (API, "If `evaluators` argument is the name of an evaluator"),
    ),
    ev(
        "evaluate: an evaluator list with a config not keyed by evaluator",
        r"If `evaluators` argument is an evaluator name list, evaluator_config must be a dict "
        r"containing mapping from evaluator name to individual evaluator config dict\.",
        INVALID,
        "mlflow/models/evaluation/base.py:resolve_evaluators_and_configs",
        f'{ON_P}, evaluators=["default"], evaluator_config={{"x": 1}})',
        (API, "If `evaluators` argument is an evaluator name list"),
    ),
    ev(
        "evaluate: evaluators neither a name nor a list",
        r"Invalid `evaluators` and `evaluator_config` arguments\. Please refer to the "
        r"documentation for correct usage\.",
        INVALID,
        "mlflow/models/evaluation/base.py:resolve_evaluators_and_configs",
        f"{ON_P}, evaluators=5)",
        (API, "Invalid `evaluators` and `evaluator_config` arguments"),
    ),
    ev(
        "evaluate: no evaluator can evaluate",
        r"The model could not be evaluated by any of the registered evaluators, please verify "
        r"that the model type and other configs are set correctly\.",
        INVALID,
        "mlflow/models/evaluation/base.py:_evaluate",
        f'{ON_P}, evaluators="nope")',
        (API, "The model could not be evaluated by any"),
        storage=True,
    ),
    ev(
        "evaluate: an unknown evaluator name",
        r"Could not find a registered model evaluator for: nope\. Currently registered "
        r"evaluator names are: \['default', 'classifier', 'regressor', 'shap'\]",
        INTERNAL,
        "mlflow/models/evaluation/evaluator_registry.py:get_evaluator",
        f'{ON_P}, evaluators=["nope"])',
        ("fsregistry/models/evaluation/registry.py", "Could not find a registered model"),
    ),
)

_DATASET: tuple[Message, ...] = (
    ev(
        "evaluate: a dataset path with a double quote",
        r'Dataset path cannot include a double quote \("\) but got a"b',
        INVALID,
        ED,
        f"{ON_P}, dataset_path='a\"b')",
        (DS, "Dataset path cannot include a double quote"),
    ),
    ev(
        "evaluate: repeated feature names",
        r"`feature_names` argument must be a list containing unique feature names\.",
        INVALID,
        ED,
        f'{ON_P}, feature_names=["x", "x"])',
        (DS, "`feature_names` argument must be a list"),
    ),
    ev(
        "evaluate: predictions with array data",
        r"If predictions is specified, data must be one of the following types, or an MLflow "
        r"Dataset that represents one of the following types: "
        r"\[<class 'pandas(\.core\.frame)?\.DataFrame'>\]\.",
        INVALID,
        "mlflow/data/evaluation_dataset.py:_validate_dataset_type_supports_predictions",
        'm.evaluate(data=np.array([[1.0], [2.0]]), model_type="regressor", '
        'targets=np.array([1, 2]), predictions="p")',
        (DS, "If predictions is specified, data must be one of"),
    ),
    ev(
        "evaluate: data of an unsupported type",
        r"The data argument must be a numpy array, a list or a Pandas DataFrame, or spark "
        r"DataFrame if pyspark package installed\.",
        INVALID,
        ED,
        'm.evaluate(lambda d: d, data=5, model_type="regressor", targets="y")',
        (DS, "The data argument must be a numpy array"),
    ),
    ev(
        "evaluate: frame targets that are no column name",
        r"If data is a Pandas DataFrame or Spark DataFrame, `targets` argument must be the name "
        r"of the column which contains evaluation labels in the `data` dataframe\.",
        INVALID,
        ED,
        'm.evaluate(lambda d: d["x"], data=pd.DataFrame({"x": [1.0, 2.0], 0: [1, 2]}), '
        'model_type="regressor", targets=0)',
        (DS, "If data is a Pandas DataFrame or Spark DataFrame"),
    ),
    ev(
        "evaluate: targets column absent",
        r"The specified pandas DataFrame does not contain the specified targets column 'z'\.",
        INVALID,
        "mlflow/data/pandas_dataset.py:PandasDataset.__init__",
        f'm.evaluate(data={DF}, model_type="regressor", targets="z", predictions="p")',
        (DS, "The specified pandas DataFrame does not contain"),
    ),
    ev(
        "evaluate: predictions column absent",
        r"The specified pandas DataFrame does not contain the specified predictions column "
        r"'q'\.",
        INVALID,
        "mlflow/data/pandas_dataset.py:PandasDataset.__init__",
        f'm.evaluate(data={DF}, model_type="regressor", targets="y", predictions="q")',
    ),
    ev(
        "evaluate: a one-dimensional array",
        r"If the `data` argument is a numpy array, it must be a 2-dimensional array, with the "
        r"second dimension representing the number of features\. If the `data` argument is a "
        r"list, each of its elements must be a feature array of the numpy array or list, and "
        r"all elements must have the same length\.",
        INVALID,
        ED,
        'm.evaluate(lambda d: d, data=np.array([1.0, 2.0]), model_type="regressor", '
        "targets=np.array([1, 2]))",
        (DS, "<shape_message>"),
        note="a ragged list gives the same message in fsregistry; MLflow fails there first "
        "with numpy's raw ValueError (inhomogeneous shape)",
    ),
    ev(
        "evaluate: fewer labels than rows",
        r"The input features example rows must be the same length with labels array\.",
        INVALID,
        ED,
        'm.evaluate(lambda d: d, data=np.array([[1.0], [2.0]]), model_type="regressor", '
        "targets=np.array([1, 2, 3]))",
        (DS, "The input features example rows must be"),
    ),
    ev(
        "evaluate: feature names of another width",
        r"feature name list must be the same length with feature data\.",
        INVALID,
        ED,
        'm.evaluate(lambda d: d, data=np.array([[1.0], [2.0]]), model_type="regressor", '
        'targets=np.array([1, 2]), feature_names=["a", "b"])',
        (DS, "feature name list must be the same length"),
    ),
)

_EVALUATORS: tuple[Message, ...] = (
    ev(
        "evaluate: neither a model nor predictions",
        r"Either a model or set of predictions must be specified in order to use the default "
        r"evaluator\. Either specify the `model` parameter, the `predictions` parameter, an "
        r"MLflow dataset containing the `predictions` column name \(via the `data` parameter\), "
        r"or a different evaluator \(via the `evaluators` parameter\)\.",
        INVALID,
        f"{DE}:DefaultEvaluator.evaluate",
        f'm.evaluate(data={DF}, model_type="regressor", targets="y")',
        (BI, "Either a model or set of predictions must be"),
        storage=True,
    ),
    ev(
        "evaluate: a multi-output model without an output column",
        r"Output column name is not specified for the multi-output model\. Please set the "
        r"correct output column name using the `predictions` parameter\.",
        INVALID,
        f"{DE}:_extract_output_and_other_columns",
        'm.evaluate(lambda d: pd.DataFrame({"a": [1.0, 0.0, 1.0], "b": [0.0, 0.0, 0.0]}), '
        f'data={DF}.drop(columns="p"), model_type="regressor", targets="y")',
        (BI, "Output column name is not specified"),
        storage=True,
    ),
    ev(
        "evaluate: the output column absent from the model's frame",
        r"Output column name 'c' is not found in the model predictions dataframe "
        r"Index\(\['a', 'b'\], dtype='(str|object)'\)\. Please set the correct output column "
        r"name using the `predictions` parameter\.",
        INVALID,
        f"{DE}:_extract_output_and_other_columns",
        'm.evaluate(lambda d: pd.DataFrame({"a": [1.0, 0.0, 1.0], "b": [0.0, 0.0, 0.0]}), '
        f'data={DF}.drop(columns="p"), model_type="regressor", targets="y", predictions="c")',
        (BI, "Output column name '{}' is not found in the model predictions {}."),
        storage=True,
    ),
    ev(
        "evaluate: pos_label outside label_list",
        r"'pos_label' 5 must exist in 'label_list' \[0, 1\]\.",
        INVALID,
        "mlflow/models/evaluation/evaluators/classifier.py:ClassifierEvaluator._evaluate",
        f"{ON_P.replace('regressor', 'classifier')}, "
        'evaluator_config={"pos_label": 5, "label_list": [0, 1]})',
        (BI, "must exist in 'label_list'"),
        storage=True,
    ),
    ev(
        "evaluate: a classifier with one label",
        r"Evaluation dataset for classification must contain at least two unique labels, but "
        r"only 1 unique labels were found\.",
        INTERNAL,
        "mlflow/models/evaluation/evaluators/classifier.py:_evaluate",
        'm.evaluate(data=pd.DataFrame({"x": [1.0, 2.0], "y": [1, 1], "p": [1, 1]}), '
        'model_type="classifier", targets="y", predictions="p")',
        (BI, "Evaluation dataset for classification must contain"),
        storage=True,
        note=UNCODED + "; fsregistry adds how to pass 'label_list'",
        fs_code=INVALID,
    ),
    ev(
        "evaluate: an unknown SHAP algorithm",
        r"Specified explainer algorithm nope is unsupported\. Currently only support "
        r"exact,permutation,partition,kernel algorithms\.",
        INVALID,
        "mlflow/models/evaluation/evaluators/shap.py:ShapEvaluator._evaluate",
        f'm.evaluate(lambda d: d["x"], data={DF}.drop(columns="p"), model_type="regressor", '
        'targets="y", evaluators=["default"], evaluator_config={"default": '
        '{"explainability_algorithm": "nope", "log_model_explainability": True}})',
        ("fsregistry/models/evaluation/shap_explain.py", "Specified explainer algorithm"),
        storage=True,
    ),
    ev(
        "evaluate: multiclass labels with average='binary'",
        r"Target is multiclass but average='binary'\. Please choose another average setting, "
        r"one of \[None, 'micro', 'macro', 'weighted'\]\.",
        "",
        "sklearn/metrics/_classification.py:_check_set_wise_labels",
        f'm.evaluate(data={DF3}, model_type="classifier", targets="y", predictions="p", '
        'evaluator_config={"average": "binary"})',
        (MT, "{} Labels found: {}."),
        storage=True,
        note=_SKLEARN,
        fs_code=INVALID,
    ),
    ev(
        "evaluate: a two-label label_list for multiclass labels",
        r"Target is multiclass but average='binary'\. Please choose another average setting, "
        r"one of \[None, 'micro', 'macro', 'weighted'\]\.",
        "",
        "sklearn/metrics/_classification.py:_check_set_wise_labels",
        f'm.evaluate(data={DF3}, model_type="classifier", targets="y", predictions="p", '
        'evaluator_config={"label_list": [0, 1]})',
        (MT, "Labels found: {}; pass"),
        storage=True,
        note=_SKLEARN + ". MLflow 2.22 fails first with a raw ValueError (too many values to "
        "unpack)",
        fs_code=INVALID,
    ),
    ev(
        "evaluate: an unknown average",
        r"The 'average' parameter of recall_score must be a str among "
        r"\{('(binary|macro|micro|samples|weighted)'(, )?){5}\} or None\. Got 'nope' instead\.",
        "",
        "sklearn/utils/_param_validation.py:validate_parameter_constraints",
        f'm.evaluate(data={DF3}, model_type="classifier", targets="y", predictions="p", '
        'evaluator_config={"average": "nope"})',
        (MT, "The 'average' parameter of recall_score"),
        storage=True,
        note="scikit-learn's InvalidParameterError (a ValueError; its set printed in any "
        "order), which MLflow lets through; fsregistry raises the same text as "
        "INVALID_PARAMETER_VALUE",
        fs_code=INVALID,
    ),
    ev(
        "evaluate: a metric argument naming no column",
        r"Error: Metric calculation failed for the following metrics:\nMetric 'mm' requires "
        r"the following:\n- missing columns \['zz'\] need to be defined or mapped\n\nBelow are "
        r"the existing column names for the input/output data:\nInput Columns: \['x', 'y'\]\n"
        r"Output Columns: \['p'\]\n\nTo resolve this issue, you may need to:\n- specify any "
        r"required parameters\n- if you are missing columns, check that there are no circular "
        r"dependencies among your\nmetrics, and you may want to map them to an existing column "
        r"using the following\nconfiguration:\nevaluator_config=\{'col_mapping': \{<missing "
        r"column name>: <existing column name>\}\}",
        INVALID,
        f"{DE}:_raise_exception_for_malformed_metrics",
        f"{ON_P}, extra_metrics=[{ZZ}])",
        (EV, "<_unresolved_metrics_message"),
        storage=True,
    ),
    ev(
        "evaluate: a metric needing targets without targets",
        r"Error: Metric calculation failed for the following metrics:\nMetric 'mm' requires "
        r"the following:\n- the 'targets' parameter needs to be specified\n- missing columns "
        r"\['zz'\] need to be defined or mapped\n\nBelow are the existing column names for the "
        r"input/output data:\nInput Columns: \['x', 'y', 'p'\]\nOutput Columns: "
        r"\['predictions'\]\n",
        INVALID,
        f"{DE}:_raise_exception_for_malformed_metrics",
        f'm.evaluate(lambda d: d["x"], data={DF}, model_type=None, extra_metrics=[{ZZ}])',
        storage=True,
    ),
    ev(
        "evaluate: a metric function that raises",
        r"Metric 'mm': Error:\nZeroDivisionError\('division by zero'\)",
        INTERNAL,
        f"{DE}:_test_first_row",
        f"{ON_P}, extra_metrics=[m.models.make_metric(eval_fn=lambda predictions, targets: "
        '1 / 0, greater_is_better=True, name="mm")])',
        (EV, "<'\\n'.join(errors)>"),
        storage=True,
        note="MLflow appends each metric's traceback; fsregistry does not",
    ),
)

EVALUATION: tuple[Message, ...] = _EVALUATE + _DATASET + _EVALUATORS
