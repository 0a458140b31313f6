"""Storage layer: store URL -> :class:`Storage`; the only code that touches bytes.

``open_storage`` accepts what MLflow users write for a tracking URI that is a place on a
filesystem: a plain path, ``file://`` URIs, ``s3://bucket/prefix``, ``gs://bucket/prefix``
(or ``gcs://``), ``memory://name`` and any other fsspec protocol. S3 and GCS settings come
from the standard environment (``AWS_*``, ``AWS_ENDPOINT_URL[_S3]``,
``STORAGE_EMULATOR_HOST``, application-default credentials) or explicit
``storage_options``, passed to the fsspec filesystem unchanged. s3fs and gcsfs are imported
only when such a URL is opened, which keeps ``import fsregistry`` and the CLI fast.

s3fs and gcsfs are optional (``pip install 'fsregistry[s3]'``, ``'fsregistry[gcs]'``), as is
the package behind any other fsspec protocol. :func:`_filesystem_class` is the one place a
filesystem implementation is imported, so a missing one is always the same error: an
:class:`InvalidParameterValue` naming what to install.
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
# What serves S3 and GCS stores, and the fsregistry extra that installs it (pyproject.toml).
_EXTRAS = {"s3": ("S3", "s3fs", "s3"), "gs": ("GCS", "gcsfs", "gcs")}
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


def _filesystem_class(url: str, protocol: str) -> Any:
    """The fsspec filesystem class that serves ``protocol``, imported now.

    S3 and GCS always get s3fs's and gcsfs's own classes (their storage classes use those
    clients' internals); any other protocol gets the class fsspec's registry names. If the
    package is not installed the error names the command that installs it: the fsregistry
    extra for S3 and GCS, otherwise the package fsspec says the protocol needs.
    """
    try:
        if protocol in _S3_PROTOCOLS:
            import s3fs

            return s3fs.S3FileSystem
        if protocol in _GCS_PROTOCOLS:
            import gcsfs

            return gcsfs.GCSFileSystem
        import fsspec

        return fsspec.get_filesystem_class(protocol)
    except ImportError as e:
        raise _missing_implementation(url, protocol, e) from e
    except ValueError as e:  # fsspec: "Protocol not known"
        raise InvalidParameterValue(
            f"Cannot open {url!r}: {protocol}:// is not a filesystem fsspec knows ({e})"
        ) from e


def _missing_implementation(url: str, protocol: str, error: ImportError) -> InvalidParameterValue:
    if protocol in _EXTRAS:
        service, package, extra = _EXTRAS[protocol]
        return InvalidParameterValue(
            f"Cannot open {url!r}: {service} stores need {package}, which could not be "
            f"imported ({error}). Install it with: pip install 'fsregistry[{extra}]'"
        )
    from fsspec.registry import known_implementations

    needs = known_implementations.get(protocol, {}).get("err")
    what = needs or f"the fsspec implementation of {protocol}:// could not be imported"
    # fsspec raises its "err" text from the import's own error: show that one as the detail.
    cause = error.__cause__ if isinstance(error.__cause__, ImportError) else error
    detail = "" if str(cause) == what else f" ({cause})"
    return InvalidParameterValue(f"Cannot open {url!r}: {what}{detail}")


def _open_s3(url: str, root: str, options: dict[str, Any]) -> Storage:
    filesystem = _filesystem_class(url, "s3")

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
    return S3Storage(filesystem(**opts), root, "s3")


def _open_gcs(url: str, root: str, options: dict[str, Any]) -> Storage:
    # Zonal-bucket support probes bucket metadata before writes: an extra request each.
    # gcsfs reads this when it is first imported.
    os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    filesystem = _filesystem_class(url, "gs")

    from fsregistry.storage.gcs import GCSStorage

    opts: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
    if os.environ.get("STORAGE_EMULATOR_HOST") and "token" not in options:
        opts["token"] = "anon"  # emulators take no credentials
    opts.update(options)
    return GCSStorage(filesystem(**opts), root, "gs")


def _open_fsspec(url: str, protocol: str, root: str, options: dict[str, Any]) -> Storage:
    from fsregistry.storage.fsspec_store import FsspecStorage, MemoryStorage

    fs = _filesystem_class(url, protocol)(**options)
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
            storage = _open_s3(url, _require_bucket(url, root), options)
        elif protocol in _GCS_PROTOCOLS:
            storage = _open_gcs(url, _require_bucket(url, root), options)
        else:
            storage = _open_fsspec(url, protocol, root, options)
    with _cache_lock:
        _cache.setdefault(key, storage)
    return storage


def _require_bucket(url: str, root: str) -> str:
    if not root:
        raise InvalidParameterValue(f"Invalid store URL {url!r}: no bucket name")
    return root
