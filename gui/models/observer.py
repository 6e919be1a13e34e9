"""The SDK observer of the window: turns callbacks into updates of the recordings model.

The SDK calls these methods on the asyncio loop, which is the Qt thread (qasync), so
the model is updated directly. Failures and fatal errors are also announced as Qt
signals: the window logs them in the event log and opens the remedy dialog.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal

from core.errors import ErrorCode
from gui.models.recordings import RecordingsModel, RowState


class TableObserver(QObject):
    """``CloudRecorderObserver`` for every recorder of the window."""

    event_logged = Signal(str, str)
    """(recording id, text) for the event log."""
    failure = Signal(str, str, int, str)
    """(recording id, "recorder" | "uploader", code, message)."""
    fatal_error = Signal(str, int)
    """(recording id, code)."""

    def __init__(self, model: RecordingsModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model

    def _log(self, recording_id: str, text: str, **changes: object) -> None:
        self.model.update(recording_id, last_event=text, **changes)
        self.event_logged.emit(recording_id, text)

    def on_recording_connecting(self, recording_id: str) -> None:
        self._log(recording_id, self.tr("connecting"), state=RowState.CONNECTING)

    def on_recording_started(self, recording_id: str) -> None:
        row = self.model.row(recording_id)
        # a reattached recording keeps the start the server gave (issue 28, item 6: its
        # duration began again from 0)
        started = row.started_at if row is not None and row.started_at is not None else None
        self._log(
            recording_id,
            self.tr("started"),
            state=RowState.RECORDING,
            started_at=started if started is not None else time.monotonic(),
        )

    def on_recording_stopped(self, recording_id: str) -> None:
        row = self.model.row(recording_id)
        state = RowState.STOPPED
        if row is not None and row.state in (RowState.UPLOADED, RowState.BACKED_UP):
            state = row.state
        self._log(recording_id, self.tr("stopped"), state=state, ended_at=time.monotonic())

    def on_recording_uploaded(self, recording_id: str, file_name: str) -> None:
        self._log(
            recording_id,
            self.tr("uploaded: {0}").format(file_name),
            state=RowState.UPLOADED,
            progress=100,
            playlist=file_name,
        )

    def on_recording_backed_up(self, recording_id: str, file_name: str) -> None:
        self._log(
            recording_id,
            self.tr("kept in the local backup, retrying: {0}").format(file_name),
            state=RowState.BACKED_UP,
            playlist=file_name,
        )

    def on_recording_uploading_progress(
        self, recording_id: str, progress: int, playlist: str
    ) -> None:
        changes: dict[str, object] = {"progress": max(0, min(100, int(progress)))}
        if playlist:
            changes["playlist"] = playlist
        self._log(recording_id, self.tr("uploaded {0}%").format(int(progress)), **changes)

    def on_recording_snapshot(self, recording_id: str, file_name: str) -> None:
        # The event log only: the row's thumbnail comes from the controller's poll.
        self.event_logged.emit(recording_id, self.tr("snapshot stored: {0}").format(file_name))

    def on_stream_state(self, recording_id: str, url: str, state: str, error: str) -> None:
        # url is masked by the server: the key is never in the window's log or row
        text = self.tr("live stream {0}: {1}").format(url, state)
        if error:
            text += f" ({error})"
        self._log(recording_id, text)

    def on_recorder_failure(self, recording_id: str, code: ErrorCode, msg: str) -> None:
        code = ErrorCode(code)
        self._log(
            recording_id,
            self.tr("recorder: {0} ({1}): {2}").format(code.name, int(code), msg),
            failed=True,
            error_code=int(code),
        )
        self.failure.emit(recording_id, "recorder", int(code), msg)

    def on_uploader_failure(self, recording_id: str, code: ErrorCode, msg: str) -> None:
        code = ErrorCode(code)
        self._log(
            recording_id,
            self.tr("uploader: {0} ({1}): {2}").format(code.name, int(code), msg),
            failed=True,
            error_code=int(code),
        )
        self.failure.emit(recording_id, "uploader", int(code), msg)

    def on_recording_fatal_error(self, recording_id: str, code: ErrorCode) -> None:
        code = ErrorCode(code)
        self._log(
            recording_id,
            self.tr("fatal error: {0} ({1})").format(code.name, int(code)),
            state=RowState.FAILED,
            failed=True,
            error_code=int(code),
            ended_at=time.monotonic(),
        )
        self.fatal_error.emit(recording_id, int(code))
