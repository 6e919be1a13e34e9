"""The first run records something real (``gui/first_run.py``): a recording of an empty
channel of the built-in server's sandbox offers demo participants, and the empty
recordings table shows a hint until a recording was ever started.

The offer is tested on a real embedded server with real ``cloudrec bots`` (the window's
own demo participants, or a bots process standing for someone in the channel), and the
recording they made is decoded frame by frame; the hint in the window's pixels.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QProcess, QSettings, QTranslator
from PySide6.QtGui import QImage

from core import CloudStorageConfig, RecordingConfig, StorageVendor, TranscodingConfig
from core.enums import DEMO_CHANNEL, SANDBOX_APP_ID
from core.layout import compute_layout
from core.participants.analysis import iter_video, playlist_slices, tile_colour
from core.participants.synthetic import identify_uid, is_flash, uid_colour
from core.sdk.embedded import bots_command
from gui import paths
from gui.dialogs.demo_offer import DemoOfferDialog
from gui.embedded_server import EmbeddedServer
from gui.first_run import people
from gui.forms.new_recording import StartRequest
from gui.keyring_store import KeyringStore
from gui.models.recordings import RecordingsModel, RowState
from gui.settings import AppSettings
from tests.helpers import check_recording, wait_until

from .conftest import FakeServer

FPS = 15
"""The bots' frame rate and the recording's (the transcoding default)."""

HINT = (
    "No recordings yet. Press Start recording: on the built-in server, an empty "
    "channel offers demo participants to record."
)


@pytest.fixture
async def built_in(
    qtbot: Any,
    settings: AppSettings,
    store: KeyringStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Any]:
    """A window on a real embedded server (the built-in one), with fresh settings."""
    from gui.main_window import MainWindow

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    server = EmbeddedServer(tmp_path / "server.log", storage_roots=(tmp_path,))
    win = MainWindow(settings, store, embedded_server=server)
    await win.connection.start_embedded()
    assert win.connection.url is not None and win.connection.embedded
    try:
        yield win
    finally:  # the tests shut down inside their own run (_shut_down); this only tidies up
        win.connection.health.stop()
        win.recordings.ticker.stop()
        process = win.demo.process
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            process.kill()
            process.waitForFinished(5000)
        if server.exit_code() is None and server.pid is not None:
            os.kill(server.pid, signal.SIGKILL)
        win.close_now()
        win.deleteLater()


async def _shut_down(win: Any) -> None:
    """Stop the demo participants, cancel every recording and stop the server while the
    test's loop still runs."""
    win.connection.health.stop()
    win.recordings.stop_reading()
    await win.demo.stop()
    for recorder in win.recordings.recorders():
        if recorder.state.value != "released":
            await recorder.release(cancel=True)
    await win.connection.server.stop()
    await win.connection.aclose()


def _request(win: Any, folder: Path, channel: str = DEMO_CHANNEL) -> StartRequest:
    """The panel's request as the first run has it (the sandbox app, channel ``demo``),
    with short slices, a small canvas and a local folder of the test's."""
    request = win.panel.request()
    assert request is not None
    recording = RecordingConfig(
        progress_interval=1,
        slice_duration=2,
        transcoding_config=TranscodingConfig(width=320, height=240, bitrate=300, fps=FPS),
    )
    storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(folder))
    return dataclasses.replace(request, channel=channel, recording=recording, storage=storage)


async def _asked_or_started(win: Any, start: asyncio.Future[Any], timeout: float = 30) -> None:
    """Wait until the window asks about the empty channel or the start has ended."""
    await wait_until(lambda: win.first_run.dialog is not None or start.done(), timeout)


async def _roster_uids(win: Any, channel: str) -> list[int]:
    """The uids of the users (not recorders) in ``channel`` now, in join order."""
    roster = await win.connection.roster(SANDBOX_APP_ID, channel, None)
    return [int(user["uid"]) for user in people(roster)]


@pytest.mark.slow
async def test_accepting_the_offer_records_the_demo_participants(
    built_in: Any, tmp_path: Path
) -> None:
    """Start on the seed's channel with nobody in it: the window asks, "Start participants
    and record" starts the demo participants, and the recording shows each of them in
    its tile (every frame decoded; each tile's colour is its bot's uid colour)."""
    win = built_in
    win.settings.set_demo_users(2)
    request = _request(win, tmp_path / "rec")
    assert (request.app_id, request.channel) == (SANDBOX_APP_ID, DEMO_CHANNEL)
    assert await _roster_uids(win, DEMO_CHANNEL) == []
    model: RecordingsModel = win.recordings.model
    start = asyncio.ensure_future(win.start_recording(request))
    try:
        await _asked_or_started(win, start)
        dialog: DemoOfferDialog | None = win.first_run.dialog
        assert dialog is not None, "starting a recording of an empty channel asked nothing"
        assert dialog.text() == (
            "Channel demo is empty: nothing would be recorded. Start 2 demo participants in it?"
        )
        assert not dialog.dont_ask.isChecked()
        assert model.rowCount() == 0  # nothing started while it asks
        dialog.participants_button.click()
        rid = await asyncio.wait_for(start, 60)
        assert rid is not None
        assert win.first_run.dialog is None
        process = win.demo.process
        assert process is not None and process.state() == QProcess.ProcessState.Running
        log = win.event_log.toPlainText()
        assert "Started 2 demo participants in channel demo" in log
        assert "Waiting for the demo participants to join channel demo…" in log
        # The recording was started once both publish: they are the bots' first uids.
        uids = await _roster_uids(win, DEMO_CHANNEL)
        assert sorted(uids) == [1001, 1002]
        await wait_until(lambda: model.row(rid).state is RowState.RECORDING, 20)  # type: ignore[union-attr]
        sid = win.recordings.recorder(rid).sid
        folder = tmp_path / "rec"
        await wait_until(lambda: len(list(folder.glob(f"{sid}_demo_*.ts"))) >= 3, 30)
        await win.recordings.recorder(rid).stop()
        await wait_until(lambda: model.row(rid).state is RowState.UPLOADED, 30)  # type: ignore[union-attr]
    finally:
        if not start.done():
            start.cancel()
        await _shut_down(win)
    assert win.settings.demo_offer()  # "Don't ask again" was not checked
    row = model.row(rid)
    assert row is not None
    playlist = Path(row.location)
    check_recording(playlist, fps=FPS)  # every frame of every slice decodes, as listed
    tc = request.recording.transcoding_config
    windows = compute_layout(tc.layout, uids, tc.width, tc.height)
    frames = list(iter_video([path for path, _ in playlist_slices(playlist)]))
    first = frames[0][0]
    seen = dict.fromkeys(uids, 0)
    for at, image in frames:
        if at - first < 1.0:  # the first second: the recorder's first frames of each user
            continue
        for uid in uids:
            colour = tile_colour(image, windows[uid])  # the digits fill the centre
            if is_flash(colour):  # the bots' once-a-second white frame
                continue
            assert identify_uid(colour, uids) == uid, (
                f"{at - first:.3f} s: the tile of {uid} is {colour}, not {uid_colour(uid)}"
            )
            seen[uid] += 1
    later = sum(1 for at, _ in frames if at - first >= 1.0)
    assert later >= 2 * FPS, later
    flashes = 2 * (later // FPS + 1)  # a flash a second, held for two frames at most
    for uid in uids:  # every other frame shows each bot in its tile
        assert seen[uid] >= later - flashes, (uid, seen[uid], later)


@pytest.mark.slow
async def test_dont_ask_again_is_remembered(
    built_in: Any,
    settings_file: Path,
    store: KeyringStore,
    tmp_path: Path,
) -> None:
    """ "Don't ask again" with "Record anyway": the recording starts without participants,
    and no later start asks, in this window or the next one on the same settings."""
    from gui.main_window import MainWindow

    win = built_in
    second: Any = None
    start = asyncio.ensure_future(win.start_recording(_request(win, tmp_path / "rec", "quiet1")))
    try:
        await _asked_or_started(win, start)
        dialog: DemoOfferDialog | None = win.first_run.dialog
        assert dialog is not None, "starting a recording of an empty channel asked nothing"
        dialog.dont_ask.setChecked(True)
        dialog.record_button.click()
        assert await asyncio.wait_for(start, 30) is not None
        assert win.demo.process is None  # recorded as it is: no participants started
        assert await _roster_uids(win, "quiet1") == []
        assert not win.settings.demo_offer()

        # The same window, another empty channel: no question.
        again = asyncio.ensure_future(
            win.start_recording(_request(win, tmp_path / "rec", "quiet2"))
        )
        await _asked_or_started(win, again)
        assert win.first_run.dialog is None
        assert await again is not None
        assert win.recordings.model.rowCount() == 2

        # The next window reads the same settings file: no question either.
        win.settings.sync()
        reread = AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat))
        assert not reread.demo_offer()
        second = MainWindow(reread, store, embedded_server=EmbeddedServer(tmp_path / "2.log"))
        second.connection.use(win.connection.url, win.connection.token, owned=False)
        assert second.connection.embedded
        third = asyncio.ensure_future(
            second.start_recording(_request(second, tmp_path / "rec", "quiet3"))
        )
        await _asked_or_started(second, third)
        assert second.first_run.dialog is None
        assert await third is not None
        assert await _roster_uids(win, "quiet3") == []
    finally:
        if second is not None:
            second.recordings.stop_reading()
            for recorder in second.recordings.recorders():
                if recorder.state.value != "released":
                    await recorder.release(cancel=True)
            await second.connection.aclose()
            second.close_now()
            second.deleteLater()
        await _shut_down(win)


@pytest.mark.slow
async def test_a_channel_with_someone_in_it_asks_nothing(built_in: Any, tmp_path: Path) -> None:
    """Someone publishes in the channel: the recording starts at once, unasked, and no
    demo participants are started."""
    win = built_in
    bots = _someone(win.connection.url, "busy", 7)
    try:
        await _wait_for_uids(win, "busy", [7])
        assert win.settings.demo_offer()  # it would ask about an empty channel
        start = asyncio.ensure_future(win.start_recording(_request(win, tmp_path / "rec", "busy")))
        await _asked_or_started(win, start)
        assert win.first_run.dialog is None, "asked about a channel with someone in it"
        rid = await start
        assert rid is not None
        assert win.demo.process is None
        model: RecordingsModel = win.recordings.model
        await wait_until(lambda: model.row(rid).state is RowState.RECORDING, 20)  # type: ignore[union-attr]
    finally:
        bots.terminate()
        bots.wait(10)
        await _shut_down(win)


def _someone(url: str, channel: str, uid: int) -> subprocess.Popen[bytes]:
    """One bot, ``uid``, publishing in ``channel``: someone else in the channel."""
    return subprocess.Popen(
        bots_command(url, channel, 1, uid_base=uid, size=(160, 120)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _wait_for_uids(win: Any, channel: str, uids: list[int], timeout: float = 30) -> None:
    """Wait until exactly ``uids`` are in ``channel``."""
    found: list[int] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        found = await _roster_uids(win, channel)
        if found == uids:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{channel}: {found}, expected {uids}")


def _ink(image: QImage, top: int = 0) -> int:
    """Pixels from row ``top`` down that differ from the image's background (its most
    common colour)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=rgb.sizeInBytes())
    pixels = data.reshape(rgb.height(), rgb.bytesPerLine() // 4, 4)[:, : rgb.width(), :3]
    flat = pixels.reshape(-1, 3)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    background = colours[int(np.argmax(counts))]
    return int(np.any(pixels[top:] != background, axis=2).sum())


async def test_the_hint_shows_on_an_empty_table_and_goes_with_the_first_row(
    window: Any, settings: AppSettings, store: KeyringStore
) -> None:
    """A window with no settings draws the hint in the empty table; starting a recording
    puts a row there and the hint goes, for good (a new window on these settings has none).

    The roster cannot be read from the pretend server: the start goes on, unasked."""
    from gui.main_window import MainWindow

    table = window.recordings_view.table
    window.resize(1280, 800)
    window.show()
    await wait_until(lambda: table.viewport().width() > 400 and table.viewport().height() > 150)
    assert table.hint() == HINT and table.hint_shown()
    with_hint = _ink(table.viewport().grab().toImage())
    table.set_hint("")
    assert _ink(table.viewport().grab().toImage()) == 0  # an empty table is blank...
    table.set_hint(HINT)
    assert with_hint > 200  # ...and the hint's text is drawn on it

    request = window.panel.request()
    assert request is not None and request.app_id == SANDBOX_APP_ID
    start = asyncio.ensure_future(window.start_recording(request))
    await _asked_or_started(window, start, 10)
    assert window.first_run.dialog is None
    assert await start is not None
    assert window.recordings.model.rowCount() == 1
    assert not table.hint_shown() and table.hint() == ""
    assert settings.recording_started()
    image = table.viewport().grab().toImage()
    below_rows = table.rowViewportPosition(0) + table.rowHeight(0) + 1
    assert 0 < below_rows < image.height() // 2
    assert _ink(image, below_rows) == 0  # nothing drawn under the row
    assert _ink(image) > 0  # the row itself

    later = MainWindow(settings, store, embedded_server=FakeServer())  # type: ignore[arg-type]
    try:
        assert later.recordings.model.rowCount() == 0
        assert (
            later.recordings_view.table.hint() == ""
            and not later.recordings_view.table.hint_shown()
        )
    finally:
        later.close_now()
        later.deleteLater()


def test_the_offer_and_the_hint_are_in_chinese(qtbot: Any, window: Any) -> None:
    """The question's and the hint's strings have Simplified Chinese translations."""
    translator = QTranslator()
    assert translator.load("cloudrec_zh_CN", str(paths.TRANSLATIONS_DIR))
    QCoreApplication.installTranslator(translator)
    try:
        dialog = DemoOfferDialog("demo", 3)
        qtbot.addWidget(dialog)
        assert (
            dialog.text() == "频道 demo 中没有人：录制不到任何内容。要在其中启动 3 个演示参与者吗？"
        )
        assert dialog.participants_button.text() == "启动参与者并录制"
        assert dialog.record_button.text() == "仍然录制"
        assert dialog.dont_ask.text() == "不再询问"
        assert window.first_run.hint() == (
            "还没有录制。请按“开始录制”：在内置服务器上，空频道会提示启动演示参与者以供录制。"
        )
    finally:
        QCoreApplication.removeTranslator(translator)
