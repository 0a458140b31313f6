"""Google Cloud Storage through gcsfs's HTTP session.

Conditional writes use GCS generation preconditions on a single-request multipart upload:
``ifGenerationMatch=0`` creates only if absent, ``ifGenerationMatch=<generation>`` is
compare-and-swap. Only the multipart form is used: fake-gcs-server ignores the precondition
on ``uploadType=media`` and on resumable uploads (gcsfs's ``open(..., "xb")``), so tests
would not catch a race there.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

from fsregistry.storage.base import ConflictError
from fsregistry.storage.fsspec_store import ABSENT, ObjectStorage


class GCSStorage(ObjectStorage):
    """A bucket prefix on Google Cloud Storage."""

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
