"""An S3-compatible bucket as a :class:`~core.storage.destination.Destination`.

One class serves Amazon S3, Qiniu Kodo and Aliyun OSS (through their S3-compatible
APIs) and any other S3-compatible store (MinIO, moto) reached by an endpoint
override. Requests go over one :class:`httpx.AsyncClient` and are signed with AWS
Signature Version 4 by botocore's signer, so no request-signing crypto lives here.

Every failure becomes a :class:`~core.storage.destination.StorageError` whose message
says what is wrong in words a person can act on ("the secret key does not match the
access key", "bucket 'x' does not exist at ..."). Messages never contain the access
key, the secret key or the ``Authorization`` header, and the errors are raised with
no chained httpx exception (whose request would carry that header).

Retrying is not done here: a retrying uploader with a local backup wraps this class.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import quote, urlsplit

import httpx
from botocore.auth import S3SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]

from core.storage.destination import StorageError, validate_key
from core.storage.locations import Addressing, bucket_url

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0, pool=10.0)
"""Connect within 10 s; each read or write of a slice may pause up to 60 s."""

_CHUNK = 1 << 20
_MAX_ERROR_BODY = 64 * 1024
_CHECK_BODY = b"cloudrec storage check\n"


@dataclass(frozen=True)
class _Digest:
    """What S3 needs to know about a body before it is sent."""

    size: int
    sha256: str  # hex, for x-amz-content-sha256 (part of the signature)
    md5: str  # base64, for Content-MD5 (S3 verifies the stored bytes)

    @classmethod
    def of_bytes(cls, data: bytes) -> _Digest:
        return cls(
            len(data),
            hashlib.sha256(data).hexdigest(),
            base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode(),
        )

    @classmethod
    def of_file(cls, path: Path) -> _Digest:
        sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        with open(path, "rb") as src:
            while chunk := src.read(_CHUNK):
                sha.update(chunk)
                md5.update(chunk)
                size += len(chunk)
        return cls(size, sha.hexdigest(), base64.b64encode(md5.digest()).decode())


class _PrecomputedPayloadAuth(S3SigV4Auth):  # type: ignore[misc]
    """botocore's S3 SigV4 signer, taking the payload hash we computed while hashing the file.

    S3SigV4Auth (not plain SigV4Auth) because S3 signs the URL path exactly as sent,
    without re-encoding or normalising it; the body itself is streamed by httpx, so
    botocore never sees it and is handed its SHA-256 instead.
    """

    def payload(self, request: Any) -> str:
        digest: str = request.context["payload_sha256"]
        return digest


class _FileBody:
    """Streams ``size`` bytes of a file in chunks, reading in a worker thread."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size
        self._file: IO[bytes] | None = None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self._file = await asyncio.to_thread(open, self.path, "rb")
        left = self.size
        while left > 0:
            chunk = await asyncio.to_thread(self._file.read, min(_CHUNK, left))
            if not chunk:
                raise OSError(f"{self.path} became shorter while it was uploaded")
            left -= len(chunk)
            yield chunk

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class S3Destination:
    """Objects in one bucket of an S3-compatible store, signed with Signature V4.

    ``endpoint`` is the service URL (``https://s3.us-east-1.amazonaws.com``,
    ``http://127.0.0.1:9000``); ``region`` is the Signature V4 credential-scope
    region. ``key_prefix`` is the folder this destination's recording goes under:
    keys passed to ``put_*`` already include it (the recorder builds them), and
    :meth:`check` writes its probe object inside it, so a policy that only allows
    that folder passes the check. ``transport`` replaces httpx's network transport
    (tests, proxies).
    """

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        *,
        region: str,
        access_key: str,
        secret_key: str,
        key_prefix: str = "",
        addressing: Addressing = "path",
        label: str = "S3",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        parts = urlsplit(endpoint.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise StorageError(f"invalid endpoint {endpoint!r}: expected http(s)://host[:port]")
        if addressing not in ("path", "virtual"):
            raise StorageError(f"invalid addressing style {addressing!r}: 'path' or 'virtual'")
        self.endpoint = f"{parts.scheme}://{parts.netloc}"
        self.bucket = bucket
        self.region = region
        self.addressing: Addressing = addressing
        self.key_prefix = key_prefix.strip("/")
        self.base_url = bucket_url(self.endpoint, bucket, addressing)
        self.description = f"{label} bucket '{bucket}' at {self.endpoint}"
        self._auth = _PrecomputedPayloadAuth(Credentials(access_key, secret_key), "s3", region)
        self._timeout = timeout
        # identity: a store's answer is read as sent, so the cap on it (_capped_body)
        # is on bytes received, never on what they might decompress to
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            trust_env=False,
            headers={"Accept-Encoding": "identity"},
        )

    def object_url(self, key: str) -> str:
        """The URL of ``key``; the key is percent-encoded once, as S3 signs it."""
        return f"{self.base_url}/{quote(str(validate_key(key)), safe='/~')}"

    async def check(self) -> None:
        """Write a small probe object under the key prefix, then delete it."""
        name = f".cloudrec-check-{uuid.uuid4().hex}"
        key = f"{self.key_prefix}/{name}" if self.key_prefix else name
        await self.put_bytes(key, _CHECK_BODY, "text/plain")
        await self.delete(key)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``."""
        body = bytes(data)
        await self._put(key, body, _Digest.of_bytes(body), content_type)

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the file at ``path`` under ``key``, streaming it from disk."""
        path = Path(path)
        self.object_url(key)  # an invalid key fails before any disk work
        try:
            digest = await asyncio.to_thread(_Digest.of_file, path)
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from None
        body = _FileBody(path, digest.size)
        try:
            await self._put(key, body, digest, content_type)
        finally:
            body.close()

    async def get_file(self, key: str, path: Path) -> int:
        """Download ``key`` into ``path`` (written beside it and renamed once whole: a
        failed download leaves nothing at ``path``); its size. Raises :class:`StorageError`."""
        url = self.object_url(key)
        headers = self._signed("GET", url, {}, _Digest.of_bytes(b"").sha256)
        part = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        # The error is raised after the except blocks so it carries no __context__:
        # httpx exceptions hold the request, and with it the Authorization header.
        error: StorageError
        try:
            request = self._client.build_request("GET", url, headers=headers)
            response = await self._client.send(request, stream=True)
            try:
                if response.is_success:
                    return await self._save(response, path, part)
                code, message = _parse_error(await self._capped_body(response))
                error = self._error("GET", key, self._http_reason(response, code, message))
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            error = self._error("GET", key, self._transport_reason(exc))
        except OSError as exc:
            error = StorageError(f"cannot write {path}: {exc.strerror or exc}")
        finally:
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)
        raise error

    @staticmethod
    async def _save(response: httpx.Response, path: Path, part: Path) -> int:
        size = 0
        out = await asyncio.to_thread(part.open, "wb")
        try:
            async for chunk in response.aiter_raw():
                await asyncio.to_thread(out.write, chunk)
                size += len(chunk)
        finally:
            await asyncio.to_thread(out.close)
        await asyncio.to_thread(os.replace, part, path)
        return size

    async def delete(self, key: str) -> None:
        """Remove ``key``; a missing object is not an error."""
        url = self.object_url(key)
        digest = _Digest.of_bytes(b"")
        headers = self._signed("DELETE", url, {}, digest.sha256)
        await self._send("DELETE", key, url, headers, None)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()

    async def _put(
        self, key: str, body: bytes | _FileBody, digest: _Digest, content_type: str
    ) -> None:
        url = self.object_url(key)
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(digest.size),
            "Content-MD5": digest.md5,
        }
        await self._send("PUT", key, url, self._signed("PUT", url, headers, digest.sha256), body)

    def _signed(
        self, method: str, url: str, headers: dict[str, str], sha256: str
    ) -> dict[str, str]:
        """``headers`` plus the date, payload hash and Authorization header (botocore)."""
        request = AWSRequest(
            method=method, url=url, headers={**headers, "X-Amz-Content-SHA256": sha256}
        )
        request.context["payload_sha256"] = sha256
        self._auth.add_auth(request)
        return {str(name): str(value) for name, value in request.headers.items()}

    async def _send(
        self,
        method: str,
        key: str,
        url: str,
        headers: dict[str, str],
        body: bytes | _FileBody | None,
    ) -> None:
        # The error is raised after the except blocks so it carries no __context__:
        # httpx exceptions hold the request, and with it the Authorization header.
        error: StorageError
        try:
            request = self._client.build_request(method, url, headers=headers, content=body)
            response = await self._client.send(request, stream=True)
            try:
                answer = await self._capped_body(response)
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            error = self._error(method, key, self._transport_reason(exc))
        except OSError as exc:  # reading the file while streaming it
            error = self._error(method, key, f"cannot read the file: {exc.strerror or exc}")
        else:
            if response.is_success:
                return
            code, message = _parse_error(answer)
            if method == "DELETE" and code == "NoSuchKey":
                return
            error = self._error(method, key, self._http_reason(response, code, message))
        raise error

    async def _capped_body(self, response: httpx.Response) -> bytes:
        """The first :data:`_MAX_ERROR_BODY` bytes of the answer's body, as sent (never
        more, however much the store sends: the rest is left unread and the connection
        closed), read within one read timeout; what came in time when it is slower."""
        data = bytearray()
        try:
            async with (
                asyncio.timeout(self._timeout.read or DEFAULT_TIMEOUT.read),
                contextlib.aclosing(cast(AsyncGenerator[bytes], response.aiter_raw())) as chunks,
            ):
                async for chunk in chunks:
                    data += chunk[: _MAX_ERROR_BODY - len(data)]
                    if len(data) >= _MAX_ERROR_BODY:
                        break
        except TimeoutError:
            pass
        return bytes(data)

    def _error(self, method: str, key: str, reason: str) -> StorageError:
        # Built only from fields that never hold a key (the object key, the bucket, the
        # endpoint, the region, the store's error code and message): nothing to mask.
        # The secret key never leaves this process (requests carry signatures); the
        # access key travels in the Authorization header, never in a URL or a message.
        verb = "upload" if method == "PUT" else method.lower()
        return StorageError(f"cannot {verb} '{key}' ({self.description}): {reason}")

    def _transport_reason(self, exc: httpx.TransportError) -> str:
        target = self.base_url if self.addressing == "virtual" else self.endpoint
        if isinstance(exc, httpx.ConnectTimeout):
            return f"{target} is unreachable (no connection within {self._timeout.connect} s)"
        if isinstance(exc, httpx.TimeoutException):
            return f"{target} stopped answering (timed out); the network or the store is down"
        if isinstance(exc, httpx.ConnectError):
            return f"{target} is unreachable ({_os_reason(exc) or exc or type(exc).__name__})"
        return f"{target} is unreachable or dropped the connection ({type(exc).__name__}: {exc})"

    def _http_reason(self, response: httpx.Response, code: str, message: str) -> str:
        at = self.endpoint
        if code == "NoSuchBucket":
            return f"bucket '{self.bucket}' does not exist at {at}"
        if code == "InvalidAccessKeyId":
            return f"the access key is not known to {at}"
        if code == "SignatureDoesNotMatch":
            return (
                f"the secret key does not match the access key ({at} rejected the request "
                "signature)"
            )
        if code == "AccessDenied":
            return (
                f"access denied: the access key may not write to or delete from bucket "
                f"'{self.bucket}' at {at}; check the key's permissions"
            )
        if code == "RequestTimeTooSkewed":
            return f"this computer's clock differs too much from {at}'s; set the clock right"
        if code in (
            "AuthorizationHeaderMalformed",
            "PermanentRedirect",
            "IllegalLocationConstraintException",
        ):
            return (
                f"bucket '{self.bucket}' is not in region {self.region} at {at}; "
                f"choose the bucket's region ({code}: {message})"
            )
        status = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        detail = f" ({code}: {message})" if message else f" ({code})" if code else ""
        return f"{at} answered {status}{detail}"


def _os_reason(exc: BaseException) -> str:
    """The operating system's words for a network failure ("Connection refused"), if any."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and (cause.errno or cause.strerror):
            return os.strerror(cause.errno) if cause.errno else str(cause.strerror)
        if isinstance(cause, ExceptionGroup):
            return next((r for r in map(_os_reason, cause.exceptions) if r), "")
        cause = cause.__cause__ or cause.__context__
    return ""


def _parse_error(body: bytes) -> tuple[str, str]:
    """The ``Code`` and ``Message`` of an S3 XML error body ('' when there are none).

    ``body`` may be the start of a longer one (:meth:`S3Destination._capped_body`): it is
    read as far as it goes, so ``Code`` and ``Message`` count once their elements have
    ended, whatever follows.
    """
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    found: dict[str, str] = {}
    depth = 0
    try:
        parser.feed(body)
        for event, element in cast(Iterator[tuple[str, object]], parser.read_events()):
            depth += 1 if event == "start" else -1
            # Only Code and Message, children of the root, are read: other elements
            # (AWSAccessKeyId, StringToSign, CanonicalRequest) echo request details
            # that have no place in a message.
            if not isinstance(element, ET.Element):
                continue
            if event == "end" and depth == 1 and element.tag in ("Code", "Message"):
                found.setdefault(element.tag, (element.text or "").strip())
    except ET.ParseError:
        pass
    return found.get("Code", ""), found.get("Message", "")[:300]
