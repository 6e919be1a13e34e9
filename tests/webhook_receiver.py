"""A webhook receiver on 127.0.0.1 for tests: it verifies both of Agora's signatures the
documented way and keeps what arrives.

The check is the one Agora's documentation gives a receiver (and docs/webhooks.md
shows): HMAC-SHA1 and HMAC-SHA256 of the raw body bytes, keyed with the secret as UTF-8,
in lowercase hex, compared in constant time with ``Agora-Signature`` and
``Agora-Signature-V2``. A request whose signatures do not match is answered 401 and
counted in :attr:`WebhookReceiver.forged`, never kept as a notice.

:attr:`WebhookReceiver.mode` says how it answers: ``"ok"`` (200 with a JSON body, as
Agora asks), ``"error"`` (503), ``"hang"`` (no answer until the mode changes or the
receiver stops). :meth:`WebhookReceiver.stop` closes its port (connections are refused)
and :meth:`WebhookReceiver.start` opens the same port again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass(frozen=True)
class Arrival:
    """One request with valid signatures: its raw body, headers and arrival time."""

    body: bytes
    headers: dict[str, str]
    monotonic: float

    @property
    def notice(self) -> dict[str, Any]:
        notice: dict[str, Any] = json.loads(self.body)
        return notice


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebhookReceiver:
    """An HTTP receiver of signed notices (see the module docstring)."""

    def __init__(self, secret: str, path: str = "/hook") -> None:
        self.secret = secret
        self.path = path
        self.mode = "ok"
        self.arrivals: list[Arrival] = []
        self.forged = 0
        self.hanging = 0  # requests waiting in "hang" mode now
        self._mode_changed = asyncio.Event()
        self._stopping = False
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        with socket.socket() as probe:  # a free port, kept across stop/start
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._mode_changed.set()
        self._mode_changed = asyncio.Event()

    def notices(self) -> list[dict[str, Any]]:
        """Every notice that arrived, repeats included, in arrival order."""
        return [a.notice for a in self.arrivals]

    def unique(self) -> list[dict[str, Any]]:
        """The notices after dropping repeats by ``noticeId``, as a receiver does."""
        seen: set[str] = set()
        kept = []
        for notice in self.notices():
            if notice["noticeId"] not in seen:
                seen.add(notice["noticeId"])
                kept.append(notice)
        return kept

    def of(self, sid: str) -> list[dict[str, Any]]:
        """The unique notices of recording ``sid``, in arrival order."""
        return [n for n in self.unique() if n["payload"]["sid"] == sid]

    def verified(self, body: bytes, headers: dict[str, str]) -> bool:
        key = self.secret.encode("utf-8")
        v1 = hmac.new(key, body, hashlib.sha1).hexdigest()
        v2 = hmac.new(key, body, hashlib.sha256).hexdigest()
        sent_v1 = headers.get("agora-signature", "")
        sent_v2 = headers.get("agora-signature-v2", "")
        return hmac.compare_digest(v1, sent_v1) and hmac.compare_digest(v2, sent_v2)

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not self.verified(body, headers):
            self.forged += 1
            return JSONResponse({"error": "bad signature"}, status_code=401)
        if self.mode == "hang":
            self.hanging += 1
            try:
                while self.mode == "hang" and not self._stopping:
                    await self._mode_changed.wait()
            finally:
                self.hanging -= 1
            if await request.is_disconnected():  # the sender gave up: nothing arrived
                return Response(status_code=499)
        if self.mode == "error":
            return JSONResponse({"error": "down for a test"}, status_code=503)
        self.arrivals.append(Arrival(body, headers, time.monotonic()))
        return JSONResponse({"ok": True})

    async def start(self) -> None:
        app = Starlette(routes=[Route(self.path, self._hook, methods=["POST"])])
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = server = _QuietServer(config)
        self._task = task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the webhook receiver stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Close the port: from now on connections are refused."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        self._stopping = True
        self._mode_changed.set()  # let hanging requests finish
        await self._task
        self._server = self._task = None
        self._stopping = False


@contextlib.asynccontextmanager
async def webhook_receiver(secret: str) -> AsyncIterator[WebhookReceiver]:
    """A running :class:`WebhookReceiver`, stopped on exit."""
    receiver = WebhookReceiver(secret)
    await receiver.start()
    try:
        yield receiver
    finally:
        receiver.set_mode("ok")
        await receiver.stop()
