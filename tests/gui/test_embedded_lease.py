"""The window's embedded server leaves with its window: the window renews the server's
lease on its health timer; a window that is gone (killed: its timer simply stops, no
``leave``) leaves no server behind once the lease lapses; a reattaching window renews it
again (docs/gui.md, "The embedded server's life"). Real server processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gui.embedded_server import LEASE_SECONDS, EmbeddedServer, ServerState, process_alive
from gui.keyring_store import EMBEDDED_SERVER_ENTRY, KeyringStore
from gui.server_connection import ServerConnection
from gui.settings import AppSettings

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
