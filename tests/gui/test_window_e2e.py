"""The window end to end: the real embedded server, real bots, the real SDK and S3 server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication

from core import CloudStorageConfig, ErrorCode, RecordingConfig, StorageVendor, TranscodingConfig
from core.enums import SANDBOX_APP_ID
from gui.embedded_server import EmbeddedServer
from gui.forms.new_recording import StartRequest
from gui.keyring_store import KeyringStore
from gui.models.recordings import PROGRESS_ROLE, RecordingsModel, RowState
from gui.settings import AppSettings
from tests.helpers import wait_until
from tests.s3server import S3Server

pytestmark = pytest.mark.slow


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
    server = EmbeddedServer(tmp_path / "server.log")
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
    win.recordings.ticker.stop()
    for recorder in win.recordings.recorders():
        if recorder.state.value != "released":
            await recorder.release(cancel=True)
    await win.connection.server.stop()
    await win.connection.aclose()


def _bots(url: str, channel: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "core.cli",
            "bots",
            "--server",
            url,
            "--channel",
            channel,
            "--users",
            "2",
            "--size",
            "160x120",
        ],
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
        assert live_window.status_bar.cpu.text().startswith("Server CPU:")
        assert live_window.status_bar.render_health.text().startswith("Recorders: ")
        assert not live_window.status_bar.render_health.isHidden()
        assert live_window.status_bar.active.text().endswith(": 1")
        recorder = live_window.recordings.recorder(rid)
        await recorder.stop()
        await wait_until(lambda: model.row(rid).state is RowState.UPLOADED, 30)  # type: ignore[union-attr]
        row = model.row(rid)
        assert row is not None and row.progress == 100
        assert model.data(model.index(0, RecordingsModel.UPLOAD), PROGRESS_ROLE) == 100
        assert row.playlist == f"{recorder.sid}_guirec.m3u8"  # the name, as Agora reports it
        # The window knows where that is: the file in the local folder, with its slices.
        assert row.location == str(tmp_path / "rec" / row.playlist)
        assert Path(row.location).read_text().endswith("#EXT-X-ENDLIST\n")
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


def _roster(url: str, channel: str) -> int:
    import httpx

    try:
        response = httpx.get(f"{url}/channels/{SANDBOX_APP_ID}/{channel}", timeout=2)
    except httpx.HTTPError:
        return 0
    if response.status_code != 200:
        return 0
    return len(response.json()["users"])


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
