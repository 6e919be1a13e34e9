"""The SDK as a client of Agora's hosted service, checked against Agora's documented examples.

The fixtures are the request and response examples of Agora's REST documentation.
Requests the SDK builds for the hosted service (Basic auth, no cloudrec extensions)
use only fields of those examples, with the same meaning; Agora's responses drive
the callbacks through ``query`` polling, since the hosted service has no event stream.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from core import (
    AudioProfile,
    CloudStorageConfig,
    DecryptionMode,
    MixedVideoLayout,
    RecordingConfig,
    StorageVendor,
    TranscodingConfig,
    create_cloud_recorder,
)
from core.sdk import events
from tests.helpers import CallbackLog

EXAMPLES = json.loads((Path(__file__).parent / "fixtures" / "agora_rest_examples.json").read_text())
APP_ID = "0123456789abcdef0123456789abcdef"


def _keys_within(ours: Any, documented: Any, where: str = "") -> None:
    """Every key we send exists at the same place in Agora's example."""
    if isinstance(ours, dict):
        assert isinstance(documented, dict), where
        for key, value in ours.items():
            assert key in documented, f"{where}.{key} is not a field of Agora's API"
            _keys_within(value, documented[key], f"{where}.{key}")


class FakeAgora:
    """Answers with the documented examples and records what the SDK sent."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.stopped = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/acquire"):
            return httpx.Response(200, json=EXAMPLES["acquire_response"])
        if path.endswith("/start"):
            return httpx.Response(200, json=EXAMPLES["start_response"])
        if path.endswith("/events"):
            return httpx.Response(404, json={"message": "no Route matched with those values"})
        if path.endswith("/query"):
            if self.stopped:
                return httpx.Response(404, json=EXAMPLES["not_found_response"])
            return httpx.Response(200, json=EXAMPLES["query_response"])
        if path.endswith("/stop"):
            self.stopped = True
            return httpx.Response(200, json=EXAMPLES["stop_response"])
        return httpx.Response(404, json=EXAMPLES["not_found_response"])


def _example_configs() -> tuple[RecordingConfig, CloudStorageConfig]:
    documented = EXAMPLES["start_request"]["clientRequest"]
    recording = RecordingConfig(
        decryption_mode=DecryptionMode.AES_128_XTS,
        secret="example-secret",
        audio_profile=AudioProfile.MUSIC_HIGH_QUALITY,
        max_idle_time=120,
        transcoding_config=TranscodingConfig(
            width=360,
            height=640,
            fps=30,
            bitrate=600,
            max_resolution_uid=1,
            layout=MixedVideoLayout.BEST_FIT,
        ),
    )
    storage = documented["storageConfig"]
    return recording, CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3,
        region=0,
        bucket="xxxxx",
        access_key="AK-example",
        secret_key="SK-example",
        file_name_prefix=tuple(storage["fileNamePrefix"]),
    )


async def test_hosted_requests_use_only_agoras_fields_and_polling_drives_callbacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(events, "POLL_INTERVAL", 0.05)
    agora = FakeAgora()
    log = CallbackLog()
    recorder = create_cloud_recorder(
        log,
        server="https://api.sd-rtn.com",
        customer_id="customer",
        customer_secret="c-secret",
        transport=httpx.MockTransport(agora),
        extensions=False,
    )
    recording, storage = _example_configs()
    await recorder.start(APP_ID, "httpClient463224", "the-token", 527841, recording, storage)
    assert recorder.sid == EXAMPLES["start_response"]["sid"]
    await asyncio.sleep(0.2)
    await recorder.stop()
    await recorder.release()

    acquire, start = agora.requests[0], agora.requests[1]
    expected_auth = "Basic " + base64.b64encode(b"customer:c-secret").decode()
    assert all(r.headers["Authorization"] == expected_auth for r in agora.requests)
    assert acquire.url.path == f"/v1/apps/{APP_ID}/cloud_recording/acquire"
    rid = EXAMPLES["acquire_response"]["resourceId"]
    assert start.url.path == f"/v1/apps/{APP_ID}/cloud_recording/resourceid/{rid}/mode/mix/start"
    acquire_body, start_body = json.loads(acquire.content), json.loads(start.content)
    _keys_within(acquire_body, EXAMPLES["acquire_request"], "acquire")
    _keys_within(start_body, EXAMPLES["start_request"], "start")
    assert acquire_body["cname"] == "httpClient463224" and acquire_body["uid"] == "527841"
    sent = start_body["clientRequest"]
    documented = EXAMPLES["start_request"]["clientRequest"]
    for key in (
        "channelType",
        "streamTypes",
        "decryptionMode",
        "audioProfile",
        "videoStreamType",
        "maxIdleTime",
    ):
        assert sent["recordingConfig"][key] == documented["recordingConfig"][key], key
    for key in ("width", "height", "fps", "bitrate", "mixedVideoLayout"):
        assert (
            sent["recordingConfig"]["transcodingConfig"][key]
            == documented["recordingConfig"]["transcodingConfig"][key]
        )
    assert sent["storageConfig"]["fileNamePrefix"] == documented["storageConfig"]["fileNamePrefix"]
    assert sent["token"] == "the-token"
    stop = (
        agora.requests[-1]
        if agora.requests[-1].url.path.endswith("/stop")
        else next(r for r in agora.requests if r.url.path.endswith("/stop"))
    )
    _keys_within(json.loads(stop.content), EXAMPLES["stop_request"], "stop")

    names = [name for name, _ in log.calls]
    assert names[:2] == ["on_recording_connecting", "on_recording_started"]
    assert names.index("on_recording_stopped") < names.index("on_recording_uploaded")
    assert (
        dict(log.calls)["on_recording_uploaded"][1]
        == EXAMPLES["stop_response"]["serverResponse"]["fileList"]
    )


@pytest.mark.slow
async def test_our_server_accepts_agoras_documented_start_request_with_basic_auth(
    channel_server: Any, tmp_path: Path
) -> None:
    from core.enums import SANDBOX_APP_ID
    from core.participants.bots import run_bots
    from tests.conftest import TEST_CUSTOMER

    body = json.loads(json.dumps(EXAMPLES["start_request"]))
    client_request = body["clientRequest"]
    client_request.pop("token")
    client_request["recordingConfig"]["decryptionMode"] = 0  # the bots publish in the clear
    # A local folder instead of the example's S3 bucket: tests never leave 127.0.0.1.
    client_request["storageConfig"] = {
        "vendor": 100,
        "region": 0,
        "extensionParams": {"localFolder": str(tmp_path / "rec")},
    }
    base = f"{channel_server.url}/v1/apps/{SANDBOX_APP_ID}/cloud_recording"
    async with (
        run_bots(channel_server.url, channel=body["cname"], uids=[123, 456], size=(160, 120)),
        httpx.AsyncClient(auth=TEST_CUSTOMER, timeout=30) as http,
    ):
        acquired = await http.post(f"{base}/acquire", json=EXAMPLES["acquire_request"])
        assert acquired.status_code == 200, acquired.text
        rid = acquired.json()["resourceId"]
        started = await http.post(f"{base}/resourceid/{rid}/mode/mix/start", json=body)
        assert started.status_code == 200, started.text
        sid = started.json()["sid"]
        await asyncio.sleep(3)
        queried = (await http.get(f"{base}/resourceid/{rid}/sid/{sid}/mode/mix/query")).json()
        assert queried["serverResponse"]["status"] == 5
        assert set(EXAMPLES["query_response"]["serverResponse"]) <= set(queried["serverResponse"])
        stopped = (
            await http.post(
                f"{base}/resourceid/{rid}/sid/{sid}/mode/mix/stop", json=EXAMPLES["stop_request"]
            )
        ).json()
        assert set(stopped["serverResponse"]) == set(EXAMPLES["stop_response"]["serverResponse"])
        assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
        wrong = await http.post(
            f"{base}/acquire", json=EXAMPLES["acquire_request"], auth=("customer", "nope")
        )
        assert wrong.status_code == 401
