"""The notice log of one recording: Agora-shaped notices, stored before anyone reads them.

Every notice (:mod:`core.notices`) gets the next sequence number of its recording and
is written to SQLite (:class:`~core.server.state.StateStore`) before readers are
woken, so a client that reconnects, or reads after a server restart, replays exactly
what was sent. :meth:`NoticeLog.read` is what the REST event stream serves.

When the database cannot be written (a full disk, an I/O error) a notice is kept in
memory, served to readers all the same, and written with the next notice once the
database works again; :attr:`NoticeLog.on_fault` hears of the first such fault (the
session ends the recording: what is not stored would not survive a restart).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from core.database import DatabaseError
from core.errors import ErrorCode
from core.notices import (
    ERROR_LEVEL_FATAL,
    ERROR_LEVEL_MEDIUM,
    MODULE_RECORDER,
    MODULE_UPLOADER,
    EventType,
    make_notice,
)
from core.server.state import StateStore

logger = logging.getLogger(__name__)

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
        self._unsaved: list[tuple[int, dict[str, Any]]] = []
        self.fault: DatabaseError | None = None
        """The database fault that keeps notices unsaved (None while they are all stored)."""
        self.on_fault: Callable[[DatabaseError], None] | None = None
        """Called once with the first fault that keeps a notice from the database."""
        self._changed = asyncio.Condition()
        self._closed = asyncio.Event()
        if closed:
            self._closed.set()

    @property
    def unsaved(self) -> int:
        """Notices served from memory only, waiting for the database to work again."""
        return len(self._unsaved)

    @property
    def last_sequence(self) -> int:
        """Sequence number of the newest notice (-1 when there is none: they count from 0)."""
        return self._sequence

    @property
    def closed(self) -> bool:
        """True once nothing more will be appended: readers end after the last notice."""
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        """Wait until the log is closed."""
        await self._closed.wait()

    async def append(self, event_type: EventType, **details: Any) -> None:
        """Append a notice: stored first (or kept in memory while the database fails,
        see the module docstring), then readers are woken."""
        self._sequence += 1
        notice = make_notice(
            event_type,
            sid=self.sid,
            cname=self.cname,
            uid=self.uid,
            sequence=self._sequence,
            details=details,
        )
        self._unsaved.append((self._sequence, notice))
        self.save()
        async with self._changed:
            self._changed.notify_all()

    def save(self) -> bool:
        """Write the notices kept in memory, in order; True once none is left."""
        while self._unsaved:
            sequence, notice = self._unsaved[0]
            try:
                self._store.add_notice(self.sid, sequence, notice)
            except DatabaseError as exc:
                first = self.fault is None
                self.fault = exc
                if first:
                    logger.error("recording %s: notices kept in memory only: %s", self.sid, exc)
                    if self.on_fault is not None:
                        self.on_fault(exc)
                return False
            del self._unsaved[0]
        if self.fault is not None:
            logger.warning("recording %s: notices are stored again", self.sid)
            self.fault = None
        return True

    async def error(self, code: ErrorCode, message: str, *, fatal: bool = False) -> None:
        """Append an error notice (``cloud_recording_error``); its module follows ``code``.
        A fatal one (the recording could not start) has ``errorLevel`` 5 and ``stat`` 1."""
        await self.append(
            EventType.ERROR,
            module=error_module(code),
            errorLevel=ERROR_LEVEL_FATAL if fatal else ERROR_LEVEL_MEDIUM,
            errorCode=int(code),
            stat=1 if fatal else 0,
            errorMsg=message,
        )

    async def close(self) -> None:
        """Mark the end of the log and let every reader finish (a last try to store what
        is kept in memory)."""
        self.save()
        self._closed.set()
        async with self._changed:
            self._changed.notify_all()

    async def read(self, after: int) -> AsyncIterator[dict[str, Any]]:
        """Every notice after sequence ``after``, then new ones as they come, until closed."""
        while True:
            for notice in self._store.notices(self.sid, after):
                after = int(notice["payload"]["sequence"])
                yield notice
            for sequence, notice in list(self._unsaved):
                if sequence > after:
                    after = sequence
                    yield notice
            if self.closed and after >= self._sequence:
                return
            async with self._changed:
                if after >= self._sequence and not self.closed:
                    await self._changed.wait()
