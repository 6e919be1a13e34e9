"""A recording session over a real durable uploader, fed by a stand-in recorder.

What storage reports reaches clients as the session's notices, so the storage tests
check them there. Everything but the media pipeline is real: the state store and the
slice ledger in SQLite, the durable uploader, the destination a test gives. The
stand-in recorder (:class:`SliceFeeder`) hands slices to the session's uploader through
the slice-sink interface, as the real recorder does, and reports the same events;
its slices are bytes, not media (storage never reads them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.config import RecordingConfig
from core.errors import CloudRecordingError, ErrorCode
from core.media.recorder import (
    RecorderEvent,
    RecorderStarted,
    RecorderStopped,
    SliceStored,
    SnapshotStored,
    StopReason,
    StoredSlice,
)
from core.media.slices import ClosedSlice, SliceSink
from core.notices import Status
from core.server.session import RecordingSession
from core.server.state import RecordingRow, StateStore
from core.storage.destination import Destination
from core.storage.ledger import SliceLedger
from core.storage.uploader import RETRY_DELAYS, DurableUploader

SID = "0123abcd"
CNAME = "chan"
PLAYLIST = f"{SID}_{CNAME}.m3u8"
PLAYLIST_KEY = f"rec/{PLAYLIST}"


class SliceFeeder:
    """The recorder's public face; slices are made on demand instead of encoded."""

    def __init__(self, sink: SliceSink, events: Callable[[RecorderEvent], None], work: Path):
        self.sink, self.emit, self.work = sink, events, work
        self.slices: list[StoredSlice] = []
        self.start_time: float | None = None
        self.users: list[int] = [7]
        self.render_lag = self.max_render_lag = 0.0
        self.dropped_frames = self.late_frames = 0
        self.audio_levels: dict[int, float] = {7: -12.0}
        self.stream_states: list[object] = []  # no live streams (rtmpPublishConfig)
        self.stopped = False

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.slices)

    @property
    def recorded_bytes(self) -> int:
        return sum(s.bytes for s in self.slices)

    async def start(self) -> None:
        self.start_time = time.time()
        self.emit(RecorderStarted(SID, self.start_time))

    async def record_slice(self, duration: float = 2.0) -> str:
        """One slice closes and is handed to the sink, as the recorder's storing task does;
        its name."""
        index = len(self.slices)
        self.work.mkdir(parents=True, exist_ok=True)
        path = self.work / f"{SID}_{CNAME}_{index:017d}.ts"
        path.write_bytes(b"\x47" * 188 * (10 + index))
        closed = ClosedSlice(index, path.name, path, 2.0 * index, duration, path.stat().st_size)
        key = await self.sink.add_slice(closed)
        stored = StoredSlice(closed.name, key, closed.size, closed.duration, closed.start)
        self.slices.append(stored)
        path.unlink()
        self.emit(SliceStored(stored, self.sink.playlist_key))
        return closed.name

    async def record_snapshot(self, time: float) -> str:
        """A snapshot of output ``time`` is handed to the sink beside the playlist, as the
        recorder's storing task does (bytes standing in for a JPEG); its name."""
        self.work.mkdir(parents=True, exist_ok=True)
        path = self.work / f"{SID}_{CNAME}_{20260101000000000 + round(time * 1000):017d}.jpg"
        data = b"\xff\xd8\xff" + bytes(100 + round(time))
        path.write_bytes(data)
        closed = ClosedSlice(0, path.name, path, time, 0.0, len(data))
        key = await self.sink.add_file(closed)
        path.unlink()
        self.emit(SnapshotStored(path.name, key, len(data), time, data))
        return path.name

    async def stop(self) -> None:
        await self.end(StopReason.REQUESTED)

    async def end(self, reason: StopReason) -> None:
        if not self.stopped:
            self.stopped = True
            await self.sink.end()
            self.emit(RecorderStopped(reason, len(self.slices), self.duration))


class Harness:
    """A fresh recording's session writing through ``destination`` under ``rec/``."""

    def __init__(
        self,
        tmp_path: Path,
        destination: Destination,
        *,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        config: RecordingConfig | None = None,
        notices_timeout: float = 60,
    ) -> None:
        self.tmp_path = tmp_path
        self.notices_timeout = notices_timeout
        self.store = StateStore(tmp_path / "state.sqlite3")
        self.ledger = SliceLedger(self.store.path)
        self.uploaded: list[str] = []
        self.feeder: SliceFeeder | None = None
        row = RecordingRow(
            sid=SID,
            resource_id="rid",
            app_id="app",
            cname=CNAME,
            uid=99,
            status=int(Status.NOT_STARTED),
            recording_config={},
            storage_config={},
            playlist=PLAYLIST,
            folder="rec",
            created_at=time.time(),
            stopped_at=None,
            exit_reason=None,
            uploading_status="unknown",
        )
        self.store.add_recording(row)
        self.uploader = DurableUploader(
            destination,
            self.ledger,
            SID,
            PLAYLIST_KEY,
            tmp_path / "backup",
            target_duration=2.0,
            retry_delays=retry_delays,
        )
        self.session = RecordingSession(
            row,
            config or RecordingConfig(),  # progress every 60 s
            self.uploader,
            store=self.store,
            make_recorder=self._make_recorder,
            on_uploaded=self._on_uploaded,
        )

    def _make_recorder(
        self, sink: SliceSink, events: Callable[[RecorderEvent], None]
    ) -> SliceFeeder:
        self.feeder = SliceFeeder(sink, events, self.tmp_path / "work")
        return self.feeder

    async def _on_uploaded(self, sid: str) -> None:
        self.uploaded.append(sid)

    @property
    def fake(self) -> SliceFeeder:
        assert self.feeder is not None
        return self.feeder

    def logged(self) -> list[dict[str, Any]]:
        """Every notice stored so far, in order."""
        return self.store.notices(SID, 0)

    async def notices(self) -> list[dict[str, Any]]:
        """Every notice, read as the event stream reads them (ends when the session does)."""
        async with asyncio.timeout(self.notices_timeout):
            return [n async for n in self.session.notices(-1)]

    async def start_fails(self) -> tuple[CloudRecordingError, list[dict[str, Any]]]:
        """Starts the session, which must fail with ``UPLOADER_INIT`` before a recorder is
        built and end with the notices of a failed start; the error and the notices."""
        with pytest.raises(CloudRecordingError) as info:
            await self.session.start()
        assert info.value.code is ErrorCode.UPLOADER_INIT
        assert self.feeder is None  # no recorder was built
        notices = await self.notices()
        assert names(notices) == [
            "cloud_recording_status_update",
            "cloud_recording_error",
            "cloud_recording_status_update",
            "session_exit",
        ]
        return info.value, notices

    def row(self) -> RecordingRow:
        row = self.store.recording(SID)
        assert row is not None
        return row

    async def close(self) -> None:
        await self.session.close()
        self.ledger.close()
        self.store.close()


def names(notices: list[dict[str, Any]]) -> list[str]:
    """``msgName`` of each notice."""
    return [n["payload"]["details"]["msgName"] for n in notices]


def details(notices: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """``details`` of each notice called ``name``."""
    return [n["payload"]["details"] for n in notices if n["payload"]["details"]["msgName"] == name]
