"""Names that cannot round-trip, or that collide with the tree's own files: refused with
MLflow's error code and the reason, before anything is written; existing models with such
names (MLflow accepts more) stay usable. Local disk, S3 and GCS."""

from __future__ import annotations

import re
from typing import Any

import pytest

import fsregistry
from fsregistry import Client
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.mlruns.metafile import dump_meta


def files(store_fs: tuple[Any, str]) -> list[str]:
    fs, root = store_fs
    return sorted(fs.find(root)) if fs.exists(root) else []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("two\nlines", "U+000A"),
        ("carriage\rreturn", "U+000D"),
        ("tab\there", "U+0009"),
        ("evil\u202egnp.exe", "RIGHT-TO-LEFT OVERRIDE"),
        ("zero\u200bwidth", "ZERO WIDTH SPACE"),
        ("CON", "device name"),
        ("nul.txt", "device name"),
        ("com1", "device name"),
        ("what?", "'?'"),
        ("a*b", "'*'"),
        ("pipe|d", "'|'"),
        ("trailing.", "end with a dot"),
        ("trailing ", "end with a dot or a space"),
        ("meta.yaml", "reserved"),
    ],
)
def test_new_model_names_that_do_not_round_trip_are_refused(
    store_url: str, store_fs: tuple[Any, str], name: str, reason: str
) -> None:
    client = Client(tracking_uri=store_url)
    client.create_registered_model("fine")
    client.create_registered_model("fine2")
    before = files(store_fs)
    with pytest.raises(InvalidParameterValue, match=re.escape(reason)) as exc:
        client.create_registered_model(name)
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    assert repr(name) in str(exc.value)
    with pytest.raises(InvalidParameterValue, match=re.escape(reason)):
        client.rename_registered_model("fine", name)
    with (
        fsregistry.config.using(tracking_uri=store_url),
        pytest.raises(InvalidParameterValue, match=re.escape(reason)),
    ):
        fsregistry.register_model("/tmp/x", name)  # would create the model: refused
    assert files(store_fs) == before
    assert [m.name for m in client.search_registered_models()] == ["fine", "fine2"]


def test_unicode_and_spaces_inside_names_are_fine(store_url: str) -> None:
    client = Client(tracking_uri=store_url)
    for name in ("churn model v2", "日本語モデル", "émoji 🙂", "a.b-c_d"):
        assert client.create_registered_model(name).name == name
        assert client.get_registered_model(name).name == name


def test_an_existing_model_with_such_a_name_stays_usable(
    store_url: str, store_fs: tuple[Any, str]
) -> None:
    """MLflow's file store accepts '?' in names; versions can still be added and read."""
    fs, root = store_fs
    fs.makedirs(f"{root}/models/what?", exist_ok=True)
    fs.pipe(
        f"{root}/models/what?/meta.yaml",
        dump_meta(
            {
                "name": "what?",
                "creation_timestamp": 1,
                "last_updated_timestamp": 1,
                "description": None,
            }
        ),
    )
    client = Client(tracking_uri=store_url)
    assert client.get_registered_model("what?").name == "what?"
    mv = client.create_model_version("what?", "/tmp/model")
    assert mv.version == 1
    with fsregistry.config.using(tracking_uri=store_url):
        assert fsregistry.register_model("/tmp/model", "what?").version == 2


def test_a_model_directory_named_like_meta_yaml_does_not_break_experiments(
    store_url: str, store_fs: tuple[Any, str]
) -> None:
    """A tree written by MLflow with a model named 'meta.yaml' puts a directory where an
    experiment's meta.yaml would be read for the id 'models': not found, never a raw error."""
    fs, root = store_fs
    client = Client(tracking_uri=store_url)
    exp = client.create_experiment("e")
    fs.makedirs(f"{root}/models/meta.yaml", exist_ok=True)
    fs.pipe(
        f"{root}/models/meta.yaml/meta.yaml",
        dump_meta({"name": "meta.yaml", "creation_timestamp": 1, "last_updated_timestamp": 1}),
    )
    with pytest.raises(ResourceDoesNotExist):
        client.get_experiment("models")
    assert [e.experiment_id for e in client.search_experiments()].count(exp) == 1
    assert client.search_runs([exp]) == []
