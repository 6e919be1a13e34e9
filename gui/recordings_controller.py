"""The window's recordings: one SDK recorder per row, and what happens to it.

:class:`RecordingsController` starts, stops, releases and reattaches recorders
through the SDK (``create_cloud_recorder``) and keeps the recordings model: SDK
callbacks arrive at its :class:`TableObserver`, which updates the rows. Errors come
back to the caller (a failed start or stop) or as the :attr:`fatal_error` signal;
the window decides which dialog to show. Sizes of local recordings are summed off the
GUI thread, at most every 2 s per recording and once more when it is uploaded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from core.enums import RecordingStreamType
from core.errors import CloudRecordingError, ErrorCode
from core.sdk.recorder import CloudRecorder, create_cloud_recorder
from core.selection import lists_for_update
from gui.forms.new_recording import StartRequest
from gui.models.observer import TableObserver
from gui.models.recordings import (
    RecordingRow,
    RecordingsModel,
    RowState,
    local_path,
    recording_size,
    thumbnail,
)
from gui.server_connection import ServerConnection
from gui.tasks import spawn

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate

RecorderFactory = Callable[..., CloudRecorder]
SIZE_INTERVAL = 2.0
"""Seconds between two sums of a recording's files while it records."""
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
    def _new_recorder(self) -> CloudRecorder:
        recorder = self.recorder_factory(
            self.observer, server=self.connection.url, token=self.connection.token
        )
        self._recorders[recorder.recording_id] = recorder
        return recorder

    async def start(self, request: StartRequest) -> Started:
        """Start one recording in a new row; a failure is on the row and returned."""
        recorder = self._new_recorder()
        rid = recorder.recording_id
        self._requests[rid] = request
        self.model.add(RecordingRow(rid, request.channel, storage=request.storage))
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
        self._poll_snapshots()
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

    async def release_all(self) -> None:
        """Release every recorder without cancelling (on quit) and stop the ticker."""
        for rid in list(self._recorders):
            await self.release(rid, cancel=False)
        self.ticker.stop()
        self.snapshot_poll.stop()

    async def reattach(self) -> None:
        """Show again the recordings the server still runs or still uploads."""
        if self.connection.url is None:
            return
        try:
            listed = await self.connection.recordings()
        except CloudRecordingError as exc:
            self._log(
                translate("MainWindow", "Cannot list the server's recordings: {0}").format(exc),
                error=True,
            )
            return
        known = {getattr(r, "sid", None) for r in self._recorders.values()}
        for item in listed:
            if item.get("finished") or item["sid"] in known:
                continue
            recorder = self._new_recorder()
            rid = recorder.recording_id
            self.model.add(RecordingRow(rid, item["cname"]))
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
        self._poll_snapshots()
        self.attachment_changed.emit()

    # ------------------------------------------------------------------ snapshots
    def _poll_snapshots(self) -> None:
        if self._snapshot_targets() and not self.snapshot_poll.isActive():
            self.snapshot_poll.start()

    def _on_snapshot_poll(self) -> None:
        if not self._snapshot_targets():
            self.snapshot_poll.stop()  # nothing takes snapshots now: a start starts it again
        elif not self._asking_snapshots:  # a slow server: one round at a time
            spawn(self.refresh_snapshots())

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
                    shot = await self.connection.snapshot(sid, etag)
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

    def _on_event(self, rid: str, text: str) -> None:
        self._log(f"{rid[:8]}  {text}")
        row = self.model.row(rid)
        if row is None or not row.playlist:
            return
        now = time.monotonic()
        final = row.state in (RowState.UPLOADED, RowState.BACKED_UP)  # the last size counts
        if final or now - self._size_checked.get(rid, 0.0) >= SIZE_INTERVAL:
            self._size_checked[rid] = now
            spawn(self._refresh_size(rid, row.location))

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
        self._log(text.format(rid, name, message), error=True)

    def _on_fatal_error(self, rid: str, code: int) -> None:
        self._log(
            translate("MainWindow", "Fatal error in recording {0}: {1}").format(
                rid, ErrorCode(code).name
            ),
            error=True,
        )
        self.fatal_error.emit(rid, code)
