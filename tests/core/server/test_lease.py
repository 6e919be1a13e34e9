"""``cloudrec server --lease SECONDS``: a window's embedded server exits by itself once
its window stopped renewing the lease and nothing records (docs/gui.md, "The embedded
server's life"). Real server processes, real bots, the real SDK."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from core import (
    CloudStorageConfig,
    RecordingConfig,
    StorageVendor,
    TranscodingConfig,
    create_cloud_recorder,
)
from core.enums import SANDBOX_APP_ID
from core.participants.bots import run_bots
from core.sdk.client import Credentials, RestClient
from core.sdk.embedded import EmbeddedServer
from core.server.lease import CHECK_INTERVAL
from tests.helpers import CallbackLog, check_recording

LEASE = 2.0
EXIT_MARGIN = 3.0
"""How long after the lease lapses the process may take to be gone: the watcher looks
every CHECK_INTERVAL (0.5 s), then uvicorn's clean shutdown and the interpreter's exit
on a loaded 2-core machine."""


async def _renew(http: httpx.AsyncClient, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = await http.post("/v1/cloudrec/lease", headers=headers)
    return response.status_code


class _ExitWatch:
    """When the server process exited, seen from a thread blocked in ``wait``."""

    def __init__(self, server: EmbeddedServer) -> None:
        assert server.process is not None
        self.process = server.process
        self.exited_at: float | None = None
        self.task = asyncio.get_running_loop().run_in_executor(None, self._wait)

    def _wait(self) -> int:
        code = self.process.wait()
        self.exited_at = time.monotonic()
        return code


async def test_the_server_exits_once_renewals_stop_and_only_then(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path / "data", log_file=tmp_path / "server.log", lease=LEASE)
    await server.start()
    watch = _ExitWatch(server)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
            # Renewals every 0.5 s for twice the lease: the server stays.
            until = time.monotonic() + 2 * LEASE
            while time.monotonic() < until:
                assert await _renew(http, server.token) == 200
                await asyncio.sleep(0.5)
            assert server.exit_code() is None
            # Requests without the token, or with another one, renew nothing (401).
            assert await _renew(http, None) == 401
            assert await _renew(http, "not-the-token") == 401
            answer = await http.post(
                "/v1/cloudrec/lease", headers={"Authorization": f"Bearer {server.token}"}
            )
            sent = time.monotonic() - answer.elapsed.total_seconds()
            answered = time.monotonic()
            assert answer.json() == {"ok": True, "leaseSeconds": LEASE}
            # Only unauthenticated "renewals" from here on: they must not keep it alive.
            while watch.exited_at is None and time.monotonic() < answered + LEASE + EXIT_MARGIN:
                if time.monotonic() < answered + LEASE - 0.3:
                    assert await _renew(http, None) == 401
                await asyncio.sleep(0.1)
        code = await asyncio.wait_for(watch.task, LEASE + EXIT_MARGIN)
    finally:
        await server.stop()
    assert code == 0  # a clean stop, as on SIGTERM
    assert watch.exited_at is not None
    assert watch.exited_at - sent >= LEASE, "exited before its lease lapsed"
    assert watch.exited_at - answered <= LEASE + EXIT_MARGIN
    assert CHECK_INTERVAL < EXIT_MARGIN


async def test_a_lapsed_lease_does_not_end_a_recording(tmp_path: Path) -> None:
    """The window kept a recording in the background (or was killed while one ran): the
    recording goes on past the lease; the server exits once it is stopped and uploaded."""
    data = tmp_path / "data"
    folder = data / "recordings" / "lease"
    server = EmbeddedServer(data, log_file=tmp_path / "server.log", lease=LEASE)
    await server.start()
    watch = _ExitWatch(server)
    log = CallbackLog()
    config = RecordingConfig(
        slice_duration=1,
        transcoding_config=TranscodingConfig(width=160, height=120, fps=15, bitrate=200),
    )
    storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(folder))
    try:
        async with (
            httpx.AsyncClient(base_url=server.url, timeout=5) as http,
            run_bots(server.url, channel="lease", uids=[11, 12], size=(160, 120)),
        ):

            async def renew_forever() -> None:
                while True:
                    assert await _renew(http, server.token) == 200
                    await asyncio.sleep(0.3)

            renewing = asyncio.create_task(renew_forever())
            recorder = create_cloud_recorder(log, server=server.url, token=server.token)
            try:
                await recorder.start(SANDBOX_APP_ID, "lease", None, 4321, config, storage)
            finally:
                renewing.cancel()
            stopped_renewing = time.monotonic()
            # The thing tested: nothing ends for a while after the lease has lapsed.
            await asyncio.sleep(LEASE + EXIT_MARGIN)
            assert time.monotonic() - stopped_renewing > LEASE + CHECK_INTERVAL
            assert server.exit_code() is None, "the server left a running recording"
            assert watch.exited_at is None
            assert recorder.resource_id is not None and recorder.sid is not None
            client = RestClient(server.url, Credentials(bearer=server.token))
            try:
                answer = await client.query(SANDBOX_APP_ID, recorder.resource_id, recorder.sid)
            finally:
                await client.aclose()
            assert answer["serverResponse"]["status"] == 5, answer  # still recording
            await recorder.stop()
            await recorder.release()
        code = await asyncio.wait_for(watch.task, 30)
    finally:
        await server.stop()
    assert code == 0
    playlists = list(folder.rglob("*.m3u8"))
    assert len(playlists) == 1, playlists
    # Ended and uploaded before the server left: the playlist is whole and closed.
    media = check_recording(playlists[0], fps=15)
    assert media.listed_seconds is not None and media.listed_seconds >= LEASE + EXIT_MARGIN
