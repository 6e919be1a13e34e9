"""The durable uploader: continuous upload, local backup, retry until stored.

:class:`DurableUploader` is the slice sink the server's recorders write into (the
``SliceSink`` protocol of :mod:`core.media.slices`). A closed slice is first linked (or
copied) into the backup folder and written, with its duration, to the slice ledger;
only then does ``add_slice`` return, so the recorder counts a slice only once it is
safe on disk. A worker task uploads slices to the real destination in order, as soon
as they close, and rewrites the destination's playlist after each uploaded slice: the
playlist there lists only the slices that are there (the uploaded prefix), and gets
``#EXT-X-ENDLIST`` once the recording has ended (``end``) and every slice is up. Whole
files beside the playlist (``add_file``: an MP4, a snapshot) go the same way, after the
slices of each pass; everything is uploaded once both are. An individual recording's
slices name the playlists of their users' tracks: each such playlist is written the
same way beside the recording's, which is then written only if it lists a slice too.

A failing upload is retried with backoff (after 1, 2, 4, 8 and 15 s, then every 30 s:
:data:`RETRY_DELAYS`; a slice closing during an outage is tried at once) for as long as
it takes, across restarts (``resume``): the first failure of an outage is reported
(``UploadFailed``), the end of a recording with slices still in the backup is
reported once (``BackedUp``), each whole file once it is stored (``FileUploaded``),
and ``AllUploaded`` comes when everything is stored.

Faults of the server's own disk: a backup folder or ledger that cannot take a slice
makes ``add_slice`` raise :class:`StorageError` (the recorder retries, then fails the
recording: nothing is dropped silently); a ledger that cannot be written while
uploading is retried like a failing destination (``UploadFailed`` names the database);
a backup file that vanished from its folder before its upload is reported once
(``SliceLost``) and the uploads go on with the next slice instead of waiting for it for
ever, while a backup folder that is not there at all is retried like an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.database import DatabaseError
from core.errors import ErrorCode
from core.storage.destination import (
    PLAYLIST_CONTENT_TYPE,
    SLICE_CONTENT_TYPE,
    Destination,
    StorageError,
    file_content_type,
)
from core.storage.hls import Playlist, PlaylistEntry, SliceFile
from core.storage.ledger import SLICE, SliceLedger, SliceRow
from core.storage.playlist_writer import key_beside

logger = logging.getLogger(__name__)

RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
"""Seconds before the 1st, 2nd, ... retry of a failed upload; the last repeats. An
upload that succeeds starts the schedule again."""


@dataclass(frozen=True)
class UploadFailed:
    """An upload failed (the first failure of an outage); the slice stays in the backup."""

    message: str


@dataclass(frozen=True)
class UploadRecovered:
    """Uploads work again after a failure."""


@dataclass(frozen=True)
class BackedUp:
    """The recording ended with ``pending`` slices still only in the local backup."""

    pending: int


@dataclass(frozen=True)
class AllUploaded:
    """Every slice and the final playlist are in the destination."""


@dataclass(frozen=True)
class FileUploaded:
    """A whole file beside the playlist (an MP4, a snapshot) is in the destination."""

    name: str
    key: str
    kind: str
    """The ledger's kind: its suffix (``mp4``, ``jpg``)."""


@dataclass(frozen=True)
class SliceLost:
    """Slice ``name``'s backup file was gone before it was uploaded: it cannot be stored."""

    name: str
    backup_path: Path


UploadEvent = UploadFailed | UploadRecovered | BackedUp | AllUploaded | FileUploaded | SliceLost


class DurableUploader:
    """A slice sink over ``target`` that never loses a slice (see the module docstring)."""

    def __init__(
        self,
        target: Destination,
        ledger: SliceLedger,
        sid: str,
        playlist_key: str,
        backup_dir: Path,
        *,
        target_duration: float = 4.0,
        listener: Callable[[UploadEvent], None] | None = None,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.target = target
        self.ledger = ledger
        self.sid = sid
        self.playlist_key = playlist_key
        self.backup_dir = backup_dir
        self.description = target.description
        self._target_duration = target_duration
        self.listener = listener
        """Called on the loop with every :data:`UploadEvent` (its exceptions are logged)."""
        self._delays = retry_delays
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._failing = False
        self._backed_up_reported = False
        self._done = asyncio.Event()
        self._last_playlists: dict[str, bytes] = {}  # key -> what it was last written as
        self._ended = False  # known here before the ledger may have been able to note it
        self._swept = False  # backups of slices uploaded before a restart are removed once
        ledger.open_recording(sid, playlist_key)

    # --- the slice sink, as the recorder sees it ---------------------------------

    async def check(self) -> None:
        """The destination's preflight."""
        await self.target.check()

    async def add_slice(self, closed: SliceFile) -> str:
        """Keep the slice safe locally, record it in the ledger and queue its upload; its key.

        Raises :class:`StorageError` (BACKUP_FAILED) when the backup folder or the ledger
        cannot hold it.
        """
        return await self._hold(closed, SLICE)

    async def add_file(self, closed: SliceFile) -> str:
        """A whole file of the recording beside its playlist (an MP4, a snapshot): kept
        and uploaded as durably as a slice, never listed in the playlist; its key."""
        return await self._hold(closed, Path(closed.name).suffix.lstrip(".").lower() or "file")

    async def _hold(self, closed: SliceFile, kind: str) -> str:
        playlist = closed.playlist if kind == SLICE else None
        gap = closed.discontinuity if kind == SLICE else False
        name = closed.name
        key = key_beside(self.playlist_key, name)
        backup = self.backup_dir / name
        try:
            size = await asyncio.to_thread(_keep, Path(closed.path), backup)
        except OSError as exc:
            raise StorageError(
                f"cannot keep {name} in the backup folder {self.backup_dir}: {exc.strerror or exc}",
                ErrorCode.BACKUP_FAILED,
            ) from exc
        try:
            self.ledger.add_slice(self.sid, name, key, backup, size, duration=closed.duration,
                                  kind=kind, playlist=playlist, discontinuity=gap)  # fmt: skip
        except DatabaseError as exc:
            raise StorageError(
                f"cannot record {name} in the slice ledger: {exc}", ErrorCode.BACKUP_FAILED
            ) from exc
        self.start()
        self._wake.set()
        return key

    async def end(self) -> None:
        """The recording ended: the playlist ends once every slice is uploaded (the
        worker notes it in the ledger if the ledger cannot be written now)."""
        self._ended = True
        with contextlib.suppress(DatabaseError):
            self.ledger.mark_ended(self.sid)
        self.start()
        self._wake.set()

    async def aclose(self) -> None:
        """Stop the worker (uploads resume with ``resume`` on the next start)."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self.target.aclose()

    # --- state ----------------------------------------------------------------------

    def progress(self) -> tuple[int, int]:
        """(bytes stored in the destination, bytes recorded), slices and files."""
        rows = self.ledger.slices(self.sid) + self.ledger.files(self.sid)
        return sum(r.bytes for r in rows if r.uploaded), sum(r.bytes for r in rows)

    def slices(self) -> list[SliceRow]:
        """Every slice of the recording as the ledger knows it, in order."""
        return self.ledger.slices(self.sid)

    def files(self) -> list[SliceRow]:
        """Every whole file of the recording (MP4s, snapshots), in the order kept."""
        return self.ledger.files(self.sid)

    @property
    def failing(self) -> bool:
        """Whether its uploads fail now (it retries)."""
        return self._failing

    @property
    def pending(self) -> int:
        """Slices and files not yet in the destination (only in the local backup)."""
        rows = self.ledger.slices(self.sid) + self.ledger.files(self.sid)
        return sum(1 for r in rows if not r.settled)

    async def wait_done(self, timeout: float | None = None) -> bool:
        """True once everything is uploaded (within ``timeout``)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done.wait(), timeout)
        return self._done.is_set()

    def start(self) -> None:
        """Run the upload worker (idempotent); also what resumes after a restart."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())

    # --- the worker -----------------------------------------------------------------

    def _emit(self, event: UploadEvent) -> None:
        if self.listener is not None:
            try:
                self.listener(event)
            except Exception:
                logger.exception("upload listener failed on %r", event)

    async def _work(self) -> None:
        attempt = 0
        while True:
            self._wake.clear()
            try:
                finished = await self._pass()
            except (StorageError, DatabaseError) as exc:
                if not self._failing:
                    self._failing = True
                    message = exc.message if isinstance(exc, StorageError) else str(exc)
                    self._emit(UploadFailed(message))
                self._report_backed_up()
                delay = self._delays[min(attempt, len(self._delays) - 1)]
                attempt += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            attempt = 0
            if self._failing:
                self._failing = False
                self._emit(UploadRecovered())
            if finished:
                self._done.set()
                self._emit(AllUploaded())
                return
            await self._wake.wait()

    async def _pass(self) -> bool:
        """Upload what is pending, rewriting the playlist after each slice; True when
        everything is done."""
        rows = self.ledger.slices(self.sid)
        if not self._swept:  # a server killed between an upload and its backup's removal
            self._swept = True
            for row in rows + self.ledger.files(self.sid):
                if row.uploaded:
                    with contextlib.suppress(OSError):
                        await asyncio.to_thread(row.backup_path.unlink)
        for row in rows:
            if not row.settled:
                await self._upload_slice(row)
                await self._write_playlist()
        complete = await self._write_playlist()
        for row in self.ledger.files(self.sid):  # beside the playlist, in no order of it
            if not row.settled:
                await self._upload_slice(row)
        return complete and all(row.settled for row in self.ledger.files(self.sid))

    async def _write_playlist(self) -> bool:
        """Store each playlist of the uploaded prefix if it changed; True once they are
        complete."""
        state = self.ledger.upload(self.sid)
        assert state is not None
        rows = self.ledger.slices(self.sid)
        ended = state.ended or self._ended
        complete = ended and all(r.lost or (r.uploaded and r.duration is not None) for r in rows)
        groups: dict[str | None, list[SliceRow]] = {None: []}
        for row in rows:
            groups.setdefault(row.playlist, []).append(row)
        changed: dict[str, bytes] = {}
        for own, group in groups.items():
            if own is None and not group and len(groups) > 1:
                continue  # individual recording: the users' playlists are the recording
            key = self.playlist_key if own is None else key_beside(self.playlist_key, own)
            playlist = self._render(group, complete)
            if playlist != self._last_playlists.get(key):
                await self.target.put_bytes(key, playlist, PLAYLIST_CONTENT_TYPE)
                changed[key] = playlist
        if changed:
            if complete and not state.ended:  # end() could not note it in the ledger
                self.ledger.mark_ended(self.sid)
            self.ledger.mark_playlist(self.sid, uploaded=True, done=complete)
            self._last_playlists.update(changed)  # only once noted: a failed note is retried
        return complete

    async def _upload_slice(self, row: SliceRow) -> None:
        folder = row.backup_path.parent
        if not await asyncio.to_thread(row.backup_path.is_file):
            if not await asyncio.to_thread(folder.is_dir):  # a disk or mount not there
                raise _folder_gone(folder)
            # Removed behind cloudrec's back (it deletes a backup only once uploaded):
            # it can never be stored; the uploads go on without it.
            self.ledger.mark_lost(self.sid, row.seq)
            logger.error("recording %s: %s is gone from the backup", self.sid, row.backup_path)
            self._emit(SliceLost(row.name, row.backup_path))
            return
        content_type = SLICE_CONTENT_TYPE if row.kind == SLICE else file_content_type(row.name)
        try:
            await self.target.put_file(row.key, row.backup_path, content_type)
        except StorageError:
            # the folder went while the slice was read: say so, not what the target
            # made of a source that vanished
            if not await asyncio.to_thread(folder.is_dir):
                raise _folder_gone(folder) from None
            raise
        self.ledger.mark_uploaded(self.sid, row.seq)
        if (
            row.kind == SLICE and row.duration is None
        ):  # a ledger row of an older version has none: measure it
            duration = await asyncio.to_thread(_probe_duration, row.backup_path)
            self.ledger.set_duration(self.sid, row.name, duration)
        with contextlib.suppress(OSError):
            await asyncio.to_thread(row.backup_path.unlink)
        if row.kind != SLICE:
            self._emit(FileUploaded(row.name, row.key, row.kind))

    def _render(self, rows: list[SliceRow], ended: bool) -> bytes:
        # The target covers every slice recorded so far, listed or not, so that it does
        # not grow as the uploads catch up.
        target = max([self._target_duration] + [round(r.duration) for r in rows if r.duration])
        playlist = Playlist(target_duration=target)
        gap = False
        for row in rows:  # the uploaded prefix: a gap would break playback order
            if row.lost:  # never coming: the playlist goes on after it
                gap = True
                continue
            if not row.uploaded or row.duration is None:
                break
            playlist.entries.append(PlaylistEntry(row.name, row.duration, gap or row.discontinuity))
            gap = False
        playlist.ended = ended
        return playlist.render().encode()

    def _report_backed_up(self) -> None:
        state = self.ledger.upload(self.sid)
        ended = self._ended or (state is not None and state.ended)
        if ended and not self._backed_up_reported and self.pending:
            self._backed_up_reported = True
            self._emit(BackedUp(self.pending))


def _folder_gone(folder: Path) -> StorageError:
    return StorageError(f"the backup folder {folder} is not there (retrying)")


def _keep(source: Path, backup: Path) -> int:
    """Hard-link (or copy) ``source`` to ``backup`` and make it durable; its size."""
    backup.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        backup.unlink()
    try:
        os.link(source, backup)
    except OSError:
        shutil.copyfile(source, backup)
    fd = os.open(backup, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    dir_fd = os.open(backup.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return backup.stat().st_size


def _probe_duration(path: Path) -> float:
    """Duration of a slice file, read from its streams."""
    import av

    with av.open(str(path)) as container:
        if container.duration is not None:
            return float(container.duration) / 1_000_000
        return max(
            float(s.duration * s.time_base) for s in container.streams if s.duration and s.time_base
        )
