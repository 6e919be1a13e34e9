"""The window's server connection: one client for its requests, health, leaving."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.config import CloudStorageConfig
from core.errors import CloudRecordingError, ErrorCode
from gui.embedded_server import ServerState
from gui.forms.storage_profiles import StorageCheckUnavailable
from gui.keyring_store import EMBEDDED_SERVER_ENTRY, SERVICE, KeyringStore
from gui.server_connection import ServerConnection
from gui.settings import AppSettings

from .conftest import FakeServer, ScopedSecretService

STATUS = {
    "cpuSeconds": 1.0,
    "monotonic": 10.0,
    "activeRecordings": 0,
    "uploadBacklog": 0,
}


class FakeApi:
    """The server's REST extensions as an ``httpx.MockTransport``; keeps every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.storage_answer: tuple[int, dict[str, Any]] = (200, {"ok": True, "destination": "x"})

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/v1/cloudrec/status":
            return httpx.Response(200, json=STATUS)
        if request.url.path == "/v1/cloudrec/storage/check":
            status, body = self.storage_answer
            return httpx.Response(status, json=body)
        if request.url.path == "/v1/cloudrec/exit-when-done":
            return httpx.Response(200, json={"activeRecordings": 1})
        return httpx.Response(404, json={"reason": "no such route"})


@pytest.fixture
async def listening_url() -> AsyncIterator[str]:
    """A TCP port that accepts connections (the health check's reachability test)."""

    def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


def _connection(
    settings: AppSettings, store: KeyringStore, api: FakeApi, server: FakeServer
) -> ServerConnection:
    return ServerConnection(
        settings,
        store,
        server,  # type: ignore[arg-type]
        transport=httpx.MockTransport(api.handle),
    )


async def test_one_client_for_health_and_storage_checks_closed_once(
    settings: AppSettings, store: KeyringStore, fake_server: FakeServer, listening_url: str
) -> None:
    api = FakeApi()
    connection = _connection(settings, store, api, fake_server)
    states: list[ServerState] = []
    reports: list[dict[str, Any]] = []
    connection.state_changed.connect(states.append)
    connection.status_received.connect(reports.append)
    connection.use(listening_url + "/", "the-token", owned=False)
    assert connection.url == listening_url
    client = connection.client
    await connection.check_health()
    assert connection.state is ServerState.RUNNING and states[-1] is ServerState.RUNNING
    assert reports == [STATUS]
    storage = CloudStorageConfig()
    await connection.check_storage(storage)
    api.storage_answer = (200, {"ok": False, "reason": "bucket missing"})
    with pytest.raises(CloudRecordingError) as info:
        await connection.check_storage(storage)
    assert info.value.code is ErrorCode.UPLOADER_INIT and "bucket missing" in info.value.message
    api.storage_answer = (404, {"reason": "Not Found"})
    with pytest.raises(StorageCheckUnavailable):
        await connection.check_storage(storage)
    assert connection.client is client  # one client for every request
    assert all(r.headers["Authorization"] == "Bearer the-token" for r in api.requests)
    assert client is not None
    await connection.aclose()
    assert client.http.is_closed and connection.client is None


async def test_an_unreachable_server_is_reported(
    settings: AppSettings, store: KeyringStore, fake_server: FakeServer
) -> None:
    api = FakeApi()
    connection = _connection(settings, store, api, fake_server)
    connection.use("http://127.0.0.1:9", None, owned=False)  # the discard port: closed
    await connection.check_health()
    assert connection.state is ServerState.UNREACHABLE
    assert api.requests == []  # no status request to a server that does not answer
    await connection.aclose()


async def test_leaving_with_background_recordings_keeps_the_server(
    settings: AppSettings,
    store: KeyringStore,
    fake_server: FakeServer,
    secret_service: ScopedSecretService,
) -> None:
    api = FakeApi()
    connection = _connection(settings, store, api, fake_server)
    messages: list[tuple[str, bool]] = []
    connection.message.connect(lambda text, error: messages.append((text, error)))
    connection.use("http://127.0.0.1:9", "server-token", owned=True)
    await connection.leave(keep_recording=True)
    assert [r.url.path for r in api.requests] == ["/v1/cloudrec/exit-when-done"]
    assert fake_server.detached and not fake_server.stopped
    assert settings.embedded_server() == ("http://127.0.0.1:9", 4242)
    assert await store.get(EMBEDDED_SERVER_ENTRY) == "server-token"
    assert secret_service.get_password(SERVICE, EMBEDDED_SERVER_ENTRY) == "server-token"
    assert messages[-1] == ("The embedded server keeps recording in the background.", False)
    assert connection.client is None


async def test_leaving_otherwise_stops_the_embedded_server(
    settings: AppSettings, store: KeyringStore, fake_server: FakeServer
) -> None:
    settings.set_embedded_server("http://127.0.0.1:9", 1)
    connection = _connection(settings, store, FakeApi(), fake_server)
    await connection.start_embedded()
    assert connection.owns_server and connection.state is ServerState.RUNNING
    assert connection.health.isActive()
    await connection.leave(keep_recording=False)
    assert fake_server.stopped and settings.embedded_server() is None
    assert not connection.health.isActive()


async def test_a_reattached_server_is_kept_running_and_asked_to_exit_on_leaving(
    settings: AppSettings,
    store: KeyringStore,
    fake_server: FakeServer,
    listening_url: str,
) -> None:
    """The earlier window left its embedded server recording and asked it to exit when
    done; this window reattaches and takes that back (DELETE exit-when-done), so the
    server does not vanish under it when the recordings end (issue 28, item 4); leaving
    without background recordings, it asks the server to exit and forgets it."""
    import os

    api = FakeApi()
    settings.set_embedded_server(listening_url, os.getpid())
    await store.set(EMBEDDED_SERVER_ENTRY, "left-token")
    connection = _connection(settings, store, api, fake_server)
    assert await connection.connect_server() is True  # reattached
    calls = [(r.method, r.url.path) for r in api.requests]
    assert ("DELETE", "/v1/cloudrec/exit-when-done") in calls
    api.requests.clear()
    await connection.leave(keep_recording=False)
    assert [(r.method, r.url.path) for r in api.requests] == [
        ("POST", "/v1/cloudrec/exit-when-done")
    ]  # fmt: skip
    assert settings.embedded_server() is None
    assert await store.get(EMBEDDED_SERVER_ENTRY) is None
    assert not fake_server.stopped  # not this window's process: it exits by itself
