"""Turn a recording's notices into observer callbacks.

The reader follows the server's event stream (server-sent events, replayable from a
sequence number). When the connection drops it reports DISCONNECTED once, reconnects
with backoff, and asks for every notice after the last one it handled, so nothing is
missed and nothing is delivered twice. Against a service without the stream (Agora's
hosted one) the same notices are derived from polling ``query``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from httpx_sse import aconnect_sse

from core.errors import ErrorCode
from core.notices import MODULE_UPLOADER, EventType

logger = logging.getLogger(__name__)

Dispatch = Callable[[str, tuple[Any, ...]], Awaitable[None]]

RECONNECT_DELAYS = (0.5, 1.0, 2.0, 4.0)


class NoticeHandler:
    """Maps notices to observer calls, once each, in order."""

    def __init__(self, dispatch: Dispatch) -> None:
        self._dispatch = dispatch
        self.last_sequence = 0
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()
        self.exited = asyncio.Event()
        self.fatal: tuple[ErrorCode, str] | None = None

    async def handle(self, notice: dict[str, Any]) -> None:
        payload = notice.get("payload", {})
        sequence = int(payload.get("sequence", 0))
        if sequence <= self.last_sequence:
            return  # replayed after a reconnect: already handled
        self.last_sequence = sequence
        details = payload.get("details", {})
        kind = EventType(notice["eventType"]) if notice.get("eventType") in EventType._value2member_map_ else None
        if kind is EventType.RECORDER_STARTED and not self.started.is_set():
            self.started.set()
            await self._dispatch("on_recording_started", ())
        elif kind is EventType.UPLOADING_PROGRESS:
            percent = min(100, int(details.get("progress", 0)) // 100)
            await self._dispatch("on_recording_uploading_progress", (percent, details.get("playlist", "")))
        elif kind is EventType.ERROR:
            code = ErrorCode(details.get("errorCode", ErrorCode.GENERAL_ERROR))
            message = str(details.get("errorMsg", ""))
            if details.get("fatal"):
                self.fatal = (code, message)
                await self._dispatch("on_recording_fatal_error", (code,))
            elif details.get("module") == MODULE_UPLOADER:
                await self._dispatch("on_uploader_failure", (code, message))
            else:
                await self._dispatch("on_recorder_failure", (code, message))
        elif kind is EventType.RECORDER_LEAVE:
            await self.mark_stopped()
        elif kind is EventType.UPLOADED:
            await self._dispatch("on_recording_uploaded", (str(details.get("fileName", "")),))
        elif kind is EventType.BACKUPED:
            await self._dispatch("on_recording_backed_up", (str(details.get("fileName", "")),))
        elif kind is EventType.SESSION_EXIT:
            self.exited.set()

    async def mark_stopped(self) -> None:
        """Report ``on_recording_stopped`` once, whoever notices first."""
        if not self.stopped.is_set():
            self.stopped.set()
            await self._dispatch("on_recording_stopped", ())


async def follow_events(
    http: httpx.AsyncClient, path: str, handler: NoticeHandler, dispatch: Dispatch
) -> None:
    """Read the event stream at ``path`` until the recording's session exits."""
    failures = 0
    while not handler.exited.is_set():
        try:
            params = {"after": str(handler.last_sequence)}
            async with aconnect_sse(http, "GET", path, params=params, timeout=httpx.Timeout(30.0, connect=5.0)) as source:
                source.response.raise_for_status()
                if failures:
                    failures = 0
                async for event in source.aiter_sse():
                    if event.event == "notice" and event.data:
                        await handler.handle(json.loads(event.data))
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:
                return  # the server forgot the recording: nothing more will come
            failures += 1
        except (httpx.TransportError, httpx.StreamError):
            failures += 1
        if handler.exited.is_set():
            return
        if failures == 1:
            await dispatch(
                "on_recorder_failure",
                (ErrorCode.DISCONNECTED, "the connection to the recording server was lost; reconnecting"),
            )
        await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS)) - 1] if failures else 0.2)
