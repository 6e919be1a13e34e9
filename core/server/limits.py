"""Limits on what one HTTP request may cost the server: its body's size and its time.

Two parts, each where it can act:

* :class:`RequestLimits`, an ASGI middleware in front of every route, reads a request's
  body itself, **before** any route parses it and before the recording API checks
  credentials: a ``Content-Length`` above the path's cap answers 413 at once, without
  reading a byte of the body; a body sent without a length (chunked) is counted while it
  arrives and cut off at the cap (413), so the server holds at most the cap in memory.
  The body must have arrived within ``request_timeout`` seconds of its headers (408
  otherwise). A request of the recording API (``/v1/...``) that carries a body must
  also carry valid credentials, checked before the body is read (401): a stranger
  cannot make the server read, let alone parse, anything. The route then gets the body
  as read, in one piece.
* :func:`http_protocol`, uvicorn's HTTP/1.1 protocol (h11) with a deadline on the
  request's headers: a client that has not sent a whole request line and headers
  within ``request_timeout`` seconds of connecting (or of its first byte after a
  finished request on a kept-alive connection) gets 408 and the connection is closed.
  An idle kept-alive connection is closed by uvicorn after ``timeout_keep_alive``.

The answers use the shape of the API the path belongs to: the recording API's
``{"code": N, "reason": "..."}`` (``code`` = the HTTP status, as its 403/404; a 401 is
Agora's ``{"message": ..., "reason": ...}``),
WHIP's plain text, the roster's ``{"error": "..."}``. Each closes the connection, since
the rest of the body is never read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Callable

import h11
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from core.channel.whip import MAX_OFFER_BYTES

MAX_API_BODY = 1024 * 1024
"""Bytes a body of the recording API (JSON) may have: 1 MiB. Its largest real bodies,
a ``start`` with a full ``recordingConfig``, ``storageConfig`` and a layout of 17
regions, are a few KiB."""

MAX_WHIP_BODY = MAX_OFFER_BYTES
"""Bytes a WHIP body (an SDP offer, a trickled fragment) may have: 256 KiB. A
browser's offer with audio, simulcast video and every candidate is under 10 KiB."""

MAX_OTHER_BODY = 64 * 1024
"""Bytes any other request's body may have (no other route reads one)."""

DEFAULT_REQUEST_TIMEOUT = 30.0
"""Seconds a client has to send a request's headers, and then as much again for its
body (``--request-timeout``)."""


def body_cap(path: str) -> int:
    """The largest body a request to ``path`` may send."""
    if path.startswith("/v1/"):
        return MAX_API_BODY
    if path.startswith("/whip/"):
        return MAX_WHIP_BODY
    return MAX_OTHER_BODY


def _size(number: int) -> str:
    """``1048576`` -> ``'1048576 bytes (1 MiB)'``."""
    if number % (1024 * 1024) == 0:
        return f"{number} bytes ({number // (1024 * 1024)} MiB)"
    if number % 1024 == 0:
        return f"{number} bytes ({number // 1024} KiB)"
    return f"{number} bytes"


def refusal(
    path: str,
    status: int,
    reason: str,
    headers: dict[str, str] | None = None,
    body: dict[str, object] | None = None,
) -> Response:
    """An answer in the shape of the API ``path`` belongs to (``body`` when the refusal
    brings its own), closing the connection."""
    extra = {"Connection": "close", **(headers or {})}
    if path.startswith("/whip/"):
        return Response(reason + "\n", status, headers=extra, media_type="text/plain")
    if body is not None:
        text = json.dumps(body)
    elif path.startswith("/v1/"):
        text = json.dumps({"code": status, "reason": reason})
    else:
        text = json.dumps({"error": reason})
    return Response(text, status, headers=extra, media_type="application/json")


class RequestLimits:
    """The body cap, the body deadline and (for ``/v1/``) credentials before the body.

    ``authenticate(request)`` raises an exception with ``status``, ``reason`` and the
    answer's ``body`` (the recording API's :class:`~core.server.recording_api.ApiError`)
    for a request without valid credentials.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        request_timeout: float,
        authenticate: Callable[[Request], None],
    ) -> None:
        self.app = app
        self.request_timeout = request_timeout
        self.authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        cap = body_cap(path)
        headers = {k.lower(): v for k, v in scope["headers"]}
        length_text = headers.get(b"content-length")
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        length = int(length_text) if length_text is not None and length_text.isdigit() else 0
        if not chunked and length == 0:  # no body (h11 refused a malformed length already)
            await self.app(scope, receive, send)
            return
        if path.startswith("/v1/"):
            try:
                self.authenticate(Request(scope))
            except Exception as exc:
                status, reason = getattr(exc, "status", None), getattr(exc, "reason", None)
                if not isinstance(status, int) or not isinstance(reason, str):
                    raise  # not a refusal (the recording API's ApiError): a bug
                # A body of a declared length within the cap is read and dropped first
                # (never kept, never parsed): closing on unread data makes the kernel
                # reset the connection, and the client would see that instead of the
                # answer. A body of unknown length is not waited for.
                if not chunked and length <= cap:
                    await _drain(receive, cap, self.request_timeout)
                body = getattr(exc, "body", None)
                await refusal(path, status, reason, body=body)(scope, receive, send)
                return
        too_large = refusal(
            path,
            413,
            f"request body larger than {_size(cap)}, the limit of {_api_name(path)}; "
            "send a smaller body",
        )
        if length > cap:
            await too_large(scope, receive, send)
            return
        body = bytearray()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.request_timeout
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                timeout = refusal(
                    path,
                    408,
                    f"request timeout: the body did not arrive within "
                    f"{_seconds(self.request_timeout)} s of the headers",
                )
                await timeout(scope, receive, send)
                return
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            if len(body) > cap:
                await too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)


async def _drain(receive: Receive, cap: int, timeout: float) -> None:
    """Read and drop a request's body: at most ``cap`` bytes within ``timeout`` s."""
    seen = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while seen <= cap:
                message = await receive()
                if message["type"] != "http.request":
                    return
                seen += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return


def _api_name(path: str) -> str:
    if path.startswith("/v1/"):
        return "the recording API"
    if path.startswith("/whip/"):
        return "WHIP (an SDP offer or a trickled fragment)"
    return "this path"


def _seconds(value: float) -> str:
    return f"{value:g}"


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then waits on the real one (for the
    disconnect a streaming answer watches for)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


class _HeaderDeadline(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's line and headers."""

    request_timeout = DEFAULT_REQUEST_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._head_timer is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the headers are in (or the request failed)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.request_timeout, self._head_timeout)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        text = (
            f"request timeout: no whole request line and headers within "
            f"{_seconds(self.request_timeout)} s\n"
        ).encode()
        try:
            if self.conn.our_state is h11.IDLE:
                headers = [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(text)).encode()),
                    (b"connection", b"close"),
                ]
                response = h11.Response(status_code=408, headers=headers, reason=b"Request Timeout")
                for event in (response, h11.Data(data=text), h11.EndOfMessage()):
                    self.transport.write(self.conn.send(event) or b"")
        except h11.LocalProtocolError:  # mid-answer of a pipelined request: just close
            pass
        self.transport.close()


def http_protocol(request_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol class with a ``request_timeout`` deadline on headers."""
    if not (0 < request_timeout < math.inf):
        raise ValueError(f"request_timeout {request_timeout!r} is not a number of seconds above 0")
    return type("HeaderDeadlineProtocol", (_HeaderDeadline,), {"request_timeout": request_timeout})
