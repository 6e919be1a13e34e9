"""The seed's API end to end: SDK -> REST API -> recorder -> local folder, with real bots,
and the embedded server process.

What needs less than the whole system is tested closer to its part: the REST API's
errors, resources, replay and reattaching in ``tests/core/server/test_http_recording.py``,
the SDK's event reader (idle exit, fatal errors, a network cut) in
``tests/core/sdk/test_event_reader.py``.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest

from core import (
    CloudStorageConfig,
    RecordingConfig,
    StorageVendor,
    TranscodingConfig,
    create_cloud_recorder,
)
from core.enums import SANDBOX_APP_ID
from core.notices import service_state
from core.participants.bots import run_bots
from core.sdk.client import Credentials, RestClient
from core.server.service import RecordingService
from tests.helpers import CallbackLog, check_recording, promised_callbacks, wait_until

pytestmark = pytest.mark.slow

FPS = 15


def _config(**overrides: Any) -> RecordingConfig:
    fields: dict[str, Any] = {
        "progress_interval": 1,
        "slice_duration": 2,
        "transcoding_config": TranscodingConfig(width=320, height=240, fps=FPS, bitrate=300),
    }
    return RecordingConfig(**{**fields, **overrides})


async def test_callbacks_in_order_and_agora_named_files(
    channel_server: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "recordings"
    storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(folder))
    log = CallbackLog()
    service: RecordingService = channel_server.app.state.recordings
    async with run_bots(channel_server.url, channel="e2e", uids=[11, 12, 13], size=(160, 120)):
        recorder = create_cloud_recorder(
            log, server=channel_server.url, token=channel_server.settings.token
        )
        await recorder.start(SANDBOX_APP_ID, "e2e", None, 900, _config(), storage)
        assert recorder.resource_id and recorder.sid
        # a few seconds of three users: progress reported every second
        await wait_until(lambda: log.names().count("on_recording_uploading_progress") >= 4, 15)
        client = RestClient(channel_server.url, Credentials(bearer=channel_server.settings.token))
        body = await client.query(SANDBOX_APP_ID, recorder.resource_id, recorder.sid)
        await client.aclose()
        health = service_state(body["serverResponse"])  # the renderer's health
        # it keeps up: no input frame lost, none later than the 0.4 s latency window
        assert (health["droppedFrames"], health["lateFrames"]) == (0, 0)
        assert 0 <= health["renderLag"] <= health["maxRenderLag"] + 1e-9 < 5.0
        assert health["users"] == [11, 12, 13]
        engine = service.session(SANDBOX_APP_ID, recorder.resource_id, recorder.sid).recorder
        assert engine is not None and engine.clock is not None
        stop_called = engine.clock.now()
        await recorder.stop()
        stop_returned = engine.clock.now()
        await recorder.wait_finished(20)
        await recorder.release()

    sid = recorder.sid
    notices = service.store.notices(sid)
    assert log.without_id() == [("on_recording_connecting", ()), *promised_callbacks(notices)]
    names = log.names()
    for once in ("on_recording_connecting", "on_recording_started", "on_recording_stopped"):
        assert names.count(once) == 1, once
    assert names.count("on_recording_uploaded") == 1
    assert names.index("on_recording_uploading_progress") < names.index("on_recording_stopped")
    assert names.index("on_recording_stopped") < names.index("on_recording_uploaded")
    assert not {"on_recorder_failure", "on_uploader_failure", "on_recording_fatal_error"} & set(
        names
    )
    playlist = folder / f"{sid}_e2e.m3u8"
    assert ("on_recording_uploaded", (playlist.name,)) in log.without_id()
    text = playlist.read_text()
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    slices = [line for line in text.splitlines() if line.endswith(".ts")]
    assert slices and all(
        s.startswith(f"{sid}_e2e_") and len(s) == len(f"{sid}_e2e_") + 17 + 3 for s in slices
    )
    media = check_recording(playlist, fps=FPS)
    assert [s.path.name for s in media.slices] == slices
    # output time 0 to the stop, one frame per tick whose span ended by then: none lost
    assert math.floor(stop_called * FPS) <= media.video_frames <= math.floor(stop_returned * FPS)
    (leave,) = [n["payload"]["details"] for n in notices if n["eventType"] == 41]
    assert leave["slices"] == len(slices)
    assert media.listed_seconds is not None
    assert leave["duration"] == pytest.approx(media.listed_seconds, abs=0.0005 * len(slices))


async def test_a_background_server_exits_once_its_recordings_are_done(tmp_path: Path) -> None:
    from core.sdk.embedded import start_embedded_server

    server = await start_embedded_server(tmp_path / "data", storage_roots=(tmp_path / "rec",))
    try:
        recorder = create_cloud_recorder(CallbackLog(), server=server.url, token=server.token)
        storage = CloudStorageConfig(local_folder=str(tmp_path / "rec"))
        await recorder.start(SANDBOX_APP_ID, "bg", None, 904, _config(max_idle_time=5), storage)
        sid = recorder.sid
        await recorder.release(cancel=False)  # the recording goes on without a client
        client = RestClient(server.url, Credentials(bearer=server.token))
        assert await client.exit_when_done() == 1
        await client.aclose()
        assert server.exit_code() is None
        # nobody joins: the recording ends by itself after max_idle_time, then the server
        assert await server.wait_exit(30) == 0
    finally:
        await server.stop()
    check_recording(tmp_path / "rec" / f"{sid}_bg.m3u8", fps=FPS)


async def test_a_server_taken_back_from_exiting_outlives_its_recordings(tmp_path: Path) -> None:
    """A window that reattaches to a background server takes back exit-when-done: the
    server's last recording ends and it goes on serving (issue 28, item 4); asked again
    with nothing recording, it exits at once."""
    from core.sdk.embedded import start_embedded_server

    server = await start_embedded_server(tmp_path / "data", storage_roots=(tmp_path / "rec",))
    client = RestClient(server.url, Credentials(bearer=server.token))
    try:
        recorder = create_cloud_recorder(CallbackLog(), server=server.url, token=server.token)
        storage = CloudStorageConfig(local_folder=str(tmp_path / "rec"))
        await recorder.start(SANDBOX_APP_ID, "bg2", None, 905, _config(max_idle_time=5), storage)
        await recorder.release(cancel=False)
        assert await client.exit_when_done() == 1  # the first window leaves
        assert await client.keep_running() == 1  # the next one reattaches
        # nobody joins: the recording ends by itself after max_idle_time; the server stays
        for _ in range(150):
            if (await client.status())["activeRecordings"] == 0:
                break
            await asyncio.sleep(0.1)
        assert (await client.status())["activeRecordings"] == 0
        await asyncio.sleep(2.0)  # longer than the exit takes once asked
        assert server.exit_code() is None
        assert await client.exit_when_done() == 0  # that window leaves: it exits now
        assert await server.wait_exit(30) == 0
    finally:
        await client.aclose()
        await server.stop()
