"""The recording service: recordings started through the REST API, their notices.

Each recording is a :class:`RecordingSession`: a :class:`~core.media.recorder.Recorder`
plus the log of its notices (Agora webhook shapes, :mod:`core.notices`). Notices are
written to SQLite before anyone can read them; readers of the event stream wait on
the session's condition and replay from any sequence number.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.channel.registry import ChannelRegistry
from core.config import CloudStorageConfig, RecordingConfig
from core.errors import CloudRecordingError, ErrorCode, InvalidOperationError
from core.media.playlist import playlist_name
from core.media.recorder import (
    IdleExit,
    Recorder,
    RecorderEvent,
    RecorderFailure,
    RecorderStarted,
    RecorderStopped,
    SliceStored,
    StopReason,
)
from core.notices import MODULE_RECORDER, MODULE_UPLOADER, EventType, Status, make_notice
from core.server.state import RecordingRow, StateStore
from core.storage.destination import Destination, StorageError
from core.storage.factory import make_destination
from core.wire import to_wire

logger = logging.getLogger(__name__)

RESOURCE_LIFETIME = 300.0
"""Seconds an acquired resource ID may wait for ``start`` (Agora: 5 minutes)."""

STOP_TIMEOUT = 30.0
"""Seconds ``stop`` waits for the last slice and the playlist to be stored."""

UPLOADER_FAILURE_CODES = {ErrorCode.UPLOADER_INIT, ErrorCode.UPLOADER_FAILED, ErrorCode.BACKUP_FAILED}


class NotFoundError(CloudRecordingError):
    """No such resource or recording (Agora answers 404)."""

    default_code = ErrorCode.INVALID_OPERATION


class ConflictError(CloudRecordingError):
    """The uid is already recording or present in the channel (409)."""

    default_code = ErrorCode.INVALID_OPERATION


@dataclass
class Resource:
    """An acquired resource ID, waiting for ``start``."""

    resource_id: str
    app_id: str
    cname: str
    uid: int
    expires: float
    sid: str | None = None


def _public_config(config: RecordingConfig | CloudStorageConfig) -> dict[str, Any]:
    """The wire form without secrets, for storage and display."""
    body = to_wire(config)
    for secret in ("secret", "accessKey", "secretKey"):
        body.pop(secret, None)
    return body


class RecordingSession:
    """One recording and its notice log."""

    def __init__(
        self,
        service: RecordingService,
        row: RecordingRow,
        config: RecordingConfig,
        destination: Destination,
    ) -> None:
        self.service = service
        self.row = row
        self.config = config
        self.destination = destination
        self.status = Status(row.status)
        self.uploading_status = row.uploading_status
        self._changed = asyncio.Condition()
        self._sequence = service.store.last_sequence(row.sid)
        self._progress_task: asyncio.Task[None] | None = None
        self._finished = asyncio.Event()
        self.recorder: Recorder | None = None
        if self.status in (Status.STOPPED, Status.EXITED_ABNORMALLY):
            self._finished.set()

    @property
    def sid(self) -> str:
        return self.row.sid

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    async def notify(self, event_type: EventType, **details: Any) -> None:
        """Append a notice: stored first, then readers are woken."""
        self._sequence += 1
        notice = make_notice(
            event_type, sid=self.sid, cname=self.row.cname, uid=self.row.uid,
            sequence=self._sequence, details=details,
        )  # fmt: skip
        self.service.store.add_notice(self.sid, self._sequence, notice)
        async with self._changed:
            self._changed.notify_all()

    async def _set_status(self, status: Status, **fields: Any) -> None:
        self.status = status
        self.service.store.update_recording(self.sid, status=int(status), **fields)
        await self.notify(EventType.STATUS_UPDATE, status=int(status))

    async def notices(self, after: int) -> AsyncIterator[dict[str, Any]]:
        """Every notice after ``after``, then new ones as they come, until the session ends."""
        while True:
            for notice in self.service.store.notices(self.sid, after):
                after = int(notice["payload"]["sequence"])
                yield notice
            if self.finished and after >= self._sequence:
                return
            async with self._changed:
                if after >= self._sequence and not self.finished:
                    await self._changed.wait()

    async def start(self) -> None:
        """Check the destination, join the channel and start recording."""
        await self._set_status(Status.INITIALIZING)
        try:
            await self.destination.check()
        except StorageError as exc:
            await self._fail_start(ErrorCode.UPLOADER_INIT, exc.message)
            raise CloudRecordingError(exc.message, ErrorCode.UPLOADER_INIT) from None
        await self.notify(EventType.UPLOADER_STARTED, status=0)
        work_dir = self.service.work_root / self.sid
        self.recorder = Recorder(
            self.service.channels, self.row.app_id, self.row.cname, self.row.uid, self.sid,
            self.config, self.destination, work_dir,
            events=self._on_recorder_event, key_prefix=self.row.folder,
        )  # fmt: skip
        try:
            await self.recorder.start()
        except CloudRecordingError as exc:
            await self._fail_start(exc.code, exc.message)
            raise
        self._progress_task = asyncio.create_task(self._report_progress())

    async def _fail_start(self, code: ErrorCode, message: str) -> None:
        module = MODULE_UPLOADER if code in UPLOADER_FAILURE_CODES else MODULE_RECORDER
        await self.notify(EventType.ERROR, module=module, errorCode=int(code), errorMsg=message, fatal=True)
        await self._finish(Status.EXITED_ABNORMALLY, message, "unknown")

    def _on_recorder_event(self, event: RecorderEvent) -> None:
        # Called on the loop by the recorder; notices are stored in order by one task chain.
        self.service.spawn(self._handle(event))

    async def _handle(self, event: RecorderEvent) -> None:
        async with self.service.ordering(self.sid):
            if isinstance(event, RecorderStarted):
                await self._set_status(Status.RECORDING)
                await self.notify(EventType.RECORDER_STARTED, status=0, startTime=event.start_time)
            elif isinstance(event, SliceStored):
                await self.notify(
                    EventType.RECORDER_SLICE_START, fileName=event.slice.name,
                    bytes=event.slice.bytes, duration=event.slice.duration,
                    playlist=event.playlist_key,
                )  # fmt: skip
            elif isinstance(event, IdleExit):
                await self.notify(
                    EventType.ERROR, module=MODULE_RECORDER, errorCode=int(ErrorCode.NO_USERS),
                    errorMsg=f"no user in the channel for {event.idle_seconds:.0f} s: "
                    "the recording stops by itself", fatal=False,
                )  # fmt: skip
            elif isinstance(event, RecorderFailure):
                module = MODULE_UPLOADER if event.code in UPLOADER_FAILURE_CODES else MODULE_RECORDER
                await self.notify(
                    EventType.ERROR, module=module, errorCode=int(event.code),
                    errorMsg=event.message, fatal=False,
                )  # fmt: skip
            elif isinstance(event, RecorderStopped):
                await self._recorder_stopped(event)

    async def _recorder_stopped(self, event: RecorderStopped) -> None:
        if self._progress_task is not None:
            self._progress_task.cancel()
        abnormal = event.reason is StopReason.FAILED
        await self.notify(
            EventType.RECORDER_LEAVE, leaveCode=0 if not abnormal else 1,
            reason=str(event.reason), slices=event.slices, duration=event.duration,
        )  # fmt: skip
        if event.slices == 0:
            await self.notify(
                EventType.ERROR, module=MODULE_RECORDER, errorCode=int(ErrorCode.NO_RECORDED_DATA),
                errorMsg="the recording produced no data", fatal=False,
            )  # fmt: skip
        await self.notify(
            EventType.UPLOADING_PROGRESS, progress=self._progress_ten_thousandths(),
            playlist=self.row.playlist,
        )  # fmt: skip
        await self.notify(EventType.FILE_INFOS, fileList=self._file_list())
        await self.notify(EventType.UPLOADED, status=0, fileName=self.row.playlist)
        await self._finish(Status.EXITED_ABNORMALLY if abnormal else Status.STOPPED, str(event.reason), "uploaded")

    async def _finish(self, status: Status, reason: str, uploading_status: str) -> None:
        self.uploading_status = uploading_status
        await self._set_status(status, stopped_at=time.time(), exit_reason=reason, uploading_status=uploading_status)
        await self.notify(EventType.SESSION_EXIT, exitStatus=0 if status is Status.STOPPED else 1)
        self._finished.set()
        async with self._changed:
            self._changed.notify_all()
        await self.destination.aclose()

    def _file_list(self) -> list[dict[str, Any]]:
        if self.recorder is None:
            return []
        return [
            {"fileName": s.name, "bytes": s.bytes, "duration": s.duration, "sliceStart": s.start}
            for s in self.recorder.slices
        ]

    def _progress_ten_thousandths(self) -> int:
        # Every slice the recorder lists is stored, so what is recorded is what is uploaded;
        # the uploader with backup (core/storage) reports partial progress here.
        return 10_000 if self.recorder is None or self.recorder.slices else 0

    async def _report_progress(self) -> None:
        interval = self.config.progress_interval
        while True:
            await asyncio.sleep(interval)
            await self.notify(
                EventType.UPLOADING_PROGRESS, progress=self._progress_ten_thousandths(),
                playlist=self.row.playlist,
            )  # fmt: skip

    async def stop(self) -> None:
        """Stop recording; returns once the last slice and the playlist are stored."""
        if self.finished:
            return
        if self.recorder is None:
            raise InvalidOperationError("the recording has not started")
        self.status = Status.STOP_RECEIVED
        await self.recorder.stop()
        try:
            await asyncio.wait_for(self._finished.wait(), STOP_TIMEOUT)
        except TimeoutError:
            logger.warning("recording %s did not finish within %.0f s", self.sid, STOP_TIMEOUT)

    def query_body(self) -> dict[str, Any]:
        recorder = self.recorder
        body: dict[str, Any] = {
            "status": int(self.status),
            "fileListMode": "string",
            "fileList": self.row.playlist,
            "sliceStartTime": int((recorder.start_time or 0) * 1000) if recorder else 0,
            # cloudrec extensions, for progress displays
            "extensionServiceState": {
                "duration": recorder.duration if recorder else 0.0,
                "bytes": recorder.recorded_bytes if recorder else 0,
                "slices": len(recorder.slices) if recorder else 0,
                "users": recorder.users if recorder else [],
                "uploadingStatus": self.uploading_status,
                "lastSequence": self._sequence,
            },
        }
        return body


class RecordingService:
    """Every recording of this server process."""

    def __init__(self, channels: ChannelRegistry, store: StateStore, data_dir: Path) -> None:
        self.channels = channels
        self.store = store
        self.data_dir = data_dir
        self.work_root = data_dir / "work"
        self.default_folder = data_dir / "recordings"
        self._resources: dict[str, Resource] = {}
        self._sessions: dict[str, RecordingSession] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def ordering(self, sid: str) -> asyncio.Lock:
        return self._locks.setdefault(sid, asyncio.Lock())

    def acquire(self, app_id: str, cname: str, uid: int) -> Resource:
        now = time.monotonic()
        for rid in [r for r, res in self._resources.items() if res.expires < now and res.sid is None]:
            del self._resources[rid]
        resource = Resource(secrets.token_urlsafe(48), app_id, cname, uid, now + RESOURCE_LIFETIME)
        self._resources[resource.resource_id] = resource
        return resource

    def resource(self, app_id: str, resource_id: str, cname: str, uid: int) -> Resource:
        resource = self._resources.get(resource_id)
        if resource is None or resource.app_id != app_id or resource.expires < time.monotonic():
            raise NotFoundError("unknown or expired resourceId: call acquire again")
        if resource.cname != cname or resource.uid != uid:
            raise CloudRecordingError(
                "cname and uid must match those of the acquire request", ErrorCode.INVALID_PARAMETER
            )
        return resource

    async def start(
        self, resource: Resource, recording: RecordingConfig, storage: CloudStorageConfig
    ) -> RecordingSession:
        if resource.sid is not None:
            raise ConflictError("this resourceId already started a recording: acquire a new one")
        for session in self._sessions.values():
            row = session.row
            if (row.app_id, row.cname, row.uid) == (resource.app_id, resource.cname, resource.uid) and not session.finished:
                raise ConflictError(
                    f"uid {resource.uid} is already recording channel {resource.cname!r} (sid {row.sid})"
                )
        sid = uuid.uuid4().hex
        resource.sid = sid
        destination, folder = make_destination(storage, self.default_folder)
        row = RecordingRow(
            sid=sid, resource_id=resource.resource_id, app_id=resource.app_id,
            cname=resource.cname, uid=resource.uid, status=int(Status.NOT_STARTED),
            recording_config=_public_config(recording), storage_config=_public_config(storage),
            playlist=playlist_name(sid, resource.cname), folder=folder,
            created_at=time.time(), stopped_at=None, exit_reason=None, uploading_status="unknown",
        )  # fmt: skip
        self.store.add_recording(row)
        session = RecordingSession(self, row, recording, destination)
        self._sessions[sid] = session
        await session.start()
        return session

    def session(self, app_id: str, resource_id: str, sid: str) -> RecordingSession:
        session = self._sessions.get(sid)
        if session is None or session.row.app_id != app_id or session.row.resource_id != resource_id:
            raise NotFoundError(f"no recording with sid {sid!r} for this resourceId")
        return session

    def sessions(self) -> list[RecordingSession]:
        return list(self._sessions.values())

    async def close(self) -> None:
        """Stop every running recording (server shutdown)."""
        running = [s for s in self._sessions.values() if not s.finished and s.recorder is not None]
        await asyncio.gather(*(s.stop() for s in running), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
