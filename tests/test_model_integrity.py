"""What a loader trusts: the registry's recorded digest for ``models:/`` versions, a warning
(or, in strict mode, a refusal) for models without a hash manifest; on local disk, S3 and GCS,
through ``pyfunc.load_model``, ``sklearn.load_model``, ``verify_model`` and ``fsreg predict``."""

# ruff: noqa: F811

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import fsregistry
from fsreg_testing.models import (  # noqa: F401 - fixtures
    frame,
    model_cache,
    tracking,
    trained_model,
)
from fsregistry import config, pyfunc
from fsregistry import sklearn as fsk
from fsregistry.models import ModelIntegrityError, verify_model
from fsregistry.models.hashes import (
    HASHES_FILE,
    UnverifiedModelWarning,
    manifest_bytes,
    manifest_digest,
)
from fsregistry.storage import open_storage

FSREG = shutil.which("fsreg", path=os.path.dirname(sys.executable)) or "fsreg"
# A pickle that would run a command if it were ever loaded.
EVIL = b"cos\nsystem\n(S'echo pwned > /dev/null'\ntR."


def _model_files(store_url: str, run_id: str) -> dict[str, str]:
    """Model-relative path -> store-relative path of the files of ``runs:/<run>/model`` (an
    MLflow 3 LoggedModel of the run)."""
    outputs = fsregistry.Client(tracking_uri=store_url).store.get_run_outputs(run_id)
    marker = f"/models/{outputs[-1].model_id}/artifacts/"
    out = {}
    for f in open_storage(store_url).walk(""):
        if marker in f.path:
            out[f.path.split(marker, 1)[1]] = f.path
    return out


def _rewrite_with_fresh_manifest(store_url: str, run_id: str) -> None:
    """What a writer of the artifact store (not of the registry) can do: replace the pickle
    and recompute the manifest beside it, so the manifest alone no longer catches it."""
    import hashlib

    storage = open_storage(store_url)
    files = _model_files(store_url, run_id)
    storage.write(files["model.pkl"], EVIL)
    hashes = json.loads(storage.read(files[HASHES_FILE]))["files"]
    hashes["model.pkl"] = hashlib.sha256(EVIL).hexdigest()
    storage.write(files[HASHES_FILE], manifest_bytes(hashes))


def _predict(model_uri: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    data = tmp_path / "input.json"
    data.write_text(json.dumps({"dataframe_split": frame()[:2].to_dict(orient="split")}))
    return subprocess.run(
        [FSREG, "predict", "-m", model_uri, "-i", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FSREG_TRACKING_URI": config.get_tracking_uri(), **env},
    )


def test_registered_version_is_checked_against_the_registry_digest(
    tracking: str, tmp_path: Path
) -> None:
    with fsregistry.start_run() as run:
        info = fsk.log_model(trained_model(), name="model", registered_model_name="clf")
    fsregistry.Client().set_registered_model_alias("clf", "champion", 1)
    assert pyfunc.load_model("models:/clf@champion").predict(frame()) is not None
    _rewrite_with_fresh_manifest(tracking, run.info.run_id)
    # The manifest matches the rewritten files, so a plain path or runs:/ load only has the
    # manifest to go by (and the run tag, which is the caller's to pass as expected_digest).
    with pytest.raises(ModelIntegrityError, match="not the expected"):
        fsk.load_model(info.model_uri, expected_digest=info.files_digest)
    for uri in ("models:/clf/1", "models:/clf@champion", "models:/clf/latest"):
        for load in (pyfunc.load_model, fsk.load_model):
            with pytest.raises(ModelIntegrityError, match="the registry recorded"):
                load(uri)
        with pytest.raises(ModelIntegrityError, match="the registry recorded"):
            verify_model(uri)
    proc = _predict("models:/clf/1", tmp_path)
    assert proc.returncode != 0 and "the registry recorded" in proc.stderr, proc.stderr
    assert "pwned" not in proc.stdout + proc.stderr


def test_deleted_manifest_of_a_registered_version_is_refused(tracking: str) -> None:
    with fsregistry.start_run() as run:
        fsk.log_model(trained_model(), name="model", registered_model_name="clf")
    storage = open_storage(tracking)
    storage.delete(_model_files(tracking, run.info.run_id)[HASHES_FILE])
    with pytest.raises(ModelIntegrityError, match=f"no {HASHES_FILE}, but the registry"):
        pyfunc.load_model("models:/clf/1")


def test_model_without_manifest_warns_once_naming_its_pickles(
    tracking: str, tmp_path: Path
) -> None:
    with fsregistry.start_run() as run:
        info = fsk.log_model(trained_model(), name="model")
    open_storage(tracking).delete(_model_files(tracking, run.info.run_id)[HASHES_FILE])
    with pytest.warns(UnverifiedModelWarning, match=r"model\.pkl will be unpickled unverified"):
        pyfunc.load_model(info.model_uri)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnverifiedModelWarning)
        fsk.load_model(info.model_uri)  # once per model and process
    # Strict mode: the setting, then the environment variable (also for fsreg predict).
    config.set_require_model_hashes(True)
    with pytest.raises(ModelIntegrityError, match="refused"):
        fsk.load_model(info.model_uri)
    config.set_require_model_hashes(None)
    fsk.load_model(info.model_uri)
    os.environ["FSREG_REQUIRE_MODEL_HASHES"] = "1"
    try:
        with pytest.raises(ModelIntegrityError, match="FSREG_REQUIRE_MODEL_HASHES"):
            pyfunc.load_model(info.model_uri)
    finally:
        del os.environ["FSREG_REQUIRE_MODEL_HASHES"]
    proc = _predict(info.model_uri, tmp_path, FSREG_REQUIRE_MODEL_HASHES="true")
    assert proc.returncode != 0 and "refused" in proc.stderr, proc.stderr
    proc = _predict(info.model_uri, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "unverified" in proc.stderr


def test_model_without_pickles_or_manifest_loads_quietly(tmp_path: Path) -> None:
    """Nothing to warn about when no file of the model is a pickle."""
    model_dir = tmp_path / "m"
    fsk.save_model(trained_model(), str(model_dir), serialization_format="skops")
    (model_dir / HASHES_FILE).unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnverifiedModelWarning)
        fsk.load_model(str(model_dir), skops_trusted_types=_skops_types(model_dir))


def _skops_types(model_dir: Path) -> list[str]:
    import skops.io

    skops_file = next(model_dir.glob("*.skops"))
    return list(skops.io.get_untrusted_types(file=skops_file))


def test_manifest_digest_is_what_the_registry_records(tracking: str) -> None:
    with fsregistry.start_run() as run:
        info = fsk.log_model(trained_model(), name="model", registered_model_name="clf")
    raw = open_storage(tracking).read(_model_files(tracking, run.info.run_id)[HASHES_FILE])
    tags = fsregistry.Client().get_model_version("clf", 1).tags
    assert tags["fsreg.model_digest"] == manifest_digest(raw) == info.files_digest


@pytest.mark.parametrize("how", ["register_model", "client_runs_uri", "client_artifact_uri"])
def test_every_way_of_registering_a_runs_model_records_its_digest(tracking: str, how: str) -> None:
    """``register_model`` and ``Client.create_model_version`` (with a ``runs:/`` URI or the
    artifact location as source) record the digest as ``log_model(registered_model_name=)``
    does, so loading the version refuses files rewritten with a fresh manifest."""
    with fsregistry.start_run() as run:
        info = fsk.log_model(trained_model(), name="model")
    run_id = run.info.run_id
    client = fsregistry.Client()
    if how == "register_model":
        fsregistry.register_model(f"runs:/{run_id}/model", "clf")
    else:
        client.create_registered_model("clf")
        source = (
            f"runs:/{run_id}/model"
            if how == "client_runs_uri"
            else client.get_logged_model(info.model_id).artifact_location  # MLflow 3's home
        )
        client.create_model_version("clf", source, run_id=run_id)
    assert client.get_model_version("clf", 1).tags["fsreg.model_digest"] == info.files_digest
    assert pyfunc.load_model("models:/clf/1").predict(frame()) is not None
    _rewrite_with_fresh_manifest(tracking, run_id)
    for load in (pyfunc.load_model, fsk.load_model):
        with pytest.raises(ModelIntegrityError, match="the registry recorded"):
            load("models:/clf/1")


def test_a_source_without_a_manifest_registers_without_a_digest(
    tracking: str, tmp_path: Path
) -> None:
    """A source with no manifest, or one this process cannot read, is registered as MLflow
    registers it, with no digest tag (and the caller's own digest tag is kept as given)."""
    client = fsregistry.Client()
    client.create_registered_model("plain")
    missing = client.create_model_version("plain", str(tmp_path / "nothing-here"))
    assert "fsreg.model_digest" not in missing.tags
    odd = client.create_model_version("plain", "unknownproto://somewhere/model")
    assert "fsreg.model_digest" not in odd.tags
    # A server of another kind is never contacted to register (a closed local port here).
    ftp = client.create_model_version("plain", "ftp://127.0.0.1:1/model")
    assert "fsreg.model_digest" not in ftp.tags
    given = client.create_model_version("plain", "/x", tags={"fsreg.model_digest": "sha256:ab"})
    assert given.tags["fsreg.model_digest"] == "sha256:ab"
