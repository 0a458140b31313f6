"""Where everything lives in an ``mlruns/`` tree: pure path functions, no I/O.

Paths are store-relative POSIX strings. An experiment's directory is ``<id>`` while active
and ``.trash/<id>`` once deleted, so run-level functions take the experiment directory.
"""

from __future__ import annotations

META = "meta.yaml"
TRASH = ".trash"
MODELS = "models"
DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
# Sub-directories of an experiment that are never runs (MLflow's RESERVED_EXPERIMENT_FOLDERS).
RESERVED_EXPERIMENT_FOLDERS = frozenset({"tags", "datasets", "traces", "models"})
# Root entries that are never experiments.
RESERVED_ROOT_FOLDERS = frozenset({TRASH, MODELS})
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


def run_param(exp_dir: str, run_id: str, key: str) -> str:
    return f"{exp_dir}/{run_id}/params/{key}"


def run_tag(exp_dir: str, run_id: str, key: str) -> str:
    return f"{exp_dir}/{run_id}/tags/{key}"


def run_artifacts(exp_dir: str, run_id: str) -> str:
    return f"{exp_dir}/{run_id}/artifacts"


def run_input_meta(exp_dir: str, run_id: str, input_id: str) -> str:
    return f"{exp_dir}/{run_id}/inputs/{input_id}/{META}"


def dataset_meta(exp_dir: str, dataset_id: str) -> str:
    return f"{exp_dir}/datasets/{dataset_id}/{META}"
