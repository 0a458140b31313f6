"""Figures, images and tables (``log_figure``, ``log_image``, ``log_table``, ``load_table``)
and the other top-level tracking calls of MLflow 3 (experiment tags, parent runs, registry
searches), on every backend; and real MLflow 3.17 reading what fsregistry wrote, and back.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import fsregistry
from fsregistry import Client
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.fluent import _stack

np = pytest.importorskip("numpy")
PIL_Image = pytest.importorskip("PIL.Image")


@pytest.fixture
def fluent(store_url: str) -> Iterator[str]:
    fsregistry.set_tracking_uri(store_url)
    fsregistry.fluent._active_experiment_id = None
    _stack().clear()
    yield store_url
    while _stack():
        fsregistry.end_run()
    fsregistry.fluent._active_experiment_id = None


def _files(client: Client, run_id: str, path: str | None = None) -> list[str]:
    return [f.path for f in client.list_artifacts(run_id, path)]


def test_log_figure_matplotlib_and_plotly(fluent: str) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    go = pytest.importorskip("plotly.graph_objects")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [2, 3])
    with fsregistry.start_run() as run:
        fsregistry.log_figure(fig, "plots/figure.png")
        fsregistry.log_figure(fig, "figure.svg")
        fsregistry.log_figure(go.Figure(go.Scatter(x=[0, 1], y=[2, 3])), "figure.html")
        with pytest.raises(TypeError, match="Unsupported file extension"):
            fsregistry.log_figure(go.Figure(), "figure.txt")
        with pytest.raises(InvalidParameterValue, match="Unsupported figure object type"):
            fsregistry.log_figure(object(), "figure.png")
    plt.close(fig)
    client = Client()
    rid = run.info.run_id
    assert _files(client, rid) == ["figure.html", "figure.svg", "plots"]
    repo = client._artifacts(rid)
    assert repo.read_bytes("plots/figure.png").startswith(b"\x89PNG")
    assert b"<svg" in repo.read_bytes("figure.svg")
    assert b"cdn.plot.ly" in repo.read_bytes("figure.html")  # include_plotlyjs="cdn"


def test_log_image_file_and_step_wise(fluent: str) -> None:
    image = np.zeros((100, 300, 3), dtype=np.uint8)
    image[:, :50] = [255, 128, 0]
    with fsregistry.start_run() as run:
        fsregistry.log_image(image, "images_static/a.png")
        fsregistry.log_image(PIL_Image.new("RGB", (10, 10)), "b.jpg")
        fsregistry.log_image(image, key="train/sample", step=3, timestamp=1_700_000_000_000)
        fsregistry.log_image(fsregistry.Image(image), key="plain")
    client = Client()
    rid = run.info.run_id
    repo = client._artifacts(rid)
    static = PIL_Image.open(io.BytesIO(repo.read_bytes("images_static/a.png")))
    assert static.size == (300, 100) and static.getpixel((0, 0)) == (255, 128, 0)
    names = _files(client, rid, "images")
    stepped = [n for n in names if n.startswith("images/train~sample+step+3+timestamp+")]
    assert len(stepped) == 2
    full = next(n for n in stepped if n.endswith(".png"))
    assert full.startswith("images/train~sample+step+3+timestamp+1700000000000+")
    assert next(n for n in stepped if n != full) == full[: -len(".png")] + "+compressed.webp"
    thumb = PIL_Image.open(io.BytesIO(repo.read_bytes(full[:-4] + "+compressed.webp")))
    assert thumb.format == "WEBP" and thumb.size == (256, 85)
    assert any(n.startswith("images/plain+step+0+timestamp+") for n in names)
    assert client.get_run(rid).data.tags["mlflow.loggedImages"] == "True"


def test_log_image_checks_and_converts_arrays_as_mlflow(fluent: str) -> None:
    with fsregistry.start_run() as run:
        with pytest.raises(ValueError, match=r"out of acceptable range \[0, 255\]"):
            fsregistry.log_image(np.full((2, 2), 300), "bad.png")
        with pytest.raises(TypeError, match="Invalid array data type"):
            fsregistry.log_image(np.zeros((2, 2), dtype=complex), "bad.png")
        with pytest.raises(ValueError, match="2D or 3D"):
            fsregistry.log_image(np.zeros((2,)), "bad.png")
        with pytest.raises(ValueError, match="Invalid channel length: 2"):
            fsregistry.log_image(np.zeros((2, 2, 2)), "bad.png")
        with pytest.raises(TypeError, match="cannot be used in conjunction"):
            fsregistry.log_image(np.zeros((2, 2)), "x.png", key="k")
        with pytest.raises(TypeError, match="exactly one of"):
            fsregistry.log_image(np.zeros((2, 2)))
        with pytest.raises(ValueError, match="invalid characters"):
            fsregistry.log_image(np.zeros((2, 2)), key="a:b")
        with pytest.warns(UserWarning, match="Rescaling"):
            fsregistry.log_image(np.array([[-1.0, 1.0], [3.0, 0.0]]), "scaled.png")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fsregistry.log_image(np.array([[True, False]]), "mask.png")
            fsregistry.log_image(np.zeros((2, 2, 1), dtype=np.float32) + 0.5, "gray.png")
    client = Client()
    rid = run.info.run_id
    assert _files(client, rid) == ["gray.png", "mask.png", "scaled.png"]  # bad ones: nothing
    assert "mlflow.loggedImages" not in client.get_run(rid).data.tags
    repo = client._artifacts(rid)
    scaled = np.array(PIL_Image.open(io.BytesIO(repo.read_bytes("scaled.png"))))
    assert scaled.tolist() == [[0, 127], [255, 63]]
    mask = np.array(PIL_Image.open(io.BytesIO(repo.read_bytes("mask.png"))))
    assert mask.tolist() == [[255, 0]]


def test_log_table_appends_tags_and_load_table(fluent: str) -> None:
    pandas = pytest.importorskip("pandas")
    fsregistry.set_experiment("tables")
    with fsregistry.start_run() as first:
        fsregistry.log_table({"inputs": ["a", "b"], "score": [0.5, 1.0]}, "eval/t.json")
        fsregistry.log_table(pandas.DataFrame({"inputs": ["c"], "score": [2.0]}), "eval/t.json")
        fsregistry.log_table({"inputs": "scalar row"}, "one.json")
        fsregistry.set_tag("team", "x")
    with fsregistry.start_run() as second:
        fsregistry.log_table({"inputs": ["d"], "score": [3.0]}, "eval/t.json")
    with fsregistry.start_run():
        with pytest.raises(ValueError, match="forbidden character: :"):
            fsregistry.log_table({"a": [1]}, "a:b.json")
        with pytest.raises(ValueError, match=r"either '\.json' or '\.parquet'"):
            fsregistry.log_table({"a": [1]}, "a.csv")
        with pytest.raises(InvalidParameterValue, match=r"pandas\.DataFrame or a dictionary"):
            fsregistry.log_table([1, 2], "a.json")  # type: ignore[arg-type]
    client = Client()
    r1, r2 = first.info.run_id, second.info.run_id
    table = json.loads(client._artifacts(r1).read_bytes("eval/t.json"))
    assert table == {
        "columns": ["inputs", "score"],
        "data": [["a", 0.5], ["b", 1.0], ["c", 2.0]],
    }
    assert json.loads(client.get_run(r1).data.tags["mlflow.loggedArtifacts"]) == [
        {"path": "eval/t.json", "type": "table"},
        {"path": "one.json", "type": "table"},
    ]
    loaded = fsregistry.load_table("eval/t.json", extra_columns=["run_id", "tags.team"])
    by_run = loaded.sort_values("score").reset_index(drop=True)
    assert by_run["inputs"].tolist() == ["a", "b", "c", "d"]
    assert by_run["run_id"].tolist() == [r1, r1, r1, r2]
    only = fsregistry.load_table("eval/t.json", run_ids=[r2])
    assert only["inputs"].tolist() == ["d"]
    with pytest.raises(ResourceDoesNotExist, match="No runs found"):
        fsregistry.load_table("missing.json")


def test_other_top_level_tracking_calls(fluent: str) -> None:
    exp = fsregistry.set_experiment("tagged")
    fsregistry.set_experiment_tag("release.version", "2.2.0")
    fsregistry.set_experiment_tags({"a": 1, "b": "2"})
    fsregistry.delete_experiment_tag("a")
    assert fsregistry.get_experiment(exp.experiment_id).tags == {
        "release.version": "2.2.0",
        "b": "2",
    }
    with fsregistry.start_run() as parent, fsregistry.start_run(nested=True) as child:
        pass
    parent_run = fsregistry.get_parent_run(child.info.run_id)
    assert parent_run is not None and parent_run.info.run_id == parent.info.run_id
    assert fsregistry.get_parent_run(parent.info.run_id) is None
    fsregistry.delete_run(child.info.run_id)
    fsregistry.restore_run(child.info.run_id)
    assert fsregistry.get_run(child.info.run_id).info.lifecycle_stage == "active"
    with fsregistry.start_run() as run:
        fsregistry.log_stream(io.BytesIO(b"\x00binary"), "blobs/b.bin")
    assert Client()._artifacts(run.info.run_id).read_bytes("blobs/b.bin") == b"\x00binary"
    fsregistry.flush_async_logging()
    fsregistry.flush_artifact_async_logging()
    assert fsregistry.is_tracking_uri_set()
    for i in range(3):
        fsregistry.register_model(f"runs:/{run.info.run_id}/blobs", f"model-{i}")
    fsregistry.register_model(f"runs:/{run.info.run_id}/blobs", "model-0")
    names = [m.name for m in fsregistry.search_registered_models(order_by=["name DESC"])]
    assert names == ["model-2", "model-1", "model-0"]
    assert len(fsregistry.search_registered_models(max_results=2)) == 2
    versions = fsregistry.search_model_versions(filter_string="name = 'model-0'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    fsregistry.set_model_version_tag("model-0", "2", "k", "v")
    assert Client().get_model_version("model-0", 2).tags == {"k": "v"}


def test_entities_iterate_as_key_value_pairs(fluent: str) -> None:
    with fsregistry.start_run() as run:
        fsregistry.log_param("p", "1")
        fsregistry.log_text("x", "m/x.txt")
    fsregistry.register_model(f"runs:/{run.info.run_id}/m", "iter-model")
    client = Client()
    info = dict(client.get_run(run.info.run_id).info)
    assert info["run_id"] == run.info.run_id and list(info) == sorted(info)
    assert dict(client.get_run(run.info.run_id).data)["params"] == {"p": "1"}
    rm = dict(client.get_registered_model("iter-model"))
    assert rm["name"] == "iter-model" and set(rm) >= {"aliases", "latest_versions", "tags"}
    assert dict(client.list_artifacts(run.info.run_id)[0]) == {
        "file_size": None,
        "is_dir": True,
        "path": "m",
    }
    mv = dict(client.get_model_version("iter-model", 1))
    assert mv["version"] == 1 and mv["run_id"] == run.info.run_id


def test_mlflow_is_tracking_uri_set_is_false_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FSREG_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    assert not fsregistry.is_tracking_uri_set()


# -- real MLflow ---------------------------------------------------------------------------------
MLFLOW_READS = r"""
import json
import mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri("./mlruns")
client = MlflowClient()
exp = client.get_experiment_by_name("media")
runs = {r.data.tags["name"]: r for r in client.search_runs([exp.experiment_id])}
parent = runs["parent"].info.run_id
child = runs["child"].info.run_id
out = {
    "exp_tags": {k: v for k, v in exp.tags.items() if not k.startswith("mlflow.")},
    "parent_of_child": client.get_parent_run(child).info.run_id == parent,
    "parent_of_parent": client.get_parent_run(parent) is None,
    "tags": {k: v for k, v in runs["parent"].data.tags.items()
             if k in ("mlflow.loggedImages", "mlflow.loggedArtifacts")},
    "images": sorted(f.path for f in client.list_artifacts(parent, "images")),
    "files": sorted(f.path for f in client.list_artifacts(parent)),
}
mlflow.set_experiment("media")
table = mlflow.load_table("t.json", extra_columns=["run_id"])
out["table"] = table.to_dict(orient="list")
out["run_ids"] = {"parent": parent, "child": child}
out["fig_size"] = mlflow.artifacts.load_image(f"runs:/{parent}/plots/fig.png").size
pics = mlflow.load_table("pics/p.json")
out["pics"] = pics["pic"].tolist()
out["pic_sizes"] = [
    mlflow.artifacts.load_image(f"runs:/{parent}/" + cell[key]).size
    for cell in out["pics"] for key in ("filepath", "compressed_filepath")
]
print(json.dumps(out))
"""


def _write_media(root: Path) -> dict[str, str]:
    fsregistry.set_tracking_uri(str(root))
    fsregistry.set_experiment("media")
    fsregistry.set_experiment_tag("team", "vision")
    image = np.zeros((20, 40, 3), dtype=np.uint8)
    with fsregistry.start_run(tags={"name": "parent"}) as parent:
        fsregistry.log_image(image, key="sample/x", step=2, timestamp=1_700_000_000_000)
        fsregistry.log_image(image, "static.png")
        fsregistry.log_table({"q": ["a", "b"], "s": [1, 2]}, "t.json")
        fsregistry.log_table({"q": ["c"], "s": [3]}, "t.json")
        matplotlib = pytest.importorskip("matplotlib")
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(2, 1), dpi=50)
        ax.plot([0, 1], [2, 3])
        fsregistry.log_figure(fig, "plots/fig.png")
        plt.close(fig)
        pictures = [PIL_Image.new("RGB", (512, 256), (9, 9, 9)), fsregistry.Image(image)]
        fsregistry.log_table({"pic": pictures, "n": [1, 2]}, "pics/p.json")
        with fsregistry.start_run(nested=True, tags={"name": "child"}) as child:
            fsregistry.log_table({"q": ["d"], "s": [4]}, "t.json")
    return {"parent": parent.info.run_id, "child": child.info.run_id}


@pytest.mark.mlflow
@pytest.mark.parametrize("version", ["2.22.5", "3.17.2"])
def test_mlflow_reads_media_fsregistry_wrote(tmp_path: Path, version: str) -> None:
    """MLflow 2.22 and 3.17 read the same answers (2.22's own step-wise images use ``%``
    separators; 3.17, whose format fsregistry writes, reads both)."""
    from fsreg_testing.mlflow_env import run_mlflow

    _stack().clear()
    ids = _write_media(tmp_path / "mlruns")
    theirs = run_mlflow(version, MLFLOW_READS, cwd=tmp_path, extras=["matplotlib"])
    assert theirs["run_ids"] == ids
    assert theirs["exp_tags"] == {"team": "vision"}
    assert theirs["parent_of_child"] and theirs["parent_of_parent"]
    assert theirs["tags"]["mlflow.loggedImages"] == "True"
    assert json.loads(theirs["tags"]["mlflow.loggedArtifacts"]) == [
        {"path": "t.json", "type": "table"},
        {"path": "pics/p.json", "type": "table"},
    ]
    assert len(theirs["images"]) == 2
    assert theirs["images"][0].startswith("images/sample~x+step+2+timestamp+1700000000000+")
    assert theirs["files"] == ["images", "pics", "plots", "static.png", "t.json", "table_images"]
    assert theirs["fig_size"] == [100, 50]  # figsize x dpi
    assert [c["type"] for c in theirs["pics"]] == ["image", "image"]
    assert theirs["pics"][0]["filepath"].startswith("table_images/pics/p/")
    assert theirs["pic_sizes"] == [[512, 256], [256, 128], [40, 20], [256, 128]]
    rows = sorted(
        zip(theirs["table"]["q"], theirs["table"]["s"], theirs["table"]["run_id"], strict=True)
    )
    assert rows == [
        ("a", 1, ids["parent"]),
        ("b", 2, ids["parent"]),
        ("c", 3, ids["parent"]),
        ("d", 4, ids["child"]),
    ]


MLFLOW_WRITES = r"""
import json
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import mlflow
mlflow.set_tracking_uri("./mlruns")
mlflow.set_experiment("theirs")
mlflow.set_experiment_tags({"team": "vision", "x": "1"})
mlflow.delete_experiment_tag("x")
image = np.zeros((20, 40, 3), dtype=np.uint8)
with mlflow.start_run() as parent:
    mlflow.log_image(image, key="sample/x", step=2, timestamp=1700000000000)
    mlflow.log_image(image, "static.png")
    mlflow.log_table({"q": ["a", "b"], "s": [1, 2]}, "t.json")
    mlflow.log_table({"q": ["c"], "s": [3]}, "t.json")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [2, 3])
    mlflow.log_figure(fig, "fig.png")
    with mlflow.start_run(nested=True) as child:
        mlflow.log_table({"q": ["d"], "s": [4]}, "t.json")
print(json.dumps({"parent": parent.info.run_id, "child": child.info.run_id}))
"""


@pytest.mark.mlflow
def test_fsregistry_reads_media_mlflow_wrote(tmp_path: Path) -> None:
    from fsreg_testing.mlflow_env import run_mlflow

    (tmp_path / "mlruns").mkdir()
    ids = run_mlflow("3.17.2", MLFLOW_WRITES, cwd=tmp_path, extras=["matplotlib"])
    _stack().clear()
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    exp = fsregistry.set_experiment("theirs")
    assert {k: v for k, v in exp.tags.items() if not k.startswith("mlflow.")} == {"team": "vision"}
    parent_run = fsregistry.get_parent_run(ids["child"])
    assert parent_run is not None and parent_run.info.run_id == ids["parent"]
    client = Client()
    assert client.get_run(ids["parent"]).data.tags["mlflow.loggedImages"] == "True"
    images = _files(client, ids["parent"], "images")
    assert len(images) == 2
    assert images[0].startswith("images/sample~x+step+2+timestamp+1700000000000+")
    assert client._artifacts(ids["parent"]).read_bytes("fig.png").startswith(b"\x89PNG")
    loaded = fsregistry.artifacts.load_image(f"runs:/{ids['parent']}/static.png")
    assert loaded.size == (40, 20)
    with pytest.raises(InvalidParameterValue, match="Unable to form a PIL Image"):
        fsregistry.artifacts.load_image(f"runs:/{ids['parent']}/t.json")
    table = fsregistry.load_table("t.json", extra_columns=["run_id"])
    rows = sorted(zip(table["q"], table["s"], table["run_id"], strict=True))
    assert rows == [
        ("a", 1, ids["parent"]),
        ("b", 2, ids["parent"]),
        ("c", 3, ids["parent"]),
        ("d", 4, ids["child"]),
    ]
    # fsregistry appends to MLflow's table as MLflow does
    with fsregistry.start_run(run_id=ids["child"]):
        fsregistry.log_table({"q": ["e"], "s": [5]}, "t.json")
    assert fsregistry.load_table("t.json", run_ids=[ids["child"]])["q"].tolist() == ["d", "e"]


def test_failed_media_calls_change_nothing(fluent: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from fsregistry.exceptions import StorageUnavailable

    with fsregistry.start_run() as run:
        fsregistry.log_table({"q": ["a"]}, "t.json")
    client = Client()
    rid = run.info.run_id
    before = client._artifacts(rid).read_bytes("t.json")
    with pytest.raises(ValueError, match=r"Cannot save 'x\.nope'"):
        client.log_image(rid, np.zeros((2, 2)), "x.nope")

    def failing_set_tag(*args: object, **kwargs: object) -> None:
        raise StorageUnavailable("the store went away")

    monkeypatch.setattr(Client, "set_tag", failing_set_tag)
    pictures = [PIL_Image.new("RGB", (4, 4))]
    with pytest.raises(StorageUnavailable):
        client.log_table(rid, {"pic": pictures}, "new.json")
    with pytest.raises(StorageUnavailable):
        client.log_image(rid, np.zeros((2, 2)), key="k")
    monkeypatch.undo()
    # the appended table's tag entry already exists, so make the tag write fail differently:
    # a table whose tag is new, appended to an existing file, is put back as it was
    client.set_tag(rid, "mlflow.loggedArtifacts", "[]")
    monkeypatch.setattr(Client, "set_tag", failing_set_tag)
    with pytest.raises(StorageUnavailable):
        client.log_table(rid, {"q": ["b"]}, "t.json")
    monkeypatch.undo()
    assert client._artifacts(rid).read_bytes("t.json") == before
    assert _files(client, rid) == ["t.json"]
