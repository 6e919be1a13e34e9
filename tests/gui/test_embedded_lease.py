"""The window's embedded server leaves with its window: the window renews the server's
lease on its health timer; a window that is gone (killed: its timer simply stops, no
``leave``) leaves no server behind once the lease lapses; a reattaching window renews it
again (docs/gui.md, "The embedded server's life"). Real server processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gui.embedded_server import LEASE_SECONDS, EmbeddedServer, ServerState, process_alive
from gui.keyring_store import EMBEDDED_SERVER_ENTRY, KeyringStore
from gui.server_connection import ServerConnection
from gui.settings import AppSettings
from tests.helpers import wait_until

LEASE = 2.0
EXIT_MARGIN = 3.0
"""The watcher looks every 0.5 s; then a clean shutdown and exit on a loaded machine."""
RENEW_MS = 300
"""The tests' health interval (the window's is 5 s against a 60 s lease)."""


async def _exited_within(server: EmbeddedServer, seconds: float) -> int | None:
    """The server's exit code if it exits within ``seconds``, else None."""
    return await server.wait_exit(seconds)


async def test_a_window_that_is_gone_leaves_no_server_behind(
    settings: AppSettings, store: KeyringStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    server = EmbeddedServer(tmp_path / "server.log", lease=LEASE)
    connection = ServerConnection(settings, store, server)
    connection.health.setInterval(RENEW_MS)
    try:
        await connection.start_embedded()
        assert connection.state is ServerState.RUNNING
        pid = server.pid
        assert pid is not None
        # While the window lives, its health timer renews the lease: the server stays.
        assert await _exited_within(server, 2 * LEASE) is None
        assert connection.state is ServerState.RUNNING
        # The window is killed: no leave(), no more ticks.
        connection.health.stop()
        code = await _exited_within(server, LEASE + EXIT_MARGIN)
        assert code == 0, "the server outlived its window"
        assert not process_alive(pid)
    finally:
        await server.stop()
        await connection.aclose()


async def test_a_reattaching_window_renews_the_lease(
    settings: AppSettings, store: KeyringStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server an earlier window left (its URL and pid in the settings, its token in
    the keyring) lives on while the next window is attached and renews."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    server = EmbeddedServer(tmp_path / "server.log", lease=LEASE)
    first = ServerConnection(settings, store, server)
    second = ServerConnection(settings, store, EmbeddedServer(tmp_path / "server2.log"))
    second.health.setInterval(RENEW_MS)
    try:
        await first.start_embedded()
        first.health.stop()  # the first window is gone
        assert first.url is not None and server.pid is not None
        await store.set(EMBEDDED_SERVER_ENTRY, server.token)
        settings.set_embedded_server(first.url, server.pid)
        assert await second.connect_server()  # reattached, renewing from now on
        assert second.state is ServerState.DETACHED and second.url == first.url
        assert await _exited_within(server, 2 * LEASE) is None
        second.health.stop()
        assert await _exited_within(server, LEASE + EXIT_MARGIN) == 0
    finally:
        await server.stop()
        await first.aclose()
        await second.aclose()


def test_the_window_starts_its_server_with_a_60_second_lease(tmp_path: Path) -> None:
    assert LEASE_SECONDS == 60.0
    assert EmbeddedServer(tmp_path / "server.log").lease == 60.0


# A window process as `cloudrec` runs it (gui/app.py's main), with the tests' lease and
# health interval; it writes its server's pid once the server runs.
WINDOW_PROGRAM = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    import qasync
    from PySide6.QtWidgets import QApplication
    from gui.embedded_server import EmbeddedServer, ServerState
    from gui.keyring_store import KeyringStore
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    folder = Path(sys.argv[1])
    app = QApplication(["cloudrec"])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    server = EmbeddedServer(folder / "server.log", lease=float(sys.argv[2]))
    window = MainWindow(AppSettings(), KeyringStore(), embedded_server=server)
    window.connection.health.setInterval(int(sys.argv[3]))

    def running(state: ServerState) -> None:
        if state is ServerState.RUNNING and server.pid is not None:
            (folder / "server.pid").write_text(str(server.pid))

    window.connection.state_changed.connect(running)
    window.show()
    with loop:
        sys.exit(loop.run_until_complete(window.run()))
    """
)


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody reaped yet has exited: not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _start_window(folder: Path) -> subprocess.Popen[bytes]:
    program = folder / "window.py"
    program.write_text(WINDOW_PROGRAM)
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CONFIG_HOME": str(folder / "config"),
    }
    with (folder / "window.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, str(program), str(folder), str(LEASE), str(RENEW_MS)],
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


async def test_a_killed_window_process_leaves_no_server_behind(tmp_path: Path) -> None:
    """SIGKILL: the window cannot stop its server, which exits once the lease lapses."""
    window = _start_window(tmp_path)
    pid_file = tmp_path / "server.pid"
    server_pid = 0
    try:
        await wait_until(lambda: pid_file.exists() or window.poll() is not None, 60)
        assert window.poll() is None, (tmp_path / "window.log").read_text()
        server_pid = int(pid_file.read_text())
        # While the window lives it renews: the server is there after twice the lease.
        until = time.monotonic() + 2 * LEASE
        while time.monotonic() < until:
            assert _running(server_pid)
            await asyncio.sleep(0.2)
        window.kill()
        window.wait(10)
        await wait_until(lambda: not _running(server_pid), LEASE + EXIT_MARGIN)
    finally:
        if window.poll() is None:
            window.kill()
            window.wait(10)
        if server_pid and _running(server_pid):
            os.kill(server_pid, signal.SIGKILL)
