"""The window end to end: the real embedded server, real bots, the real SDK and S3 server,
and the real Secret Service (``store`` and ``secret_service`` in conftest)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton

from core import CloudStorageConfig, ErrorCode, RecordingConfig, StorageVendor, TranscodingConfig
from core.enums import SANDBOX_APP_ID
from core.layout import compute_layout
from core.media.segmenter import PTS_OFFSET
from core.participants.analysis import (
    decode_audio,
    iter_video,
    playlist_slices,
    tile_colour,
    window_colour,
)
from core.participants.synthetic import identify_uid, is_flash
from core.sdk.embedded import bots_command
from gui.dialogs.close_dialog import CloseDialog
from gui.embedded_server import EmbeddedServer, ServerState, process_alive
from gui.forms.new_recording import StartRequest
from gui.keyring_store import EMBEDDED_SERVER_ENTRY, SERVICE, KeyringStore
from gui.models.recordings import PROGRESS_ROLE, RecordingsModel, RowState, thumbnail
from gui.settings import AppSettings
from tests.helpers import check_recording, wait_until
from tests.s3server import S3Server

from .conftest import ScopedSecretService

pytestmark = pytest.mark.slow


def _grants(tmp_path: Path) -> dict[str, Any]:
    """What the tests' embedded server may use: folders under ``tmp_path`` (outside the
    user's home, the window's own grant) and the S3 server on 127.0.0.1."""
    return {"storage_roots": (tmp_path,), "allowed_endpoints": ("127.0.0.1",)}


@pytest.fixture
async def live_window(
    qtbot: Any,
    settings: AppSettings,
    store: KeyringStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    from gui.main_window import MainWindow

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    server = EmbeddedServer(tmp_path / "server.log", **_grants(tmp_path))
    win = MainWindow(settings, store, embedded_server=server)
    await win.connection.start_embedded()
    assert win.connection.url is not None
    try:
        yield win
    finally:  # tests shut down inside their own run (see _shut_down); this only tidies up
        win.connection.health.stop()
        win.recordings.ticker.stop()
        if server.exit_code() is None and server.pid is not None:
            os.kill(server.pid, signal.SIGKILL)
        win.close_now()
        win.deleteLater()


async def _shut_down(win: Any) -> None:
    """Release every recording and stop the server while the test's loop still runs."""
    win.connection.health.stop()
    win.recordings.stop_reading()
    for recorder in win.recordings.recorders():
        if recorder.state.value != "released":
            await recorder.release(cancel=True)
    await win.connection.server.stop()
    await win.connection.aclose()


def _bots(url: str, channel: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        bots_command(url, channel, 2, size=(160, 120)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _request(channel: str, storage: CloudStorageConfig) -> StartRequest:
    recording = RecordingConfig(
        progress_interval=1,
        slice_duration=2,
        transcoding_config=TranscodingConfig(width=320, height=240, bitrate=300),
    )
    return StartRequest(SANDBOX_APP_ID, channel, None, 4321, recording, storage)


async def test_a_recording_on_the_embedded_server_reaches_100_percent(
    live_window: Any, tmp_path: Path
) -> None:
    bots = _bots(live_window.connection.url, "guirec")
    try:
        await wait_until(
            lambda: bots.poll() is None and _roster(live_window.connection.url, "guirec") >= 2, 20
        )
        storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(tmp_path / "rec"))
        rid = await live_window.start_recording(_request("guirec", storage))
        model: RecordingsModel = live_window.recordings.model
        await wait_until(lambda: model.row(rid).state is RowState.RECORDING, 20)  # type: ignore[union-attr]
        await wait_until(lambda: (model.row(rid).progress or 0) > 0, 20)  # type: ignore[union-attr]
        for _ in range(2):  # two samples of the server's CPU clock give a share
            await live_window.connection.check_health()
        assert re.fullmatch(r"Server CPU: \d+ %", live_window.status_bar.cpu.text())
        assert re.fullmatch(
            r"Recorders: (on time|\d+\.\d s behind)(, \d+ frames lost)?",
            live_window.status_bar.render_health.text(),
        )
        assert not live_window.status_bar.render_health.isHidden()
        assert live_window.status_bar.active.text() == "Active: 1"
        recorder = live_window.recordings.recorder(rid)
        await recorder.stop()
        await wait_until(lambda: model.row(rid).state is RowState.UPLOADED, 30)  # type: ignore[union-attr]
        row = model.row(rid)
        assert row is not None and row.progress == 100
        assert model.data(model.index(0, RecordingsModel.UPLOAD), PROGRESS_ROLE) == 100
        assert row.playlist == f"{recorder.sid}_guirec.m3u8"  # the name, as Agora reports it
        # The window knows where that is: the file in the local folder, with its slices.
        assert row.location == str(tmp_path / "rec" / row.playlist)
        check_recording(Path(row.location), fps=15)  # ended; every frame decodes, as listed
        await wait_until(lambda: (model.row(rid).size_bytes or 0) > 10_000, 10)  # type: ignore[union-attr]
        live_window.recordings_view.table.selectRow(0)
        assert (
            live_window.user_actions.folder.isEnabled()
            and live_window.user_actions.play.isEnabled()
        )
        live_window.recordings_view.copy_location()
        assert QGuiApplication.clipboard().text() == row.location
    finally:
        bots.terminate()
        bots.wait(10)
        await _shut_down(live_window)


async def test_a_recording_to_the_servers_own_folder_is_found_and_moves_from_its_first_slice(
    live_window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded default (a local storage without a folder: the server's recordings
    folder, which only the server knew): the row shows the sid its files are named
    with, stored/written slices from the first slice on with the progress callback at
    its 60 s default, the output rate; after stop, Open folder and Play open files that
    exist, where the server wrote them."""
    import gui.widgets.recordings_view as recordings_view
    from core.media.timeline import DEFAULT_LATENCY
    from gui.recordings_controller import DETAILS_INTERVAL

    opened: list[str] = []
    monkeypatch.setattr(
        recordings_view.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile())
    )
    bots = _bots(live_window.connection.url, "guifound")
    try:
        await wait_until(lambda: _roster(live_window.connection.url, "guifound") >= 2, 20)
        request = _request("guifound", CloudStorageConfig(vendor=StorageVendor.LOCAL))
        recording = request.recording.model_copy(update={"progress_interval": 60})
        request = StartRequest(SANDBOX_APP_ID, "guifound", None, 4321, recording, request.storage)
        rid = await live_window.start_recording(request)
        model: RecordingsModel = live_window.recordings.model
        recorder = live_window.recordings.recorder(rid)
        row = model.row(rid)
        assert row is not None and row.sid == recorder.sid
        assert model.data(model.index(0, RecordingsModel.RECORDING_ID)) == recorder.sid
        tip = model.data(model.index(0, RecordingsModel.RECORDING_ID), Qt.ItemDataRole.ToolTipRole)
        assert recorder.sid in tip and rid in tip
        await wait_until(lambda: model.row(rid).state is RowState.RECORDING, 20)  # type: ignore[union-attr]
        # the first slice closes one slice duration and the render latency after the
        # timeline's origin, which is up to a second after the started callback (with
        # the slice's encode and store: measured 3.0-3.1 s from RECORDING for 2 s slices
        # on an idle machine); the window asks every DETAILS_INTERVAL; a second more for
        # a loaded machine
        to_origin = 1.0
        first_slice = recording.slice_duration + DEFAULT_LATENCY + to_origin
        first_slice += DETAILS_INTERVAL + 1.0
        await wait_until(lambda: (model.row(rid).slices_stored or 0) >= 1, first_slice)  # type: ignore[union-attr]
        row = model.row(rid)
        assert row is not None and row.progress is None  # the callback said nothing yet
        text = model.data(model.index(0, RecordingsModel.UPLOAD))
        assert re.fullmatch(r"(\d+)/(\d+) slices", text), text
        assert model.data(model.index(0, RecordingsModel.UPLOAD), PROGRESS_ROLE) is not None
        await wait_until(lambda: model.row(rid).bitrate_kbps is not None, 5)  # type: ignore[union-attr]
        output = model.data(model.index(0, RecordingsModel.OUTPUT))
        assert re.fullmatch(r"\d+ kb/s, \d+ dropped", output), output

        # a live thumbnail that changes, showing the participants' tiles, and the
        # selected recording's picture in place of the layout preview
        await wait_until(lambda: model.row(rid).live_thumbnail is not None, 5)  # type: ignore[union-attr]
        first_etag = model.row(rid).picture_etag  # type: ignore[union-attr]
        await wait_until(lambda: model.row(rid).picture_etag != first_etag, 5)  # type: ignore[union-attr]
        row = model.row(rid)
        assert row is not None and row.live_picture is not None
        icon = model.data(model.index(0, RecordingsModel.CHANNEL), Qt.ItemDataRole.DecorationRole)
        assert icon is row.live_thumbnail and icon.width() <= 96 and icon.height() <= 54
        picture = _rgb(row.live_picture)
        assert picture.shape == (240, 320, 3)
        uids = [int(u) for u in _roster_uids(live_window.connection.url, "guifound")]
        windows = compute_layout(recording.transcoding_config.layout, uids, 320, 240)
        for uid, window in windows.items():  # a window may show its user's flash
            colour = tile_colour(picture, window)
            assert identify_uid(colour, uids) == uid or is_flash(colour), (uid, colour)
        live_window.recordings_view.table.selectRow(0)
        panel = live_window.preview_panel
        assert panel.pages.currentIndex() == 1 and not panel.live.pixmap().isNull()
        assert "guifound" in panel.live_title.text()
        # each bot's meter: a tone at a quarter of full scale (-12 dBFS) and a beep
        await wait_until(lambda: set(model.row(rid).levels) == set(uids), 5)  # type: ignore[union-attr]
        levels = model.row(rid).levels  # type: ignore[union-attr]
        assert all(-20.0 < levels[uid] <= 0.0 for uid in uids), levels
        live_window._show_live()  # the figures of the newest round
        lines = panel.levels.text().splitlines()
        assert [int(line.split()[0]) for line in lines] == list(levels), lines

        await recorder.stop()
        await wait_until(lambda: model.row(rid).state is RowState.UPLOADED, 30)  # type: ignore[union-attr]
        assert panel.pages.currentIndex() == 0  # it records no more: the layout preview
        # it reads the figures once more after the end (the last slice came after the
        # previous read), then stops asking
        await wait_until(lambda: not live_window.recordings.details_poll.isActive(), 5)
        assert model.row(rid).slices_stored == model.row(rid).slices_kept  # type: ignore[union-attr]
        row = model.row(rid)
        assert row is not None and row.files_at
        playlist = Path(row.location)
        assert playlist.is_file() and playlist.name == f"{recorder.sid}_guifound.m3u8"
        server_data = Path(os.environ["XDG_DATA_HOME"])
        assert playlist.is_relative_to(server_data), (playlist, server_data)
        decoded = check_recording(playlist, fps=15)  # every frame decodes, as listed
        assert row.slices_kept == len(decoded.slices)  # every slice written is listed
        live_window.recordings_view.table.selectRow(0)
        assert live_window.user_actions.folder.isEnabled()
        live_window.recordings_view.open_folder()
        live_window.recordings_view.play()
        assert opened == [str(playlist.parent), str(playlist)]
    finally:
        bots.terminate()
        bots.wait(10)
        await _shut_down(live_window)


async def test_a_wrong_secret_shows_the_uploader_failure_on_the_row(
    live_window: Any, s3_server: S3Server, s3_bucket: str
) -> None:
    storage = CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3,
        bucket=s3_bucket,
        access_key=s3_server.access_key,
        secret_key="definitely-wrong",
        endpoint=s3_server.endpoint,
    )
    bots = _bots(live_window.connection.url, "guis3")
    try:
        await wait_until(lambda: _roster(live_window.connection.url, "guis3") >= 2, 20)
        task = live_window.start_recording(_request("guis3", storage))
        import asyncio

        started = asyncio.ensure_future(task)
        await wait_until(lambda: live_window.error_dialog is not None, 20)
        dialog = live_window.error_dialog
        assert dialog.code is ErrorCode.UPLOADER_INIT
        row = live_window.recordings.model.row_at(0)
        assert row is not None and row.failed and row.error_code == int(ErrorCode.UPLOADER_INIT)
        assert (
            "secret key does not match" in row.last_event
            and "definitely-wrong" not in row.last_event
        )
        dialog.reject()
        await started
    finally:
        bots.terminate()
        bots.wait(10)
        await _shut_down(live_window)


def _roster_uids(url: str, channel: str) -> list[str]:
    """The uids of the users (not recorders) in the server's roster of ``channel``, in
    its order (none when it cannot be read)."""
    import httpx

    try:
        response = httpx.get(f"{url}/channels/{SANDBOX_APP_ID}/{channel}", timeout=2)
    except httpx.HTTPError:
        return []
    if response.status_code != 200:
        return []
    users = response.json()["users"]
    return [str(user["uid"]) for user in users if user.get("role") != "recorder"]


def _rgb(image: Any) -> Any:
    """A QImage as an RGB array (height, width, 3)."""
    from PySide6.QtGui import QImage

    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    lines = np.frombuffer(rgb.constBits(), np.uint8).reshape(rgb.height(), rgb.bytesPerLine())
    return lines[:, : rgb.width() * 3].reshape(rgb.height(), rgb.width(), 3)


def _roster(url: str, channel: str) -> int:
    return len(_roster_uids(url, channel))


async def test_the_storage_check_runs_on_the_server(
    live_window: Any, s3_server: S3Server, s3_bucket: str
) -> None:
    from core.errors import CloudRecordingError

    good = CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3,
        bucket=s3_bucket,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        endpoint=s3_server.endpoint,
    )
    try:
        await live_window.connection.check_storage(good)  # no error: written and deleted
        bad = good.model_copy(update={"bucket": "missing-bucket"})
        with pytest.raises(CloudRecordingError) as info:
            await live_window.connection.check_storage(bad)
        assert info.value.code is ErrorCode.UPLOADER_INIT and "missing-bucket" in info.value.message
    finally:
        await _shut_down(live_window)


def _server_children() -> list[int]:
    """Pids of the running ``cloudrec server`` processes this test process started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"core.cli\0server\0" in cmdline:
            found.append(int(entry.name))
    return found


def _reaped(pid: int, codes: list[int]) -> bool:
    """Whether the child ``pid`` has exited (its exit code then goes to ``codes``)."""
    done, status = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        return False
    codes.append(os.waitstatus_to_exitcode(status))
    return True


async def _close_keeping_recordings(win: Any, run: asyncio.Future[int]) -> None:
    """Close the window as the operator does and choose "Keep recording in background"."""
    win.close()
    await wait_until(lambda: win.findChild(CloseDialog, "close_dialog") is not None, 10)
    dialog = win.findChild(CloseDialog, "close_dialog")
    dialog.findChild(QPushButton, "close_background").click()
    assert await asyncio.wait_for(run, 30) == 0


async def test_a_recording_kept_in_the_background_is_reattached_by_the_next_window(
    qtbot: Any,
    settings: AppSettings,
    settings_file: Path,
    secret_service: ScopedSecretService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Close with "Keep recording in background", open a new window on the same settings
    and data folder: it reattaches to the same server and recording (no second server),
    follows its notices, stops it, and the recording decodes frame for frame."""
    from gui.main_window import MainWindow

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    channel = "guibg"
    first_server = EmbeddedServer(tmp_path / "server.log", **_grants(tmp_path))
    first = MainWindow(settings, KeyringStore(secret_service), embedded_server=first_server)
    second: Any = None
    second_server = EmbeddedServer(tmp_path / "server2.log", **_grants(tmp_path))
    bots: subprocess.Popen[bytes] | None = None
    pid: int | None = None
    exit_codes: list[int] = []
    try:
        # The first window: its own embedded server, a recording of two bots.
        run_first = asyncio.ensure_future(first.run())
        await wait_until(lambda: first.connection.state is ServerState.RUNNING, 60)
        url, pid = first.connection.url, first_server.pid
        assert url is not None and pid is not None and _server_children() == [pid]
        bots = _bots(url, channel)
        await wait_until(lambda: bots.poll() is None and _roster(url, channel) >= 2, 20)
        storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(tmp_path / "rec"))
        rid = await first.start_recording(_request(channel, storage))
        assert rid is not None
        model: RecordingsModel = first.recordings.model
        await wait_until(lambda: model.row(rid).state is RowState.RECORDING, 20)  # type: ignore[union-attr]
        started_at = time.monotonic()
        await wait_until(lambda: model.row(rid).progress is not None, 20)  # type: ignore[union-attr]
        sid = first.recordings.recorder(rid).sid
        assert sid

        def slices() -> int:
            return len(list((tmp_path / "rec").glob(f"{sid}_{channel}_*.ts")))

        await _close_keeping_recordings(first, run_first)
        closed_with = slices()
        assert model.row(rid).state is RowState.BACKGROUND  # type: ignore[union-attr]
        assert process_alive(pid) and _server_children() == [pid]
        # With no window open, the server records on: another slice is written.
        await wait_until(lambda: slices() > closed_with, 20)
        # What the next window needs: URL and pid in the settings, the token in the keyring.
        assert settings.embedded_server() == (url, pid)
        token = secret_service.get_password(SERVICE, EMBEDDED_SERVER_ENTRY)
        assert token is not None and token == first_server.token

        # The next window: a new process would read the same settings file and keyring.
        again = AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat))
        second = MainWindow(again, KeyringStore(secret_service), embedded_server=second_server)
        progress_at: list[float] = []

        def on_event(row_id: str, text: str) -> None:
            if text.startswith("uploaded ") and text.endswith("%"):
                progress_at.append(time.monotonic())

        second.recordings.observer.event_logged.connect(on_event)
        run_second = asyncio.ensure_future(second.run())
        rows: RecordingsModel = second.recordings.model
        await wait_until(lambda: rows.rowCount() == 1, 20)
        row = rows.row_at(0)
        assert row is not None and row.channel == channel
        new_rid = row.recording_id
        await wait_until(lambda: rows.row(new_rid).state is RowState.RECORDING, 20)  # type: ignore[union-attr]
        reattached_at = time.monotonic()
        recorder = second.recordings.recorder(new_rid)
        assert recorder is not None and recorder.sid == sid  # the same recording
        # The same server, not a second one on the same data folder.
        assert second.connection.url == url and not second.connection.owns_server
        assert second.connection.state is ServerState.DETACHED
        assert second_server.pid is None and second_server.state is ServerState.STOPPED
        assert _server_children() == [pid]
        assert second.status_bar.server_url.text() == f"Server (embedded): {url}"
        assert second.status_bar.server_state.text() == "running in background"
        log = second.event_log.toPlainText()
        assert f"Reattached to the embedded server {url} left recording in the background" in log
        assert f"Reattached to the recording of channel {channel}" in log
        # Its notices go on reaching the new window: progress reports (one a second)
        # over two seconds, longer than any replay of the ones before takes.
        await wait_until(lambda: progress_at and progress_at[-1] - progress_at[0] >= 2.0, 20)
        assert rows.row(new_rid).state is RowState.RECORDING  # type: ignore[union-attr]

        # Stopped from the new window: uploaded; the server, taken back from exiting when
        # the window reattached (issue 28, item 4), serves on until the window leaves.
        second.recordings_view.table.selectRow(0)
        assert second.user_actions.stop.isEnabled()
        await second.on_stop()
        await wait_until(lambda: rows.row(new_rid).state is RowState.UPLOADED, 30)  # type: ignore[union-attr]
        done = rows.row(new_rid)
        assert done is not None and done.progress == 100
        assert done.playlist == f"{sid}_{channel}.m3u8"
        # a reattached recording's files are where the server says (its location)
        assert done.location == str((tmp_path / "rec" / done.playlist).resolve())
        status = await second.connection.client.status()  # type: ignore[union-attr]
        assert status["activeRecordings"] == 0 and not _reaped(pid, exit_codes)
        assert second.connection.state is ServerState.DETACHED
        media = check_recording(tmp_path / "rec" / done.playlist, fps=15)
        # One recording from the first window's "started" past the new window's
        # reattaching, every slice of it listed.
        assert media.listed_seconds is not None
        assert media.listed_seconds >= reattached_at - started_at
        assert len(media.slices) == slices() > closed_with

        second.close()  # nothing is active: no dialog; the server is asked to exit
        assert await asyncio.wait_for(run_second, 30) == 0
        await wait_until(lambda: _reaped(pid, exit_codes), 30)
        assert exit_codes == [0] and again.embedded_server() is None  # forgotten
    finally:
        if bots is not None:
            bots.terminate()
            bots.wait(10)
        if pid is not None and not exit_codes:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                await wait_until(lambda: _reaped(pid, exit_codes), 10)
        if second_server.pid is not None:
            await second_server.stop()
        for win in (first, second):
            if win is not None:
                win.connection.health.stop()
                win.recordings.ticker.stop()
                win.close_now()
                win.deleteLater()


async def test_uids_picked_from_the_roster_update_the_running_recording(
    live_window: Any, tmp_path: Path
) -> None:
    """The Recording tab's Pick… lists the users in the selected recording's channel (the
    server's roster); the picked uid goes into the list, and Update gives the running
    recording that selection: from then on only that user's picture (a video list only:
    no audio), checked on the decoded recording's last second."""
    from gui.dialogs.roster_dialog import RosterDialog

    win, url = live_window, live_window.connection.url
    bots = _bots(url, "guisel")
    try:
        await wait_until(lambda: bots.poll() is None and _roster(url, "guisel") >= 2, 20)
        storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(tmp_path / "rec"))
        request = _request("guisel", storage)
        rid = await win.start_recording(request)
        model: RecordingsModel = win.recordings.model
        await wait_until(lambda: model.row(rid).state is RowState.RECORDING, 20)  # type: ignore[union-attr]
        panel = win.panel
        assert not panel.update_button.isEnabled()  # nothing selected
        win.recordings_view.table.selectRow(0)
        assert panel.update_button.isEnabled()

        picking = asyncio.ensure_future(win.on_pick_uids("subscribe_video_uids"))
        await wait_until(lambda: win.roster_dialog is not None, 5)
        dialog: RosterDialog = win.roster_dialog
        await wait_until(lambda: len(dialog.listed()) == 3, 10)  # everyone + the two bots
        everyone, first, second = dialog.listed()  # the roster's join order
        assert everyone == "#allstream#" and [first, second] == _roster_uids(url, "guisel")
        assert dialog.chosen() == [] and not dialog.ok_button.isEnabled()
        dialog.users.item(1).setCheckState(Qt.CheckState.Checked)
        assert dialog.chosen() == [first] and dialog.ok_button.isEnabled()
        dialog.accept()
        await picking
        assert panel.uid_lists()["subscribe_video_uids"] == (first,)

        await asyncio.sleep(2.0)  # both users recorded for a while
        win.panel.update_button.click()
        updated = f"Updated whom the recording takes: subscribe_video_uids=['{first}']"
        await wait_until(lambda: updated in win.event_log.toPlainText(), 10)
        await asyncio.sleep(3.0)  # the recording goes on with the new selection
        recorder = win.recordings.recorder(rid)
        await recorder.stop()
        await wait_until(lambda: model.row(rid).state is RowState.UPLOADED, 30)  # type: ignore[union-attr]
    finally:
        bots.terminate()
        bots.wait(10)
        await _shut_down(win)
    row = model.row(rid)
    assert row is not None
    playlist = Path(row.location)
    check_recording(playlist, fps=15)
    both = [int(first), int(second)]
    tc = request.recording.transcoding_config
    windows = compute_layout(tc.layout, both, tc.width, tc.height)
    paths = [p for p, _ in playlist_slices(playlist)]
    last_second = [image for _, image in list(iter_video(paths))[-15:]]
    for image in last_second:  # the second user's window now shows the first user alone
        colour = window_colour(image, windows[int(second)])
        assert is_flash(colour) or identify_uid(colour, both) == int(first), colour
    audio = decode_audio(paths)
    assert audio is not None
    assert float(np.abs(audio.samples[-audio.sample_rate :]).max()) < 0.01  # no voice


async def test_a_row_shows_the_newest_snapshot_as_its_thumbnail(
    live_window: Any, tmp_path: Path
) -> None:
    """The Recording tab's snapshot interval asks for snapshots; the recording's row then
    shows the newest one as a thumbnail beside its channel (fetched from the server, as
    for remote storage), replaced by each newer one."""
    win, url = live_window, live_window.connection.url
    bots = _bots(url, "guisnap")
    try:
        await wait_until(lambda: bots.poll() is None and _roster(url, "guisnap") >= 2, 20)
        first = int(_roster_uids(url, "guisnap")[0])  # FLOAT: the first joiner fills the canvas
        panel = win.panel
        assert panel.snapshot_config() is None  # off by default
        panel.snapshot_interval.setValue(1)
        assert panel.snapshot_config() is not None
        assert panel.snapshot_config().capture_interval == 1  # type: ignore[union-attr]
        storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(tmp_path / "rec"))
        request = _request("guisnap", storage)
        recording = RecordingConfig(
            **request.recording.model_dump(exclude={"snapshot_config"}),
            snapshot_config=panel.snapshot_config(),
        )
        rid = await win.start_recording(
            StartRequest(
                request.app_id, request.channel, None, request.uid, recording, request.storage
            )
        )
        model: RecordingsModel = win.recordings.model
        await wait_until(lambda: model.row(rid).snapshot is not None, 20)  # type: ignore[union-attr]
        row = model.row(rid)
        assert row is not None and row.state is RowState.RECORDING
        sid = win.recordings.recorder(rid).sid
        assert re.fullmatch(rf"{sid}_guisnap_\d{{17}}\.jpg", row.snapshot_name)
        index = model.index(0, RecordingsModel.CHANNEL)
        image = row.snapshot
        assert (image.width(), image.height()) == (72, 54)  # 320x240 fitted into 96x54
        # while it records the row shows its live picture, when there is one yet
        decoration = model.data(index, Qt.ItemDataRole.DecorationRole)
        assert decoration is (row.live_thumbnail or row.snapshot)
        # What it shows: that snapshot, as stored (the local folder here), scaled down; in
        # it the first bot's tile across the canvas (or its flash, when the picture's time,
        # in its name, falls within a frame of a whole second of the bots' clock).
        stored = tmp_path / "rec" / row.snapshot_name
        await wait_until(stored.exists, 10)
        assert image == thumbnail(stored.read_bytes())
        [(_, picture)] = list(iter_video([stored]))
        tc = request.recording.transcoding_config
        assert picture.shape == (tc.height, tc.width, 3)
        second = int(_roster_uids(url, "guisnap")[1])
        colour = window_colour(picture, compute_layout(tc.layout, [first, second], 320, 240)[first])
        fraction = int(row.snapshot_name[-7:-4]) / 1000  # ...HHmmssSSS.jpg
        on_flash = min(fraction, 1 - fraction) <= 1 / 15 + 0.040  # a frame and the sync bound
        assert identify_uid(colour, [first]) == first or (on_flash and is_flash(colour)), colour
        shown = row.snapshot_name
        await wait_until(lambda: model.row(rid).snapshot_name != shown, 10)  # type: ignore[union-attr]
        assert model.row(rid).snapshot_name > shown  # type: ignore[union-attr]  # newer
        await wait_until(lambda: "snapshot stored: " in win.event_log.toPlainText(), 10)
        await win.recordings.recorder(rid).stop()
        await wait_until(lambda: model.row(rid).state is RowState.UPLOADED, 30)  # type: ignore[union-attr]
        row = model.row(rid)
        assert row is not None and row.snapshot is not None  # the last one stays, and shows
        assert model.data(index, Qt.ItemDataRole.DecorationRole) is row.snapshot
        assert model.data(index, Qt.ItemDataRole.ToolTipRole) == (
            f"Latest snapshot: {row.snapshot_name}"
        )
    finally:
        bots.terminate()
        bots.wait(10)
        await _shut_down(win)


async def test_a_region_dragged_in_the_editor_moves_in_the_running_recording(
    live_window: Any, qtbot: Any, tmp_path: Path
) -> None:
    """A recording with the custom layout (the first user over the canvas, the second in
    a box at the top left); with *Apply as I edit* on, the box dragged to the bottom
    right in the Transcoding tab's editor moves there in the recording: the decoded
    frames show the second user at the new place from at most 2 s of output after the
    drag ended (output time 0 is the recording's ``sliceStartTime``), and at the old
    place before it."""
    import httpx
    from PySide6.QtCore import QPoint

    from core.enums import MixedVideoLayout
    from core.layout import Region, compute_windows

    win, url = live_window, live_window.connection.url
    panel = win.panel
    editor = panel.layout_editor
    combo = panel.transcoding_form.editors["layout"].widget
    combo.setCurrentIndex(combo.findData(int(MixedVideoLayout.CUSTOM)))
    panel.transcoding_form.set_values({"width": 320, "height": 240, "bitrate": 300})
    before = (Region(0, 0, 1, 1), Region(0.05, 0.05, 0.4, 0.4))
    editor.set_regions(before)
    panel.revalidate()
    transcoding = panel.transcoding
    assert transcoding.layout is MixedVideoLayout.CUSTOM and (
        transcoding.width,
        transcoding.height,
    ) == (320, 240)
    bots = _bots(url, "guilay")
    try:
        await wait_until(lambda: bots.poll() is None and _roster(url, "guilay") >= 2, 20)
        uids = _roster_uids(url, "guilay")
        storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(tmp_path / "rec"))
        plain = _request("guilay", storage)
        request = StartRequest(
            plain.app_id, plain.channel, None, plain.uid,
            plain.recording.model_copy(update={"transcoding_config": transcoding}), storage,
        )  # fmt: skip
        rid = await win.start_recording(request)
        model: RecordingsModel = win.recordings.model
        await wait_until(lambda: model.row(rid).state is RowState.RECORDING, 20)  # type: ignore[union-attr]
        win.recordings_view.table.selectRow(0)
        assert editor.apply_button.isEnabled()
        editor.live_check.setChecked(True)
        panel.tabs.setCurrentWidget(panel.transcoding_page)
        await asyncio.sleep(2.5)  # the box at the top left for a while
        canvas = editor.canvas
        canvas.resize(656, 496)  # 320x240 scaled by 2 at (8, 8)
        area, scale = canvas._canvas_rect()
        assert (area.x(), area.y(), scale) == (8.0, 8.0, 2.0)
        start = QPoint(8 + round(0.25 * 640), 8 + round(0.25 * 480))  # the box's centre
        end = start + QPoint(round(0.5 * 640), round(0.5 * 480))  # half the canvas on
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
        qtbot.mouseMove(canvas, start + QPoint(160, 120))
        qtbot.mouseMove(canvas, end)
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
        released = time.time()
        after = editor.regions
        assert after[1][:4] == (0.55, 0.55, 0.4, 0.4)
        applied = "Applied the layout CUSTOM with 2 regions"
        await wait_until(lambda: applied in win.event_log.toPlainText(), 10)
        await asyncio.sleep(3.0)  # the box at the bottom right for a while
        recorder = win.recordings.recorder(rid)
        resource, sid = recorder.resource_id, recorder.sid
        base = f"{url}/v1/apps/{SANDBOX_APP_ID}/cloud_recording"
        async with httpx.AsyncClient(timeout=10) as client:
            query = await client.get(
                f"{base}/resourceid/{resource}/sid/{sid}/mode/mix/query",
                headers={"Authorization": f"Bearer {win.connection.token}"},
            )
        assert query.status_code == 200, query.text
        start_time = query.json()["serverResponse"]["sliceStartTime"] / 1000
        await recorder.stop()
        await wait_until(lambda: model.row(rid).state is RowState.UPLOADED, 30)  # type: ignore[union-attr]
    finally:
        bots.terminate()
        bots.wait(10)
        await _shut_down(win)
    row = model.row(rid)
    assert row is not None
    playlist = Path(row.location)
    check_recording(playlist, fps=15)
    first, second = (int(u) for u in uids)  # join order: the canvas, then the box
    drag_at = released - start_time  # the output time of the drag's end
    old_box, new_box = (
        compute_windows(MixedVideoLayout.CUSTOM, [first, second], 320, 240, regions=r)[second].rect
        for r in (before, after)
    )
    moved_at = shown_at = None
    for t, image in iter_video([p for p, _ in playlist_slices(playlist)]):
        t -= PTS_OFFSET
        # the band above a tile's digits says whose picture fills a box
        old, new = tile_colour(image, old_box), tile_colour(image, new_box)
        if is_flash(old) or is_flash(new):
            continue  # the once-a-second flash of both users
        in_old = identify_uid(old, [first, second]) == second
        in_new = identify_uid(new, [first, second]) == second
        if shown_at is None:
            if not in_old:
                continue  # the second user's first frame has not come (background)
            shown_at = t
        if moved_at is None and in_new:
            moved_at = t
        if t < drag_at - 0.5:  # before the drag: the box at the top left only
            assert in_old and not in_new, (t, old, new)
    assert shown_at is not None and shown_at <= 1.0, shown_at
    assert moved_at is not None
    print(f"drag ended at output {drag_at:.3f} s; the box moved at {moved_at:.3f} s")
    assert drag_at - 0.5 <= moved_at <= drag_at + 2.0, (drag_at, moved_at)
