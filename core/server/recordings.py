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
from core.storage.credentials import CredentialVault
from core.storage.destination import StorageError
from core.storage.factory import make_destination
from core.storage.ledger import SliceLedger
from core.storage.uploader import (
    AllUploaded,
    BackedUp,
    DurableUploader,
    UploadEvent,
    UploadFailed,
    UploadRecovered,
)
from core.wire import storage_config_from_wire, to_wire

logger = logging.getLogger(__name__)

CHECK_TIMEOUT = 5.0
"""Seconds the destination check at start may take (a wrong bucket fails fast)."""

RESOURCE_LIFETIME = 300.0
"""Seconds an acquired resource ID may wait for ``start`` (Agora: 5 minutes)."""

STOP_TIMEOUT = 30.0
"""Seconds ``stop`` waits for the last slice and the playlist to be stored or backed up."""

SETTLE_GRACE = 5.0
"""Seconds after the recorder stops that uploads may take before the end is reported as
backed up (the uploads go on; ``uploaded`` follows once they are done)."""

UPLOADER_FAILURE_CODES = {
    ErrorCode.UPLOADER_INIT,
    ErrorCode.UPLOADER_FAILED,
    ErrorCode.BACKUP_FAILED,
}


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
        uploader: DurableUploader | None,
    ) -> None:
        self.service = service
        self.row = row
        self.config = config
        self.uploader = uploader
        if uploader is not None:
            uploader._listener = self._on_upload_event
        self.status = Status(row.status)
        self.uploading_status = row.uploading_status
        self._changed = asyncio.Condition()
        self._sequence = service.store.last_sequence(row.sid)
        self._progress_task: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()  # recorder stopped, uploads done or backed up
        self._finished = asyncio.Event()  # nothing more will happen: the stream ends
        self._recorder_stopped_event = asyncio.Event()
        self.recorder: Recorder | None = None
        if row.uploading_status == "uploaded" or (uploader is None and row.stopped_at is not None):
            self._settled.set()
            self._finished.set()

    @property
    def sid(self) -> str:
        return self.row.sid

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    async def wait_finished(self) -> None:
        """Wait until nothing more will happen to this recording (uploads done)."""
        await self._finished.wait()

    @property
    def settled(self) -> bool:
        return self._settled.is_set()

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
        assert self.uploader is not None
        try:
            await asyncio.wait_for(self.uploader.check(), CHECK_TIMEOUT)
        except (StorageError, TimeoutError) as exc:
            message = (
                exc.message
                if isinstance(exc, StorageError)
                else (f"{self.uploader.description} did not answer within {CHECK_TIMEOUT:.0f} s")
            )
            await self._fail_start(ErrorCode.UPLOADER_INIT, message)
            raise CloudRecordingError(message, ErrorCode.UPLOADER_INIT) from None
        await self.notify(EventType.UPLOADER_STARTED, status=0)
        work_dir = self.service.work_root / self.sid
        self.recorder = Recorder(
            self.service.channels, self.row.app_id, self.row.cname, self.row.uid, self.sid,
            self.config, self.uploader, work_dir,
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
        await self.notify(
            EventType.ERROR, module=module, errorCode=int(code), errorMsg=message, fatal=True
        )
        await self._settle(Status.EXITED_ABNORMALLY, message, "unknown", final=True)

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
                module = (
                    MODULE_UPLOADER if event.code in UPLOADER_FAILURE_CODES else MODULE_RECORDER
                )
                await self.notify(
                    EventType.ERROR, module=module, errorCode=int(event.code),
                    errorMsg=event.message, fatal=False,
                )  # fmt: skip
            elif isinstance(event, RecorderStopped):
                await self._recorder_stopped(event)

    async def _recorder_stopped(self, event: RecorderStopped) -> None:
        if self._progress_task is not None:
            self._progress_task.cancel()
        self._abnormal = event.reason is StopReason.FAILED
        self._exit_reason = str(event.reason)
        await self.notify(
            EventType.RECORDER_LEAVE, leaveCode=1 if self._abnormal else 0,
            reason=str(event.reason), slices=event.slices, duration=event.duration,
        )  # fmt: skip
        if event.slices == 0:
            await self.notify(
                EventType.ERROR, module=MODULE_RECORDER, errorCode=int(ErrorCode.NO_RECORDED_DATA),
                errorMsg="the recording produced no data", fatal=False,
            )  # fmt: skip
        self._recorder_stopped_event.set()
        self.service.spawn(self._settle_after_grace())

    async def _settle_after_grace(self) -> None:
        """If uploads are not done soon after the end, report the slices in the backup."""
        assert self.uploader is not None
        if not await self.uploader.wait_done(SETTLE_GRACE):
            await self._on_backed_up(self.uploader.pending)

    def _on_upload_event(self, event: UploadEvent) -> None:
        self.service.spawn(self._handle_upload(event))

    async def _handle_upload(self, event: UploadEvent) -> None:
        async with self.service.ordering(self.sid):
            if isinstance(event, UploadFailed):
                await self.notify(
                    EventType.ERROR, module=MODULE_UPLOADER, errorCode=int(ErrorCode.UPLOADER_FAILED),
                    errorMsg=f"{event.message}; slices are kept in the local backup and retried",
                    fatal=False,
                )  # fmt: skip
            elif isinstance(event, UploadRecovered):
                await self.notify(
                    EventType.WARNING, module=MODULE_UPLOADER, warnMsg="uploads work again"
                )
            elif isinstance(event, BackedUp):
                if self._recorder_stopped_event.is_set():
                    await self._on_backed_up(event.pending)
            elif isinstance(event, AllUploaded):
                await self._on_all_uploaded()

    async def _on_backed_up(self, pending: int) -> None:
        if self.settled:
            return
        await self._announce_files()
        await self.notify(EventType.BACKUPED, status=1, fileName=self.row.playlist, pending=pending)
        await self._settle(self._end_status(), self._exit_reason, "backuped", final=False)

    async def _on_all_uploaded(self) -> None:
        if self._finished.is_set():
            return
        if not self.settled:
            await self._announce_files()
        await self.notify(
            EventType.UPLOADED, status=0, fileName=self.row.playlist, final=self.settled
        )
        if not self.settled:
            await self._settle(self._end_status(), self._exit_reason, "uploaded", final=True)
        else:
            self.uploading_status = "uploaded"
            self.service.store.update_recording(self.sid, uploading_status="uploaded")
            await self._close_stream()
        await self.service.vault.forget(self.sid)

    async def _announce_files(self) -> None:
        await self.notify(
            EventType.UPLOADING_PROGRESS, progress=self._progress_ten_thousandths(),
            playlist=self.row.playlist,
        )  # fmt: skip
        await self.notify(EventType.FILE_INFOS, fileList=self._file_list())

    def _end_status(self) -> Status:
        return Status.EXITED_ABNORMALLY if getattr(self, "_abnormal", False) else Status.STOPPED

    async def _settle(
        self, status: Status, reason: str, uploading_status: str, *, final: bool
    ) -> None:
        self.uploading_status = uploading_status
        await self._set_status(
            status, stopped_at=time.time(), exit_reason=reason, uploading_status=uploading_status
        )
        await self.notify(
            EventType.SESSION_EXIT, exitStatus=0 if status is Status.STOPPED else 1, final=final
        )
        self._settled.set()
        if final:
            await self._close_stream()

    async def _close_stream(self) -> None:
        self._finished.set()
        async with self._changed:
            self._changed.notify_all()
        if self.uploader is not None:
            await self.uploader.aclose()

    def _file_list(self) -> list[dict[str, Any]]:
        if self.uploader is None:
            return []
        return [
            {"fileName": r.name, "bytes": r.bytes, "duration": r.duration, "uploaded": r.uploaded}
            for r in self.uploader.ledger.slices(self.sid)
        ]

    def _progress_ten_thousandths(self) -> int:
        """Stored bytes per recorded bytes, in 1/10000 (Agora's unit)."""
        if self.uploader is None:
            return 0
        stored, recorded = self.uploader.progress()
        return 10_000 * stored // recorded if recorded else 0

    async def _report_progress(self) -> None:
        interval = self.config.progress_interval
        while True:
            await asyncio.sleep(interval)
            await self.notify(
                EventType.UPLOADING_PROGRESS, progress=self._progress_ten_thousandths(),
                playlist=self.row.playlist,
            )  # fmt: skip

    async def stop(self) -> None:
        """Stop recording; returns once the last slice and the playlist are stored or backed up."""
        if self.settled:
            return
        if self.recorder is None:
            raise InvalidOperationError("the recording has not started")
        self.status = Status.STOP_RECEIVED
        await self.recorder.stop()
        try:
            await asyncio.wait_for(self._settled.wait(), STOP_TIMEOUT)
        except TimeoutError:
            logger.warning("recording %s did not settle within %.0f s", self.sid, STOP_TIMEOUT)

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
                "renderLag": round(recorder.render_lag, 3) if recorder else 0.0,
                "maxRenderLag": round(recorder.max_render_lag, 3) if recorder else 0.0,
                "droppedFrames": recorder.dropped_frames if recorder else 0,
                "lateFrames": recorder.late_frames if recorder else 0,
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
        self.ledger = SliceLedger(store.path)
        self.vault = CredentialVault()
        self.exit_when_done = False

    def spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def ordering(self, sid: str) -> asyncio.Lock:
        return self._locks.setdefault(sid, asyncio.Lock())

    def acquire(self, app_id: str, cname: str, uid: int) -> Resource:
        now = time.monotonic()
        for rid in [
            r for r, res in self._resources.items() if res.expires < now and res.sid is None
        ]:
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
            if (row.app_id, row.cname, row.uid) == (
                resource.app_id,
                resource.cname,
                resource.uid,
            ) and not session.finished:
                raise ConflictError(
                    f"uid {resource.uid} is already recording channel {resource.cname!r} (sid {row.sid})"
                )
        sid = uuid.uuid4().hex
        resource.sid = sid
        destination, folder = make_destination(storage, self.default_folder)
        if storage.vendor.is_cloud:
            await self.vault.keep(
                sid, storage.access_key.get_secret_value(), storage.secret_key.get_secret_value()
            )
        row = RecordingRow(
            sid=sid, resource_id=resource.resource_id, app_id=resource.app_id,
            cname=resource.cname, uid=resource.uid, status=int(Status.NOT_STARTED),
            recording_config=_public_config(recording), storage_config=_public_config(storage),
            playlist=playlist_name(sid, resource.cname), folder=folder,
            created_at=time.time(), stopped_at=None, exit_reason=None, uploading_status="unknown",
        )  # fmt: skip
        self.store.add_recording(row)
        uploader = self._uploader(row, destination, recording.slice_duration)
        session = RecordingSession(self, row, recording, uploader)
        self._sessions[sid] = session
        await session.start()
        return session

    def _uploader(
        self, row: RecordingRow, destination: Any, slice_duration: float
    ) -> DurableUploader:
        key = f"{row.folder}/{row.playlist}" if row.folder else row.playlist
        return DurableUploader(
            destination, self.ledger, row.sid, key, self.data_dir / "backup" / row.sid,
            target_duration=slice_duration,
        )  # fmt: skip

    async def resume(self) -> None:
        """After a restart: end what was recording, and finish every unfinished upload."""
        unfinished = {u.sid for u in self.ledger.unfinished()}
        for row in self.store.recordings():
            if row.sid not in unfinished and row.stopped_at is not None:
                self._sessions[row.sid] = RecordingSession(self, row, RecordingConfig(), None)
                continue
            await self._resume(row)

    async def _resume(self, row: RecordingRow) -> None:
        storage_body = dict(row.storage_config)
        credentials = await self.vault.recall(row.sid)
        if credentials is not None:
            storage_body["accessKey"], storage_body["secretKey"] = credentials
        config = RecordingConfig()
        try:
            storage = storage_config_from_wire(storage_body)
            destination, _ = make_destination(storage, self.default_folder)
        except CloudRecordingError as exc:
            session = RecordingSession(self, row, config, None)
            self._sessions[row.sid] = session
            await session.notify(
                EventType.ERROR, module=MODULE_UPLOADER, errorCode=int(ErrorCode.UPLOADER_FAILED),
                errorMsg=f"after the restart the uploads cannot resume ({exc.message}); the slices "
                f"stay in {self.data_dir / 'backup' / row.sid}", fatal=False,
            )  # fmt: skip
            return
        uploader = self._uploader(row, destination, 4.0)
        session = RecordingSession(self, row, config, uploader)
        self._sessions[row.sid] = session
        if row.stopped_at is None:  # it was recording when the server went down
            self.ledger.mark_ended(row.sid)
            session._abnormal, session._exit_reason = True, "server restarted"
            await session.notify(
                EventType.RECORDER_LEAVE, leaveCode=1, reason="the server restarted while recording"
            )
            session._recorder_stopped_event.set()
            self.service_spawn_settle(session)
        uploader.start()

    def service_spawn_settle(self, session: RecordingSession) -> None:
        self.spawn(session._settle_after_grace())

    def session(self, app_id: str, resource_id: str, sid: str) -> RecordingSession:
        session = self._sessions.get(sid)
        if (
            session is None
            or session.row.app_id != app_id
            or session.row.resource_id != resource_id
        ):
            raise NotFoundError(f"no recording with sid {sid!r} for this resourceId")
        return session

    def sessions(self) -> list[RecordingSession]:
        return list(self._sessions.values())

    async def close(self) -> None:
        """Stop every running recording (server shutdown)."""
        running = [s for s in self._sessions.values() if not s.settled and s.recorder is not None]
        await asyncio.gather(*(s.stop() for s in running), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for session in self._sessions.values():
            if session.uploader is not None:
                await session.uploader.aclose()
        self.ledger.close()
