"""The digest that pins a stored model, as the registry records it.

fsregistry writes ``fsreg.hashes.json`` (:mod:`fsregistry.models.hashes`) into every model it
saves; the sha256 of that manifest's bytes pins every file of the model. A registered version
records it as the tag ``fsreg.model_digest`` however it was registered (``log_model`` with
``registered_model_name``, ``register_model``, ``Client.create_model_version``), and loading
``models:/...`` checks the files against it. Pure bytes -> digest, here below the stores, so
the code that resolves a new version's source can record it without the model code.
"""

from __future__ import annotations

import hashlib

#: The hash manifest's file name inside a model directory.
HASHES_FILE = "fsreg.hashes.json"
#: The model version tag holding the digest recorded at registration.
MODEL_DIGEST_TAG = "fsreg.model_digest"


def manifest_digest(data: bytes) -> str:
    """``sha256:<hex>`` of the manifest bytes: one value that pins every model file."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


__all__ = ["HASHES_FILE", "MODEL_DIGEST_TAG", "manifest_digest"]
