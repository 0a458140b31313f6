"""MLflow's messages for model environments, saving arguments, models from code, custom-model
artifacts, ``add_libraries_to_model``, ``predict`` and model downloads (tests/mlflow_messages.py's
table, models part; see tests/mlflow_messages_models.py).

Triggers use :data:`~tests.mlflow_messages_base.MODEL_SETUP` (``TMPD``, a scratch directory)
and, for the registry, :data:`~tests.mlflow_messages_base.SETUP`'s client ``c``. A trigger
that needs files writes them itself (the same code runs in MLflow and in fsregistry). The
triggers that set an environment variable run through ``exec`` so that the variable is removed
whatever happens (``try``/``finally``).
"""

from __future__ import annotations

from tests.mlflow_messages_base import INTERNAL, INVALID, MISSING, Message, _m, validation

ENV = "fsregistry/models/environment.py"
SAV = "fsregistry/models/saving.py"
WHL = "fsregistry/models/wheeled_model.py"
FC = "fsregistry/pyfunc/from_code.py"
PM = "fsregistry/pyfunc/model.py"
MWM = "mlflow/models/wheeled_model.py"
#: A lambda model saved to ``TMPD/<d>`` (MLflow wants requirements or an example for it).
_LAMBDA = 'm.pyfunc.save_model(TMPD + "/{d}", python_model=lambda x: x, pip_requirements={r})'
#: A model from code whose file is ``TMPD/<f>.py``, with the text given, saved to ``TMPD/<f>1``.
_FROM_CODE = (
    'open(TMPD + "/{f}.py", "w").write({text!r}), '
    'm.pyfunc.save_model(TMPD + "/{f}1", python_model=TMPD + "/{f}.py", input_example=1)'
)
#: The version 1 of a new registered model ``<n>`` over the model directory ``TMPD/<d>``.
_REGISTER = 'c.create_registered_model("{n}"), c.create_model_version("{n}", TMPD + "/{d}")'
_ADD_LIBS = "m.models.add_libraries_to_model('models:/{n}/1')"
#: Runs ``add_libraries_to_model`` with an environment variable set, then removes it.
_WITH_ENV = (
    'exec("import os\\nos.environ[{k!r}] = {v!r}\\ntry:\\n    {call}\\nfinally:\\n'
    '    del os.environ[{k!r}]\\n")'
)
_TYPE_ERROR = (
    "deliberate: fsregistry raises InvalidParameterValue for a bad argument, where MLflow "
    "raises a TypeError (no code)"
)
_INTERNAL_ARG = (
    "deliberate: fsregistry raises InvalidParameterValue for a bad argument, where MLflow's "
    "MlflowException is left at INTERNAL_ERROR"
)
_WRITTEN_MLMODEL = "flavors:\\n  python_function:\\n    loader_module: mlflow.pyfunc.model\\n"


def _written(d: str, head: str = "") -> str:
    """Writes ``TMPD/<d>/MLmodel`` by hand: a python_function flavor with neither an
    environment nor a python_model (``head`` goes before it)."""
    return (
        f'os.makedirs(TMPD + "/{d}"), '
        f'open(TMPD + "/{d}/MLmodel", "w").write("{head}{_WRITTEN_MLMODEL}")'
    )


def _add_libs_to_written(n: str, head: str = "") -> str:
    """``add_libraries_to_model`` on version 1 of ``n``, a model written by :func:`_written`."""
    return f"({_written(n, head)}, {_REGISTER.format(n=n, d=n)}, {_ADD_LIBS.format(n=n)})"


def _add_libs_with_env(n: str, requirements: str, key: str, value: str) -> str:
    """``add_libraries_to_model`` on version 1 of ``n``, a lambda model with
    ``requirements``, with the environment variable ``key`` set to ``value`` meanwhile."""
    call = _ADD_LIBS.format(n=n)
    return (
        f"({_LAMBDA.format(d=n, r=requirements)}, {_REGISTER.format(n=n, d=n)}, "
        f"{_WITH_ENV.format(k=key, v=value, call=call)})"
    )


_v = validation


MODELSB: tuple[Message, ...] = (
    # -- environments and requirements --------------------------------------------------------
    _v(
        "save_model: pip_requirements of another type",
        r"`pip_requirements` must be either a string path to a pip requirements file on the "
        r"local filesystem or an iterable of pip requirement strings, but got `<class 'int'>`",
        "",
        "mlflow/utils/environment.py:_parse_pip_requirements (a TypeError)",
        _LAMBDA.format(d="pr1", r=5),
        (ENV, "`pip_requirements` must be either a string path"),
        fs_code=INVALID,
        note=_TYPE_ERROR,
    ),
    _v(
        "save_model: conda_env of another type",
        r"Expected a string path to a conda env yaml file or a `dict` representing a conda env, "
        r"but got `int`",
        "",
        "mlflow/utils/environment.py:_process_conda_env (a TypeError)",
        'm.pyfunc.save_model(TMPD + "/pr2", python_model=lambda x: x, input_example=1, '
        "conda_env=5)",
        (ENV, "Expected a string path to a conda env yaml file"),
        fs_code=INVALID,
        note=_TYPE_ERROR,
    ),
    _v(
        "get_model_dependencies: no pip section",
        r"No pip section found in conda\.yaml file in the model directory\.",
        MISSING,
        "mlflow/pyfunc/__init__.py:_get_model_dependencies",
        "(" + _LAMBDA.format(d="gd1", r='["x"]') + ', os.remove(TMPD + "/gd1/requirements.txt"), '
        'open(TMPD + "/gd1/conda.yaml", "w").write("dependencies: [python]\\n"), '
        'm.pyfunc.get_model_dependencies(TMPD + "/gd1"))',
        (ENV, "No pip section found in conda.yaml"),
    ),
    _v(
        "update_model_requirements: invalid requirement",
        r"Found invalid requirements: [\[{]'!!'",
        INVALID,
        "mlflow/models/model.py:update_model_requirements",
        "("
        + _LAMBDA.format(d="ur1", r='["x"]')
        + ', m.models.update_model_requirements(TMPD + "/ur1", "add", ["!!"]))',
        (ENV, "Found invalid requirements"),
        note="MLflow prints a dict of each requirement and its parser error, fsregistry a list",
    ),
    _m(
        "update_model_requirements: models:/ URI",
        r'Failed to set requirements on "models:/rm/1"\. Model URIs with the `models:/` scheme '
        r"are not supported",
        INVALID,
        "mlflow/models/model.py:update_model_requirements",
        'm.models.update_model_requirements("models:/rm/1", "add", ["x"])',
        ((ENV, "Failed to set requirements on"),),
        storage=False,
    ),
    _m(
        "set_signature: models:/ URI",
        r"Failed to set signature on ['\"]models:/rm/1['\"]\. Model URIs with the `models:/",
        INVALID,
        "mlflow/models/signature.py:set_signature",
        'm.models.set_signature("models:/rm/1", '
        'm.models.ModelSignature(inputs=T.Schema([T.ColSpec("long", "a")])))',
        (("fsregistry/models/model.py", "Model URIs with the `models:/<name>/<version>` scheme"),),
        storage=False,
        note="In 2.22.5 MLflow quotes the URI with double quotes and names the `models:/` "
        "scheme; the regex takes both",
    ),
    _v(
        "infer_pip_requirements: timeout",
        r"Operation timed out after 1e-09 seconds",
        "",
        "mlflow/utils/timeout.py:run_with_timeout (MlflowTimeoutError, a plain Exception)",
        "("
        + _LAMBDA.format(d="it1", r='["x"]')
        + ', m.models.infer_pip_requirements(TMPD + "/it1", "python_function", timeout=1e-9))',
        ("fsregistry/models/requirements_inference.py", "Operation timed out after"),
        in_mlflow3=False,
        fs_code=INTERNAL,
        note="Not run in MLflow: its timeout is a SIGALRM of whole seconds, so 1e-9 seconds "
        "does not time out there; the text is MlflowTimeoutError's in "
        "mlflow/utils/timeout.py:run_with_timeout, which infer_pip_requirements re-raises "
        "without a fallback. fsregistry's RequirementsInferenceTimeout is an MlflowException "
        "(INTERNAL_ERROR), where MLflow's has no code",
    ),
    # -- saving arguments ---------------------------------------------------------------------
    _v(
        "save_model: code_paths of another type",
        r"Argument code_paths should be a list, not <class 'str'>",
        "",
        "mlflow/utils/model_utils.py:_validate_code_paths (a TypeError)",
        'm.pyfunc.save_model(TMPD + "/cp1", python_model=lambda x: x, input_example=1, '
        'code_paths="x")',
        (SAV, "Argument code_paths should be a list"),
        fs_code=INVALID,
        note=_TYPE_ERROR + ". MLflow 2.22 names it `code_path` in this text",
    ),
    _v(
        "save_model: code path missing",
        r"Failed to copy the specified code path '[^']*nocode' into the model artifacts\. It "
        r"appears that your code path includes file\(s\) that cannot be copied\. Please specify a "
        r"code path that does not include such files and try again\.",
        INVALID,
        "mlflow/utils/model_utils.py:_validate_and_copy_code_paths",
        'm.pyfunc.save_model(TMPD + "/cp2", python_model=lambda x: x, input_example=1, '
        'code_paths=[TMPD + "/nocode"])',
        (SAV, "Failed to copy the specified code path"),
        note="MLflow's message is the repr of a one-element tuple (a stray comma in its source); "
        "the regex matches the text inside it",
    ),
    _v(
        "save_model: code_path and code_paths",
        r"Both `code_path` and `code_paths` have been specified, which is not permitted\.",
        INTERNAL,
        "mlflow-2.22.5 mlflow/pyfunc/__init__.py:save_model",
        'm.pyfunc.save_model(TMPD + "/cp3", python_model=lambda x: x, input_example=1, '
        'code_path=["a"], code_paths=["b"])',
        (SAV, "Both `code_path` and `code_paths`"),
        in_mlflow3=False,
        fs_code=INVALID,
        note="Not run in MLflow 3: it has no code_path argument (a TypeError for an unexpected "
        "keyword); the text is MLflow 2.22.5's. " + _INTERNAL_ARG,
    ),
    # -- models from code ---------------------------------------------------------------------
    _v(
        "save_model: model file never calls set_model",
        r"If the model is logged as code, ensure the model is set using "
        r"mlflow\.models\.set_model\(\) within the code file code file\.",
        INTERNAL,
        "mlflow/models/utils.py:_load_model_code_path",
        "(" + _FROM_CODE.format(f="ns", text="x = 1\n") + ")",
        (FC, "never called set_model()"),
    ),
    _v(
        "save_model: model file import fails",
        r"Failed to import code model from [^ ]*imp\.py\. Error: No module named "
        r"'no_such_module_xyz'",
        INTERNAL,
        "mlflow/models/utils.py:_load_model_code_path",
        "(" + _FROM_CODE.format(f="imp", text="import no_such_module_xyz\n") + ")",
        (FC, "Failed to import code model from"),
    ),
    _v(
        "save_model: model file raises",
        r"Failed to run user code from [^ ]*run\.py\. Error: division by zero\. Review the stack "
        r"trace for more information\.",
        INTERNAL,
        "mlflow/models/utils.py:_load_model_code_path",
        "(" + _FROM_CODE.format(f="run", text="1 / 0\n") + ")",
        (FC, "Failed to run user code from"),
    ),
    _v(
        "load_model: model file missing",
        r"Failed to run user code from [^ ]*ok1/ok\.py\. Error: \[Errno 2\] No such file or "
        r"directory: '[^']*ok1/ok\.py'\. Review the stack trace for more information\.",
        INTERNAL,
        "mlflow/models/utils.py:_load_model_code_path",
        "("
        + _FROM_CODE.format(f="ok", text="import mlflow\nmlflow.models.set_model(lambda x: x)\n")
        + ', os.remove(TMPD + "/ok1/ok.py"), '
        # fsregistry's hash manifest would refuse the model first; MLflow writes none.
        '[os.remove(p) for p in [TMPD + "/ok1/fsreg.hashes.json"] if os.path.exists(p)], '
        'm.pyfunc.load_model(TMPD + "/ok1"))',
    ),
    # -- custom models ------------------------------------------------------------------------
    _v(
        "save_model: artifact missing",
        r"The following failures occurred while downloading one or more artifacts from "
        r"[^\n]*:\n##### File missing #####\nNo such artifact: 'missing'",
        MISSING,
        "mlflow/store/artifact/artifact_repo.py:download_artifacts (of each artifacts= entry)",
        'm.pyfunc.save_model(TMPD + "/am1", python_model=m.pyfunc.PythonModel(), '
        'artifacts={"a": TMPD + "/missing"})',
        (PM, "The following failures occurred while downloading"),
        note="MLflow 2.22 gives the OSError's text instead of 'No such artifact', at "
        "INTERNAL_ERROR. The same site refuses a remote artifact that is not there",
    ),
    _v(
        "load_model: custom model without python_model",
        r"Python model path was not specified in the model configuration",
        INTERNAL,
        "mlflow/pyfunc/model.py:_load_pyfunc",
        f'({_written("npm")}, m.pyfunc.load_model(TMPD + "/npm"))',
        (PM, "Python model path was not specified"),
    ),
    # -- model downloads ----------------------------------------------------------------------
    _v(
        "load_model: dst_path missing",
        r"The destination path for downloaded artifacts does not exist! Destination path: "
        r"[^ ]*nodst",
        MISSING,
        "mlflow/store/artifact/artifact_repo.py:download_artifacts",
        "("
        + _LAMBDA.format(d="dp1", r='["x"]')
        + ', m.pyfunc.load_model(TMPD + "/dp1", dst_path=TMPD + "/nodst"))',
        ("fsregistry/models/cache.py", "downloaded artifacts does not exist"),
    ),
    _v(
        "load_model: dst_path a file",
        r"The destination path for downloaded artifacts must be a directory! Destination path: "
        r"[^ ]*dfile",
        INVALID,
        "mlflow/store/artifact/artifact_repo.py:download_artifacts",
        "(" + _LAMBDA.format(d="dp2", r='["x"]') + ', open(TMPD + "/dfile", "w").write("x"), '
        'm.pyfunc.load_model(TMPD + "/dp2", dst_path=TMPD + "/dfile"))',
        ("fsregistry/models/cache.py", "downloaded artifacts must be a directory"),
    ),
    # -- predict ------------------------------------------------------------------------------
    _v(
        "predict: csv input of another type",
        r"Input data must be one of \(<class 'str'>, <class 'list'>, <class 'dict'>, "
        r"<class 'pandas[\w.]*DataFrame'>\) when content type is 'csv', but got <class 'int'>\.",
        INVALID,
        "mlflow/models/python_api.py:_serialize_input_data",
        'm.models.predict(TMPD, input_data=5, content_type="csv", env_manager="local")',
        ("fsregistry/pyfunc/predict.py", "when content type is 'csv'"),
        note="pandas' DataFrame class prints as pandas.DataFrame or "
        "pandas.core.frame.DataFrame depending on the pandas version",
    ),
    # -- add_libraries_to_model ---------------------------------------------------------------
    _v(
        "add_libraries_to_model: not a models:/ URI",
        r"Not a proper models:/ URI: runs:/\w+/model\. Models URIs must be of the form ",
        INTERNAL,
        "mlflow/store/artifact/utils/models.py:_parse_model_uri",
        'm.models.add_libraries_to_model("runs:/" + R + "/model")',
        (WHL, "Not a proper models:/ URI"),
        fs_code=INVALID,
        note=_INTERNAL_ARG,
    ),
    _v(
        "add_libraries_to_model: pip fails",
        r"An error occurred while downloading the dependency wheels: ",
        INTERNAL,
        f"{MWM}:WheeledModel._download_wheels",
        _add_libs_with_env("wl1", '["no-such-dist-xyz==1.0"]', "PIP_NO_INDEX", "1"),
        (WHL, "An error occurred while downloading the dependency wheels"),
        note="MLflow prints pip's output as bytes (b'...'), fsregistry as text",
    ),
    _v(
        "add_libraries_to_model: pip option not allowed",
        r"Invalid pip wheel option passed to `MLFLOW_WHEELED_MODEL_PIP_DOWNLOAD_OPTIONS`\. "
        r"Allowed options: ",
        INVALID,
        f"{MWM}:WheeledModel._download_wheels",
        _add_libs_with_env(
            "wl2", '["x"]', "MLFLOW_WHEELED_MODEL_PIP_DOWNLOAD_OPTIONS", "--index-url=http://x"
        ),
        (WHL, "Invalid pip wheel option passed to"),
        note="MLflow 2.22 has no such option check (it passes the options to pip): MLflow 2.22 "
        "fails in pip instead",
    ),
    _v(
        "add_libraries_to_model: libraries already added",
        r"Model libraries are already added",
        "BAD_REQUEST",
        f"{MWM}:WheeledModel.save_model",
        _add_libs_to_written("wl3", head="wheels: true\\n"),
        (WHL, "Model libraries are already added"),
    ),
    _v(
        "add_libraries_to_model: no logged dependencies",
        r"Cannot add libraries for model with no logged dependencies\.",
        "BAD_REQUEST",
        f"{MWM}:WheeledModel.save_model",
        _add_libs_to_written("wl4"),
        (WHL, "Cannot add libraries for model with no logged dependencies"),
        in_mlflow3=False,
        note="Not run in MLflow: the text is WheeledModel.save_model's, but MLflow first joins "
        "the model path with the MLmodel's conda env path, which fails with a TypeError when "
        "the MLmodel names none (as here), so this check is never reached there",
    ),
)
