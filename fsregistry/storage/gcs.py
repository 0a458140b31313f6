"""Google Cloud Storage through gcsfs's HTTP session.

Conditional writes use GCS generation preconditions on a single-request multipart upload:
``ifGenerationMatch=0`` creates only if absent, ``ifGenerationMatch=<generation>`` is
compare-and-swap. Only the multipart form is used: fake-gcs-server ignores the precondition
on ``uploadType=media`` and on resumable uploads (gcsfs's ``open(..., "xb")``), so tests
would not catch a race there.

Errors: gcsfs's (``HttpError`` with the HTTP status, ``OSError("Forbidden...")`` for 403,
``ValueError("Bad Request...")``) and aiohttp's become the storage contract's in
:meth:`GCSStorage._error`.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

from fsregistry.exceptions import (
    InvalidParameterValue,
    StorageError,
    StoragePermissionDenied,
    StorageUnavailable,
    shown,
)
from fsregistry.storage.base import ConflictError, place
from fsregistry.storage.fsspec_store import ABSENT, ObjectStorage


class GCSStorage(ObjectStorage):
    """A bucket prefix on Google Cloud Storage."""

    def _error(self, error: Exception, path: str, *, writing: bool) -> Exception | None:
        import aiohttp
        from gcsfs.retry import HttpError
        from requests.exceptions import RequestException

        verb = "write" if writing else "read"
        where = f"Could not {verb} {place(path, self.root_uri)}"
        if isinstance(error, HttpError):
            status = int(error.code or 0)
            detail = f"{where}: GCS answered HTTP {status} ({error.message})"
            if status == 400:
                return InvalidParameterValue(f"Invalid path {shown(path)}: {detail}")
            if status in (401, 403):
                return StoragePermissionDenied(detail)
            if status in (408, 429) or status >= 500:
                return StorageUnavailable(detail)
            return StorageError(detail)
        if isinstance(error, ValueError) and str(error).startswith("Bad Request"):
            return InvalidParameterValue(f"Invalid path {shown(path)}: {where}: {error}")
        if isinstance(error, OSError) and str(error).startswith("Forbidden"):
            return StoragePermissionDenied(f"{where}: GCS answered HTTP 403 ({error})")
        if isinstance(error, aiohttp.ClientError | RequestException):
            return StorageUnavailable(f"{where}: GCS could not be reached ({error})")
        return super()._error(error, path, writing=writing)

    async def _get(self, path: str) -> tuple[bytes, str]:
        self.requests += 1
        headers, data = await self.fs._call("GET", self.fs.url(self._full(path)))
        return bytes(data), str(headers.get("x-goog-generation", ""))

    async def _put(self, path: str, data: bytes, precondition: str | None) -> None:
        bucket, _, key = self._full(path).partition("/")
        url = f"{self.fs._location}/upload/storage/v1/b/{quote(bucket, safe='')}/o"
        params = {"uploadType": "multipart"}
        if precondition is not None:
            params["ifGenerationMatch"] = "0" if precondition == ABSENT else precondition
        boundary = uuid.uuid4().hex
        body = (
            (
                f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
                f"{json.dumps({'name': key})}\r\n"
                f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--".encode()
        )
        self.requests += 1
        try:
            await self.fs._call(
                "POST",
                url,
                headers={"Content-Type": f'multipart/related; boundary="{boundary}"'},
                data=body,
                json_out=True,
                **params,
            )
        except FileExistsError as e:  # gcsfs's translation of HTTP 412
            raise ConflictError(path) from e
