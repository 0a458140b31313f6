"""MLflow 3's refusals of prompts in the model registry's model APIs, as its client makes them
(``mlflow/tracking/client.py``: ``create_registered_model``, ``_create_model_version``,
``_raise_if_prompt``, ``get_model_version``, ``copy_model_version``):

* a registered model or version created with the ``mlflow.prompt.is_prompt`` tag:
  INVALID_PARAMETER_VALUE "Prompts cannot be registered as models.";
* a model or version API given a prompt: RESOURCE_DOES_NOT_EXIST "Registered Model with
  name='<name>' not found." (the prompt is invisible to them), and nothing changes;
* copying a prompt's version: RESOURCE_DOES_NOT_EXIST "Model with uri '<uri>' not found".

The differential test runs the same calls in real MLflow 3.17.2 and in fsregistry, each on a
copy of one store MLflow wrote (a model and a prompt with a version and an alias), and compares
error code and message.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsreg_testing.fuzz import is_index_cache
from fsreg_testing.mlflow_env import mlflow_python_env
from fsregistry import Client
from fsregistry.exceptions import FsRegistryException

PROMPT_TAG = "mlflow.prompt.is_prompt"

# Each call refused for the prompt 'pr' (or for the prompt tag); `c` is the client.
CALLS: dict[str, str] = {
    "get_registered_model": "c.get_registered_model('pr')",
    "rename_registered_model": "c.rename_registered_model('pr', 'pr2')",
    "update_registered_model": "c.update_registered_model('pr', 'd')",
    "delete_registered_model": "c.delete_registered_model('pr')",
    "get_latest_versions": "c.get_latest_versions('pr')",
    "set_registered_model_tag": "c.set_registered_model_tag('pr', 'a', 'b')",
    "delete_registered_model_tag": "c.delete_registered_model_tag('pr', 'a')",
    "get_model_version": "c.get_model_version('pr', '1')",
    "update_model_version": "c.update_model_version('pr', '1', 'd')",
    "transition_model_version_stage": "c.transition_model_version_stage('pr', '1', 'Staging')",
    "delete_model_version": "c.delete_model_version('pr', '1')",
    "get_model_version_download_uri": "c.get_model_version_download_uri('pr', '1')",
    "set_model_version_tag": "c.set_model_version_tag('pr', '1', 'a', 'b')",
    "delete_model_version_tag": "c.delete_model_version_tag('pr', '1', 'a')",
    "set_registered_model_alias": "c.set_registered_model_alias('pr', 'a', '1')",
    "delete_registered_model_alias": "c.delete_registered_model_alias('pr', 'al')",
    "get_model_version_by_alias": "c.get_model_version_by_alias('pr', 'al')",
    "create_registered_model_tagged": (
        f"c.create_registered_model('x', tags={{'{PROMPT_TAG}': 'true'}})"
    ),
    "create_model_version_tagged": (
        f"c.create_model_version('rm', SRC, tags={{'{PROMPT_TAG}': 'true'}})"
    ),
    "copy_model_version": "c.copy_model_version('models:/pr/1', 'dst')",
}

_BUILD = """
import json, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri(URI); mlflow.set_registry_uri(URI)
c = MlflowClient()
with mlflow.start_run() as run:
    mlflow.log_text("x", "model/MLmodel")
c.create_registered_model("rm")
c.create_model_version("rm", run.info.artifact_uri + "/model", run_id=run.info.run_id)
mlflow.genai.register_prompt(name="pr", template="Hi {{name}}")
mlflow.genai.set_prompt_alias("pr", alias="al", version=1)
print(json.dumps({"src": run.info.artifact_uri + "/model"}))
"""

_CALL_ALL = """
import json, warnings, mlflow
warnings.simplefilter("ignore")
from mlflow import MlflowClient
mlflow.set_tracking_uri(URI); mlflow.set_registry_uri(URI)
c = MlflowClient()
out = {}
for name, code in CALLS.items():
    try:
        eval(code)
        out[name] = None
    except Exception as e:
        out[name] = [getattr(e, "error_code", None), str(e)]
print(json.dumps(out))
"""


def _snapshot(root: Path) -> dict[str, bytes]:
    """The store's files, less fsregistry's own caches (``.fsreg*``, written by reads)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".fsreg" not in str(p.relative_to(root))
    }


def _fsregistry_answers(uri: str, src: str) -> dict[str, Any]:
    c = Client(tracking_uri=uri, registry_uri=uri)
    out: dict[str, Any] = {}
    for name, code in CALLS.items():
        try:
            eval(code, {"c": c, "SRC": src})
            out[name] = None
        except FsRegistryException as e:
            out[name] = [e.error_code, str(e)]
    return out


@pytest.mark.mlflow
def test_prompt_refusals_match_mlflow3(tmp_path: Path) -> None:
    """Every call refuses as MLflow 3.17.2 does on the same store, and changes nothing."""
    mlflow3 = mlflow_python_env("3.17.2")
    built = tmp_path / "built"
    built.mkdir()
    header = f"URI = {(built / 'mlruns').as_uri()!r}\nCALLS = {CALLS!r}\n"
    src = mlflow3.run(header + _BUILD, cwd=built)["src"]
    for side in ("mlflow", "fsreg"):
        shutil.copytree(built, tmp_path / side)
    mlflow_uri = (tmp_path / "mlflow" / "mlruns").as_uri()
    theirs = mlflow3.run(
        f"URI = {mlflow_uri!r}\nCALLS = {CALLS!r}\nSRC = {src!r}\n" + _CALL_ALL,
        cwd=tmp_path / "mlflow",
    )
    fs_root = tmp_path / "fsreg"
    before = _snapshot(fs_root)
    ours = _fsregistry_answers((fs_root / "mlruns").as_uri(), src)
    assert _snapshot(fs_root) == before
    # The stores' paths differ only by the copy's directory.
    theirs = json.loads(json.dumps(theirs).replace(str(tmp_path / "mlflow"), str(fs_root)))
    assert all(theirs[name] is not None for name in CALLS), theirs
    assert ours == theirs


def test_prompt_refusals_on_every_backend(store_url: str, store_fs: tuple[Any, str]) -> None:
    """On every backend: the prompt tag is refused at creation, and model APIs do not see a
    prompt made by ``create_prompt`` (nothing written by either)."""
    fs, root = store_fs
    c = Client(tracking_uri=store_url)
    c.create_registered_model("rm")
    c.create_prompt("pr")
    # fsregistry's own caches (the index shards a lookup may refresh) left out, as _snapshot.
    before = {p: fs.cat_file(p) for p in sorted(fs.find(root)) if not is_index_cache(p)}
    for call in (
        lambda: c.create_registered_model("x", tags={PROMPT_TAG: "true"}),
        lambda: c.create_model_version("rm", "s3://b/x", tags={PROMPT_TAG: "false"}),
    ):
        with pytest.raises(fsregistry.MlflowException) as info:
            call()
        assert info.value.error_code == "INVALID_PARAMETER_VALUE"
        assert str(info.value) == "Prompts cannot be registered as models."
    for call in (
        lambda: c.get_registered_model("pr"),
        lambda: c.delete_registered_model("pr"),
        lambda: c.set_registered_model_tag("pr", "a", "b"),
        lambda: c.rename_registered_model("pr", "pr2"),
        lambda: c.get_latest_versions("pr"),
    ):
        with pytest.raises(fsregistry.MlflowException) as info:
            call()
        assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
        assert str(info.value) == "Registered Model with name='pr' not found."
    assert {p: fs.cat_file(p) for p in sorted(fs.find(root)) if not is_index_cache(p)} == before
    assert c.get_registered_model("rm").name == "rm"  # models are unaffected


_READS = ("read", "read_many", "read_versioned", "exists", "tokens", "list_dir", "walk", "hold_dir")


def test_refused_arguments_read_nothing_and_prompts_cost_one_check(
    store_url: str, store_fs: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model write refused for its arguments reads nothing of the model (no prompt check,
    no hold, no index refresh: before, the client read the whole model first); a valid one
    given a prompt is refused after one existence check of its prompt tag file."""
    fs, root = store_fs
    c = Client(tracking_uri=store_url)
    c.create_registered_model("rm")
    c.create_model_version("rm", "s3://b/x")
    c.create_prompt("pr")
    storage = c.registry_store.storage
    seen: list[str] = []
    for method in _READS:
        real = getattr(storage, method)

        def spy(path: Any, *args: Any, _real: Any = real, _m: str = method, **kw: Any) -> Any:
            seen.append(f"{_m} {path}")
            return _real(path, *args, **kw)

        monkeypatch.setattr(storage, method, spy)
    before = {p: fs.cat_file(p) for p in sorted(fs.find(root))}
    refused = [
        lambda: c.set_registered_model_tag("rm", "", "v"),
        lambda: c.delete_registered_model_tag("rm", "a/../b"),
        lambda: c.set_registered_model_alias("rm", "v1", 1),
        lambda: c.delete_registered_model_alias("rm", ""),
        lambda: c.update_registered_model("rm", 5),  # type: ignore[arg-type]
        lambda: c.rename_registered_model("rm", ""),
        lambda: c.update_model_version("rm", "1.0", "d"),
        lambda: c.delete_model_version("rm", 0),
        lambda: c.set_model_version_tag("rm", 1, "", "v"),
        lambda: c.delete_model_version_tag("rm", 1, ""),
        lambda: c.transition_model_version_stage("rm", 1, "Bogus"),
        lambda: c.transition_model_version_stage("rm", 1, "None", True),
    ]
    for i, call in enumerate(refused):
        with pytest.raises(fsregistry.MlflowException) as info:
            call()
        assert info.value.error_code in ("INVALID_PARAMETER_VALUE", "INTERNAL_ERROR"), (i, info)
        assert seen == [], (i, seen)
    with pytest.raises(fsregistry.MlflowException) as info:
        c.set_registered_model_alias("pr", "al", 1)
    assert str(info.value) == "Registered Model with name='pr' not found."
    assert seen == [f"exists models/pr/tags/{PROMPT_TAG}"]
    monkeypatch.undo()
    assert {p: fs.cat_file(p) for p in sorted(fs.find(root))} == before
