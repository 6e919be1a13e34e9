"""The embedded server: started as a subprocess with a per-launch token, stopped on quit."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, QStandardPaths, QTimer
from PySide6.QtWidgets import QApplication

from gui.embedded_server import TOKEN_ENV, EmbeddedServer, ServerState, process_alive, reachable


def _proc_files(pid: int) -> tuple[bytes, bytes] | None:
    """The command line and environment of a process on Linux, or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    folder = Path(f"/proc/{pid}")
    return (folder / "cmdline").read_bytes(), (folder / "environ").read_bytes()


async def test_embedded_server_starts_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    server = EmbeddedServer(tmp_path / "server.log")
    url = await server.start()
    try:
        assert server.state is ServerState.RUNNING
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        assert await reachable(url)
        pid = server.pid
        assert pid is not None and process_alive(pid)
        # secrets.token_urlsafe(32): 32 random bytes, 43 URL-safe base64 characters
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", server.token), len(server.token)
        proc = _proc_files(pid)
        if proc is not None:  # the token is passed in the environment, never on the command line
            cmdline, environ = proc
            args = cmdline.decode().split("\0")[:-1]
            assert args[:-1] == [
                *(sys.executable, "-m", "core.cli", "server"),
                *("--host", "127.0.0.1", "--port", "0", "--no-basic"),
                *("--lease", "60", "--ready-file"),
            ]
            assert server.token.encode() not in cmdline
            assert f"{TOKEN_ENV}={server.token}".encode() in environ
    finally:
        await server.stop()
    assert server.state is ServerState.STOPPED
    assert not process_alive(pid)
    assert not await reachable(url)
    # The next launch on the same data folder (one server at a time holds it) has a
    # token of its own.
    second = EmbeddedServer(tmp_path / "server2.log")
    await second.start()
    try:
        assert second.token != server.token
    finally:
        await second.stop()


async def test_a_server_that_cannot_start_is_reported(tmp_path: Path) -> None:
    from gui.embedded_server import EmbeddedServerError

    server = EmbeddedServer(tmp_path / "server.log", extra_args=("--no-such-option",))
    with pytest.raises(EmbeddedServerError, match="exited with code"):
        await server.start()
    assert server.state is ServerState.FAILED


def test_main_starts_the_window_and_stops_the_server_on_quit(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gui import app as gui_app

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # main installs its own
    QStandardPaths.setTestModeEnabled(True)
    QSettings.setPath(
        QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "conf")
    )
    seen: dict[str, Any] = {}

    def close_when_running() -> None:
        window = next((w for w in qapp.topLevelWidgets() if w.objectName() == "main_window"), None)
        if window is not None and window.connection.state is ServerState.RUNNING:
            seen["url"], seen["pid"] = window.connection.url, window.connection.server.pid
            seen["status"] = window.status_bar.server_url.text()
            window.close()
            return
        QTimer.singleShot(100, close_when_running)

    QTimer.singleShot(100, close_when_running)
    try:
        assert gui_app.main(["cloudrec"]) == 0
    finally:
        asyncio.set_event_loop(None)
        qapp.setQuitOnLastWindowClosed(True)
    assert seen["status"] == f"Server (embedded): {seen['url']}"
    assert not process_alive(seen["pid"])
    assert (tmp_path / "conf" / "cloudrec" / "cloudrec.conf").exists()
