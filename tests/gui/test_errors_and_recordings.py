"""Recordings in the window: rows driven by SDK callbacks, error dialogs with remedies,
closing with active recordings."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QPushButton

from core.errors import ErrorCode
from core.sdk.recorder import create_cloud_recorder
from gui.dialogs.close_dialog import CloseDialog
from gui.dialogs.error_dialog import ErrorDialog, RemedyAction
from gui.keyring_store import EMBEDDED_SERVER_ENTRY, SERVICE
from gui.models.recordings import PROGRESS_ROLE, RecordingsModel, RowState, recording_size
from gui.widgets.event_log import ERROR_COLOUR, EventLog
from gui.widgets.progress_delegate import bar_text
from tests.helpers import wait_until

from .conftest import FakeRecorderFactory, FakeServer, ScopedSecretService

FAILED_ROW = QColor(255, 221, 216)
"""The background of a row whose recorder or uploader failed (gui/models/recordings.py)."""


async def _start(window: Any) -> str:
    request = window.panel.request()
    assert request is not None
    rid = await window.start_recording(request)
    assert rid is not None
    return rid


def _label(dialog: ErrorDialog, name: str) -> str:
    label = dialog.findChild(QLabel, name)
    assert label is not None
    return label.text()


def _log_lines(log: EventLog) -> list[tuple[str, str | None]]:
    """Each line of the event log after its time (runs of spaces as one, as the log's
    HTML shows them) and its text colour (None: the default)."""
    lines = []
    block = log.document().firstBlock()
    while block.isValid():
        fragment = next(iter(block), None)
        colour = None
        if fragment is not None:
            brush = fragment.fragment().charFormat().foreground()
            if brush.style() != Qt.BrushStyle.NoBrush:
                colour = brush.color().name()
        stamp, text = block.text().split(maxsplit=1)
        assert re.fullmatch(r"\d\d:\d\d:\d\d", stamp), block.text()
        lines.append((text, colour))
        block = block.next()
    return lines


def _backgrounds(model: RecordingsModel, row: int) -> list[object]:
    """The background of each cell of a row."""
    return [
        model.data(model.index(row, column), Qt.ItemDataRole.BackgroundRole)
        for column in range(model.columnCount())
    ]


async def test_callbacks_drive_the_row(window: Any, recorder_factory: FakeRecorderFactory) -> None:
    rid = await _start(window)
    model: RecordingsModel = window.recordings.model
    row = model.row(rid)
    assert row is not None and row.state is RowState.RECORDING and row.channel == "demo"
    assert window.status_bar.active.text() == "Active: 1"
    assert window.status_bar.backlog.text() == "Upload backlog: 1"  # recording, 0 % uploaded
    assert _backgrounds(model, 0) == [None] * model.columnCount()
    observer = window.recordings.observer
    observer.on_recording_uploading_progress(rid, 40, "")
    index = model.index(0, RecordingsModel.UPLOAD)
    assert model.data(index, PROGRESS_ROLE) == 40
    assert model.data(index) == "40%"
    assert bar_text(index) == "40%"
    model.update(rid, slices_kept=6, slices_stored=5)  # the server's figures
    assert (model.data(index, PROGRESS_ROLE), bar_text(index)) == (83, "5/6 slices")
    model.update(rid, slices_kept=None, slices_stored=None)
    assert window.status_bar.backlog.text() == "Upload backlog: 1"
    observer.on_uploader_failure(rid, ErrorCode.UPLOADER_FAILED, "bucket unreachable")
    failed = model.row(rid)
    code = int(ErrorCode.UPLOADER_FAILED)
    assert failed is not None and failed.failed and failed.error_code == code
    assert failed.last_event == f"uploader: UPLOADER_FAILED ({code}): bucket unreachable"
    assert _backgrounds(model, 0) == [FAILED_ROW] * model.columnCount()  # the whole row
    # Failures are logged in red; the row's own events are not.
    # Lines name the recording by its sid (the table's id) from the start on, the
    # channel before the server gave one.
    lines = _log_lines(window.event_log)
    sid = window.recordings.recorder(rid).sid
    assert (f"Uploader failure in {sid}: UPLOADER_FAILED: bucket unreachable", ERROR_COLOUR) in (
        lines
    )
    assert (f"{sid[:8]} {failed.last_event}", None) in lines
    assert lines[1:3] == [("demo connecting", None), (f"{sid[:8]} started", None)]
    observer.on_recording_stopped(rid)
    observer.on_recording_uploaded(rid, "https://bucket.example/sid_demo.m3u8")
    row = model.row(rid)
    assert row is not None and row.state is RowState.UPLOADED and row.progress == 100
    assert row.playlist == "https://bucket.example/sid_demo.m3u8"
    window.recordings_view.table.selectRow(0)
    assert window.user_actions.play.isEnabled() and window.user_actions.copy.isEnabled()
    assert not window.user_actions.folder.isEnabled()  # a remote playlist has no local folder
    window.recordings_view.copy_location()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == row.playlist
    # feedback for Copy, and a Play no application answers (issue 28, item 14)
    assert _log_lines(window.event_log)[-1] == (f"Copied to the clipboard: {row.playlist}", None)
    asked: list[str] = []
    window.recordings_view.open_url = lambda url: asked.append(url.toString()) or False
    window.recordings_view.play()
    assert asked == [row.playlist]
    text, colour = _log_lines(window.event_log)[-1]
    assert colour == ERROR_COLOUR and text.startswith(
        f"No application on this computer opens {row.playlist}"
    )
    assert "VLC" in text
    window.panel.grab()
    window.recordings_view.table.grab()  # the progress bar delegate paints


async def test_fatal_error_dialog_restart_releases_with_cancel_and_starts_again(
    window: Any, recorder_factory: FakeRecorderFactory
) -> None:
    rid = await _start(window)
    first = recorder_factory.made[0]
    window.recordings.observer.on_recording_fatal_error(rid, ErrorCode.RECORDER_FAILED)
    await wait_until(lambda: window.error_dialog is not None)
    dialog: ErrorDialog = window.error_dialog
    code = int(ErrorCode.RECORDER_FAILED)
    assert _label(dialog, "error_code") == f"<b>RECORDER_FAILED</b> ({code})"  # name and number
    # the operator's action, not the SDK's call (issue 28, item 3)
    assert _label(dialog, "error_remedy") == (
        "What to do: cancel this recording and start it again (Cancel and start again)"
    )
    restart = dialog.findChild(QPushButton, "remedy_cancel_and_restart")
    assert restart is not None
    restart.click()
    await wait_until(lambda: len(recorder_factory.made) == 2)
    assert ("release", True) in first.calls
    assert recorder_factory.made[1].calls[0][0] == "start"
    assert recorder_factory.made[1].calls[0][1:5] == first.calls[0][1:5]  # the same start
    # the new attempt's row takes the failed one's place (issue 28, item 12: each retry
    # added a row)
    assert window.recordings.model.row(rid) is None
    assert window.recordings.model.rowCount() == 1


async def test_a_finished_row_can_be_removed_from_the_list(
    window: Any, recorder_factory: FakeRecorderFactory
) -> None:
    """Issue 28, item 12: Remove from list takes a failed (or uploaded, or released)
    row away; it is not offered while the window holds the recording."""
    rid = await _start(window)
    window.recordings_view.table.selectRow(0)
    acts = window.user_actions
    assert not acts.remove.isEnabled()  # recording, attached
    window.recordings.observer.on_recording_fatal_error(rid, ErrorCode.NO_USERS)
    await wait_until(lambda: window.error_dialog is not None)
    window.error_dialog.reject()  # closed without a remedy: the failed row stays
    await wait_until(lambda: window.error_dialog is None)
    await window.recordings.release(rid, cancel=False)
    window.recordings_view.table.selectRow(0)
    assert acts.remove.isEnabled()
    acts.remove.trigger()
    assert window.recordings.model.rowCount() == 0
    assert _log_lines(window.event_log)[-1][0].startswith("Removed the recording of channel")


async def test_fatal_error_dialog_release_keeps_the_cancel_flag_false(
    window: Any, recorder_factory: FakeRecorderFactory
) -> None:
    rid = await _start(window)
    window.recordings.observer.on_recording_fatal_error(rid, ErrorCode.NO_USERS)
    await wait_until(lambda: window.error_dialog is not None)
    dialog: ErrorDialog = window.error_dialog
    assert _label(dialog, "error_remedy") == (
        "What to do: release the recording (Release) to free it in this window"
    )
    assert RemedyAction.CANCEL_AND_RESTART not in dialog.buttons
    dialog.buttons[RemedyAction.RELEASE].click()
    await wait_until(lambda: ("release", False) in recorder_factory.made[0].calls)
    assert len(recorder_factory.made) == 1


def test_error_dialog_in_chinese_shows_the_seed_remedy(qtbot: Any) -> None:
    dialog = ErrorDialog(ErrorCode.CONNECT_ERROR, "boom", chinese=True)
    qtbot.addWidget(dialog)
    remedy = ErrorCode.CONNECT_ERROR.info.remedy_text_zh
    assert _label(dialog, "error_remedy") == f"What to do: {remedy}"  # no translator loaded
    assert _label(dialog, "error_message") == "boom"


async def test_an_uploader_that_could_not_start_offers_check_storage(
    window: Any, recorder_factory: FakeRecorderFactory
) -> None:
    """UPLOADER_INIT (a wrong key, bucket or region) says what to check on the Storage
    tab and offers Check storage, which cancels the failed recording, opens the Storage
    tab and runs Test storage; it does not offer to start again with the same settings
    (issue 28, item 3)."""
    rid = await _start(window)
    first = recorder_factory.made[0]
    window.recordings.observer.on_recording_fatal_error(rid, ErrorCode.UPLOADER_INIT)
    await wait_until(lambda: window.error_dialog is not None)
    dialog: ErrorDialog = window.error_dialog
    remedy = _label(dialog, "error_remedy")
    assert "Storage tab" in remedy and "secret key" in remedy and "release(" not in remedy
    assert RemedyAction.CANCEL_AND_RESTART not in dialog.buttons
    dialog.buttons[RemedyAction.CHECK_STORAGE].click()
    await wait_until(lambda: ("release", True) in first.calls)
    assert window.panel.tabs.currentWidget() is window.panel.storage_page
    await wait_until(lambda: window.profiles.status.text() not in ("", "Testing storage…"))
    assert len(recorder_factory.made) == 1  # nothing started again


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_failed_start_with_the_real_sdk_opens_the_dialog(window: Any) -> None:
    port = _closed_port()
    window.recordings.recorder_factory = create_cloud_recorder
    window.connection.use(f"http://127.0.0.1:{port}", "test-token", owned=True)
    task = window.on_start_clicked()  # the Start button's slot
    await wait_until(lambda: window.error_dialog is not None)
    dialog: ErrorDialog = window.error_dialog
    assert dialog.code is ErrorCode.CONNECT_ERROR
    assert str(port) in _label(dialog, "error_message")
    assert window.panel.start_button.isEnabled()  # busy state reset
    row = window.recordings.model.row_at(0)
    assert row is not None and row.state is RowState.FAILED and row.failed
    dialog.buttons[RemedyAction.RELEASE].click()
    await task
    assert window.recordings.recorder(row.recording_id) is None
    assert window.recordings.model.row_at(0).state is RowState.FAILED  # type: ignore[union-attr]


async def test_close_keeps_recordings_in_the_background(
    window: Any,
    recorder_factory: FakeRecorderFactory,
    fake_server: FakeServer,
    secret_service: ScopedSecretService,
) -> None:
    rid = await _start(window)
    task = window.on_close_requested()
    await wait_until(lambda: window.findChild(CloseDialog, "close_dialog") is not None)
    dialog = window.findChild(CloseDialog, "close_dialog")
    button = dialog.findChild(QPushButton, "close_background")
    button.click()
    await task
    assert ("release", False) in recorder_factory.made[0].calls
    assert fake_server.detached and not fake_server.stopped
    assert window.settings.embedded_server() == ("http://127.0.0.1:9", 4242)
    assert await window.keyring.get(EMBEDDED_SERVER_ENTRY) == "test-token"
    # in the OS keyring itself, where the next window's process finds it
    assert secret_service.get_password(SERVICE, EMBEDDED_SERVER_ENTRY) == "test-token"
    assert window.keyring.persistent is True
    assert window.recordings.model.row(rid).state is RowState.BACKGROUND  # type: ignore[union-attr]
    assert not window.isVisible()


async def test_close_can_stop_the_recordings(
    window: Any, recorder_factory: FakeRecorderFactory, fake_server: FakeServer
) -> None:
    await _start(window)
    task = window.on_close_requested()
    await wait_until(lambda: window.findChild(CloseDialog, "close_dialog") is not None)
    window.findChild(CloseDialog, "close_dialog").findChild(QPushButton, "close_stop").click()
    await task
    assert ("release", True) in recorder_factory.made[0].calls
    assert fake_server.stopped and not fake_server.detached
    assert window.settings.embedded_server() is None


async def test_without_a_keyring_close_does_not_offer_the_background(
    qtbot: Any,
    settings: Any,
    recorder_factory: FakeRecorderFactory,
    fake_server: FakeServer,
) -> None:
    """Issue 28, item 2: with no OS keyring the next window could not get the server's
    token, so closing offers Stop and Cancel only and says why; Stop stops them."""
    from keyring.backends import fail

    from gui.keyring_store import KeyringStore
    from gui.main_window import MainWindow

    store = KeyringStore(fail.Keyring())
    assert await store.probe() is False
    window = MainWindow(
        settings,
        store,
        recorder_factory=recorder_factory,
        embedded_server=fake_server,  # type: ignore[arg-type]
    )
    window.connection.use("http://127.0.0.1:9", "test-token", owned=True)
    try:
        await _start(window)
        task = window.on_close_requested()
        await wait_until(lambda: window.findChild(CloseDialog, "close_dialog") is not None)
        dialog = window.findChild(CloseDialog, "close_dialog")
        assert dialog.findChild(QPushButton, "close_background") is None
        assert "needs an OS keyring" in dialog.informativeText()
        dialog.findChild(QPushButton, "close_stop").click()
        await task
        assert ("release", True) in recorder_factory.made[0].calls
        assert fake_server.stopped and window.settings.embedded_server() is None
    finally:
        window.close_now()
        window.deleteLater()


async def test_close_can_be_cancelled(window: Any, recorder_factory: FakeRecorderFactory) -> None:
    await _start(window)
    task = window.on_close_requested()
    await wait_until(lambda: window.findChild(CloseDialog, "close_dialog") is not None)
    dialog = window.findChild(CloseDialog, "close_dialog")
    dialog.reject()
    await task
    assert not any(c[0] == "release" for c in recorder_factory.made[0].calls)
    assert window.recordings.recorder(recorder_factory.made[0].recording_id) is not None


async def test_stop_and_release_actions(window: Any, recorder_factory: FakeRecorderFactory) -> None:
    rid = await _start(window)
    window.recordings_view.table.selectRow(0)
    assert window.user_actions.stop.isEnabled()
    await window.on_stop()
    assert ("stop",) in recorder_factory.made[0].calls
    assert window.recordings.model.row(rid).state is RowState.STOPPED  # type: ignore[union-attr]
    await window.on_release_cancel()
    assert ("release", True) in recorder_factory.made[0].calls
    assert window.recordings.model.row(rid).state is RowState.RELEASED  # type: ignore[union-attr]
    assert not window.user_actions.release.isEnabled()


def test_recording_size_counts_a_channel_named_with_glob_characters(tmp_path: Path) -> None:
    """A channel name may hold "[", "]", "*" and "?": they are matched literally."""
    playlist = tmp_path / "sid_[a]*?b.m3u8"
    playlist.write_bytes(b"x" * 10)
    (tmp_path / "sid_[a]*?b_20261130000000000.ts").write_bytes(b"y" * 100)
    (tmp_path / "sid_ab_20261130000000000.ts").write_bytes(b"z" * 1000)  # another channel
    assert recording_size(playlist) == 110


@pytest.mark.parametrize(
    ("active", "demo", "text", "informative"),
    [
        (1, False, "A recording is still running.", "Stop it now"),
        (3, False, "3 recordings are still running.", "Stop them now"),
        (2, True, "2 recordings are still running.", "demo participants stop"),
    ],
)
def test_the_close_question_counts_in_words_and_warns_of_the_demo(
    qtbot: Any, active: int, demo: bool, text: str, informative: str
) -> None:
    """Issue 28, item 14: whole sentences for one and for more recordings (not
    "1 recording(s)"), and the demo participants' end said when they run."""
    dialog = CloseDialog(active, demo_running=demo)
    qtbot.addWidget(dialog)
    assert dialog.text() == text
    assert informative in dialog.informativeText()
    assert ("demo participants" in dialog.informativeText()) is demo


async def test_the_event_log_is_saved_where_chosen_and_cleared(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 28, item 14: Save log as… writes every line (UTF-8) where the operator
    chose and says so; Clear log empties it."""
    import gui.widgets.event_log as event_log

    log = EventLog()
    qtbot.addWidget(log)
    log.log("first")
    log.log("录制失败", True)
    target = tmp_path / "events.txt"
    chosen: list[Any] = []

    async def choose(parent: Any) -> Path:
        chosen.append(parent)
        return target

    monkeypatch.setattr(event_log, "choose_log_file", choose)
    await log.on_save()
    assert chosen == [log]
    saved = [line.split(maxsplit=1)[1] for line in target.read_text(encoding="utf-8").splitlines()]
    assert saved == ["first", "录制失败"]
    assert _log_lines(log)[-1] == (f"Event log saved to {target}", None)
    log.clear_action.trigger()
    assert log.toPlainText() == ""


def test_the_about_box_names_the_version_and_the_servers_api_page(qtbot: Any) -> None:
    """Issue 28, item 14: Help → About says which cloudrec this is (the installed
    version, pyproject's) and links the recording server's offline API page."""
    import tomllib

    from gui.dialogs.about import cloudrec_version, show_about

    root = Path(__file__).resolve().parents[2]
    expected = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    assert cloudrec_version() == expected
    parent = QLabel()
    qtbot.addWidget(parent)
    box = show_about(parent, "/tmp/cloudrec.ini", "http://127.0.0.1:8480/")
    assert f"<b>cloudrec {expected}</b>" in box.text()
    assert '<a href="http://127.0.0.1:8480/docs">' in box.text()
    box.close()


def test_the_frequent_commands_have_shortcuts_and_release_has_none(window: Any) -> None:
    """Issue 28, item 14: start, stop, play, copy, open folder, download, settings, about
    and quit each have their own shortcut; release and cancel, which end the window's
    hold on a recording, have none."""
    acts = window.user_actions
    keys = {
        name: getattr(acts, name).shortcut().toString()
        for name in (
            "start",
            "stop",
            "play",
            "copy",
            "folder",
            "download",
            "settings",
            "about",
            "quit",
        )
    }
    assert all(keys.values()) and len(set(keys.values())) == len(keys), keys
    assert keys["start"] == "Ctrl+R" and keys["quit"] == "Ctrl+Q"
    assert acts.release.shortcut().isEmpty() and acts.cancel.shortcut().isEmpty()
