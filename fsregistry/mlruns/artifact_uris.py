"""Where MLflow's file store puts artifacts: the rules for artifact roots and locations.

Pure string rules, no I/O (the working directory is the only thing read):

- A local artifact root or ``artifact_location`` given as a relative path is made absolute
  against the working directory when it is recorded (:func:`absolute_location`): a plain path
  stays a plain path, ``file:rel`` becomes ``file:///<cwd>/rel``. Absolute paths and remote
  URIs are recorded as given.
- An experiment's default location is ``<artifact root>/<experiment id>`` and a run's
  artifact URI is ``<experiment location>/<run id>/artifacts``; the parts are appended to the
  path of the URI (:func:`append_uri_path`), before any ``?query`` or ``#fragment``
  (``s3://b/p?v=1`` -> ``s3://b/p/<id>?v=1``), and a query holding ``..`` is refused.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from fsregistry.exceptions import InvalidParameterValue


def _scheme(uri: str) -> str:
    try:
        return urlsplit(uri).scheme
    except ValueError:
        return ""


def absolute_location(uri: str) -> str:
    """``uri`` made absolute against the working directory if it is a relative local path
    (plain or ``file:``); anything else unchanged."""
    scheme = _scheme(uri)
    if scheme == "":
        if posixpath.isabs(uri):
            return uri
        return (PurePosixPath(os.getcwd()) / uri).as_posix()
    if scheme != "file":
        return uri
    parts = urlsplit(uri)
    if parts.netloc or parts.path.startswith("/"):
        return uri
    path = (PurePosixPath(os.getcwd()) / unquote(parts.path)).as_posix()
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return f"file://{path}{query}{fragment}"


def _check_query(uri: str, query: str) -> None:
    decoded = query
    for _ in range(10):  # percent-encoding may be nested: decode until it stops changing
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    if ".." in decoded:
        raise InvalidParameterValue(
            f"Invalid query string in artifact location {uri!r}: '..' is not allowed"
        )


def append_uri_path(uri: str, *parts: str) -> str:
    """``uri`` with ``parts`` appended to its path, before any ``?query`` or ``#fragment``.

    A URI without a scheme is a plain path: ``?`` and ``#`` are part of its name.
    """
    tail = "/".join(p.strip("/") for p in parts if p.strip("/"))
    try:
        parsed = urlsplit(uri)
    except ValueError as e:
        raise InvalidParameterValue(f"Invalid artifact location {uri!r}: {e}") from e
    _check_query(uri, parsed.query)
    if not tail:
        return uri
    if not parsed.scheme:
        return _join(uri, tail)
    head, hash_sign, fragment = uri.partition("#")
    path, question_mark, query = head.partition("?")
    return f"{_join(path, tail)}{question_mark}{query}{hash_sign}{fragment}"


def _join(path: str, tail: str) -> str:
    return f"{path}{tail}" if path.endswith("/") else f"{path}/{tail}"


__all__ = ["absolute_location", "append_uri_path"]
