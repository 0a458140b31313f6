"""Amazon S3 (and S3-compatible stores) through s3fs's aiobotocore client.

Conditional writes are S3's own: ``If-None-Match: *`` for create-if-absent and
``If-Match: <etag>`` for compare-and-swap. Reads go straight to GetObject so the body and the
ETag come from one response (s3fs's ``cat`` adds a HEAD per object, doubling request counts).

Errors: botocore's (a ``ClientError`` with S3's error code, a connection or credentials
error) and aiohttp's become the storage contract's in :meth:`S3Storage._error`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fsregistry.exceptions import (
    InvalidParameterValue,
    StorageError,
    StoragePermissionDenied,
    StorageUnavailable,
    StoreMissing,
    shown,
)
from fsregistry.storage.base import ConflictError, place
from fsregistry.storage.fsspec_store import ABSENT, ObjectStorage

# S3 answers 409 ConditionalRequestConflict when two conditional writes to one key overlap;
# the request did not happen, so it is safe to send again.
_CONFLICT_RETRIES = 20
# S3's error codes by what they mean for the caller.
_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccountProblem",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "InvalidObjectState",
    }
)
_BAD_NAME_CODES = frozenset({"KeyTooLongError", "InvalidObjectName", "InvalidURI"})
_BUSY_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "RequestTimeout", "InternalError", "Throttling"}
)


def _client_error_code(exc: BaseException) -> tuple[str, int]:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


class S3Storage(ObjectStorage):
    """A bucket prefix on S3."""

    def _error(self, error: Exception, path: str, *, writing: bool) -> Exception | None:
        import aiohttp
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            ParamValidationError,
            PartialCredentialsError,
        )

        verb = "write" if writing else "read"
        where = f"Could not {verb} {place(path, self.root_uri)}"
        if isinstance(error, ClientError):
            code, status = _client_error_code(error)
            detail = f"{where}: S3 answered {code or status} ({error})"
            if code == "NoSuchBucket":
                return StoreMissing(detail) if writing else FileNotFoundError(path)
            if code in _DENIED_CODES or status in (401, 403):
                return StoragePermissionDenied(detail)
            if code in _BAD_NAME_CODES:
                return InvalidParameterValue(f"Invalid path {shown(path)}: {detail}")
            if code in _BUSY_CODES or status == 429 or status >= 500:
                return StorageUnavailable(detail)
            return StorageError(detail)
        if isinstance(error, NoCredentialsError | PartialCredentialsError):
            return StoragePermissionDenied(f"{where}: no usable AWS credentials ({error})")
        if isinstance(error, ParamValidationError):
            return InvalidParameterValue(f"{where}: {error}")
        if isinstance(error, BotoCoreError | aiohttp.ClientError):
            return StorageUnavailable(f"{where}: S3 could not be reached ({error})")
        return super()._error(error, path, writing=writing)

    def _bucket_key(self, path: str) -> tuple[str, str]:
        bucket, _, key = self._full(path).partition("/")
        return bucket, key

    async def _client(self, bucket: str) -> Any:
        await self.fs.set_session()
        return await self.fs.get_s3(bucket)

    async def _get(self, path: str) -> tuple[bytes, str]:
        from botocore.exceptions import ClientError

        bucket, key = self._bucket_key(path)
        client = await self._client(bucket)
        self.requests += 1
        try:
            resp = await client.get_object(Bucket=bucket, Key=key)
        except ClientError as e:
            code, status = _client_error_code(e)
            if status == 404 or code in ("NoSuchKey", "404"):
                raise FileNotFoundError(path) from e
            raise
        async with resp["Body"] as body:
            data: bytes = await body.read()
        return data, str(resp.get("ETag", ""))

    async def _put(self, path: str, data: bytes, precondition: str | None) -> None:
        from botocore.exceptions import ClientError

        bucket, key = self._bucket_key(path)
        condition: dict[str, str] = {}
        if precondition == ABSENT:
            condition["IfNoneMatch"] = "*"
        elif precondition is not None:
            condition["IfMatch"] = precondition
        client = await self._client(bucket)
        for attempt in range(_CONFLICT_RETRIES):
            self.requests += 1
            try:
                await client.put_object(Bucket=bucket, Key=key, Body=data, **condition)
                return
            except ClientError as e:
                code, status = _client_error_code(e)
                if status == 412 or code == "PreconditionFailed":
                    raise ConflictError(path) from e
                if precondition not in (None, ABSENT) and (status == 404 or code == "NoSuchKey"):
                    # If-Match on an object deleted since it was read: S3 answers 404.
                    raise ConflictError(path) from e
                if status == 409 and attempt + 1 < _CONFLICT_RETRIES:
                    await asyncio.sleep(0.01 * (attempt + 1))
                    continue
                raise
