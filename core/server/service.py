"""The recording service: every recording of the server process, started through REST.

:class:`RecordingService` hands out resource IDs (``acquire``), starts recordings as
:class:`~core.server.session.RecordingSession` objects, finds them again for
``query``/``stop`` and the event stream, resumes unfinished uploads after a restart
and stops everything at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.channel.registry import ChannelRegistry
from core.config import CloudStorageConfig, RecordingConfig
from core.database import DatabaseError
from core.enums import StorageVendor
from core.errors import CloudRecordingError, ErrorCode
from core.media.compositor import Backgrounds
from core.media.mp4 import PART_SUFFIX, finalize
from core.media.playlist import playlist_name
from core.media.recorder import Recorder, RecorderEvent
from core.media.slices import ClosedSlice
from core.notices import Status
from core.server.confinement import Confinement
from core.server.images import ImageStore, backgrounds_of
from core.server.session import RecordingSession
from core.server.state import RecordingRow, StateStore
from core.storage.credentials import CredentialVault, SealedKeys
from core.storage.destination import Destination
from core.storage.factory import folder_location, make_destination
from core.storage.ledger import SliceLedger
from core.storage.master_key import WAYS as MASTER_KEY_WAYS
from core.storage.master_key import MasterKey
from core.storage.uploader import DurableUploader
from core.wire import (
    recording_config_from_wire,
    secret_wire_names,
    storage_config_from_wire,
    to_wire,
)

logger = logging.getLogger(__name__)

MIB = 1024 * 1024

MIN_FREE_SPACE = 100 * MIB
"""Bytes that must be free in the data folder for a recording to start (its work
files, backup and database grow there; about 8 MB a minute at the default bitrates)."""

LOW_DISK_WARNING = 500 * MIB
"""Free bytes in the data folder below which every recording gets a warning notice."""

DISK_CHECK_INTERVAL = 5.0
"""Seconds between two looks at the data folder's free space."""

RESOURCE_LIFETIME = 300.0
"""Seconds an acquired resource ID may wait for ``start`` (Agora: 5 minutes)."""

RESUMED_SLICE_DURATION = 4.0
"""Target slice length of the playlist of a recording resumed after a restart (its
configuration was not kept; every slice's own duration is in the ledger)."""


class NotFoundError(CloudRecordingError):
    """No such resource or recording (Agora answers 404)."""

    default_code = ErrorCode.INVALID_OPERATION


class ConflictError(CloudRecordingError):
    """The uid is already recording the channel (Agora: 400, code 53, task conflict)."""

    default_code = ErrorCode.INVALID_OPERATION


class AlreadyStartedError(ConflictError):
    """The resource already started a recording (Agora: 201, code 7, already started)."""


class ResourceExpiredError(NotFoundError):
    """The resource expired: not started within 5 minutes, or its ``resourceExpiredHour``
    passed since start (Agora: code 433)."""


class ExitingError(CloudRecordingError):
    """The recording is already exiting: a stop repeated, or it left by itself
    (Agora: 400, code 49, invalid operation)."""

    default_code = ErrorCode.INVALID_OPERATION


EXPIRED_KEPT = 3600.0
"""Seconds an expired, unstarted resource is remembered, so that start answers 433
(expired) rather than 404 (unknown)."""


@dataclass
class Resource:
    """An acquired resource ID, waiting for ``start``."""

    resource_id: str
    app_id: str
    cname: str
    uid: int
    expires: float
    sid: str | None = None
    owner: str | None = None
    """The Basic customer that acquired it; None for the server's operator."""
    expired_hour: int = 72
    """acquire's ``resourceExpiredHour``: hours after start during which query,
    updateLayout and stop may be called (Agora's default 72)."""


OPERATOR = None
"""The caller that holds the server's bearer token: sees and controls every recording."""


def visible(owner: str | None, caller: str | None) -> bool:
    """Whether ``caller`` (a Basic customer ID, or :data:`OPERATOR`) may see and control
    what ``owner`` acquired or started: the operator everything, a customer its own."""
    return caller is OPERATOR or owner == caller


def _public_config(config: RecordingConfig | CloudStorageConfig) -> dict[str, Any]:
    """The wire form without secrets, for storage and display."""
    body = to_wire(config)
    for secret in secret_wire_names(type(config)):
        body.pop(secret, None)
    body.pop("rtmpPublishConfig", None)  # its URLs hold stream keys
    return body


def _is_cloud(storage_body: dict[str, Any]) -> bool:
    """Whether a stored storage config names a cloud vendor (whose keys it lacks)."""
    try:
        return StorageVendor(storage_body.get("vendor", StorageVendor.LOCAL)).is_cloud
    except ValueError:
        return False


class RecordingService:
    """Every recording of this server process."""

    def __init__(
        self,
        channels: ChannelRegistry,
        store: StateStore,
        data_dir: Path,
        confinement: Confinement | None = None,
        *,
        min_free_space: int = MIN_FREE_SPACE,
        low_disk_warning: int = LOW_DISK_WARNING,
        disk_check_interval: float = DISK_CHECK_INTERVAL,
        master_key: MasterKey | None = None,
    ) -> None:
        self.channels = channels
        self.store = store
        self.data_dir = data_dir
        self.work_root = data_dir / "work"
        self.default_folder = data_dir / "recordings"
        self.confinement = confinement or Confinement(data_dir)
        """The folders and hosts a storage config may name (the operator's limits)."""
        self.images = ImageStore(self.confinement.allows_host)
        """Background images of layouts, fetched once and kept by URL."""
        self._resources: dict[str, Resource] = {}
        self._sessions: dict[str, RecordingSession] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.ledger = SliceLedger(store.path)
        self.vault = CredentialVault(SealedKeys(store.path), master_key)
        self.exit_when_done = False
        self.exit_task: asyncio.Task[None] | None = None
        """The wait for the last recording before the server exits (``exit-when-done``)."""
        self.min_free_space = min_free_space
        self.low_disk_warning = low_disk_warning
        self._disk_check_interval = disk_check_interval

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as a task of the service (cancelled by :meth:`close`)."""
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def acquire(
        self,
        app_id: str,
        cname: str,
        uid: int,
        owner: str | None = OPERATOR,
        *,
        expired_hour: int = 72,
    ) -> Resource:
        """A new resource ID for recording ``cname`` as ``uid`` (forgets resources expired
        an hour ago), owned by ``owner`` (a Basic customer ID, or :data:`OPERATOR`)."""
        now = time.monotonic()
        for rid in [
            r
            for r, res in self._resources.items()
            if res.expires + EXPIRED_KEPT < now and res.sid is None
        ]:
            del self._resources[rid]
        resource = Resource(
            secrets.token_urlsafe(48),
            app_id,
            cname,
            uid,
            now + RESOURCE_LIFETIME,
            owner=owner,
            expired_hour=expired_hour,
        )
        self._resources[resource.resource_id] = resource
        return resource

    def resource(
        self, app_id: str, resource_id: str, cname: str, uid: int, caller: str | None = OPERATOR
    ) -> Resource:
        """The acquired resource ``resource_id``; raises :class:`NotFoundError` if unknown,
        or not ``caller``'s (the same error: another customer's resource is not revealed)."""
        resource = self._resources.get(resource_id)
        if resource is None or resource.app_id != app_id or not visible(resource.owner, caller):
            raise NotFoundError("unknown or expired resourceId: call acquire again")
        if resource.sid is None and resource.expires < time.monotonic():
            raise ResourceExpiredError(
                "the resourceId expired (start within 5 minutes of acquire): call acquire again"
            )
        if resource.cname != cname or resource.uid != uid:
            raise CloudRecordingError(
                "cname and uid must match those of the acquire request", ErrorCode.INVALID_PARAMETER
            )
        return resource

    def destination(self, storage: CloudStorageConfig) -> tuple[Destination, str]:
        """The destination of ``storage`` and its key prefix, once :attr:`confinement`
        allows it: raises :class:`~core.errors.InvalidParameterError` (432) for a folder
        or endpoint outside the operator's limits, before anything is made or sent."""
        local_root = self.confinement.check(storage)
        return make_destination(storage, self.default_folder, local_root=local_root)

    async def start(
        self, resource: Resource, recording: RecordingConfig, storage: CloudStorageConfig
    ) -> RecordingSession:
        """Start recording with ``resource``; raises :class:`ConflictError` if that uid
        already records the channel, InvalidParameterError for a folder or endpoint
        outside the operator's limits (the resource stays usable), and the session's
        start errors."""
        self.confinement.check(storage)
        # the images first: the checks below and the start then run without a wait
        backgrounds = await backgrounds_of(
            recording.transcoding_config, self.images, "recordingConfig.transcodingConfig."
        )
        if resource.sid is not None:
            raise AlreadyStartedError(
                "this resourceId already started a recording: acquire a new one"
            )
        for session in self._sessions.values():
            row = session.row
            if (row.app_id, row.cname, row.uid) == (
                resource.app_id,
                resource.cname,
                resource.uid,
            ) and not session.finished:
                which = f" (sid {row.sid})" if visible(row.owner, resource.owner) else ""
                raise ConflictError(
                    f"uid {resource.uid} is already recording channel {resource.cname!r}{which}"
                )
        self._check_free_space()
        sid = uuid.uuid4().hex
        resource.sid = sid
        destination, folder = self.destination(storage)
        kept = storage.vendor.is_cloud
        if kept and not await self.vault.durable():
            resource.sid = None
            raise CloudRecordingError(
                "this server cannot keep the storage keys across a restart (no OS keyring "
                "and no master key), so a crash would strand the recording's slices in its "
                f"backup; give it a master key: {MASTER_KEY_WAYS} (docs/deploy.md)",
                ErrorCode.UPLOADER_INIT,
            )
        try:
            if kept:
                await self.vault.keep(
                    sid,
                    storage.access_key.get_secret_value(),
                    storage.secret_key.get_secret_value(),
                )
            return await self._start(
                sid, resource, recording, storage, destination, folder, backgrounds
            )
        except BaseException:
            # A start that fails leaves no key behind: nothing of it will ever upload.
            if kept:
                await self.vault.forget(sid)
            raise

    async def _start(
        self,
        sid: str,
        resource: Resource,
        recording: RecordingConfig,
        storage: CloudStorageConfig,
        destination: Destination,
        folder: str,
        backgrounds: Backgrounds,
    ) -> RecordingSession:
        row = RecordingRow(
            sid=sid,
            resource_id=resource.resource_id,
            app_id=resource.app_id,
            cname=resource.cname,
            uid=resource.uid,
            status=int(Status.NOT_STARTED),
            recording_config=_public_config(recording),
            storage_config=_public_config(storage),
            playlist=playlist_name(sid, resource.cname),
            folder=folder,
            created_at=time.time(),
            stopped_at=None,
            exit_reason=None,
            uploading_status="unknown",
            owner=resource.owner,
            location=folder_location(destination, folder),
        )
        try:
            self.store.add_recording(row)
            uploader = self._uploader(row, destination, recording.slice_duration)
        except DatabaseError as exc:
            # Nothing recorded yet; a row that was written is marked ended, if it can be.
            with contextlib.suppress(DatabaseError):
                self.store.update_recording(
                    sid, status=int(Status.EXITED_ABNORMALLY), stopped_at=time.time()
                )
            raise CloudRecordingError(
                f"{exc}: the recording cannot start (free space in the server's data folder)",
                ErrorCode.RECORDER_INIT,
            ) from exc
        session = self._session_of(row, recording, uploader, backgrounds)
        self._sessions[sid] = session
        await session.start()
        return session

    def free_space(self) -> int:
        """Bytes free in the data folder (where work files, backups and the database grow)."""
        return shutil.disk_usage(self.data_dir).free

    def _check_free_space(self) -> None:
        free = self.free_space()
        if free < self.min_free_space:
            raise CloudRecordingError(
                f"only {free // MIB} MiB free in the server's data folder, {self.min_free_space // MIB} "
                "MiB needed to start a recording: free space there, or move the data folder "
                "(cloudrec server --data-dir)",
                ErrorCode.RECORDER_INIT,
            )

    async def watch_disk(self) -> None:
        """Warn every live recording once when the data folder's free space falls below
        :attr:`low_disk_warning` (again after it recovered and fell again), and write
        what a database fault kept in memory once the database works again."""
        while True:
            free = await asyncio.to_thread(self.free_space)
            for session in list(self._sessions.values()):
                session.save_pending()
                await session.disk_space(free, self.low_disk_warning)
            await asyncio.sleep(self._disk_check_interval)

    def _session_of(
        self,
        row: RecordingRow,
        config: RecordingConfig,
        uploader: DurableUploader | None,
        backgrounds: Backgrounds | None = None,
    ) -> RecordingSession:
        def make_recorder(
            sink: DurableUploader, events: Callable[[RecorderEvent], None]
        ) -> Recorder:
            return Recorder(
                self.channels,
                row.app_id,
                row.cname,
                row.uid,
                row.sid,
                config,
                sink,
                self.work_root / row.sid,
                events=events,
                backgrounds=backgrounds,
            )

        return RecordingSession(
            row,
            config,
            uploader,
            store=self.store,
            make_recorder=make_recorder,
            on_uploaded=self.vault.forget,
        )

    def _uploader(
        self, row: RecordingRow, destination: Destination, slice_duration: float
    ) -> DurableUploader:
        key = f"{row.folder}/{row.playlist}" if row.folder else row.playlist
        return DurableUploader(
            destination,
            self.ledger,
            row.sid,
            key,
            self.data_dir / "backup" / row.sid,
            target_duration=slice_duration,
        )

    async def resume(self) -> None:
        """After a restart: end what was recording, and finish every unfinished upload;
        then watch the data folder's free space."""
        self.spawn(self.watch_disk())
        unfinished = {u.sid for u in self.ledger.unfinished()}
        for row in self.store.recordings():
            if row.sid not in unfinished and row.stopped_at is not None:
                self._sessions[row.sid] = self._session_of(row, _files_config(row), None)
                continue
            await self._resume(row)

    async def _resume(self, row: RecordingRow) -> None:
        storage_body = dict(row.storage_config)
        credentials = await self.vault.recall(row.sid)
        if credentials is not None:
            storage_body["accessKey"], storage_body["secretKey"] = credentials
        config = _files_config(row)
        try:
            storage = storage_config_from_wire(storage_body)
            destination, _ = self.destination(storage)  # the limits of this run apply
        except CloudRecordingError as exc:
            backup = self.data_dir / "backup" / row.sid
            if credentials is None and _is_cloud(storage_body):  # keys: never in a file
                why = (
                    "its storage keys are neither in the server's OS keyring nor sealed "
                    "with its master key: the keyring cannot be reached now, or the server "
                    "started with another master key or none"
                )
            else:
                why = exc.message
            rows = self.ledger.slices(row.sid) + self.ledger.files(row.sid)
            pending = sum(not s.uploaded for s in rows)
            session = self._session_of(row, config, None)
            self._sessions[row.sid] = session
            await session.end_unresumable(
                f"after the restart the uploads cannot resume ({why}); the {pending} slices "
                f"not uploaded stay in {backup}",
                pending,
            )
            return
        uploader = self._uploader(row, destination, RESUMED_SLICE_DURATION)
        config = _files_config(row)  # its fileList lists its MP4 files (as JSON) if it wrote any
        await self._recover_mp4(row.sid, uploader)
        session = self._session_of(row, config, uploader)
        self._sessions[row.sid] = session
        if row.stopped_at is None:  # it was recording when the server went down
            self.ledger.mark_ended(row.sid)
            await session.resume_interrupted()
        uploader.start()

    async def _recover_mp4(self, sid: str, uploader: DurableUploader) -> int:
        """The MP4 parts a recorder was writing when the server went down: each becomes a
        regular MP4 of its whole fragments (all but the last second or so) and is kept
        and uploaded like any file of the recording. Returns how many were recovered; a
        part that cannot be read or kept stays in the work folder (logged)."""
        recovered = 0
        folder = self.work_root / sid
        parts = await asyncio.to_thread(lambda: sorted(folder.glob(f"*{PART_SUFFIX}")))
        for index, part in enumerate(parts):
            final = part.with_name(part.name.removesuffix(PART_SUFFIX))
            try:
                seconds = await asyncio.to_thread(finalize, part, final)
                size = (await asyncio.to_thread(final.stat)).st_size
                await uploader.add_file(ClosedSlice(index, final.name, final, 0.0, seconds, size))
            except (ValueError, OSError, CloudRecordingError) as exc:
                logger.error("recording %s: %s could not be recovered: %s", sid, part.name, exc)
                continue
            recovered += 1
            for path in (part, final):
                with contextlib.suppress(OSError):
                    await asyncio.to_thread(path.unlink)
            logger.info("recording %s: %s recovered (%.1f s)", sid, final.name, seconds)
        return recovered

    def session(
        self, app_id: str, resource_id: str, sid: str, caller: str | None = OPERATOR
    ) -> RecordingSession:
        """The recording ``sid`` of ``resource_id``; raises :class:`NotFoundError` if
        unknown, or not ``caller``'s (the same error, so another customer's recording is
        not revealed)."""
        session = self._sessions.get(sid)
        if (
            session is None
            or session.row.app_id != app_id
            or session.row.resource_id != resource_id
            or not visible(session.row.owner, caller)
        ):
            raise NotFoundError(f"no recording with sid {sid!r} for this resourceId")
        return session

    def check_expired_hour(self, session: RecordingSession) -> None:
        """Raise :class:`ResourceExpiredError` once the ``resourceExpiredHour`` of the
        recording's resource passed since its start (72 h for a recording resumed after a
        restart, whose resource is not kept): Agora's query, updateLayout and stop refuse
        it then."""
        resource = self._resources.get(session.row.resource_id)
        hours = resource.expired_hour if resource is not None else 72
        if time.time() > session.row.created_at + hours * 3600:
            raise ResourceExpiredError(
                f"the resourceId expired: its resourceExpiredHour ({hours} h) passed since start"
            )

    def not_ready(self) -> str:
        """Why the server does not take new recordings now ("" when it does)."""
        if self.exit_when_done:
            return "draining: the server exits once its recordings have finished uploading"
        return ""

    def sessions(self, caller: str | None = OPERATOR) -> list[RecordingSession]:
        """Every recording this server knows that ``caller`` may see, in start order."""
        return [s for s in self._sessions.values() if visible(s.row.owner, caller)]

    async def close(self) -> None:
        """Stop every running recording (server shutdown)."""
        running = [s for s in self._sessions.values() if not s.settled and s.recorder is not None]
        await asyncio.gather(*(s.stop() for s in running), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for session in self._sessions.values():
            await session.close()
        self.ledger.close()


def _files_config(row: RecordingRow) -> RecordingConfig:
    """The config a recording resumed after a restart keeps: which files it wrote (from
    the config stored at its start; a row of an older version has none: HLS only)."""
    stored = row.recording_config.get("recordingFileConfig")
    if not isinstance(stored, dict):
        return RecordingConfig()
    try:
        files = recording_config_from_wire({}, {"recordingFileConfig": stored})
    except CloudRecordingError:
        return RecordingConfig()
    return RecordingConfig(recording_file_config=files.recording_file_config)
