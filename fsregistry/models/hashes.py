"""File hashes recorded when a model is saved, checked before anything is unpickled.

``save_model``/``log_model`` write ``fsreg.hashes.json`` into the model directory: the sha256 of
every other file in it. Loaders compare the files they are about to use with it and raise
:class:`ModelIntegrityError`, naming each changed, missing or added file, before any pickle,
cloudpickle or skops file is read. MLflow ignores the file, so models stay loadable there.

The digest of the manifest itself (:func:`manifest_digest`, also returned as
``ModelInfo.files_digest`` and recorded as the LoggedModel tag ``fsreg.model_digest``) pins the
whole model: pass it as ``expected_digest=`` to a loader to also detect a rewritten manifest.
When the model is registered (``log_model(registered_model_name=)``, ``register_model``,
``Client.create_model_version`` from a ``runs:/`` URI, an artifact location or ``models:/``;
see :mod:`fsregistry.mlruns.model_digest`), the registry version carries the digest too (tag
``fsreg.model_digest``), and loading ``models:/<name>/...`` checks the files
against the registry's value: a registry and an artifact store may have different writers, so
recomputing the manifest next to rewritten files does not pass.

A model with no manifest (saved by MLflow, or with the manifest deleted) cannot be checked: it
loads with a :class:`UnverifiedModelWarning` naming its pickle files, once per model and
process, or is refused when ``FSREG_REQUIRE_MODEL_HASHES`` /
:func:`fsregistry.config.set_require_model_hashes` asks for manifests.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterable, Mapping

from fsregistry.exceptions import INVALID_STATE, FsRegistryException
from fsregistry.mlruns.model_digest import HASHES_FILE as HASHES_FILE
from fsregistry.mlruns.model_digest import manifest_digest as manifest_digest

# Files MLflow itself writes into stored model directories after logging (2.x and 3.x write
# ``registered_model_meta`` when a model is loaded through ``models:/``); never executed.
IGNORED_FILES = frozenset({HASHES_FILE, "registered_model_meta"})
_CHUNK = 1 << 20
# Files that run code when loaded: pickles of any kind (cloudpickle writes .pkl too).
PICKLE_SUFFIXES = (".pkl", ".pickle", ".pck", ".joblib")
_warned_unverified: set[str] = set()


class ModelIntegrityError(FsRegistryException):
    """A model file differs from the hash recorded when the model was saved."""

    default_code = INVALID_STATE


class UnverifiedModelWarning(UserWarning):
    """A model with no hash manifest is being loaded: its pickles run unchecked."""


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def local_files(model_dir: str) -> list[str]:
    """Model-relative POSIX paths of every file below ``model_dir``, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(model_dir):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), model_dir)
            out.append(rel.replace(os.sep, "/"))
    return sorted(out)


def compute_hashes(model_dir: str, files: Iterable[str] | None = None) -> dict[str, str]:
    names = local_files(model_dir) if files is None else sorted(files)
    return {
        rel: sha256_file(os.path.join(model_dir, *rel.split("/")))
        for rel in names
        if rel not in IGNORED_FILES
    }


def manifest_bytes(hashes: Mapping[str, str]) -> bytes:
    doc = {"algorithm": "sha256", "files": dict(sorted(hashes.items()))}
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode("utf-8")


def write_manifest(model_dir: str) -> str:
    """Hash every file of a local model directory into its manifest; returns the digest."""
    data = manifest_bytes(compute_hashes(model_dir))
    with open(os.path.join(model_dir, HASHES_FILE), "wb") as f:
        f.write(data)
    return manifest_digest(data)


def parse_manifest(data: bytes, where: str) -> dict[str, str]:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise ModelIntegrityError(f"{HASHES_FILE} of {where} is not valid JSON: {exc}") from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if (
        not isinstance(doc, dict)
        or doc.get("algorithm") != "sha256"
        or not isinstance(files, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
    ):
        raise ModelIntegrityError(f"{HASHES_FILE} of {where} is malformed")
    return files


def verify_local_model(
    model_dir: str,
    *,
    expected_digest: str | None = None,
    registered_digest: str | None = None,
    where: str | None = None,
    require_manifest: bool | None = None,
) -> str | None:
    """Check a local model directory against its manifest; return the digest (None: no manifest).

    Raises :class:`ModelIntegrityError` listing every changed, missing or unexpected file, or
    when ``expected_digest`` (the caller's) or ``registered_digest`` (the registry's) is given
    and the manifest is absent or different. Without a manifest and nothing expected, warns
    (:class:`UnverifiedModelWarning`) or, with ``require_manifest`` (default:
    :func:`fsregistry.config.require_model_hashes`), refuses.
    """
    where = where or model_dir
    path = os.path.join(model_dir, HASHES_FILE)
    if not os.path.isfile(path):
        if expected_digest is not None:
            raise ModelIntegrityError(
                f"Model at {where} has no {HASHES_FILE}, so it cannot be checked against "
                f"expected_digest={expected_digest!r}"
            )
        if registered_digest is not None:
            raise ModelIntegrityError(
                f"Model at {where} has no {HASHES_FILE}, but the registry recorded the digest "
                f"{registered_digest!r} when this version was registered: its files were "
                "changed after registration. Nothing was loaded."
            )
        _unverified(model_dir, where, require_manifest)
        return None
    with open(path, "rb") as f:
        data = f.read()
    digest = manifest_digest(data)
    if expected_digest is not None and digest != _normalize_digest(expected_digest):
        raise ModelIntegrityError(
            f"Model at {where}: the recorded file hashes ({digest}) are not the expected "
            f"{expected_digest!r}; the model was changed after it was logged"
        )
    if registered_digest is not None and digest != _normalize_digest(registered_digest):
        raise ModelIntegrityError(
            f"Model at {where}: the file hashes ({digest}) are not the ones the registry "
            f"recorded when this version was registered ({registered_digest!r}); the model "
            "files were changed after registration. Nothing was loaded."
        )
    recorded = parse_manifest(data, where)
    actual_files = [f for f in local_files(model_dir) if f not in IGNORED_FILES]
    problems = []
    for rel in sorted(set(recorded) | set(actual_files)):
        if rel not in recorded:
            problems.append(f"{rel} (added after the model was saved)")
        elif rel not in actual_files:
            problems.append(f"{rel} (missing)")
        elif sha256_file(os.path.join(model_dir, *rel.split("/"))) != recorded[rel]:
            problems.append(f"{rel} (content changed)")
    if problems:
        raise ModelIntegrityError(
            f"Model at {where} does not match the file hashes recorded when it was saved: "
            + ", ".join(problems)
            + ". Nothing was loaded. If the change is intended, re-log the model, or pass "
            "verify=False to load it anyway (loading a pickled model runs code from the store)."
        )
    return digest


def _unverified(model_dir: str, where: str, require_manifest: bool | None) -> None:
    """A model without a manifest: refuse it (strict mode) or warn once about its pickles."""
    if require_manifest is None:
        from fsregistry import config

        require_manifest = config.require_model_hashes()
    if require_manifest:
        raise ModelIntegrityError(
            f"Model at {where} has no {HASHES_FILE}, so its files cannot be verified, and "
            "models without one are refused here (FSREG_REQUIRE_MODEL_HASHES or "
            "fsregistry.config.set_require_model_hashes). Re-log it with fsregistry to load it."
        )
    pickles = [f for f in local_files(model_dir) if f.lower().endswith(PICKLE_SUFFIXES)]
    if not pickles or where in _warned_unverified:
        return
    _warned_unverified.add(where)
    warnings.warn(
        f"Model at {where} has no {HASHES_FILE}: {', '.join(pickles)} will be unpickled "
        "unverified, which runs any code they contain. Load only models from stores you trust, "
        "or set FSREG_REQUIRE_MODEL_HASHES=1 to refuse such models.",
        UnverifiedModelWarning,
        stacklevel=4,
    )


def _normalize_digest(value: str) -> str:
    return value if value.startswith("sha256:") else "sha256:" + value
