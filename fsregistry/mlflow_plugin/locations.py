"""``fsreg+<protocol>`` store URIs, the write gate and the supported MLflow versions.

A plugin URI is ``fsreg+`` followed by the store URL fsregistry itself takes:
``fsreg+file:///abs/mlruns`` -> ``/abs/mlruns``, ``fsreg+s3://bucket/prefix`` ->
``s3://bucket/prefix``, ``fsreg+gs://bucket/prefix`` -> ``gs://bucket/prefix``. MLflow picks
the store by the URI's scheme (``fsreg+s3``), so each protocol is one entry point.

Writes: a store on local disk is writable; a store in a bucket is read-only through the plugin
(a shared bucket is a team's record) unless ``FSREG_MLFLOW_WRITABLE`` is ``1``/``true``
(``fsreg ui --writable`` sets it for the server it starts). A refused write raises MLflow's
PERMISSION_DENIED.

Versions: the plugin implements MLflow's store interfaces as of the minor versions in
``SUPPORTED_MLFLOW`` (tested there); any other MLflow gets one clear error when it first builds
a store, at server start-up, rather than a UI broken by a changed interface.
``FSREG_MLFLOW_ANY_VERSION=1`` skips the check, at the user's risk.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from fsregistry.exceptions import InvalidParameterValue, UnsupportedOperation, shown

#: MLflow minor versions whose store interfaces the plugin implements and is tested against.
SUPPORTED_MLFLOW: tuple[str, ...] = ("3.17",)
#: Schemes registered as entry points (pyproject.toml), store URL protocol after ``fsreg+``.
PLUGIN_SCHEMES: tuple[str, ...] = ("file", "s3", "s3a", "gs", "gcs")
PREFIX = "fsreg+"
WRITABLE_ENV = "FSREG_MLFLOW_WRITABLE"
ANY_VERSION_ENV = "FSREG_MLFLOW_ANY_VERSION"
_TRUE = ("1", "true", "yes", "on")


def store_url(plugin_uri: str) -> str:
    """The fsregistry store URL an ``fsreg+<protocol>://...`` URI names (no MLflow equivalent)."""
    if not plugin_uri.startswith(PREFIX):
        raise InvalidParameterValue(
            f"Not an fsregistry plugin URI: {shown(plugin_uri)}; expected "
            f"'fsreg+file:///path', 'fsreg+s3://bucket/prefix' or 'fsreg+gs://bucket/prefix'"
        )
    rest = plugin_uri[len(PREFIX) :]
    parts = urlsplit(rest)
    if parts.scheme not in PLUGIN_SCHEMES:
        raise InvalidParameterValue(
            f"Unsupported fsregistry plugin URI scheme in {shown(plugin_uri)}; supported: "
            + ", ".join(PREFIX + s for s in PLUGIN_SCHEMES)
        )
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise InvalidParameterValue(
                f"fsreg+file URI {shown(plugin_uri)} names a host; use fsreg+file:///abs/path"
            )
        return parts.path or "/"
    if not parts.netloc:
        raise InvalidParameterValue(f"fsregistry plugin URI {shown(plugin_uri)} has no bucket")
    return rest


def plugin_uri(url: str) -> str:
    """The ``fsreg+...`` URI MLflow's server takes for a store URL or local path."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt"):
        path = parts.path if scheme == "file" else url
        return PREFIX + "file://" + os.path.abspath(os.path.expanduser(path))
    if scheme not in PLUGIN_SCHEMES:
        raise InvalidParameterValue(
            f"MLflow's server cannot open store {shown(url)} through fsregistry: protocol "
            f"{scheme!r} is not one of " + ", ".join(PLUGIN_SCHEMES)
        )
    return PREFIX + url


def is_bucket(plugin_or_store_uri: str) -> bool:
    """True for a store in an object store (read-only through the plugin by default)."""
    uri = plugin_or_store_uri.removeprefix(PREFIX)
    return urlsplit(uri).scheme.lower() not in ("", "file") and len(urlsplit(uri).scheme) > 1


def writes_allowed(plugin_uri_: str) -> bool:
    """Whether the plugin store for ``plugin_uri_`` accepts writes (see the module docstring)."""
    if os.environ.get(WRITABLE_ENV, "").strip().lower() in _TRUE:
        return True
    return not is_bucket(plugin_uri_)


def refuse_write(plugin_uri_: str, operation: str) -> UnsupportedOperation:
    """The PERMISSION_DENIED error of a write to a read-only plugin store."""
    return UnsupportedOperation(
        f"{operation} refused: the store {shown(plugin_uri_)} is read-only through MLflow's "
        f"server (a bucket is a team's record); start it with `fsreg ui --writable` or set "
        f"{WRITABLE_ENV}=1 to allow writes",
        error_code="PERMISSION_DENIED",
    )


def version_supported(version: str) -> bool:
    """Whether MLflow ``version`` (e.g. ``3.17.2``) is one the plugin supports."""
    if os.environ.get(ANY_VERSION_ENV, "").strip().lower() in _TRUE:
        return True
    minor = ".".join(version.split(".")[:2])
    return minor in SUPPORTED_MLFLOW


def check_version(version: str) -> None:
    """Raise a clear error when MLflow ``version`` is not a supported one."""
    if not version_supported(version):
        raise UnsupportedOperation(
            f"fsregistry's MLflow store plugin supports MLflow {', '.join(SUPPORTED_MLFLOW)}.x; "
            f"this is MLflow {version!r}, whose store interface it was not tested against. "
            f"Install a supported one (pip install 'fsregistry[mlflow]') or set "
            f"{ANY_VERSION_ENV}=1 to try anyway",
            error_code="NOT_IMPLEMENTED",
        )
