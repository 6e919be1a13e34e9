"""One recording of the server: its recorder, its uploads and its notices.

A :class:`RecordingSession` turns what the recorder (:mod:`core.media.recorder`) and
the durable uploader (:mod:`core.storage.uploader`) report into notices in its
:class:`~core.server.notice_log.NoticeLog` and into the status that ``query`` answers.

Life cycle: ``start`` checks the destination and starts the recorder; the recording
ends by ``stop``, by the recorder itself (idle channel, failure) or, after a restart,
by :meth:`RecordingSession.resume_interrupted`. It then *settles*: once every slice is
uploaded (``uploaded``), or after :data:`SETTLE_GRACE` with slices still only in the
local backup (``backuped``; ``uploaded`` follows when they are up). The notice log is
closed when nothing more will happen.

Faults of the server's own disk: when the database cannot be written (a full disk, an
I/O error), the notices and the status are kept in memory and served as usual, the
recording ends at once with RECORDER_FAILED (437), since what is not stored would
not survive a restart, and every slice already kept goes on uploading; what was kept
in memory is written as soon as the database works again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from core.config import RecordingConfig
from core.database import DatabaseError
from core.enums import RecordingMode
from core.errors import CloudRecordingError, ErrorCode, InvalidOperationError
from core.media.playlist import start_of, track_of
from core.media.recorder import (
    IdleExit,
    Recorder,
    RecorderEvent,
    RecorderFailure,
    RecorderStarted,
    RecorderStopped,
    SliceStored,
    SnapshotStored,
    StopReason,
    StreamChanged,
)
from core.notices import (
    LEAVE_CLIENT,
    LEAVE_NO_USERS,
    LEAVE_SIGNAL,
    MODULE_RECORDER,
    MODULE_UPLOADER,
    RECORDER_SERVICE,
    WARN_LOW_DISK,
    WARN_UPLOADS_RECOVERED,
    EventType,
    Status,
    mixed_file,
    track_file,
    track_type,
)
from core.server.notice_log import NoticeLog
from core.server.state import RecordingRow, StateStore
from core.storage.destination import StorageError
from core.storage.uploader import (
    AllUploaded,
    BackedUp,
    DurableUploader,
    FileUploaded,
    SliceLost,
    UploadEvent,
    UploadFailed,
    UploadRecovered,
)

logger = logging.getLogger(__name__)

LEAVE_CODES = {
    StopReason.REQUESTED: LEAVE_CLIENT,
    StopReason.IDLE: LEAVE_NO_USERS,
    StopReason.FAILED: LEAVE_SIGNAL,
}
"""recorder_leave's ``leaveCode`` (Agora's bit mask) for each way a recording ends."""

CHECK_TIMEOUT = 5.0
"""Seconds the destination check at start may take (a wrong bucket fails fast)."""

STOP_TIMEOUT = 30.0
"""Seconds ``stop`` waits for the last slice and the playlist to be stored or backed up."""

SNAPSHOT_KIND = "jpg"
"""The upload ledger's kind of a snapshot (a whole file's suffix)."""

SETTLE_GRACE = 5.0
"""Seconds after the recorder stops that uploads may take before the end is reported as
backed up (the uploads go on; ``uploaded`` follows once they are done)."""

RecorderFactory = Callable[[DurableUploader, Callable[[RecorderEvent], None]], Recorder]
"""Builds the recorder of a session: given where its slices go and where its events go."""


class RecordingSession:
    """One recording and its notice log.

    ``make_recorder`` builds the recorder at :meth:`start`; ``on_uploaded`` is awaited
    with the sid once every file is in the destination (the server then forgets the
    recording's storage keys). A session without an uploader is one whose uploads
    cannot go on (finished, or unrecoverable after a restart).
    """

    def __init__(
        self,
        row: RecordingRow,
        config: RecordingConfig,
        uploader: DurableUploader | None,
        *,
        store: StateStore,
        make_recorder: RecorderFactory | None = None,
        on_uploaded: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.row = row
        self.config = config
        self.uploader = uploader
        self.recorder: Recorder | None = None
        self.status = Status(row.status)
        self.uploading_status = row.uploading_status
        self._store = store
        self._make_recorder = make_recorder
        self._on_uploaded = on_uploaded
        done = row.uploading_status == "uploaded" or (
            uploader is None and row.stopped_at is not None
        )
        self.log = NoticeLog(store, row.sid, row.cname, row.uid, closed=done)
        """The notices of this recording (the event stream reads it)."""
        self.log.on_fault = self._database_fault
        self._unsaved_row: dict[str, Any] = {}  # row fields the database could not take
        self._faulted = False  # the database failed while recording (reported once)
        self._low_disk = False  # a low-disk warning was given (until space recovers)
        self._start_ms: int | None = None  # Unix ms of the recording's output time 0
        # the playlists whose recorder_slice_start was sent (at their first slice)
        self._playlists_started: set[str] = set()
        self.latest_snapshot: SnapshotStored | None = None
        """The newest snapshot this server's recorder kept (the window's thumbnail; not
        kept across a restart)."""
        self._ordering = asyncio.Lock()  # one handler at a time: notices stay in order
        self._tasks: set[asyncio.Task[None]] = set()
        self._progress_task: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()  # recorder stopped, uploads done or backed up
        self._recorder_stopped = asyncio.Event()
        # How the recording ended; known once the recorder stopped (kept in the row after).
        self._abnormal = Status(row.status) is Status.EXITED_ABNORMALLY
        self._exit_reason = row.exit_reason or ""
        if done or row.stopped_at is not None:  # e.g. it ended "backuped" before a restart
            self._settled.set()
            self._recorder_stopped.set()
        if uploader is not None:
            uploader.listener = self._on_upload_event

    # --- state ------------------------------------------------------------------

    @property
    def sid(self) -> str:
        """The recording's id."""
        return self.row.sid

    @property
    def finished(self) -> bool:
        """True once nothing more will happen to this recording (its event stream ends)."""
        return self.log.closed

    async def wait_finished(self) -> None:
        """Wait until nothing more will happen to this recording (uploads done)."""
        await self.log.wait_closed()

    @property
    def settled(self) -> bool:
        """True once the recording ended and its files are uploaded or in the backup."""
        return self._settled.is_set()

    @property
    def recorded_no_media(self) -> bool:
        """True when the recorder ran and took no frame of any user's media (nobody it
        records sent a stream): Agora's stop answers this with 206 code 435."""
        return self.recorder is not None and self.recorder.media_frames == 0

    def notices(self, after: int) -> AsyncIterator[dict[str, Any]]:
        """Every notice after ``after``, then new ones as they come, until the session ends."""
        return self.log.read(after)

    def file_list(self) -> dict[str, Any]:
        """``fileListMode`` and ``fileList`` of query and stop, as Agora's mix mode: the
        playlist's name ("string"), or, when MP4 is written, ("json") an entry for each
        MP4 file kept so far and one for the playlist; as its individual mode ("json"):
        an entry for each user's audio and video playlist with a slice kept so far."""
        if self._individual:
            return {"fileListMode": "json", "fileList": self._file_entries()}
        if not self.config.recording_file_config.mp4:
            return {"fileListMode": "string", "fileList": self.row.playlist}
        return {"fileListMode": "json", "fileList": self._file_entries()}

    @property
    def playlists(self) -> str:
        """The recording's playlist name, or an individual recording's track playlists
        kept so far, comma-separated (as the SDK's callbacks name a list of files)."""
        if self._individual:
            return ",".join(entry["fileName"] for entry in self._track_entries())
        return self.row.playlist

    @property
    def _individual(self) -> bool:
        return self.config.recording_mode is RecordingMode.INDIVIDUAL

    def _track_entries(self) -> list[dict[str, Any]]:
        """``fileList`` entries of an individual recording: each track's playlist (in
        the order of their first slices), its user, its kind and its first slice's start."""
        rows = self.uploader.slices() if self.uploader is not None else []
        first: dict[str, str] = {}
        for row in rows:
            if row.playlist is not None:
                first.setdefault(row.playlist, row.name)
        entries = []
        for playlist, slice_name in first.items():
            track = track_of(playlist)
            started = start_of(slice_name)
            if track is None or started is None:
                continue
            uid, kind = track
            entries.append(track_file(playlist, kind, uid, round(started.timestamp() * 1000)))
        return entries

    def _file_entries(self) -> list[dict[str, Any]]:
        """``fileList`` entries of the recording: an individual recording's tracks, or
        the mixed recording's MP4 files kept so far (in order), then its playlist, as
        Agora's notices list them."""
        if self._individual:
            return self._track_entries()
        track, start = self._track_type(), self._recording_start_ms()
        files = self.uploader.files() if self.uploader is not None else []
        names = [row.name for row in files if row.kind == "mp4"]
        return [mixed_file(name, track, start) for name in [*names, self.row.playlist or ""]]

    def query_body(self) -> dict[str, Any]:
        """``serverResponse`` of ``query``: Agora's fields and cloudrec's progress figures."""
        recorder = self.recorder
        kept = self.uploader.slices() if self.uploader is not None else []
        stored, recorded = self.uploader.progress() if self.uploader is not None else (0, 0)
        body: dict[str, Any] = {
            "status": int(self.status),
            **self.file_list(),
            # in ms as the recording's fileList entries give it (rounded, not cut)
            "sliceStartTime": round((recorder.start_time or 0) * 1000) if recorder else 0,
            # Agora's array of {serviceName, payload}; cloudrec's entry holds its progress
            # and health figures, for progress displays (docs/rest-api.md)
            "extensionServiceState": [{"serviceName": RECORDER_SERVICE, "payload": {
                "duration": recorder.duration if recorder else 0.0,
                "bytes": recorder.recorded_bytes if recorder else 0,
                "slices": len(recorder.slices) if recorder else 0,
                # what the uploader holds, written and stored (slices; bytes with the
                # whole files): an upload display moves from the first slice on
                "keptSlices": len(kept),
                "storedSlices": sum(1 for r in kept if r.uploaded),
                "storedBytes": stored,
                "keptBytes": recorded,
                "users": recorder.users if recorder else [],
                # each user's audio level now, dBFS (a peak meter): the window's roster
                "levels": {str(u): round(db, 1) for u, db in recorder.audio_levels.items()}
                if recorder else {},
                "uploadingStatus": self.uploading_status,
                "lastSequence": self.log.last_sequence,
                "renderLag": round(recorder.render_lag, 3) if recorder else 0.0,
                "maxRenderLag": round(recorder.max_render_lag, 3) if recorder else 0.0,
                "droppedFrames": recorder.dropped_frames if recorder else 0,
                # live streams (docs/streaming.md): each destination, its URL masked
                "streams": [{"url": s.url, "state": str(s.state), "error": s.error,
                             "connects": s.connects, "dropped": s.dropped}
                            for s in recorder.stream_states] if recorder else [],
                "lateFrames": recorder.late_frames if recorder else 0,
            }}],
        }  # fmt: skip
        return body

    # --- life cycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Check the destination, join the channel and start recording."""
        await self._set_status(Status.INITIALIZING)
        if self.uploader is None or self._make_recorder is None:
            raise InvalidOperationError("this recording cannot start: it has no uploader")
        try:
            await asyncio.wait_for(self.uploader.check(), CHECK_TIMEOUT)
        except Exception as exc:
            if isinstance(exc, StorageError):
                message = exc.message
            elif isinstance(exc, TimeoutError):
                message = f"{self.uploader.description} did not answer within {CHECK_TIMEOUT:.0f} s"
            else:  # not a storage answer: the check itself could not be made
                logger.exception("recording %s: the storage check failed", self.sid)
                message = f"{self.uploader.description} cannot be checked: {type(exc).__name__}"
            await self._fail_start(ErrorCode.UPLOADER_INIT, message)
            raise CloudRecordingError(message, ErrorCode.UPLOADER_INIT) from None
        await self.log.append(EventType.UPLOADER_STARTED, status=0)
        self.recorder = self._make_recorder(self.uploader, self._on_recorder_event)
        try:
            await self.recorder.start()
        except CloudRecordingError as exc:
            await self._fail_start(exc.code, exc.message)
            raise
        except Exception as exc:  # e.g. its work folder cannot be made: it cannot start
            if not isinstance(exc, OSError):
                logger.exception("recording %s: the recorder failed to start", self.sid)
            message = f"cannot set up the recorder: {exc}"
            await self._fail_start(ErrorCode.RECORDER_INIT, message)
            raise CloudRecordingError(message, ErrorCode.RECORDER_INIT) from exc
        self._progress_task = asyncio.create_task(self._report_progress())

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

    async def resume_interrupted(self) -> None:
        """The server went down while this recording was recording: report that it ended
        abnormally, and settle once its uploads are done (or after the grace period)."""
        await self._left_in_restart()
        self._recorder_stopped.set()
        self._spawn(self._settle_after_grace())

    async def end_unresumable(self, message: str, pending: int) -> None:
        """After a restart the uploads of this recording cannot resume (``message`` says
        why and where the slices are): report it, end the recording if it was recording
        when the server went down, and finish it as backed up with ``pending`` slices
        left in the backup. Nothing more will happen to it, so its notices end."""
        was_recording = self.row.stopped_at is None
        if was_recording:
            await self._left_in_restart()
        await self.log.error(ErrorCode.UPLOADER_FAILED, message)
        await self.log.append(
            EventType.BACKUPED, status=0, fileList=self._uploaded_files(), pending=pending
        )
        status = self._end_status() if was_recording else self.status
        reason = self._exit_reason if was_recording else (self.row.exit_reason or "stopped")
        await self._settle(status, reason, "backuped", final=True)

    async def _left_in_restart(self) -> None:
        """The recorder ended with the server that went down while it recorded."""
        self._abnormal, self._exit_reason = True, "server restarted"
        await self.log.append(
            EventType.RECORDER_LEAVE,
            leaveCode=LEAVE_SIGNAL,
            reason="the server restarted while recording",
        )

    def save_pending(self) -> None:
        """Write what a database fault kept in memory (notices, row fields), if it can be
        written now (the service calls this periodically)."""
        if self._unsaved_row:  # a fault kept them: it was reported already
            self._update_row()
        if self.log.unsaved:
            self.log.save()

    async def disk_space(self, free: int, threshold: int) -> None:
        """The data folder has ``free`` bytes: warn once while recording if that is below
        ``threshold`` (and again if it recovered and fell again)."""
        if free >= threshold:
            self._low_disk = False
            return
        if self._low_disk or self.recorder is None or self._recorder_stopped.is_set():
            return
        self._low_disk = True
        async with self._ordering:
            await self.log.append(
                EventType.WARNING,
                module=MODULE_RECORDER,
                warnCode=WARN_LOW_DISK,
                warnMsg=(
                    f"only {free // 2**20} MiB free in the server's data folder "
                    f"(warning below {threshold // 2**20} MiB): free space there, or the "
                    "recording fails when the disk is full"
                ),
            )

    async def close(self) -> None:
        """Cancel this session's pending work and stop its uploads (server shutdown);
        uploads resume on the next start."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.uploader is not None:
            await self.uploader.aclose()

    # --- recorder events ----------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_recorder_event(self, event: RecorderEvent) -> None:
        # Called on the loop by the recorder; notices are stored in order by one task chain.
        self._spawn(self._handle(event))

    async def _handle(self, event: RecorderEvent) -> None:
        async with self._ordering:
            if isinstance(event, RecorderStarted):
                self._start_ms = round(event.start_time * 1000)
                await self._set_status(Status.RECORDING)
                await self.log.append(
                    EventType.RECORDER_STARTED, status=0, startTime=event.start_time
                )
            elif isinstance(event, SliceStored):
                await self._slice_stored(event)
            elif isinstance(event, SnapshotStored):
                self.latest_snapshot = event  # notice 45 follows once it is uploaded
            elif isinstance(event, StreamChanged):
                status = event.status
                await self.log.append(
                    EventType.STREAM_STATE,
                    url=status.url,
                    state=str(status.state),
                    error=status.error,
                    connects=status.connects,
                )
            elif isinstance(event, IdleExit):
                await self.log.error(
                    ErrorCode.NO_USERS,
                    f"no user in the channel for {event.idle_seconds:.0f} s: "
                    "the recording stops by itself",
                )
            elif isinstance(event, RecorderFailure):
                await self.log.error(event.code, event.message)
            elif isinstance(event, RecorderStopped):
                await self._recorder_ended(event)

    async def _recorder_ended(self, event: RecorderStopped) -> None:
        if self._progress_task is not None:
            self._progress_task.cancel()
        self._abnormal = event.reason is StopReason.FAILED
        self._exit_reason = str(event.reason)
        await self.log.append(
            EventType.RECORDER_LEAVE,
            leaveCode=LEAVE_CODES[event.reason],
            reason=str(event.reason),
            slices=event.slices,
            duration=event.duration,
        )
        if event.slices == 0:
            await self.log.error(ErrorCode.NO_RECORDED_DATA, "the recording produced no data")
        self._recorder_stopped.set()
        self._spawn(self._settle_after_grace())

    async def _fail_start(self, code: ErrorCode, message: str) -> None:
        await self.log.error(code, message, fatal=True)
        await self._settle(Status.EXITED_ABNORMALLY, message, "unknown", final=True)

    # --- upload events ------------------------------------------------------------

    def _on_upload_event(self, event: UploadEvent) -> None:
        self._spawn(self._handle_upload(event))

    async def _handle_upload(self, event: UploadEvent) -> None:
        async with self._ordering:
            if isinstance(event, UploadFailed):
                await self.log.error(
                    ErrorCode.UPLOADER_FAILED,
                    f"{event.message}; slices are kept in the local backup and retried",
                )
            elif isinstance(event, UploadRecovered):
                await self.log.append(
                    EventType.WARNING,
                    module=MODULE_UPLOADER,
                    warnCode=WARN_UPLOADS_RECOVERED,
                    warnMsg="uploads work again",
                )
            elif isinstance(event, BackedUp):
                if self._recorder_stopped.is_set():
                    await self._on_backed_up(event.pending)
            elif isinstance(event, AllUploaded):
                await self._on_all_uploaded()
            elif isinstance(event, FileUploaded) and event.kind == SNAPSHOT_KIND:
                # Agora's 45: a snapshot "captured successfully and uploaded to the
                # third-party cloud storage", named <fileNamePrefix>/<file name> (its key)
                await self.log.append(EventType.RECORDER_SNAPSHOT_FILE, fileName=event.key)
            elif isinstance(event, SliceLost):
                await self.log.error(
                    ErrorCode.BACKUP_FAILED,
                    f"{event.name} was removed from the backup folder before it was "
                    "uploaded: it cannot be stored; the playlist goes on after it with a "
                    "discontinuity",
                )

    async def _settle_after_grace(self) -> None:
        """If uploads are not done soon after the end, report the slices in the backup."""
        assert self.uploader is not None
        if not await self.uploader.wait_done(SETTLE_GRACE):
            await self._on_backed_up(self.uploader.pending)

    async def _on_backed_up(self, pending: int) -> None:
        if self.settled:
            return
        await self._append_progress()
        await self.log.append(
            EventType.BACKUPED, status=0, fileList=self._uploaded_files(), pending=pending
        )
        await self._settle(self._end_status(), self._exit_reason, "backuped", final=False)

    async def _on_all_uploaded(self) -> None:
        if self.finished:
            return
        if not self.settled:
            await self._append_progress()
        await self.log.append(EventType.UPLOADED, status=0, fileList=self._uploaded_files())
        if not self.settled:
            await self._settle(self._end_status(), self._exit_reason, "uploaded", final=True)
        else:
            self.uploading_status = "uploaded"
            self._update_row(uploading_status="uploaded")
            await self._finish()
        if self._on_uploaded is not None:
            await self._on_uploaded(self.sid)

    # --- status and notices -------------------------------------------------------

    async def _set_status(self, status: Status, **fields: Any) -> None:
        self.status = status
        self._update_row(status=int(status), **fields)
        await self.log.append(
            EventType.STATUS_UPDATE,
            status=int(status),
            recordingMode=int(self.config.recording_mode),
            fileList=self.playlists or "",
        )

    def _update_row(self, **fields: Any) -> None:
        """Store row fields, with any an earlier fault kept in memory (see the module
        docstring)."""
        self._unsaved_row.update(fields)
        try:
            self._store.update_recording(self.sid, **self._unsaved_row)
        except DatabaseError as exc:
            self._database_fault(exc)
            return
        self._unsaved_row.clear()

    def _database_fault(self, exc: DatabaseError) -> None:
        """The database cannot be written: end the recording (once), loudly."""
        if self._faulted or self.recorder is None or self._recorder_stopped.is_set():
            return
        self._faulted = True
        self.recorder.fail(
            ErrorCode.RECORDER_FAILED,
            f"{exc} (free space in the server's data folder): the recording stops; the "
            "slices recorded so far are kept and uploaded",
        )

    async def _slice_stored(self, event: SliceStored) -> None:
        """cloudrec's slice notice; with the first slice, Agora's recorder_slice_start (the
        recording's start, once) and cloudrec_file_infos (the playlist's name, once)."""
        start_ms = self._recording_start_ms() + round(event.slice.start * 1000)
        track = track_of(event.slice.playlist) if event.slice.playlist is not None else None
        # once for the mixed recording; once for each track of an individual one
        first = event.playlist_key not in self._playlists_started
        if first:
            self._playlists_started.add(event.playlist_key)
            await self.log.append(
                EventType.RECORDER_SLICE_START,
                startUtcMs=start_ms,
                discontinueUtcMs=start_ms,
                mixedAllUser=track is None,
                streamUid="0" if track is None else str(track[0]),
                trackType=self._track_type() if track is None else track[1],
            )
            await self.log.append(EventType.FILE_INFOS, fileList=event.playlist_key)
        await self.log.append(
            EventType.SLICE_STORED,
            fileName=event.slice.name,
            bytes=event.slice.bytes,
            duration=event.slice.duration,
            sliceStartUtcMs=start_ms,
            playlist=event.playlist_key,
        )

    def _recording_start_ms(self) -> int:
        """Unix ms of the recording's output time 0: from recorder_started (this run's, or
        the stored one of a recording resumed after a restart), else its start call."""
        if self._start_ms is None:
            for notice in self._store.notices(self.sid):
                start = notice["payload"]["details"].get("startTime")
                if notice["eventType"] == EventType.RECORDER_STARTED and start is not None:
                    self._start_ms = round(float(start) * 1000)
                    break
            else:
                return round(self.row.created_at * 1000)
        return self._start_ms

    def _track_type(self) -> str:
        types = self.config.recording_stream_types
        return track_type(types.has_audio, types.has_video)

    def _uploaded_files(self) -> list[dict[str, Any]]:
        """``fileList`` of uploaded/backuped: the mixed recording's MP4 files (when it
        writes them) and its playlist."""
        return self._file_entries()

    def _end_status(self) -> Status:
        return Status.EXITED_ABNORMALLY if self._abnormal else Status.STOPPED

    async def _settle(
        self, status: Status, reason: str, uploading_status: str, *, final: bool
    ) -> None:
        self.uploading_status = uploading_status
        await self._set_status(
            status, stopped_at=time.time(), exit_reason=reason, uploading_status=uploading_status
        )
        await self.log.append(
            EventType.SESSION_EXIT, exitStatus=0 if status is Status.STOPPED else 1
        )
        self._settled.set()
        if final:
            await self._finish()

    async def _finish(self) -> None:
        await self.log.close()
        if self.uploader is not None:
            await self.uploader.aclose()

    async def _append_progress(self) -> None:
        """An uploading-progress notice: stored bytes per recorded bytes, in 1/10000
        (Agora's unit)."""
        stored, recorded = self.uploader.progress() if self.uploader is not None else (0, 0)
        await self.log.append(
            EventType.UPLOADING_PROGRESS,
            progress=10_000 * stored // recorded if recorded else 0,
            playlist=self.playlists,
        )

    async def _report_progress(self) -> None:
        interval = self.config.progress_interval
        while True:
            await asyncio.sleep(interval)
            await self._append_progress()
