"""The seed's API end to end: SDK -> REST API -> recorder -> local folder, with real bots."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from core import (
    CloudRecordingError,
    CloudStorageConfig,
    ErrorCode,
    RecordingConfig,
    StorageVendor,
    TranscodingConfig,
    create_cloud_recorder,
)
from core.enums import SANDBOX_APP_ID
from core.participants.bots import run_bots
from core.sdk.client import Credentials, RestClient
from tests.helpers import CallbackLog, check_recording

pytestmark = pytest.mark.slow


def _config(**overrides: Any) -> RecordingConfig:
    fields: dict[str, Any] = {
        "progress_interval": 1,
        "slice_duration": 2,
        "transcoding_config": TranscodingConfig(width=320, height=240, fps=15, bitrate=300),
    }
    return RecordingConfig(**{**fields, **overrides})


async def test_callbacks_in_order_and_agora_named_files(
    channel_server: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "recordings"
    storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(folder))
    log = CallbackLog()
    async with run_bots(channel_server.url, channel="e2e", uids=[11, 12, 13], size=(160, 120)):
        recorder = create_cloud_recorder(
            log, server=channel_server.url, token=channel_server.settings.token
        )
        await recorder.start(SANDBOX_APP_ID, "e2e", None, 900, _config(), storage)
        await asyncio.sleep(5)
        client = RestClient(channel_server.url, Credentials(bearer=channel_server.settings.token))
        assert recorder.resource_id and recorder.sid
        body = await client.query(SANDBOX_APP_ID, recorder.resource_id, recorder.sid)
        await client.aclose()
        health = body["serverResponse"]["extensionServiceState"]  # the renderer's health
        assert health["droppedFrames"] == 0 and health["lateFrames"] >= 0
        assert 0 <= health["renderLag"] <= health["maxRenderLag"] + 1e-9 < 5.0
        assert health["users"] == [11, 12, 13]
        await recorder.stop()
        await recorder.wait_finished(20)
        await recorder.release()
    names = log.names()
    assert names[0] == "on_recording_connecting" and names[1] == "on_recording_started"
    assert "on_recording_uploading_progress" in names
    stopped, uploaded = names.index("on_recording_stopped"), names.index("on_recording_uploaded")
    assert names.index("on_recording_uploading_progress") < stopped < uploaded
    assert not {"on_recorder_failure", "on_uploader_failure", "on_recording_fatal_error"} & set(
        names
    )
    sid = recorder.sid
    playlist = folder / f"{sid}_e2e.m3u8"
    assert dict(log.calls)["on_recording_uploaded"] == (recorder.recording_id, playlist.name)
    text = playlist.read_text()
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    slices = [line for line in text.splitlines() if line.endswith(".ts")]
    assert slices and all(
        s.startswith(f"{sid}_e2e_") and len(s) == len(f"{sid}_e2e_") + 17 + 3 for s in slices
    )
    media = check_recording(playlist, fps=15)
    assert [s.path.name for s in media.slices] == slices
    assert media.video_frames / 15 > 3.0


async def test_release_without_cancel_keeps_recording_and_a_new_client_reattaches(
    channel_server: Any, tmp_path: Path
) -> None:
    storage = CloudStorageConfig(local_folder=str(tmp_path / "rec"))
    async with run_bots(channel_server.url, channel="keep", uids=[21], size=(160, 120)):
        first = create_cloud_recorder(
            CallbackLog(), server=channel_server.url, token=channel_server.settings.token
        )
        await first.start(SANDBOX_APP_ID, "keep", None, 901, _config(), storage)
        rid, sid = first.resource_id, first.sid
        await first.release(cancel=False)
        await asyncio.sleep(2)
        log = CallbackLog()
        second = create_cloud_recorder(
            log, server=channel_server.url, token=channel_server.settings.token
        )
        assert rid is not None and sid is not None
        await second.attach(SANDBOX_APP_ID, rid, sid, "keep", 901)
        await asyncio.sleep(1)
        assert "on_recording_started" in log.names()  # replayed: it was recording all along
        await second.release(cancel=True)
    assert "on_recording_stopped" in log.names() and "on_recording_uploaded" in log.names()
    assert (tmp_path / "rec" / f"{sid}_keep.m3u8").read_text().rstrip().endswith("#EXT-X-ENDLIST")


async def test_second_recorder_with_the_same_uid_is_a_clear_conflict(
    channel_server: Any, tmp_path: Path
) -> None:
    storage = CloudStorageConfig(local_folder=str(tmp_path))
    async with run_bots(channel_server.url, channel="dup", uids=[31], size=(160, 120)):
        first = create_cloud_recorder(
            CallbackLog(), server=channel_server.url, token=channel_server.settings.token
        )
        await first.start(SANDBOX_APP_ID, "dup", None, 902, _config(), storage)
        second = create_cloud_recorder(
            CallbackLog(), server=channel_server.url, token=channel_server.settings.token
        )
        with pytest.raises(CloudRecordingError) as info:
            await second.start(SANDBOX_APP_ID, "dup", None, 902, _config(), storage)
        assert "902" in str(info.value) and "already" in str(info.value)
        await second.release()
        await first.release(cancel=True)


async def test_unknown_sid_and_bad_auth_get_agora_shapes(channel_server: Any) -> None:
    base = f"{channel_server.url}/v1/apps/{SANDBOX_APP_ID}/cloud_recording"
    auth = {"Authorization": f"Bearer {channel_server.settings.token}"}
    async with httpx.AsyncClient() as http:
        missing = await http.get(f"{base}/resourceid/x/sid/y/mode/mix/query", headers=auth)
        assert missing.status_code == 404 and set(missing.json()) == {"code", "reason"}
        denied = await http.post(f"{base}/acquire", json={"cname": "a", "uid": "1"})
        assert denied.status_code == 401 and denied.json()["code"] == 401
        wrong = await http.post(
            f"{base}/acquire",
            json={"cname": "a", "uid": "1"},
            headers={"Authorization": "Bearer nope"},
        )
        assert wrong.status_code == 401
        bad = await http.post(
            f"{base}/acquire",
            content=b"{not json",
            headers={**auth, "Content-Type": "application/json"},
        )
        assert bad.status_code == 400 and "reason" in bad.json()
        zero = await http.post(f"{base}/acquire", json={"cname": "a", "uid": "0"}, headers=auth)
        assert zero.status_code == 400 and "uid" in zero.json()["reason"]
        rid = (
            await http.post(f"{base}/acquire", json={"cname": "a", "uid": "1"}, headers=auth)
        ).json()["resourceId"]
        bad_config = await http.post(
            f"{base}/resourceid/{rid}/mode/mix/start",
            json={
                "cname": "a",
                "uid": "1",
                "clientRequest": {"recordingConfig": {"maxIdleTime": 2}},
            },
            headers=auth,
        )
        assert bad_config.status_code == 400
        assert bad_config.json()["code"] == int(ErrorCode.INVALID_PARAMETER)
        assert "max_idle_time" in bad_config.json()["reason"]
        spec = await http.get(f"{channel_server.url}/openapi.json")
        assert "/v1/apps/{appid}/cloud_recording/acquire" in spec.json()["paths"]


async def test_network_cut_gives_disconnected_then_every_missed_event_in_order(
    channel_server: Any, tmp_path: Path
) -> None:
    from tests.s3server import TcpProxy

    port = int(channel_server.url.rsplit(":", 1)[1])
    proxy = TcpProxy(port).start()
    log = CallbackLog()
    storage = CloudStorageConfig(local_folder=str(tmp_path))
    async with run_bots(channel_server.url, channel="cut", uids=[41, 42], size=(160, 120)):
        recorder = create_cloud_recorder(log, server=proxy.url, token=channel_server.settings.token)
        await recorder.start(SANDBOX_APP_ID, "cut", None, 903, _config(), storage)
        await asyncio.sleep(2)
        proxy.pause("refuse")
        await asyncio.sleep(10)  # the recording goes on; progress notices pile up on the server
        before_restore = len(log.calls)
        proxy.resume()
        await asyncio.sleep(6)
        await recorder.stop()
        await recorder.wait_finished(20)
        await recorder.release()
    proxy.close()
    names = [name for name, _ in log.calls]
    failures = [args for name, args in log.calls if name == "on_recorder_failure"]
    assert failures and failures[0][1] is ErrorCode.DISCONNECTED
    # every progress notice the server logged reached the observer, once, in order
    service = channel_server.app.state.recordings
    notices = service.store.notices(recorder.sid)
    logged = [n["payload"]["details"]["progress"] for n in notices if n["eventType"] == 33]
    delivered = [args[1] for name, args in log.calls if name == "on_recording_uploading_progress"]
    assert delivered == [p // 100 for p in logged]
    assert (
        len(log.calls) > before_restore + 8
    )  # the ~10 missed progress notices came after reconnecting
    assert names.index("on_recording_stopped") < names.index("on_recording_uploaded")


async def test_a_background_server_exits_once_its_recordings_are_done(tmp_path: Path) -> None:
    from core.sdk.client import Credentials, RestClient
    from core.sdk.embedded import start_embedded_server

    server = await start_embedded_server(tmp_path / "data")
    try:
        recorder = create_cloud_recorder(CallbackLog(), server=server.url, token=server.token)
        storage = CloudStorageConfig(local_folder=str(tmp_path / "rec"))
        await recorder.start(SANDBOX_APP_ID, "bg", None, 904, _config(max_idle_time=5), storage)
        await recorder.release(cancel=False)  # the recording goes on without a client
        client = RestClient(server.url, Credentials(bearer=server.token))
        assert await client.exit_when_done() == 1
        await client.aclose()
        assert server.exit_code() is None
        # nobody joins: the recording ends by itself after max_idle_time, then the server
        assert await server.wait_exit(30) == 0
    finally:
        await server.stop()
    assert list((tmp_path / "rec").glob("*_bg.m3u8"))
