"""Many servers (docs/gui.md, "Many servers"): the window's embedded server and a further
remote one, both real ``cloudrec server`` processes on 127.0.0.1; the window's pool, its
chooser, recordings on each, and a later window that finds them where they run."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from core import CloudStorageConfig, RecordingConfig, StorageVendor
from core.enums import SANDBOX_APP_ID
from core.sdk.embedded import EmbeddedServer as ServerProcess
from gui.embedded_server import EmbeddedServer, ServerState
from gui.forms.new_recording import StartRequest
from gui.keyring_store import KeyringStore, server_entry
from gui.models.recordings import RowState
from gui.settings import AppSettings
from tests.helpers import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
async def remote(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """A second server, as one on another machine would be: its own data, its own token."""
    server = ServerProcess(
        tmp_path / "remote-data",
        log_file=tmp_path / "remote.log",
        storage_roots=(tmp_path,),
        own_session=True,
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def _window(settings: AppSettings, store: KeyringStore, tmp_path: Path) -> Any:
    from gui.main_window import MainWindow

    server = EmbeddedServer(tmp_path / "server.log", storage_roots=(tmp_path,))
    return MainWindow(settings, store, embedded_server=server)


async def _close(win: Any) -> None:
    """Stop reading, release the recorders (recordings run on), end the embedded server."""
    win.recordings.stop_reading()
    for connection in win.servers.connections():
        connection.health.stop()
    for recorder in win.recordings.recorders():
        if recorder.state.value != "released":
            await recorder.release()
    if win.connection.owns_server:
        await win.connection.server.stop()
    await win.connection.aclose()
    await win.servers.aclose()
    win.close_now()
    win.deleteLater()


def _request(channel: str, folder: Path) -> StartRequest:
    storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(folder))
    # nobody joins: a long idle time keeps the recording waiting through the test
    recording = RecordingConfig(max_idle_time=300)
    return StartRequest(SANDBOX_APP_ID, channel, None, 4321, recording, storage)


async def test_recordings_go_to_the_chosen_or_least_loaded_server_and_are_found_again(
    qtbot: Any,
    settings: AppSettings,
    store: KeyringStore,
    remote: ServerProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    settings.set_demo_offer(False)  # empty channels: a recording waits for users
    await store.set(server_entry(remote.url), remote.token)
    settings.set_other_servers([remote.url + "/"])
    assert settings.other_servers() == [remote.url]
    win = _window(settings, store, tmp_path)
    try:
        await win.connection.start_embedded()
        await win.servers.connect_others()
        (other,) = win.servers.others()
        assert other.state is ServerState.RUNNING and other.token == remote.token
        assert not other.embedded and win.connection.embedded
        assert win.server_chooser.isVisibleTo(win)
        combo = win.server_chooser.combo
        assert [combo.itemData(i) for i in range(combo.count())] == [None, "", remote.url]
        assert "This computer" in combo.itemText(1) and remote.url in combo.itemText(2)

        # chosen: the remote server
        win.server_chooser.choose(remote.url)
        on_remote = await win.start_recording(_request("far", tmp_path / "far"))
        model = win.recordings.model
        row = model.row(on_remote)
        assert row is not None and row.server == remote.url
        await wait_until(lambda: model.row(on_remote).state is RowState.RECORDING, 20)  # type: ignore[union-attr]
        assert [r["cname"] for r in await other.recordings()] == ["far"]
        assert await win.connection.recordings() == []
        # figures come from the server it runs on
        await wait_until(lambda: model.row(on_remote).files_at == str(tmp_path / "far"), 10)  # type: ignore[union-attr]

        # least loaded: the embedded one, with no recording against the remote's one
        await other.check_health()
        assert other.load is not None and other.load[0] == 1
        assert "recordings: 1, CPU" in combo.itemText(2)
        win.server_chooser.choose(None)
        assert await win.servers.least_loaded() is win.connection
        near = await win.start_recording(_request("near", tmp_path / "near"))
        assert model.row(near).server == ""  # type: ignore[union-attr]
        assert [r["cname"] for r in await win.connection.recordings()] == ["near"]
        # with one on each, the one using less CPU
        await wait_until(lambda: model.row(near).state is RowState.RECORDING, 20)  # type: ignore[union-attr]
        chosen = await win.servers.least_loaded()
        loads = {c: c.load for c in win.servers.connections()}
        assert [load[0] for load in loads.values() if load] == [1, 1]
        assert loads[chosen] == min(load for load in loads.values() if load)
        embedded_url = win.connection.url
        # The window goes, its recordings recording on (as Close → Keep recording does)
        for rid in (on_remote, near):
            await win.recordings.release(rid, cancel=False)
        await win.recordings.release_all()
        await win.connection.leave(keep_recording=win.recordings.background)
        await win.servers.aclose()
    except BaseException:
        await _close(win)
        raise
    win.close_now()
    win.deleteLater()

    left = settings.embedded_server()
    assert left is not None and left[0] == embedded_url
    pid = left[1]
    again = _window(settings, store, tmp_path)
    try:
        assert await again.connection.connect_server()  # reattached to the embedded one
        assert again.connection.url == embedded_url
        await again.servers.connect_others()
        await again.recordings.reattach()
        rows = {r.channel: r for r in again.recordings.model.rows()}
        assert set(rows) == {"far", "near"}
        assert (rows["far"].server, rows["near"].server) == (remote.url, "")
        assert again.recordings.connection_of(rows["far"].recording_id) is again.servers.get(
            remote.url
        )
        for row in rows.values():
            assert await again.recordings.stop(row.recording_id) is None
        # the window quits: the server it took back is asked to exit, and does
        await again.connection.leave(keep_recording=False)
        await wait_until(lambda: os.waitpid(pid, os.WNOHANG)[0] == pid, 30)
        pid = 0
    finally:
        await _close(again)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


async def test_the_servers_dialog_adds_and_removes_a_server_with_its_token_in_the_keyring(
    qtbot: Any,
    settings: AppSettings,
    store: KeyringStore,
    remote: ServerProcess,
    tmp_path: Path,
) -> None:
    from gui.dialogs.servers_dialog import ServersDialog
    from gui.server_connection import ServerConnection
    from gui.server_pool import ServerPool

    # the window's own server: never asked here (the dialog lists it, first, and keeps it)
    primary = ServerConnection(settings, store, None, remote_url="http://127.0.0.1:9")
    pool = ServerPool(primary, settings, store)
    dialog = ServersDialog(pool)
    qtbot.addWidget(dialog)
    try:
        dialog.url.setText("ftp://elsewhere")
        await dialog.on_add()
        assert dialog.error.isVisibleTo(dialog)
        assert dialog.error.text() == (
            "server URL: ftp://elsewhere is not an http:// or https:// URL"
        )
        assert settings.other_servers() == []

        dialog.url.setText(remote.url + "/")
        dialog.token.setText(remote.token)
        await dialog.on_add()
        assert not dialog.error.isVisibleTo(dialog) and dialog.url.text() == ""
        assert settings.other_servers() == [remote.url]
        assert await store.get(server_entry(remote.url)) == remote.token
        assert dialog.table.rowCount() == 2
        await wait_until(lambda: pool.others()[0].load is not None, 10)
        assert dialog.table.item(1, 0).text() == remote.url
        assert dialog.table.item(1, 1).text().startswith("recordings: 0, CPU ")
        dialog.url.setText(remote.url)
        await dialog.on_add()
        assert dialog.error.text() == f"server URL: the window holds {remote.url} already"

        dialog.table.selectRow(0)
        assert not dialog.remove_button.isEnabled()  # the window's own stays
        dialog.table.selectRow(1)
        assert dialog.remove_button.isEnabled()
        await dialog.on_remove()
        assert settings.other_servers() == [] and dialog.table.rowCount() == 1
        assert await store.get(server_entry(remote.url)) is None
    finally:
        await pool.aclose()
        await primary.aclose()


def test_other_servers_setting_reads_only_urls(tmp_path: Path) -> None:
    raw = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings = AppSettings(raw)
    assert settings.other_servers() == []
    raw.setValue("server/others", '["http://a:1/", 5, "", "http://a:1", "http://b:2"]')
    assert settings.other_servers() == ["http://a:1", "http://b:2"]
    raw.setValue("server/others", "not json")
    assert settings.other_servers() == []
