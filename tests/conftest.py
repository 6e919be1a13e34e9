"""Fixtures shared by the test suite.

``channel_server``: a real cloudrec server (uvicorn, the app of
``core.server.app.create_app``) on 127.0.0.1 with a random port, running in the
test's event loop, so a test can publish over WHIP like any client and subscribe
in-process through ``channel_server.registry`` like the recorder. Its storage root is
the test's ``tmp_path`` and it allows S3 endpoints on 127.0.0.1;
``serve_channel_server`` starts one with other settings.

``s3_server`` (one per session) and ``s3_bucket``: a signature-checking S3 server
(moto) on 127.0.0.1 and a fresh bucket in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from core.channel.registry import ChannelRegistry
from core.enums import SANDBOX_APP_ID
from core.server.app import ServerSettings, create_app
from core.server.limits import http_protocol
from tests.s3server import S3Server, start_s3_server

TEST_APP_ID = "0123456789abcdef0123456789abcdef"
"""An app with a certificate (joining needs a token) configured in ``channel_server``."""
TEST_APP_CERTIFICATE = "fedcba9876543210fedcba9876543210"
TEST_CUSTOMER = ("customer", "c-secret")
"""Customer ID and secret the ``channel_server`` accepts with Basic auth."""


@dataclass
class ChannelServer:
    """A running server: its base URL, app and channel registry."""

    url: str
    app: FastAPI
    settings: ServerSettings

    @property
    def registry(self) -> ChannelRegistry:
        registry: ChannelRegistry = self.app.state.channels
        return registry

    def whip_url(
        self, channel: str, uid: int | str, app_id: str = SANDBOX_APP_ID, **query: str
    ) -> str:
        """The WHIP endpoint for ``uid`` in ``channel`` (query: role, channel_type)."""
        path = f"/whip/{app_id}/{quote(channel, safe='')}/{uid}"
        return self.url + path + (f"?{urlencode(query)}" if query else "")


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the test process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_channel_server(tmp_path: Path, **overrides: Any) -> AsyncIterator[ChannelServer]:
    """A cloudrec server on 127.0.0.1:<random port> with the ``channel_server``
    settings, ``overrides`` replacing any of them; stopped on exit.

    Its clients may record into any folder under ``tmp_path`` (a storage root) and name
    S3 endpoints on 127.0.0.1, any port (the test S3 server): loopback is allowed only
    because it is listed here."""
    fields: dict[str, Any] = {
        "apps": {TEST_APP_ID: TEST_APP_CERTIFICATE},
        "data_dir": tmp_path / "server-data",
        "customers": dict([TEST_CUSTOMER]),
        "storage_roots": (tmp_path,),
        "allowed_endpoints": ("127.0.0.1",),
    }
    settings = ServerSettings(**{**fields, **overrides})
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        http=http_protocol(settings.request_timeout),  # as cloudrec server runs it
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the test server stopped while starting")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield ChannelServer(f"http://127.0.0.1:{port}", app, settings)
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def channel_server(tmp_path: Path) -> AsyncIterator[ChannelServer]:
    """A cloudrec server on 127.0.0.1:<random port>, stopped after the test
    (:func:`serve_channel_server`)."""
    async with serve_channel_server(tmp_path) as server:
        yield server


@pytest.fixture
async def http(channel_server: ChannelServer) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``channel_server``'s recording API (Agora's paths of the sandbox app)
    with its bearer token. A module may define its own ``http`` instead."""
    async with httpx.AsyncClient(
        base_url=f"{channel_server.url}/v1/apps/{SANDBOX_APP_ID}/cloud_recording",
        headers={"Authorization": f"Bearer {channel_server.settings.token}"},
        timeout=30,
    ) as client:
        yield client


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A moto S3 server on 127.0.0.1 that checks signatures, and the one key it accepts."""
    server = start_s3_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A new empty bucket in ``s3_server``."""
    return s3_server.create_bucket(f"rec-{uuid.uuid4().hex[:12]}")
