"""Copies of model versions between stores (``Client.copy_model_version`` across registries),
and the one-file copy the object-store rename uses too.

A copy is registered like any version (:mod:`fsregistry.registry.claims`), with its files in
the destination store under ``models/<name>/version-N/artifacts``, so it outlives its source:

1. the version is claimed with status ``PENDING_REGISTRATION`` and its source and storage
   location set to that artifacts directory; its tags are the source version's plus the
   provenance tags the caller gives;
2. the files are copied (MLflow 2's ``registered_model_meta`` download side effect, which
   names the source model, is left out);
3. the status becomes ``READY``, or ``FAILED_REGISTRATION`` with the error as
   ``status_message`` if the copy failed (the error is raised as well).

Files up to :data:`_IN_MEMORY_COPY_BYTES` go through memory, larger ones through a temporary
file, so a copy never holds a large model in memory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from fsregistry.entities import ModelVersion
from fsregistry.entities.registry import STAGE_NONE, ModelVersionStatus
from fsregistry.exceptions import ResourceDoesNotExist
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import now_ms
from fsregistry.mlruns.validation import validate_model_name
from fsregistry.registry.claims import Claims
from fsregistry.registry.edits import Edits
from fsregistry.registry.fields import registry_tags
from fsregistry.registry.queries import Queries
from fsregistry.storage import Storage

# Copy artifacts through memory up to this size, through a temp file above it.
_IN_MEMORY_COPY_BYTES = 16 * 1024 * 1024


def copy_file(src: Storage, src_path: str, dst: Storage, dst_path: str, size: int) -> None:
    """Copy one file between storages (through a temp file when it is large)."""
    if size <= _IN_MEMORY_COPY_BYTES:
        dst.write(dst_path, src.read(src_path))
        return
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix="fsreg-copy-")
    os.close(fd)
    try:
        src.get_file(src_path, tmp)
        dst.put_file(tmp, dst_path)
    finally:
        os.unlink(tmp)


class Copies:
    """Registers copies of versions from other stores (see the module docstring)."""

    def __init__(self, storage: Storage, claims: Claims, edits: Edits, queries: Queries) -> None:
        self.storage = storage
        self.claims = claims
        self.edits = edits
        self.queries = queries

    def import_model_version(
        self,
        name: str,
        src: ModelVersion,
        artifact_uri: str,
        provenance: Mapping[str, str],
    ) -> ModelVersion:
        """Register a copy of ``src`` (from another store) whose files, found at
        ``artifact_uri``, are copied into ``models/<name>/version-N/artifacts``.

        The version is PENDING_REGISTRATION while its files are copied, then READY (or
        FAILED_REGISTRATION with the error as status_message).
        """
        from fsregistry.storage.artifact_repo import ArtifactRepository

        validate_model_name(name)
        items = registry_tags({**src.tags, **provenance})
        source_repo = ArtifactRepository(artifact_uri)
        files = source_repo.storage.walk("")
        if not files:
            raise ResourceDoesNotExist(f"No model files found at {artifact_uri!r}")
        now = now_ms()

        def build(number: int) -> dict[str, Any]:
            location = self.storage.uri(layout.model_version_artifacts(name, number))
            meta: dict[str, Any] = {
                "name": name,
                "version": number,
                "creation_timestamp": now,
                "last_updated_timestamp": now,
                "description": src.description,
                "user_id": None,
                "current_stage": STAGE_NONE,
                "source": location,
                "storage_location": location,
                "run_id": src.run_id,
                "run_link": src.run_link,
                "status": ModelVersionStatus.PENDING_REGISTRATION,
                "status_message": None,
            }
            if src.model_id is not None:
                meta["model_id"] = src.model_id
            return meta

        mv = self.claims.register_version(name, build, items)
        number = mv.version
        dst = layout.model_version_artifacts(name, number)
        status, message = ModelVersionStatus.READY, None
        try:
            for info in files:
                if info.path == "registered_model_meta":
                    continue  # MLflow 2's download side effect names the source model
                copy_file(
                    source_repo.storage, info.path, self.storage, f"{dst}/{info.path}", info.size
                )
        except BaseException as e:
            status, message = ModelVersionStatus.FAILED_REGISTRATION, f"Copy failed: {e}"
            raise
        finally:

            def done(m: dict[str, Any]) -> dict[str, Any]:
                m["status"] = status
                m["status_message"] = message
                return m

            self.edits.update_version(name, number, done)
        return self.queries.get_model_version(name, number)


__all__ = ["Copies", "copy_file"]
