"""Storage layer: store URL -> :class:`Storage`; the only code that touches bytes.

``open_storage`` accepts what MLflow users write for a tracking URI that is a place on a
filesystem: a plain path, ``file://`` URIs, ``s3://bucket/prefix``, ``gs://bucket/prefix``
(or ``gcs://``), ``memory://name`` and any other fsspec protocol. S3 and GCS settings come
from the standard environment (``AWS_*``, ``AWS_ENDPOINT_URL[_S3]``,
``STORAGE_EMULATOR_HOST``, application-default credentials) or explicit
``storage_options``, passed to the fsspec filesystem unchanged. s3fs and gcsfs are imported
only when such a URL is opened, which keeps ``import fsregistry`` and the CLI fast.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.storage.base import (
    Capabilities,
    ConflictError,
    FileInfo,
    Storage,
    Versioned,
    check_path,
    is_racy,
    join,
)
from fsregistry.storage.local import LocalStorage

__all__ = [
    "Capabilities",
    "ConflictError",
    "FileInfo",
    "Storage",
    "Versioned",
    "check_path",
    "is_racy",
    "is_store_url",
    "join",
    "open_storage",
]

_S3_PROTOCOLS = ("s3", "s3a")
_GCS_PROTOCOLS = ("gs", "gcs")
# Schemes that name a server or database, never a place on a filesystem.
_NON_STORE_SCHEMES = ("http", "https", "databricks", "sqlite", "postgresql", "mysql", "mssql")

_cache: dict[tuple[str, str], Storage] = {}
_cache_lock = threading.Lock()
# A forked child must not share its parent's HTTP sessions and event loop.
os.register_at_fork(after_in_child=_cache.clear)


def _scheme(url: str) -> str:
    if "://" not in url and not url.startswith("file:"):
        return ""
    return url.split(":", 1)[0].lower()


def is_store_url(url: str) -> bool:
    """Whether ``url`` names a filesystem location fsregistry can use as a store root."""
    if url.strip().lower() in ("databricks", "databricks-uc", "uc"):
        return False  # MLflow's names for Databricks tracking/registry, not directories
    scheme = _scheme(url)
    return not any(scheme == s or scheme.startswith(s + "+") for s in _NON_STORE_SCHEMES)


def local_path_of(url: str) -> str | None:
    """The absolute local path for a plain path or ``file:`` URI, else None."""
    scheme = _scheme(url)
    if scheme == "":
        return os.path.abspath(os.path.expanduser(url))
    if scheme == "file":
        # Imported here: urllib.parse (with ipaddress) is a tenth of `fsreg ls models`'s
        # imports, and plain paths, the common case, never need it.
        from urllib.parse import unquote, urlparse

        parsed = urlparse(url)
        if parsed.netloc not in ("", "localhost"):
            raise InvalidParameterValue(f"Unsupported file URI {url!r}: remote host given")
        # file:./mlruns and file:mlruns are relative, as MLflow accepts them.
        path = unquote(parsed.path) if url.startswith("file://") else url[len("file:") :]
        return os.path.abspath(os.path.expanduser(path))
    return None


def _open_s3(root: str, options: dict[str, Any]) -> Storage:
    import s3fs

    from fsregistry.storage.s3 import S3Storage

    opts: dict[str, Any] = {
        "skip_instance_cache": True,
        # Several writers share a bucket: a cached listing would hide their files.
        "use_listings_cache": False,
        "config_kwargs": {"max_pool_connections": 64},
    }
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        opts["endpoint_url"] = endpoint
    opts.update(options)
    return S3Storage(s3fs.S3FileSystem(**opts), root, "s3")


def _open_gcs(root: str, options: dict[str, Any]) -> Storage:
    # Zonal-bucket support probes bucket metadata before writes: an extra request each.
    os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    import gcsfs

    from fsregistry.storage.gcs import GCSStorage

    opts: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
    if os.environ.get("STORAGE_EMULATOR_HOST") and "token" not in options:
        opts["token"] = "anon"  # emulators take no credentials
    opts.update(options)
    return GCSStorage(gcsfs.GCSFileSystem(**opts), root, "gs")


def _open_fsspec(protocol: str, root: str, options: dict[str, Any]) -> Storage:
    import fsspec

    from fsregistry.storage.fsspec_store import FsspecStorage, MemoryStorage

    fs = fsspec.filesystem(protocol, **options)
    if protocol == "memory":
        return MemoryStorage(fs, "/" + root.lstrip("/"), protocol)
    return FsspecStorage(fs, root, protocol)


def open_storage(url: str, storage_options: dict[str, Any] | None = None) -> Storage:
    """Resolve a store URL to a :class:`Storage` (cached per URL and options)."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidParameterValue(f"Invalid store URL {url!r}: expected a path or URI")
    if "\x00" in url:
        raise InvalidParameterValue(f"Invalid store URL {url!r}: contains a NUL character")
    if not is_store_url(url):
        raise InvalidParameterValue(
            f"Unsupported store URL {url!r}: fsregistry stores are paths or bucket URLs "
            "(./mlruns, file:///abs/path, s3://bucket/prefix, gs://bucket/prefix)"
        )
    options = dict(storage_options or {})
    key = (url.rstrip("/"), repr(sorted(options.items())))
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached

    local = local_path_of(url)
    storage: Storage
    if local is not None:
        storage = LocalStorage(local)
    else:
        protocol, rest = url.split("://", 1)
        protocol = protocol.lower()
        root = rest.strip("/")
        if protocol in _S3_PROTOCOLS:
            storage = _open_s3(_require_bucket(url, root), options)
        elif protocol in _GCS_PROTOCOLS:
            storage = _open_gcs(_require_bucket(url, root), options)
        else:
            storage = _open_fsspec(protocol, root, options)
    with _cache_lock:
        _cache.setdefault(key, storage)
    return storage


def _require_bucket(url: str, root: str) -> str:
    if not root:
        raise InvalidParameterValue(f"Invalid store URL {url!r}: no bucket name")
    return root
