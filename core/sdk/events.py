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

from core.errors import CloudRecordingError, ErrorCode
from core.notices import ERROR_LEVEL_FATAL, MODULE_UPLOADER, EventType

logger = logging.getLogger(__name__)

Dispatch = Callable[[str, tuple[Any, ...]], Awaitable[None]]

RECONNECT_DELAYS = (0.5, 1.0, 2.0, 4.0)


class NoticeHandler:
    """Maps notices to observer calls, once each, in order."""

    def __init__(self, dispatch: Dispatch) -> None:
        self._dispatch = dispatch
        self.last_sequence = -1  # notices count from 0
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()
        self.exited = asyncio.Event()
        self.done = asyncio.Event()  # the server will send nothing more
        self.fatal: tuple[ErrorCode, str] | None = None

    async def handle(self, notice: dict[str, Any]) -> None:
        payload = notice.get("payload", {})
        sequence = int(payload.get("sequence", 0))
        if sequence <= self.last_sequence:
            return  # replayed after a reconnect: already handled
        self.last_sequence = sequence
        details = payload.get("details", {})
        kind = (
            EventType(notice["eventType"])
            if notice.get("eventType") in EventType._value2member_map_
            else None
        )
        if kind is EventType.RECORDER_STARTED and not self.started.is_set():
            self.started.set()
            await self._dispatch("on_recording_started", ())
        elif kind is EventType.UPLOADING_PROGRESS:
            percent = min(100, int(details.get("progress", 0)) // 100)
            await self._dispatch(
                "on_recording_uploading_progress", (percent, details.get("playlist", ""))
            )
        elif kind is EventType.ERROR:
            code = ErrorCode(details.get("errorCode", ErrorCode.GENERAL_ERROR))
            message = str(details.get("errorMsg", ""))
            if details.get("errorLevel") == ERROR_LEVEL_FATAL:
                self.fatal = (code, message)
                await self._dispatch("on_recording_fatal_error", (code,))
            elif details.get("module") == MODULE_UPLOADER:
                await self._dispatch("on_uploader_failure", (code, message))
            else:
                await self._dispatch("on_recorder_failure", (code, message))
        elif kind is EventType.RECORDER_LEAVE:
            await self.mark_stopped()
        elif kind is EventType.UPLOADED:
            await self._dispatch("on_recording_uploaded", (_file_names(details),))
        elif kind is EventType.BACKUPED:
            await self._dispatch("on_recording_backed_up", (_file_names(details),))
        elif kind is EventType.RECORDER_SNAPSHOT_FILE:
            await self._dispatch("on_recording_snapshot", (str(details.get("fileName", "")),))
        elif kind is EventType.STREAM_STATE:
            await self._dispatch(
                "on_stream_state",
                (str(details.get("url", "")), str(details.get("state", "")),
                 str(details.get("error", ""))),
            )  # fmt: skip
        elif kind is EventType.SESSION_EXIT:
            self.exited.set()

    async def mark_stopped(self) -> None:
        """Report ``on_recording_stopped`` once, whoever notices first."""
        if not self.stopped.is_set():
            self.stopped.set()
            await self._dispatch("on_recording_stopped", ())


def _file_names(details: dict[str, Any]) -> str:
    """The recording's file of an uploaded/backuped notice (Agora's ``fileList``: a
    name, or a list of ``{fileName, ...}``): the mixed recording's playlist, which the
    seed's callbacks name (MP4 files beside it are listed in the notice and ``query``);
    a list without a playlist gives its names, comma-separated."""
    files = details.get("fileList")
    if isinstance(files, str):
        return files
    if isinstance(files, list):
        names = [str(f.get("fileName", "")) for f in files if isinstance(f, dict)]
        playlists = [n for n in names if n.endswith(".m3u8")]
        return ",".join(playlists or names)
    return ""


POLL_INTERVAL = 2.0
"""Seconds between two ``query`` calls when the service has no event stream."""


class NoEventStream(Exception):
    """The service answered 404 for the event stream: it has none (Agora's hosted one)."""


async def follow_events(
    http: httpx.AsyncClient, path: str, handler: NoticeHandler, dispatch: Dispatch
) -> None:
    """Read the event stream at ``path`` until the recording's session exits.

    Raises :class:`NoEventStream` if the service has no stream at all.
    """
    failures = 0
    received = False
    while not handler.done.is_set():
        try:
            params = {"after": str(handler.last_sequence)}
            async with aconnect_sse(
                http, "GET", path, params=params, timeout=httpx.Timeout(30.0, connect=5.0)
            ) as source:
                source.response.raise_for_status()
                if failures:
                    failures = 0
                async for event in source.aiter_sse():
                    if event.event == "notice" and event.data:
                        received = True
                        await handler.handle(json.loads(event.data))
                    elif event.event == "end":  # the recording ended: nothing more will
                        handler.done.set()  # come, and the server closes the stream now
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:
                if not received and handler.last_sequence < 0:
                    raise NoEventStream(path) from None
                return  # the server forgot the recording: nothing more will come
            failures += 1
        except (httpx.TransportError, httpx.StreamError):
            failures += 1
        if handler.done.is_set():
            return
        if failures == 1:
            await dispatch(
                "on_recorder_failure",
                (
                    ErrorCode.DISCONNECTED,
                    "the connection to the recording server was lost; reconnecting",
                ),
            )
        await asyncio.sleep(
            RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS)) - 1] if failures else 0.2
        )


class QueryPoller:
    """Derives the notices of a recording from ``query`` for services without a stream.

    Status 4/5 (started/recording) means the recorder started; a 404 or status 7, 8
    or 20 after that means it stopped. Upload results come from the ``stop`` response
    (``uploadingStatus``), which :meth:`stopped_with` turns into callbacks.
    """

    def __init__(self, handler: NoticeHandler, dispatch: Dispatch) -> None:
        self.handler = handler
        self.dispatch = dispatch
        self._sequence = 0

    async def _emit(self, event_type: EventType, **details: Any) -> None:
        self._sequence = self.handler.last_sequence + 1
        notice = {
            "eventType": int(event_type),
            "payload": {"sequence": self._sequence, "details": details},
        }
        await self.handler.handle(notice)

    async def poll(self, query: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        failures = 0
        while not self.handler.exited.is_set():
            try:
                status = int((await query()).get("serverResponse", {}).get("status", 0))
                failures = 0
            except CloudRecordingError as exc:
                if "HTTP 404" in exc.message and self.handler.started.is_set():
                    await self.handler.mark_stopped()
                    return
                failures += 1
                if failures == 1 and exc.code is ErrorCode.DISCONNECTED:
                    await self.dispatch("on_recorder_failure", (exc.code, exc.message))
                await asyncio.sleep(POLL_INTERVAL)
                continue
            if status in (4, 5) and not self.handler.started.is_set():
                await self._emit(EventType.RECORDER_STARTED)
            elif status in (7, 8, 20) and self.handler.started.is_set():
                await self._emit(EventType.RECORDER_LEAVE)
            await asyncio.sleep(POLL_INTERVAL)

    async def stopped_with(self, response: dict[str, Any]) -> None:
        """Report what the ``stop`` response says about the uploads."""
        server = response.get("serverResponse", {})
        files = server.get("fileList", "")  # a name or Agora's list: NoticeHandler reads both
        await self._emit(EventType.RECORDER_LEAVE)
        status = server.get("uploadingStatus")
        if status == "uploaded":
            await self._emit(EventType.UPLOADED, fileList=files)
        elif status == "backuped":
            await self._emit(EventType.BACKUPED, fileList=files)
        await self._emit(EventType.SESSION_EXIT)
        self.handler.done.set()
