"""Where everything lives in an ``mlruns/`` tree: pure path functions, no I/O.

Paths are store-relative POSIX strings. An experiment's directory is ``<id>`` while active
and ``.trash/<id>`` once deleted, so run-level functions take the experiment directory.
"""

from __future__ import annotations

META = "meta.yaml"
TRASH = ".trash"
MODELS = "models"
# fsregistry's registry audit trail (:mod:`fsregistry.registry.history`): MLflow skips every
# root directory whose name ends with ``.trash`` when it lists experiments (2.22 and 3.x).
HISTORY = ".fsreg-history.trash"
DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
# Sub-directories of an experiment that are never runs (MLflow's RESERVED_EXPERIMENT_FOLDERS).
RESERVED_EXPERIMENT_FOLDERS = frozenset({"tags", "datasets", "traces", "models"})
# Root entries that are never experiments.
RESERVED_ROOT_FOLDERS = frozenset({TRASH, MODELS, HISTORY})
RUN_SUBDIRS = ("metrics", "params", "artifacts", "tags")


def experiment_dir(experiment_id: str, deleted: bool = False) -> str:
    return f"{TRASH}/{experiment_id}" if deleted else experiment_id


def experiment_meta(exp_dir: str) -> str:
    return f"{exp_dir}/{META}"


def experiment_tags(exp_dir: str) -> str:
    return f"{exp_dir}/tags"


def experiment_tag(exp_dir: str, key: str) -> str:
    return f"{exp_dir}/tags/{key}"


def run_dir(exp_dir: str, run_id: str) -> str:
    return f"{exp_dir}/{run_id}"


def run_meta(exp_dir: str, run_id: str) -> str:
    return f"{exp_dir}/{run_id}/{META}"


def run_metric(exp_dir: str, run_id: str, key: str) -> str:
    return f"{exp_dir}/{run_id}/metrics/{key}"


def run_params_dir(exp_dir: str, run_id: str) -> str:
    return f"{exp_dir}/{run_id}/params"


def run_param(exp_dir: str, run_id: str, key: str) -> str:
    return f"{run_params_dir(exp_dir, run_id)}/{key}"


def run_tag(exp_dir: str, run_id: str, key: str) -> str:
    return f"{exp_dir}/{run_id}/tags/{key}"


def run_artifacts(exp_dir: str, run_id: str) -> str:
    return f"{exp_dir}/{run_id}/artifacts"


def run_input_meta(exp_dir: str, run_id: str, input_id: str) -> str:
    return f"{exp_dir}/{run_id}/inputs/{input_id}/{META}"


def dataset_meta(exp_dir: str, dataset_id: str) -> str:
    return f"{exp_dir}/datasets/{dataset_id}/{META}"


# -- model registry (docs/mlflow-format.md §2): models/<name>/{meta.yaml,tags/,aliases/,version-N/}
VERSION_DIR_PREFIX = "version-"
# Where a cross-store copy puts a version's artifacts, inside the version directory (MLflow
# reads only meta.yaml and tags/ there).
VERSION_ARTIFACTS = "artifacts"


def registered_model_dir(name: str) -> str:
    return f"{MODELS}/{name}"


def registered_model_meta(name: str) -> str:
    return f"{MODELS}/{name}/{META}"


def registered_model_tags(name: str) -> str:
    return f"{MODELS}/{name}/tags"


def registered_model_tag(name: str, key: str) -> str:
    return f"{MODELS}/{name}/tags/{key}"


def registered_model_aliases(name: str) -> str:
    return f"{MODELS}/{name}/aliases"


def registered_model_alias(name: str, alias: str) -> str:
    return f"{MODELS}/{name}/aliases/{alias}"


def version_dir_name(version: int) -> str:
    return f"{VERSION_DIR_PREFIX}{version}"


def parse_version_dir_name(dirname: str) -> int | None:
    """``"version-12"`` -> 12; anything else (including ``version-x``) -> None."""
    if not dirname.startswith(VERSION_DIR_PREFIX):
        return None
    digits = dirname[len(VERSION_DIR_PREFIX) :]
    return int(digits) if digits.isascii() and digits.isdigit() else None


def model_version_dir(name: str, version: int) -> str:
    return f"{MODELS}/{name}/{version_dir_name(version)}"


def model_version_meta(name: str, version: int) -> str:
    return f"{MODELS}/{name}/{version_dir_name(version)}/{META}"


def model_version_tags(name: str, version: int) -> str:
    return f"{MODELS}/{name}/{version_dir_name(version)}/tags"


def model_version_tag(name: str, version: int, key: str) -> str:
    return f"{MODELS}/{name}/{version_dir_name(version)}/tags/{key}"


def model_version_artifacts(name: str, version: int) -> str:
    return f"{MODELS}/{name}/{version_dir_name(version)}/{VERSION_ARTIFACTS}"


def logged_model_meta(exp_dir: str, model_id: str) -> str:
    """MLflow 3 LoggedModel: ``<exp>/models/<model_id>/meta.yaml`` (docs/mlflow-format.md §1.9)."""
    return f"{exp_dir}/{MODELS}/{model_id}/{META}"


def run_output_meta(exp_dir: str, run_id: str, model_id: str) -> str:
    """MLflow 3 run output record of a LoggedModel (carries the ``step``)."""
    return f"{exp_dir}/{run_id}/outputs/{model_id}/{META}"


def model_history_dir(name: str) -> str:
    """The audit-trail events recorded under the registered model name ``name``."""
    return f"{HISTORY}/{name}"
