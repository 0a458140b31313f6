"""The registry answers as MLflow's where MLflow pins the behaviour down, on every backend, and
real MLflow (2.22 and 3.x) gives the same answers on the same files:

* ``ModelVersion.version`` is an int from every API (alias targets stay strings);
* registered model and version tag values: MLflow 3's limit (100,000 characters) and its
  "exceeds the maximum length" text;
* prompts (``mlflow.prompt.is_prompt``) are hidden from searches unless the filter names the
  tag, and a taken name says whether a prompt or a model holds it;
* ``order_by`` clauses with whitespace around them are refused, as MLflow cannot parse them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsreg_testing.fuzz import is_index_cache
from fsreg_testing.mlflow_env import MlflowPython
from fsregistry import Client
from fsregistry.entities import Prompt
from fsregistry.exceptions import InvalidParameterValue, ResourceAlreadyExists

PROMPT_TAG = "mlflow.prompt.is_prompt"
TAG_LIMIT = 100_000  # MLflow 3's MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH


def snapshot(store_fs: tuple[Any, str]) -> dict[str, bytes]:
    """Every file of the store and its bytes (to prove a refused call wrote nothing)."""
    fs, root = store_fs
    return {p: fs.cat_file(p) for p in sorted(fs.find(root))} if fs.exists(root) else {}


# -- 9. versions are ints -----------------------------------------------------------------------
def _versions_answers(client: Client) -> dict[str, Any]:
    """What each read API returns for the registry built by ``_build_versions``."""
    rm = client.get_registered_model("m")
    return {
        "get": client.get_model_version("m", "2").version,
        "get_int": client.get_model_version("m", 2).version,
        "by_alias": client.get_model_version_by_alias("m", "champion").version,
        "search": sorted(mv.version for mv in client.search_model_versions("name = 'm'")),
        "latest": sorted(mv.version for mv in client.get_latest_versions("m")),
        "rm_latest": sorted(mv.version for mv in rm.latest_versions),
        "search_rm_latest": sorted(
            mv.version for r in client.search_registered_models() for mv in r.latest_versions
        ),
        "aliases": rm.aliases,
    }


def _types(value: Any) -> Any:
    if isinstance(value, list):
        return [_types(v) for v in value]
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    return type(value).__name__


def _build_versions(client: Client) -> dict[str, Any]:
    client.create_registered_model("m")
    created = [client.create_model_version("m", f"/src/{i}").version for i in (1, 2, 3)]
    client.set_registered_model_alias("m", "champion", "2")
    return {
        "create": created,
        "update": client.update_model_version("m", "1", "d").version,
        "transition": client.transition_model_version_stage("m", "3", "Production").version,
    }


def test_every_api_returns_int_versions(store_url: str) -> None:
    client = Client(tracking_uri=store_url)
    written = _build_versions(client)
    assert written == {"create": [1, 2, 3], "update": 1, "transition": 3}
    answers = _versions_answers(client)
    assert answers == {
        "get": 2,
        "get_int": 2,
        "by_alias": 2,
        "search": [1, 2, 3],
        "latest": [2, 3],
        "rm_latest": [2, 3],
        "search_rm_latest": [2, 3],
        "aliases": {"champion": "2"},  # alias targets are strings, as in MLflow
    }
    assert _types(written) == {"create": ["int"] * 3, "update": "int", "transition": "int"}
    assert _types(answers) == {
        **{k: "int" for k in ("get", "get_int", "by_alias")},
        "search": ["int"] * 3,
        **{k: ["int"] * 2 for k in ("latest", "rm_latest", "search_rm_latest")},
        "aliases": {"champion": "str"},
    }
    assert client.get_model_version_by_alias("m", "latest").version == 3
    assert type(client.copy_model_version("models:/m/1", "copy").version) is int
    with fsregistry.config.using(tracking_uri=store_url):
        assert fsregistry.register_model("/src/4", "m").version == 4


_MLFLOW_VERSION_TYPES = """
import json
from mlflow import MlflowClient

client = MlflowClient(tracking_uri={uri!r}, registry_uri={uri!r})
rm = client.get_registered_model("m")
answers = {{
    "get": client.get_model_version("m", "2").version,
    "get_int": client.get_model_version("m", 2).version,
    "by_alias": client.get_model_version_by_alias("m", "champion").version,
    "search": sorted(mv.version for mv in client.search_model_versions("name = 'm'")),
    "latest": sorted(mv.version for mv in client.get_latest_versions("m")),
    "rm_latest": sorted(mv.version for mv in rm.latest_versions),
    "search_rm_latest": sorted(
        mv.version for r in client.search_registered_models() for mv in r.latest_versions
    ),
    "aliases": rm.aliases,
}}

def types(value):
    if isinstance(value, list):
        return [types(v) for v in value]
    if isinstance(value, dict):
        return {{k: types(v) for k, v in value.items()}}
    return type(value).__name__

print(json.dumps({{"answers": answers, "types": types(answers)}}))
"""


def test_mlflow_returns_the_same_version_types(mlflow_python: MlflowPython, tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    _build_versions(client)
    mine = _versions_answers(client)
    out = mlflow_python.run(_MLFLOW_VERSION_TYPES.format(uri=root.as_uri()), cwd=tmp_path)
    assert out == {"answers": mine, "types": _types(mine)}


# -- 10. tag value limits -----------------------------------------------------------------------
def test_registry_tag_values_follow_mlflow_3_limit(
    store_url: str, store_fs: tuple[Any, str]
) -> None:
    client = Client(tracking_uri=store_url)
    longest = "x" * TAG_LIMIT
    client.create_registered_model("m", tags={"at_limit": longest})
    client.create_model_version("m", "/src", tags={"at_limit": longest})
    client.set_registered_model_tag("m", "set", longest)
    client.set_model_version_tag("m", 1, "set", longest)
    assert client.get_registered_model("m").tags == {"at_limit": longest, "set": longest}
    assert client.get_model_version("m", 1).tags == {"at_limit": longest, "set": longest}

    too_long = "y" * (TAG_LIMIT + 1)
    before = snapshot(store_fs)
    refused = {
        "set_registered_model_tag": lambda: client.set_registered_model_tag("m", "t", too_long),
        "set_model_version_tag": lambda: client.set_model_version_tag("m", 1, "t", too_long),
        "create_registered_model": lambda: client.create_registered_model(
            "n", tags={"t": too_long}
        ),
        "create_model_version": lambda: client.create_model_version(
            "m", "/src", tags={"t": too_long}
        ),
    }
    for what, call in refused.items():
        with pytest.raises(InvalidParameterValue) as info:
            call()
        message = str(info.value)
        assert "'value' exceeds the maximum length of 100000 characters" in message, what
        assert "'t'" in message and "yyyy" in message, what  # names the tag and the value
        assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    with (
        fsregistry.config.using(tracking_uri=store_url),
        pytest.raises(InvalidParameterValue, match="exceeds the maximum length of 100000"),
    ):
        fsregistry.register_model("/src", "m", tags={"t": too_long})
    assert snapshot(store_fs) == before


_MLFLOW_TAG_LIMIT = """
import json
from mlflow import MlflowClient

client = MlflowClient(tracking_uri={uri!r}, registry_uri={uri!r})
out = {{
    "rm_lengths": {{k: len(v) for k, v in client.get_registered_model("m").tags.items()}},
    "mv_lengths": {{k: len(v) for k, v in client.get_model_version("m", 1).tags.items()}},
}}
for what, call in {{
    "set_registered_model_tag": lambda v: client.set_registered_model_tag("m", "t", v),
    "set_model_version_tag": lambda v: client.set_model_version_tag("m", 1, "t", v),
}}.items():
    try:
        call("y" * {over})
        out[what] = "accepted"
    except Exception as e:
        out[what] = str(e)
print(json.dumps(out))
"""


def test_mlflow_reads_our_long_tags_and_refuses_with_the_same_text(
    mlflow_python: MlflowPython, tmp_path: Path
) -> None:
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    client.create_registered_model("m", tags={"long": "x" * TAG_LIMIT})
    client.create_model_version("m", "/src", tags={"long": "x" * TAG_LIMIT})
    code = _MLFLOW_TAG_LIMIT.format(uri=root.as_uri(), over=TAG_LIMIT + 1)
    out = mlflow_python.run(code, cwd=tmp_path)
    # Both MLflows read what fsregistry wrote (MLflow 2.22 only refuses such values on write).
    assert out["rm_lengths"] == out["mv_lengths"] == {"long": TAG_LIMIT}
    limit = TAG_LIMIT if mlflow_python.major >= 3 else 5000
    expected = f"'value' exceeds the maximum length of {limit} characters"
    assert out["set_registered_model_tag"] == out["set_model_version_tag"] == expected
    with pytest.raises(InvalidParameterValue) as info:
        client.set_model_version_tag("m", 1, "t", "y" * (TAG_LIMIT + 1))
    # MLflow's text; the limit is MLflow 3's, whichever MLflow reads the store.
    assert f"'value' exceeds the maximum length of {TAG_LIMIT} characters" in str(info.value)


# -- 11. prompts --------------------------------------------------------------------------------
_PROMPT_FILTERS = [
    None,
    "name = 'greeting'",
    "tags.team = 'a'",
    f"tags.`{PROMPT_TAG}` = 'true'",
    f"tags.{PROMPT_TAG} = 'true'",
    f"tags.`{PROMPT_TAG}` != 'true'",
    f"tags.`{PROMPT_TAG}` = 'false'",
    f"tags.`{PROMPT_TAG}` LIKE '%'",
    f"name = 'greeting' AND tags.`{PROMPT_TAG}` = 'true'",
]


def _build_prompts(client: Client) -> Prompt:
    client.create_registered_model("model")
    client.create_model_version("model", "/m")
    prompt = client.create_prompt("greeting", description="says hi", tags={"team": "a"})
    # A prompt version as MLflow's register_prompt writes it (tagged too: through the store,
    # as the client refuses the tag), and a version added to the prompt by the model API
    # (not tagged: searches show it).
    client.registry_store.create_model_version(
        "greeting", "dummy-source", tags={PROMPT_TAG: "true", "mlflow.prompt.text": "Hi {{x}}"}
    )
    client.create_model_version("greeting", "/untagged")
    return prompt


def _prompt_searches(client: Client) -> dict[str, Any]:
    return {
        str(f): {
            "models": [m.name for m in client.search_registered_models(f)],
            "versions": sorted(
                [v.name, v.version] for v in client.search_model_versions(f, order_by=["name"])
            ),
        }
        for f in _PROMPT_FILTERS
    }


def test_prompts_are_hidden_unless_the_filter_asks(store_url: str) -> None:
    client = Client(tracking_uri=store_url)
    prompt = _build_prompts(client)
    assert prompt == Prompt("greeting", "says hi", prompt.creation_timestamp, {"team": "a"})
    # A prompt is a registered model underneath (the client's model APIs do not show it).
    rm = client.registry_store.get_registered_model("greeting")
    assert rm.tags == {PROMPT_TAG: "true", "team": "a"}
    assert rm.creation_timestamp == prompt.creation_timestamp
    found = _prompt_searches(client)
    models_only = {"models": ["model"], "versions": [["greeting", 2], ["model", 1]]}
    prompts_only = {"models": ["greeting"], "versions": [["greeting", 1]]}
    assert found == {
        "None": models_only,
        "name = 'greeting'": {"models": [], "versions": [["greeting", 2]]},
        "tags.team = 'a'": {"models": [], "versions": []},
        f"tags.`{PROMPT_TAG}` = 'true'": prompts_only,
        f"tags.{PROMPT_TAG} = 'true'": prompts_only,
        f"tags.`{PROMPT_TAG}` != 'true'": models_only,
        f"tags.`{PROMPT_TAG}` = 'false'": models_only,
        f"tags.`{PROMPT_TAG}` LIKE '%'": prompts_only,
        f"name = 'greeting' AND tags.`{PROMPT_TAG}` = 'true'": prompts_only,
    }


def test_a_taken_name_says_whether_a_prompt_or_a_model_holds_it(
    store_url: str, store_fs: tuple[Any, str]
) -> None:
    client = Client(tracking_uri=store_url)
    client.create_registered_model("model")
    client.create_prompt("greeting")
    before = snapshot(store_fs)
    attempts = {
        "prompt over prompt": lambda: client.create_prompt("greeting"),
        "model over prompt": lambda: client.create_registered_model("greeting"),
        "prompt over model": lambda: client.create_prompt("model", tags={"team": "a"}),
        "model over model": lambda: client.create_registered_model("model"),
        "tagged model over prompt": lambda: client.registry_store.create_registered_model(
            "greeting",
            tags={PROMPT_TAG: "false"},  # the key marks a prompt, whatever its value
        ),
    }
    messages = {}
    for what, call in attempts.items():
        with pytest.raises(ResourceAlreadyExists) as info:
            call()
        assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"
        messages[what] = str(info.value)
    mixed = "MLflow does not allow creating a model and a prompt with the same name."
    assert messages == {
        "prompt over prompt": "Prompt (name=greeting) already exists.",
        "model over prompt": "Tried to create a registered model with name 'greeting', but the "
        f"name is already taken by a prompt. {mixed}",
        "prompt over model": "Tried to create a prompt with name 'model', but the name is "
        f"already taken by a registered model. {mixed}",
        "model over model": "Registered Model (name=model) already exists.",
        "tagged model over prompt": "Prompt (name=greeting) already exists.",
    }
    # Each refusal looked the name up: on a bucket that read may record what it decoded in
    # the registry index shards (a cache MLflow ignores), as any lookup may.
    after = snapshot(store_fs)
    assert {p: v for p, v in after.items() if not is_index_cache(p)} == {
        p: v for p, v in before.items() if not is_index_cache(p)
    }


_MLFLOW_PROMPTS = """
import json
from mlflow import MlflowClient

client = MlflowClient(tracking_uri={uri!r}, registry_uri={uri!r})
out = {{"searches": {{}}, "taken": {{}}}}
for f in {filters!r}:
    out["searches"][str(f)] = {{
        "models": [m.name for m in client.search_registered_models(f)],
        "versions": sorted(
            [v.name, v.version] for v in client.search_model_versions(f, order_by=["name"])
        ),
    }}
registry = client._get_registry_client()  # what MLflow's create_prompt calls
for what, (name, tags) in {{
    "prompt over prompt": ("greeting", {{{tag!r}: "true"}}),
    "model over prompt": ("greeting", None),
    "prompt over model": ("model", {{{tag!r}: "true"}}),
    "model over model": ("model", None),
}}.items():
    try:
        registry.create_registered_model(name, tags)
        out["taken"][what] = "created"
    except Exception as e:
        out["taken"][what] = [e.error_code, e.message]
print(json.dumps(out))
"""


def test_mlflow_hides_and_names_prompts_the_same_way(
    mlflow_python: MlflowPython, tmp_path: Path
) -> None:
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    _build_prompts(client)
    mine = _prompt_searches(client)
    taken = {}
    for what, call in {
        "prompt over prompt": lambda: client.create_prompt("greeting"),
        "model over prompt": lambda: client.create_registered_model("greeting"),
        "prompt over model": lambda: client.create_prompt("model"),
        "model over model": lambda: client.create_registered_model("model"),
    }.items():
        with pytest.raises(ResourceAlreadyExists) as info:
            call()
        taken[what] = [info.value.error_code, str(info.value)]
    code = _MLFLOW_PROMPTS.format(uri=root.as_uri(), filters=_PROMPT_FILTERS, tag=PROMPT_TAG)
    out = mlflow_python.run(code, cwd=tmp_path)
    assert out == {"searches": mine, "taken": taken}


# -- 12. order_by -------------------------------------------------------------------------------
_ORDER_BY = {
    "runs": ["params.my_param", "params.my_param ", " metrics.m", "metrics.m DESC ", "tags.t\n"],
    "experiments": ["name", "name ", " creation_time DESC"],
    "registered_models": [
        *("name", "name ", " name", "name ASC ", "creation_timestamp\t", "name  DESC"),
        *("last_updated_timestamp", "`name`", "attribute.name", "timestamp", "version_number"),
        *("tags.t", "attributes.name", "params.p", "NAME", "name, creation_timestamp"),
    ],
    "model_versions": [
        *("version_number DESC", "version_number DESC ", " name", "name\tASC", "name\nDESC"),
        *("version", "run_id", "source_path", "tags.t", "creation_timestamp"),
    ],
}


def _order_by_answers(client: Client, experiment_id: str) -> dict[str, dict[str, str]]:
    search = {
        "runs": lambda o: client.search_runs([experiment_id], order_by=[o]),
        "experiments": lambda o: client.search_experiments(order_by=[o]),
        "registered_models": lambda o: client.search_registered_models(order_by=[o]),
        "model_versions": lambda o: client.search_model_versions(order_by=[o]),
    }
    out: dict[str, dict[str, str]] = {}
    for kind, clauses in _ORDER_BY.items():
        out[kind] = {}
        for clause in clauses:
            try:
                search[kind](clause)
                out[kind][clause] = "ok"
            except InvalidParameterValue:
                out[kind][clause] = "INVALID_PARAMETER_VALUE"
    return out


def test_order_by_with_whitespace_around_is_refused(store_url: str) -> None:
    client = Client(tracking_uri=store_url)
    experiment_id = client.create_experiment("e")
    client.create_run(experiment_id)
    client.create_registered_model("m")
    client.create_model_version("m", "/src")
    answers = _order_by_answers(client, experiment_id)
    for kind, by_clause in answers.items():
        for clause, answer in by_clause.items():
            spaced = clause != clause.strip()
            assert (answer != "ok") == (spaced or clause in _REFUSED_KEYS), (kind, clause)
    with pytest.raises(InvalidParameterValue, match="Could not be parsed: trailing whitespace"):
        client.search_runs([experiment_id], order_by=["params.my_param "])


# Keys MLflow refuses whatever the spacing (the registry kinds have few sortable keys).
_REFUSED_KEYS = frozenset(
    {
        *("timestamp", "version_number", "tags.t", "attributes.name", "params.p", "NAME"),
        *("name, creation_timestamp", "version", "run_id", "source_path"),
    }
)

_MLFLOW_ORDER_BY = """
import json
from mlflow import MlflowClient

client = MlflowClient(tracking_uri={uri!r}, registry_uri={uri!r})
search = {{
    "runs": lambda o: client.search_runs([{experiment_id!r}], order_by=[o]),
    "experiments": lambda o: client.search_experiments(order_by=[o]),
    "registered_models": lambda o: client.search_registered_models(order_by=[o]),
    "model_versions": lambda o: client.search_model_versions(order_by=[o]),
}}
out = {{}}
for kind, clauses in {clauses!r}.items():
    out[kind] = {{}}
    for clause in clauses:
        try:
            search[kind](clause)
            out[kind][clause] = "ok"
        except Exception as e:
            out[kind][clause] = getattr(e, "error_code", type(e).__name__)
print(json.dumps(out))
"""


def test_mlflow_accepts_and_refuses_the_same_order_by(
    mlflow_python: MlflowPython, tmp_path: Path
) -> None:
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    experiment_id = client.create_experiment("e")
    client.create_run(experiment_id)
    client.create_registered_model("m")
    client.create_model_version("m", "/src")
    mine = _order_by_answers(client, experiment_id)
    code = _MLFLOW_ORDER_BY.format(
        uri=root.as_uri(), experiment_id=experiment_id, clauses=_ORDER_BY
    )
    assert mlflow_python.run(code, cwd=tmp_path) == json.loads(json.dumps(mine))
