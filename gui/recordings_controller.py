"""The window's recordings: one SDK recorder per row, and what happens to it.

:class:`RecordingsController` starts, stops, releases and reattaches recorders
through the SDK (``create_cloud_recorder``) and keeps the recordings model: SDK
callbacks arrive at its :class:`TableObserver`, which updates the rows. Errors come
back to the caller (a failed start or stop) or as the :attr:`fatal_error` signal;
the window decides which dialog to show. Every second it asks the server for the
figures of the recordings whose files are not all stored (slices written and stored,
size, output rate, dropped frames, where the files are) and for the live picture of
those that record. A server without those figures: sizes of local recordings are
summed off the GUI thread, at most every 2 s per recording and once more when uploaded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from core.config import TranscodingConfig
from core.enums import RecordingStreamType
from core.errors import CloudRecordingError, ErrorCode
from core.notices import service_state
from core.sdk.recorder import CloudRecorder, create_cloud_recorder
from core.selection import lists_for_update
from gui.forms.new_recording import StartRequest
from gui.models.observer import TableObserver
from gui.models.recordings import (
    RecordingRow,
    RecordingsModel,
    RowState,
    local_path,
    picture_and_thumbnail,
    recording_size,
    thumbnail,
)
from gui.server_connection import ServerConnection
from gui.server_pool import ServerPool
from gui.tasks import spawn
from gui.widgets.rate_plot import PLOT_SECONDS

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate

RecorderFactory = Callable[..., CloudRecorder]
SIZE_INTERVAL = 2.0
"""Seconds between two sums of a recording's files while it records."""
DETAILS_INTERVAL = 1.0
"""Seconds between two asks for the server's figures of each recording this window
follows (slices written and stored, bytes, dropped frames, where its files are)."""
SNAPSHOT_INTERVAL = 2.0
"""Seconds between two asks for the newest snapshot of each recording that takes them
(an ask for the one already shown is answered 304, without the picture)."""


@dataclass(frozen=True)
class Started:
    """The outcome of :meth:`RecordingsController.start`."""

    recording_id: str
    failure: CloudRecordingError | None = None


class RecordingsController(QObject):
    """Recorders of the window and the model of their rows."""

    message = Signal(str, bool)
    """(text, is an error) for the event log."""
    fatal_error = Signal(str, int)
    """(recording id, error code): the recording ended; the remedy dialog should open."""
    attachment_changed = Signal()
    """A recorder was attached or released: actions that need one may change."""

    def __init__(
        self,
        connection: ServerConnection,
        recorder_factory: RecorderFactory = create_cloud_recorder,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.connection = connection
        """The window's own server (the servers' first)."""
        self.servers: ServerPool | None = None
        """The window's servers, its own and further remote ones, when it holds several
        (set by the window); without it every recording is on :attr:`connection`."""
        self.recorder_factory = recorder_factory
        """Makes a recorder: ``(observer, server=URL, token=TOKEN) -> CloudRecorder``."""
        self.model = RecordingsModel(self)
        self.observer = TableObserver(self.model, self)
        self._recorders: dict[str, CloudRecorder] = {}
        self._requests: dict[str, StartRequest] = {}
        self._size_checked: dict[str, float] = {}
        self._background = False
        self.ticker = QTimer(self)
        """Ticks the durations of running recordings once a second; stopped on quit."""
        self.ticker.setInterval(1000)
        self.ticker.timeout.connect(self.model.tick)
        self.ticker.start()
        self._asking_snapshots = False
        self.snapshot_poll = QTimer(self)
        """Asks for the newest snapshots every :data:`SNAPSHOT_INTERVAL` while a recording
        that takes them is active (started on a start or reattach, stops by itself)."""
        self.snapshot_poll.setInterval(round(SNAPSHOT_INTERVAL * 1000))
        self.snapshot_poll.timeout.connect(self._on_snapshot_poll)
        self._asking_details = False
        self._bytes_seen: dict[str, tuple[float, int]] = {}
        """Each recording's (media seconds, bytes) stored when its rate was last taken."""
        self._settled: set[str] = set()
        """Rows whose figures were read after they reached their final state."""
        self._tasks: set[asyncio.Task[None]] = set()
        """Reads the controller started (sizes, figures, pictures): cancelled by
        :meth:`stop_reading`, so none writes into a model a closed window deleted."""
        self.clock: Callable[[], float] = time.monotonic
        """The clock the output rate is measured on (a test sets its own)."""
        self.details_poll = QTimer(self)
        """Asks the server for the figures of the recordings it still has to finish
        every :data:`DETAILS_INTERVAL` (started on a start or reattach, stops by itself)."""
        self.details_poll.setInterval(round(DETAILS_INTERVAL * 1000))
        self.details_poll.timeout.connect(self._on_details_poll)
        self.observer.event_logged.connect(self._on_event)
        self.observer.failure.connect(self._on_failure)
        self.observer.fatal_error.connect(self._on_fatal_error)

    # ------------------------------------------------------------------ reading
    def recorder(self, rid: str) -> CloudRecorder | None:
        """The attached recorder of a row, None once released."""
        return self._recorders.get(rid)

    def recorders(self) -> list[CloudRecorder]:
        """Every attached recorder."""
        return list(self._recorders.values())

    def request(self, rid: str) -> StartRequest | None:
        """The start request of a recording this window started (to start it again)."""
        return self._requests.get(rid)

    def active(self) -> list[str]:
        """Ids of attached recordings that still record (or are about to)."""
        return [
            rid
            for rid in self._recorders
            if (row := self.model.row(rid)) is not None and row.state.active
        ]

    @property
    def background(self) -> bool:
        """Some recording was released to record on after the window has closed."""
        return self._background

    # ------------------------------------------------------------------ commands
    def connection_of(self, rid: str) -> ServerConnection:
        """The connection of the server recording ``rid`` runs on."""
        row = self.model.row(rid)
        if row is not None and row.server and self.servers is not None:
            found = self.servers.get(row.server)
            if found is not None:
                return found
        return self.connection

    def _new_recorder(self, connection: ServerConnection) -> CloudRecorder:
        recorder = self.recorder_factory(
            self.observer, server=connection.url, token=connection.token
        )
        self._recorders[recorder.recording_id] = recorder
        return recorder

    async def start(
        self, request: StartRequest, connection: ServerConnection | None = None
    ) -> Started:
        """Start one recording in a new row, on ``connection``'s server (the window's own
        by default); a failure is on the row and returned."""
        connection = connection or self.connection
        recorder = self._new_recorder(connection)
        rid = recorder.recording_id
        self._requests[rid] = request
        server = connection.remote_url or ""
        self.model.add(RecordingRow(rid, request.channel, storage=request.storage, server=server))
        self.attachment_changed.emit()
        self._log(
            translate("MainWindow", "Starting a recording of channel {0}").format(request.channel)
        )
        try:
            await recorder.start(
                request.app_id,
                request.channel,
                request.token,
                request.uid,
                request.recording,
                request.storage,
            )
        except CloudRecordingError as exc:
            self.model.update(
                rid,
                state=RowState.FAILED,
                failed=True,
                error_code=int(exc.code),
                last_event=str(exc),
            )
            self._log(translate("MainWindow", "Start failed: {0}").format(exc), error=True)
            return Started(rid, exc)
        self.model.update(rid, sid=str(getattr(recorder, "sid", "") or ""))
        self._poll_snapshots()
        self._poll_details()
        return Started(rid)

    async def stop(self, rid: str) -> CloudRecordingError | None:
        """Stop one recording (it is then uploaded); a failure is returned."""
        recorder = self._recorders.get(rid)
        if recorder is None:
            return None
        self.model.update(rid, state=RowState.STOPPING)
        try:
            await recorder.stop()
        except CloudRecordingError as exc:
            self.model.update(rid, state=RowState.RECORDING, last_event=str(exc))
            return exc
        return None

    async def update_subscription(
        self, rid: str, lists: dict[str, tuple[str, ...] | None], fallback: RecordingStreamType
    ) -> CloudRecordingError | None:
        """Give recording ``rid`` the stream selection of ``lists`` (the Recording tab's
        four lists, as at start) from now on; a failure is returned. The stream types
        are those it was started with (``fallback`` for one reattached)."""
        recorder = self._recorders.get(rid)
        if recorder is None:
            return None
        request = self.request(rid)
        types = request.recording.recording_stream_types if request is not None else fallback
        try:
            await recorder.update_subscription(**lists_for_update(types, lists))
        except CloudRecordingError as exc:
            self._log(translate("MainWindow", "Update failed: {0}").format(exc), error=True)
            return exc
        shown = ", ".join(f"{k}={list(v)}" for k, v in lists.items() if v is not None)
        self.model.update(rid, last_event=translate("MainWindow", "subscription updated"))
        self._log(
            translate("MainWindow", "Updated whom the recording takes: {0}").format(
                shown or translate("MainWindow", "everyone")
            )
        )
        return None

    async def update_layout(
        self, rid: str, transcoding: TranscodingConfig
    ) -> CloudRecordingError | None:
        """Give recording ``rid`` the layout of ``transcoding`` (its layout, regions,
        max-resolution user, background colour, render mode) from now on; a failure is
        returned."""
        recorder = self._recorders.get(rid)
        if recorder is None:
            return None
        try:
            await recorder.update_layout(
                transcoding.layout,
                transcoding.max_resolution_uid,
                transcoding.background_color,
                layout_config=transcoding.layout_config,
                render_mode=transcoding.render_mode,
            )
        except CloudRecordingError as exc:
            self._log(translate("MainWindow", "Layout not applied: {0}").format(exc), error=True)
            return exc
        self.model.update(rid, last_event=translate("MainWindow", "layout updated"))
        self._log(
            translate("MainWindow", "Applied the layout {0} with {1} regions").format(
                transcoding.layout.name, len(transcoding.layout_config)
            )
        )
        return None

    async def release(self, rid: str, *, cancel: bool) -> None:
        """``release(cancel)`` one recorder; the row says what became of the recording."""
        recorder = self._recorders.pop(rid, None)
        if recorder is None:
            return
        row = self.model.row(rid)
        was_active = row is not None and row.state in (RowState.RECORDING, RowState.CONNECTING)
        try:
            await recorder.release(cancel=cancel)
        except CloudRecordingError as exc:
            self.model.update(rid, failed=True, last_event=str(exc))
            self._log(translate("MainWindow", "Release failed: {0}").format(exc), error=True)
            return
        if not cancel and was_active:
            self._background = True
            self.model.update(
                rid,
                state=RowState.BACKGROUND,
                last_event=translate("MainWindow", "released; recording on"),
            )
        elif row is not None and row.state not in (
            RowState.UPLOADED,
            RowState.BACKED_UP,
            RowState.FAILED,
        ):
            self.model.update(
                rid,
                state=RowState.RELEASED,
                ended_at=row.ended_at or time.monotonic(),
                last_event=translate("MainWindow", "released and cancelled")
                if cancel
                else translate("MainWindow", "released"),
            )
        self.attachment_changed.emit()

    def forget(self, rid: str) -> bool:
        """Take a finished recording's row off the list (issue 28, item 12); its files
        stay. False (nothing done) while the window holds its recorder."""
        if rid in self._recorders:
            return False
        self._requests.pop(rid, None)
        self.model.remove(rid)
        self.attachment_changed.emit()
        return True

    async def release_all(self) -> None:
        """Release every recorder without cancelling (on quit) and stop the ticker."""
        for rid in list(self._recorders):
            await self.release(rid, cancel=False)
        self.stop_reading()

    def stop_reading(self) -> None:
        """Stop the ticker and the polls and cancel the reads under way (on close)."""
        self.ticker.stop()
        self.snapshot_poll.stop()
        self.details_poll.stop()
        for task in list(self._tasks):
            task.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = spawn(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reattach(self) -> None:
        """Show again the recordings the servers still run or still upload."""
        servers = self.servers.connections() if self.servers is not None else [self.connection]
        for connection in servers:
            await self._reattach_to(connection)
        self._poll_snapshots()
        self._poll_details()
        self.attachment_changed.emit()

    async def _reattach_to(self, connection: ServerConnection) -> None:
        if connection.url is None:
            return
        server = connection.remote_url or ""
        try:
            listed = await connection.recordings()
        except CloudRecordingError as exc:
            self._log(
                translate("MainWindow", "Cannot list the server's recordings: {0}").format(exc),
                error=True,
            )
            return
        known = {getattr(r, "sid", None) for r in self._recorders.values()}
        known |= {row.sid for row in self.model.rows() if row.sid}
        for item in listed:
            if item["sid"] in known:
                continue
            if item.get("finished"):
                self._add_finished(item, server)
                continue
            recorder = self._new_recorder(connection)
            rid = recorder.recording_id
            self.model.add(
                RecordingRow(
                    rid,
                    item["cname"],
                    sid=item["sid"],
                    server=server,
                    playlist=item.get("fileList") or "",
                    files_at=item.get("location") or "",
                    started_at=_monotonic_of(item.get("createdAt")),
                )
            )
            try:
                await recorder.attach(
                    item["appId"], item["resourceId"], item["sid"], item["cname"], int(item["uid"])
                )
            except CloudRecordingError as exc:
                self.model.update(rid, state=RowState.FAILED, failed=True, last_event=str(exc))
                continue
            self._log(
                translate("MainWindow", "Reattached to the recording of channel {0}").format(
                    item["cname"]
                )
            )

    def _add_finished(self, item: dict[str, Any], server: str = "") -> None:
        """A row for a recording the server finished before this window saw it end (a
        restarted window): no recorder to attach, but its files can be found, played,
        copied and measured."""
        uploaded = item.get("uploadingStatus") == "uploaded"
        row = RecordingRow(
            item["sid"],  # its id in this table too: no SDK recorder has one for it
            item["cname"],
            state=RowState.UPLOADED if uploaded else RowState.STOPPED,
            sid=item["sid"],
            server=server,
            playlist=item.get("fileList") or "",
            files_at=item.get("location") or "",
            progress=100 if uploaded else None,
            last_event=translate("MainWindow", "finished before this window started"),
        )
        self.model.add(row)
        if row.playlist:
            self._spawn(self._refresh_size(row.recording_id, row.location))

    # ------------------------------------------------------------------ figures
    def _poll_details(self) -> None:
        if self._details_targets() and not self.details_poll.isActive():
            self.details_poll.start()

    def _on_details_poll(self) -> None:
        if not self._details_targets():
            self.details_poll.stop()
        elif not self._asking_details:
            self._spawn(self.refresh_details())

    def _details_targets(self) -> list[tuple[str, str]]:
        """(row id, sid) of the attached recordings whose files are not all stored yet,
        whose location is not known yet, or whose figures were not read since they ended
        (the last slice may come after the previous read)."""
        targets = []
        for rid in self._recorders:
            row = self.model.row(rid)
            if row is None or not row.sid:
                continue
            unfinished = not _final(row.state) or rid not in self._settled
            if unfinished or not row.files_at or row.slices_stored != row.slices_kept:
                targets.append((rid, row.sid))
        return targets

    async def refresh_details(self) -> None:
        """Put the server's figures of each followed recording in its row: where its
        files are, slices written and stored, size, output rate and dropped frames (from
        the first slice on, whatever the progress callback's interval)."""
        self._asking_details = True
        try:
            for rid, sid in self._details_targets():
                ended = self.model.row(rid)
                ended_before = ended is not None and _final(ended.state)
                try:
                    item = await self.connection_of(rid).recording(sid)
                except CloudRecordingError:
                    continue  # a lost server is reported elsewhere; asked again next time
                if ended_before:  # read after it ended: these are its last figures
                    self._settled.add(rid)
                if item is not None:
                    self._show_details(rid, item)
                row = self.model.row(rid)
                if row is not None and row.state is RowState.RECORDING:
                    await self._refresh_picture(rid, sid, row.picture_etag or None)
        finally:
            self._asking_details = False

    async def _refresh_picture(self, rid: str, sid: str, etag: str | None) -> None:
        """The recording's newest composed picture in its row (the server's ``preview``):
        the row's thumbnail and the selected recording's live view."""
        try:
            picture = await self.connection_of(rid).preview(sid, etag)
        except CloudRecordingError:
            return  # none now (audio only, not composing yet); asked again next time
        if picture is None:
            return  # still the one shown
        loop = asyncio.get_running_loop()
        images = await loop.run_in_executor(None, picture_and_thumbnail, picture.data)
        if images is not None:
            self.model.update(
                rid, live_picture=images[0], live_thumbnail=images[1], picture_etag=picture.etag
            )

    def _show_details(self, rid: str, item: dict[str, Any]) -> None:
        payload = service_state(item.get("serverResponse") or {})
        changes: dict[str, Any] = {}
        if item.get("location"):
            changes["files_at"] = str(item["location"])
        row = self.model.row(rid)
        if item.get("fileList") and row is not None and not row.playlist:
            changes["playlist"] = str(item["fileList"])
        if "keptSlices" in payload:  # a server older than these figures has none
            changes["slices_kept"] = int(payload["keptSlices"])
            changes["slices_stored"] = int(payload["storedSlices"])
            changes["size_bytes"] = int(payload["keptBytes"])
            changes["stored_bytes"] = int(payload["storedBytes"])
        if "droppedFrames" in payload:
            changes["dropped_frames"] = int(payload["droppedFrames"])
        if isinstance(payload.get("levels"), dict):
            changes["levels"] = {int(u): float(db) for u, db in payload["levels"].items()}
        if row is not None and not row.state.active:
            changes["bitrate_kbps"] = None  # it records no more
        elif "bytes" in payload and row is not None:
            backlog = changes.get("slices_kept", 0) - changes.get("slices_stored", 0)
            seconds = float(payload.get("duration") or 0.0)
            changes.update(self._rate(row, int(payload["bytes"]), seconds, backlog))
        if changes:
            self.model.update(rid, **changes)

    def _rate(
        self, row: RecordingRow, recorded: int, media_seconds: float, backlog: int
    ) -> dict[str, Any]:
        """The output rate, bits of the slices stored since the last growth over their
        media seconds (the server counts whole slices: a rate per wall-clock second
        would spike when one closes and read 0 between), kept until the next slice; and
        the plot's history with it and ``backlog``, a point per ask at least half a
        second apart."""
        now = self.clock()
        if row.history and now - row.history[-1][0] < 0.5:
            return {}
        seen = self._bytes_seen.get(row.recording_id, (0.0, 0))
        kbps = row.bitrate_kbps
        if media_seconds > seen[0] and recorded >= seen[1]:
            kbps = (recorded - seen[1]) * 8 / 1000 / (media_seconds - seen[0])
        if media_seconds != seen[0]:
            self._bytes_seen[row.recording_id] = (media_seconds, recorded)
        if kbps is None:
            return {}
        recent = [s for s in row.history if now - s[0] <= PLOT_SECONDS]
        return {"bitrate_kbps": kbps, "history": (*recent, (now, kbps, backlog))}

    # ------------------------------------------------------------------ snapshots
    def _poll_snapshots(self) -> None:
        if self._snapshot_targets() and not self.snapshot_poll.isActive():
            self.snapshot_poll.start()

    def _on_snapshot_poll(self) -> None:
        if not self._snapshot_targets():
            self.snapshot_poll.stop()  # nothing takes snapshots now: a start starts it again
        elif not self._asking_snapshots:  # a slow server: one round at a time
            self._spawn(self.refresh_snapshots())

    def _snapshot_targets(self) -> list[tuple[str, str]]:
        """(row id, sid) of the active recordings that take snapshots (one reattached may:
        it is asked too)."""
        targets = []
        for rid, recorder in self._recorders.items():
            row, request = self.model.row(rid), self._requests.get(rid)
            sid = getattr(recorder, "sid", None)
            takes = request is None or request.recording.snapshot_config is not None
            if row is not None and row.state.active and sid and takes:
                targets.append((rid, str(sid)))
        return targets

    async def refresh_snapshots(self) -> None:
        """Show the newest snapshot of every active recording that takes them in its row
        (the server's ``/v1/cloudrec/recordings/{sid}/snapshot``: the storage may be
        remote). A recording without one yet, or a server away, is asked again next time."""
        self._asking_snapshots = True
        try:
            for rid, sid in self._snapshot_targets():
                row = self.model.row(rid)
                etag = f'"{row.snapshot_name}"' if row is not None and row.snapshot_name else None
                try:
                    shot = await self.connection_of(rid).snapshot(sid, etag)
                except CloudRecordingError:
                    continue  # 404 until its first snapshot; a lost server is reported elsewhere
                if shot is None:
                    continue  # still the one shown
                loop = asyncio.get_running_loop()
                image = await loop.run_in_executor(None, thumbnail, shot.data)
                if image is not None:
                    self.model.update(rid, snapshot=image, snapshot_name=shot.name)
        finally:
            self._asking_snapshots = False

    # ------------------------------------------------------------------ callbacks
    def _log(self, text: str, error: bool = False) -> None:
        self.message.emit(text, error)

    def _shown_id(self, rid: str) -> str:
        """The id the log shows for row ``rid``: the sid its files are named with (the
        table's id too) as soon as the server gave one, which is before the started
        callback (the row gets it when start returns, after); until then (connecting,
        a failed start) the channel's name, never a second id."""
        row = self.model.row(rid)
        recorder = self._recorders.get(rid)
        sid = (row.sid if row is not None else "") or getattr(recorder, "sid", None)
        if sid:
            return sid
        return row.channel if row is not None else rid

    def _on_event(self, rid: str, text: str) -> None:
        self._log(f"{self._shown_id(rid)[:8]}  {text}")
        row = self.model.row(rid)
        if row is None or not row.playlist or row.slices_kept is not None:
            return  # the server's figures give the size (refresh_details)
        now = time.monotonic()
        final = row.state in (RowState.UPLOADED, RowState.BACKED_UP)  # the last size counts
        if final or now - self._size_checked.get(rid, 0.0) >= SIZE_INTERVAL:
            self._size_checked[rid] = now
            self._spawn(self._refresh_size(rid, row.location))

    async def _refresh_size(self, rid: str, location: str) -> None:
        path = local_path(location)
        if path is None:
            return
        size = await asyncio.get_running_loop().run_in_executor(None, recording_size, path)
        if size is not None:
            self.model.update(rid, size_bytes=size)

    def _on_failure(self, rid: str, kind: str, code: int, message: str) -> None:
        name = ErrorCode(code).name
        text = (
            translate("MainWindow", "Recorder failure in {0}: {1}: {2}")
            if kind == "recorder"
            else translate("MainWindow", "Uploader failure in {0}: {1}: {2}")
        )
        self._log(text.format(self._shown_id(rid), name, message), error=True)

    def _on_fatal_error(self, rid: str, code: int) -> None:
        self._log(
            translate("MainWindow", "Fatal error in recording {0}: {1}").format(
                self._shown_id(rid), ErrorCode(code).name
            ),
            error=True,
        )
        self.fatal_error.emit(rid, code)


def _monotonic_of(created_at: object) -> float | None:
    """The ``time.monotonic()`` reading of a server's wall-clock time (seconds since the
    epoch), for a row's duration; None when the server gave none."""
    if not isinstance(created_at, int | float):
        return None
    return time.monotonic() - max(0.0, time.time() - float(created_at))


def _final(state: RowState) -> bool:
    """Whether a row's recording writes and stores no more files."""
    return state in (RowState.UPLOADED, RowState.FAILED, RowState.RELEASED)
