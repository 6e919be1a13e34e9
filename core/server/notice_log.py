"""The notice log of one recording: Agora-shaped notices, stored before anyone reads them.

Every notice (:mod:`core.notices`) gets the next sequence number of its recording and
is written to SQLite (:class:`~core.server.state.StateStore`) before readers are
woken, so a client that reconnects, or reads after a server restart, replays exactly
what was sent. :meth:`NoticeLog.read` is what the REST event stream serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from core.errors import ErrorCode
from core.notices import MODULE_RECORDER, MODULE_UPLOADER, EventType, make_notice
from core.server.state import StateStore

UPLOADER_FAILURE_CODES = frozenset(
    {ErrorCode.UPLOADER_INIT, ErrorCode.UPLOADER_FAILED, ErrorCode.BACKUP_FAILED}
)
"""Error codes reported as the uploader's (``module`` 1); every other code is the recorder's."""


def error_module(code: ErrorCode) -> int:
    """The ``module`` of an error notice with ``code`` (Agora: 0 recorder, 1 uploader)."""
    return MODULE_UPLOADER if code in UPLOADER_FAILURE_CODES else MODULE_RECORDER


class NoticeLog:
    """The append-only notices of recording ``sid``; readers follow it until it is closed."""

    def __init__(
        self, store: StateStore, sid: str, cname: str, uid: int, *, closed: bool = False
    ) -> None:
        self._store = store
        self.sid = sid
        self.cname = cname
        self.uid = uid
        self._sequence = store.last_sequence(sid)
        self._changed = asyncio.Condition()
        self._closed = asyncio.Event()
        if closed:
            self._closed.set()

    @property
    def last_sequence(self) -> int:
        """Sequence number of the newest notice (0 when there is none)."""
        return self._sequence

    @property
    def closed(self) -> bool:
        """True once nothing more will be appended: readers end after the last notice."""
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        """Wait until the log is closed."""
        await self._closed.wait()

    async def append(self, event_type: EventType, **details: Any) -> None:
        """Append a notice: stored first, then readers are woken."""
        self._sequence += 1
        notice = make_notice(
            event_type,
            sid=self.sid,
            cname=self.cname,
            uid=self.uid,
            sequence=self._sequence,
            details=details,
        )
        self._store.add_notice(self.sid, self._sequence, notice)
        async with self._changed:
            self._changed.notify_all()

    async def error(self, code: ErrorCode, message: str, *, fatal: bool = False) -> None:
        """Append an error notice (``cloud_recording_error``); its module follows ``code``."""
        await self.append(
            EventType.ERROR,
            module=error_module(code),
            errorCode=int(code),
            errorMsg=message,
            fatal=fatal,
        )

    async def close(self) -> None:
        """Mark the end of the log and let every reader finish."""
        self._closed.set()
        async with self._changed:
            self._changed.notify_all()

    async def read(self, after: int) -> AsyncIterator[dict[str, Any]]:
        """Every notice after sequence ``after``, then new ones as they come, until closed."""
        while True:
            for notice in self._store.notices(self.sid, after):
                after = int(notice["payload"]["sequence"])
                yield notice
            if self.closed and after >= self._sequence:
                return
            async with self._changed:
                if after >= self._sequence and not self.closed:
                    await self._changed.wait()
