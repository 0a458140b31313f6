"""``fsregistry.sklearn``: save, log and load on local disk, S3 and GCS, every URI form,
every serialization format, hash checks and the download cache."""

# Fixtures come from fsreg_testing.models (imported by name), so pytest's argument names shadow
# them: that is how pytest fixtures are shared without a conftest.
# ruff: noqa: F811

from __future__ import annotations

import operator
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import fsregistry
from fsreg_testing.models import (  # noqa: F401 - fixtures
    LABELS,
    frame,
    local_tracking,
    model_cache,
    register,
    tracking,
    trained_model,
)
from fsregistry import pyfunc
from fsregistry import sklearn as fsk
from fsregistry.exceptions import InvalidParameterValue, ResourceAlreadyExists
from fsregistry.models import ModelIntegrityError, get_model_info
from fsregistry.storage import open_storage


def _store_files(store_url: str, prefix: str = "") -> dict[str, int]:
    return {f.path: f.size for f in open_storage(store_url).walk(prefix)}


@pytest.mark.parametrize("fmt", ["cloudpickle", "pickle", "skops"])
def test_log_and_load_round_trip(tracking: str, fmt: str) -> None:
    model = trained_model()
    X = frame()
    with fsregistry.start_run() as run:
        info = fsk.log_model(model, name="model", serialization_format=fmt, input_example=X[:2])
    run_id = run.info.run_id
    # MLflow 3: a LoggedModel under the experiment, not files under the run
    assert info.model_id is not None and info.model_uri == f"models:/{info.model_id}"
    assert info.run_id == run_id and info.name == "model"
    logged = fsregistry.get_logged_model(info.model_id)
    assert logged.status == "READY" and logged.source_run_id == run_id
    assert info.artifact_path == logged.artifact_location
    assert info.signature is not None and info.signature.inputs is not None
    assert info.files_digest is not None and info.files_digest.startswith("sha256:")
    files = _store_files(tracking)
    model_dir = next(p.rsplit("/", 1)[0] for p in files if p.endswith("/MLmodel"))
    assert model_dir.endswith(f"/models/{info.model_id}/artifacts")
    assert not [p for p in files if f"/{run_id}/artifacts/" in p]
    names = {p.rsplit("/", 1)[1] for p in files if p.startswith(model_dir + "/")}
    data_file = "model.skops" if fmt == "skops" else "model.pkl"
    assert names == {
        "MLmodel",
        data_file,
        "conda.yaml",
        "python_env.yaml",
        "requirements.txt",
        "input_example.json",
        "serving_input_example.json",
        "fsreg.hashes.json",
    }
    storage = open_storage(tracking)
    mlmodel = yaml.safe_load(storage.read(f"{model_dir}/MLmodel"))
    assert mlmodel["artifact_path"] == logged.artifact_location and mlmodel["run_id"] == run_id
    assert mlmodel["model_id"] == mlmodel["model_uuid"] == info.model_id
    assert mlmodel["flavors"]["sklearn"]["serialization_format"] == fmt
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    reqs = storage.read(f"{model_dir}/requirements.txt").decode()
    assert not reqs.endswith("\n") and "scikit-learn==" in reqs
    assert ("skops==" in reqs) == (fmt == "skops")
    conda = yaml.safe_load(storage.read(f"{model_dir}/conda.yaml"))
    assert conda["channels"] == ["conda-forge"]
    assert "mlflow.log-model.history" not in fsregistry.get_run(run_id).data.tags  # as MLflow 3
    assert fsregistry.Client().store.get_run_outputs(run_id)[0].model_id == info.model_id

    expected = model.predict(X)
    assert np.array_equal(fsk.load_model(info.model_uri).predict(X), expected)
    loaded = pyfunc.load_model(info.model_uri)
    assert np.array_equal(loaded.predict(X), expected)
    assert loaded.metadata.run_id == run_id
    assert loaded.input_example is not None and list(loaded.input_example.columns) == ["f1", "f2"]
    # runs:/<run>/<name> finds the run's LoggedModel; its artifact location works as a URI too
    assert np.array_equal(fsk.load_model(f"runs:/{run_id}/model").predict(X), expected)
    assert np.array_equal(fsk.load_model(logged.artifact_location).predict(X), expected)


def test_schema_enforced_on_predict(tracking: str) -> None:
    model = trained_model()
    with fsregistry.start_run():
        info = fsk.log_model(model, name="m", input_example=frame()[:2])
    loaded = pyfunc.load_model(info.model_uri)
    X = frame()
    # int32 f2 is safely widened to the signature's long
    converted = X.astype({"f2": "int32"})
    assert np.array_equal(loaded.predict(converted), model.predict(X))
    with pytest.raises(InvalidParameterValue, match=r"missing inputs \['f2'\]"):
        loaded.predict(X[["f1"]])
    with pytest.raises(InvalidParameterValue, match=r"Incompatible input types for column f2\."):
        loaded.predict(X.assign(f2=X["f2"] + 0.5))


def test_registered_model_uris(tracking: str) -> None:
    model = trained_model()
    X = frame()
    with fsregistry.start_run():
        info = fsk.log_model(model, name="model", registered_model_name="clf", input_example=X[:2])
    assert info.registered_model_version == 1
    with fsregistry.start_run():
        info2 = fsk.log_model(model, name="model", registered_model_name="clf")
    assert info2.registered_model_version == 2
    fsregistry.Client().set_registered_model_alias("clf", "champion", "1")
    expected = model.predict(X)
    for uri in ("models:/clf/1", "models:/clf/latest", "models:/clf@champion", "models:/clf/2"):
        assert np.array_equal(pyfunc.load_model(uri).predict(X), expected), uri
        assert np.array_equal(fsk.load_model(uri).predict(X), expected), uri
    assert get_model_info("models:/clf@champion").run_id == info.run_id
    with fsregistry.start_run():
        info3 = fsk.log_model(model, name="model", registered_model_name="clf", tags={"k": "v"})
        other = fsk.log_model(model, name="other", tags={"k": "v"})  # MLflow 3: on the model
    assert fsregistry.get_logged_model(other.model_id).tags["k"] == "v"  # type: ignore[arg-type]
    version = fsregistry.Client().get_model_version("clf", 3)
    assert version.tags == {"k": "v", "fsreg.model_digest": info3.files_digest}
    assert version.model_id == info3.model_id


def test_save_model_to_path_and_reject_existing(tmp_path: Path) -> None:
    model = trained_model()
    path = tmp_path / "saved"
    fsk.save_model(model, path, metadata={"owner": "me"})
    assert np.array_equal(fsk.load_model(str(path)).predict(frame()), model.predict(frame()))
    assert get_model_info(str(path)).metadata == {"owner": "me"}
    assert pyfunc.load_model(f"file://{path}").metadata.metadata == {"owner": "me"}
    with pytest.raises(ResourceAlreadyExists):
        fsk.save_model(model, path)


def test_bad_input_writes_nothing(tracking: str, tmp_path: Path) -> None:
    model = trained_model()
    bad_path = tmp_path / "bad"
    with pytest.raises(
        InvalidParameterValue, match=r"Unrecognized serialization format: json\. Please specify"
    ):
        fsk.save_model(model, bad_path, serialization_format="json")
    with pytest.raises(InvalidParameterValue, match="pyfunc_predict_fn"):
        fsk.save_model(model, bad_path, pyfunc_predict_fn="transform")
    with pytest.raises(InvalidParameterValue, match="pip_requirements"):
        fsk.save_model(model, bad_path, pip_requirements=["a"], extra_pip_requirements=["b"])
    with pytest.raises(InvalidParameterValue, match="Failed to copy the specified code path"):
        fsk.save_model(model, bad_path, code_paths=[str(tmp_path / "nope.py")])
    with pytest.raises(InvalidParameterValue, match="Expected one of the following types"):
        fsk.save_model(model, bad_path, input_example=object())
    assert not bad_path.exists()
    with fsregistry.start_run() as run:
        before = _store_files(tracking)
        with pytest.raises(InvalidParameterValue, match="Invalid model name"):
            fsk.log_model(model, name="../escape")
        with pytest.raises(InvalidParameterValue, match="Both `artifact_path`"):
            fsk.log_model(model, name="a", artifact_path="b")
        with pytest.raises(InvalidParameterValue, match="defaults"):
            fsk.log_model(model, name="m", conda_env={"channels": ["defaults"], "dependencies": []})
        assert _store_files(tracking) == before
        first = fsk.log_model(model, name="m")
        second = fsk.log_model(model, name="m")  # MLflow 3: same name, another LoggedModel
    assert first.model_id != second.model_id
    assert get_model_info(f"runs:/{run.info.run_id}/m").model_id == second.model_id


def test_artifact_path_alias_is_deprecated(tracking: str) -> None:
    with fsregistry.start_run(), pytest.warns(FutureWarning, match="artifact_path"):
        info = fsk.log_model(trained_model(), artifact_path="old")
    assert info.name == "old" and info.model_uri == f"models:/{info.model_id}"
    with fsregistry.start_run(), pytest.warns(FutureWarning, match="artifact_path"):
        root = fsk.log_model(trained_model(), artifact_path="")  # a random name
    assert root.name and np.array_equal(
        fsk.load_model(root.model_uri).predict(frame()), trained_model().predict(frame())
    )


def test_pip_requirements_overrides(tmp_path: Path) -> None:
    model = trained_model()
    fsk.save_model(model, tmp_path / "a", pip_requirements=["scikit-learn", "mypkg==1.0"])
    assert (tmp_path / "a" / "requirements.txt").read_text() == "scikit-learn\nmypkg==1.0"
    fsk.save_model(model, tmp_path / "b", extra_pip_requirements=["extra-pkg>=2"])
    reqs = (tmp_path / "b" / "requirements.txt").read_text().split("\n")
    assert "extra-pkg>=2" in reqs and any(r.startswith("scikit-learn==") for r in reqs)
    assert any(r.startswith("cloudpickle==") for r in reqs)
    constraints = tmp_path / "c.txt"
    constraints.write_text("numpy<3\n")
    fsk.save_model(model, tmp_path / "c", extra_pip_requirements=["x", f"-c {constraints}"])
    assert (tmp_path / "c" / "constraints.txt").read_text() == "numpy<3"
    assert (tmp_path / "c" / "requirements.txt").read_text().endswith("-c constraints.txt")


def test_tampered_file_is_reported_before_unpickling(tracking: str) -> None:
    model = trained_model()
    with fsregistry.start_run():
        info = fsk.log_model(model, name="model")
    storage = open_storage(tracking)
    pkl = next(
        p
        for p in _store_files(tracking)
        if p.endswith(f"/models/{info.model_id}/artifacts/model.pkl")
    )
    # A pickle that would run code if it were ever loaded.
    evil = b"cos\nsystem\n(S'echo pwned > /dev/null'\ntR."
    storage.write(pkl, evil)
    with pytest.raises(ModelIntegrityError, match=r"model\.pkl \(content changed\)"):
        fsk.load_model(info.model_uri)
    with pytest.raises(ModelIntegrityError, match=r"model\.pkl"):
        pyfunc.load_model(info.model_uri)
    extra = pkl.rsplit("/", 1)[0] + "/code/sitecustomize.py"
    storage.write(extra, b"print('x')")
    with pytest.raises(ModelIntegrityError, match=r"code/sitecustomize\.py \(added"):
        fsk.load_model(info.model_uri)


def test_expected_digest_pins_manifest(tracking: str) -> None:
    with fsregistry.start_run():
        info = fsk.log_model(trained_model(), name="model")
    assert info.files_digest is not None
    assert get_model_info(info.model_uri).files_digest == info.files_digest
    fsk.load_model(info.model_uri, expected_digest=info.files_digest)
    with pytest.raises(ModelIntegrityError, match="not the expected"):
        fsk.load_model(info.model_uri, expected_digest="sha256:" + "0" * 64)
    assert fsregistry.models.verify_model(info.model_uri, info.files_digest) == info.files_digest


def test_cache_downloads_once_and_refreshes_changed_model(
    tracking: str, backend: str, model_cache: Path
) -> None:
    if backend == "local":
        pytest.skip("local models are used in place, not cached")
    model = trained_model()
    with fsregistry.start_run():
        info = fsk.log_model(model, name="model")
    fsk.load_model(info.model_uri)
    entries = [p for p in model_cache.iterdir() if not p.name.startswith(".")]
    assert len(entries) == 1
    fsk.load_model(info.model_uri)
    assert [p for p in model_cache.iterdir() if not p.name.startswith(".")] == entries
    # same location, new content (as if re-logged there): a new cache entry, fresh files
    storage = open_storage(tracking)
    mlmodel = next(
        p for p in _store_files(tracking) if p.endswith(f"{info.model_id}/artifacts/MLmodel")
    )
    doc = yaml.safe_load(storage.read(mlmodel))
    doc["metadata"] = {"v": 2}
    from fsregistry.models.saving import rewrite_model_files

    location = fsregistry.get_logged_model(info.model_id or "").artifact_location
    rewrite_model_files(location, {"MLmodel": yaml.safe_dump(doc).encode()})
    assert pyfunc.load_model(info.model_uri).metadata.metadata == {"v": 2}
    assert len([p for p in model_cache.iterdir() if not p.name.startswith(".")]) == 2


def test_get_model_info_reads_only_mlmodel(tracking: str, model_cache: Path) -> None:
    with fsregistry.start_run():
        info = fsk.log_model(trained_model(), name="model", input_example=frame()[:2])
    got = get_model_info(info.model_uri)
    assert got.signature == info.signature and got.model_uuid == info.model_uuid
    assert got.flavors["sklearn"]["pickled_model"] == "model.pkl"
    assert not model_cache.exists()


def test_code_paths_and_predict_fn(tmp_path: Path) -> None:
    helper = tmp_path / "my_helper_mod.py"
    helper.write_text("VALUE = 42\n")
    model = trained_model()
    fsk.save_model(
        model, tmp_path / "m", code_paths=[str(helper)], pyfunc_predict_fn="predict_proba"
    )
    assert (tmp_path / "m" / "code" / "my_helper_mod.py").is_file()
    loaded = pyfunc.load_model(str(tmp_path / "m"))
    out = loaded.predict(frame())
    assert out.shape == (8, 2)
    import my_helper_mod  # type: ignore[import-not-found]

    assert my_helper_mod.VALUE == 42


def test_skops_trusted_types_checked(tmp_path: Path) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = make_pipeline(FunctionTransformer(operator.pos), trained_model())
    pipe.fit(frame(), LABELS)
    with pytest.raises(InvalidParameterValue, match="skops_trusted_types"):
        fsk.save_model(pipe, tmp_path / "p", serialization_format="skops")
    assert not (tmp_path / "p").exists()
    fsk.save_model(
        pipe, tmp_path / "p", serialization_format="skops", skops_trusted_types=["_operator.pos"]
    )
    loaded: Any = fsk.load_model(str(tmp_path / "p"))
    assert np.array_equal(loaded.predict(frame()), pipe.predict(frame()))


def test_update_requirements_and_dependencies(tracking: str) -> None:
    from fsregistry.models import get_model_dependencies, update_model_requirements

    with fsregistry.start_run():
        info = fsk.log_model(trained_model(), name="model")
    update_model_requirements(info.model_uri, "add", ["pandas==2.0.0", "scikit-learn>=1"])
    reqs = Path(get_model_dependencies(info.model_uri)).read_text().split("\n")
    assert "pandas==2.0.0" in reqs and "scikit-learn>=1" in reqs
    update_model_requirements(info.model_uri, "remove", ["pandas"])
    reqs = Path(get_model_dependencies(info.model_uri)).read_text().split("\n")
    assert not any(r.startswith("pandas") for r in reqs)
    conda = yaml.safe_load(Path(get_model_dependencies(info.model_uri, format="conda")).read_text())
    assert "scikit-learn>=1" in conda["dependencies"][-1]["pip"]
    # hashes follow the rewrite: the model still verifies and loads
    fsk.load_model(info.model_uri)
    with pytest.raises(InvalidParameterValue, match="invalid requirements"):
        update_model_requirements(info.model_uri, "add", ["-e ."])


def test_dst_path_download(tracking: str, tmp_path: Path) -> None:
    with fsregistry.start_run():
        info = fsk.log_model(trained_model(), name="model")
    dst = tmp_path / "dst"
    dst.mkdir()
    fsk.load_model(info.model_uri, dst_path=str(dst))  # models:/<model_id>: into dst (MLflow 3)
    assert (dst / "MLmodel").is_file()
    assert os.path.isfile(dst / "fsreg.hashes.json")
