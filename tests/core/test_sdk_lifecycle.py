"""The SDK's lifecycle before a server exists: validation first, honest connect errors, call order."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from core import (
    CloudRecorderObserver,
    CloudRecordingError,
    ErrorCode,
    InvalidParameterError,
    MixedVideoLayout,
    create_cloud_recorder,
)
from core.enums import SANDBOX_APP_ID
from tests.helpers import agora_mock


class Recorded(CloudRecorderObserver):
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    def on_recording_connecting(self, recording_id: str) -> None:
        self.calls.append(("connecting", (recording_id,)))

    def on_recording_started(self, recording_id: str) -> None:
        self.calls.append(("started", (recording_id,)))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _refusing_transport(requests: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(500)

    return httpx.MockTransport(handler)


def test_recording_ids_are_unique() -> None:
    ids = {create_cloud_recorder(None).recording_id for _ in range(100)}
    assert len(ids) == 100


@pytest.mark.parametrize(
    ("app_id", "channel", "uid", "field"),
    [
        (SANDBOX_APP_ID, "demo", 0, "uid"),
        (SANDBOX_APP_ID, "demo", 2**32, "uid"),
        (SANDBOX_APP_ID, "demo", -5, "uid"),
        (SANDBOX_APP_ID, "demo", True, "uid"),
        ("not-an-app-id", "demo", 1, "app_id"),
        (SANDBOX_APP_ID, "", 1, "channel_name"),
        (SANDBOX_APP_ID, "x" * 65, 1, "channel_name"),
        (SANDBOX_APP_ID, "bad/slash", 1, "channel_name"),
        (SANDBOX_APP_ID, "中文频道", 1, "channel_name"),
    ],
)
async def test_start_checks_identifiers_before_any_network_traffic(
    app_id: str, channel: str, uid: int, field: str
) -> None:
    requests: list[httpx.Request] = []
    observer = Recorded()
    recorder = create_cloud_recorder(observer, transport=_refusing_transport(requests))
    with pytest.raises(InvalidParameterError) as info:
        await recorder.start(app_id, channel, None, uid)
    assert info.value.field == field
    assert requests == [] and observer.calls == []
    await recorder.release()


async def test_agoras_channel_name_characters_are_accepted() -> None:
    from core.validation import check_channel_name

    name = "aZ09 !#$%&()+-:;<=.>?@[]^_{}|~,"
    assert check_channel_name(name) == name
    assert check_channel_name("x" * 64) == "x" * 64


async def test_start_against_nothing_raises_connect_error_naming_the_address() -> None:
    observer = Recorded()
    address = f"http://127.0.0.1:{_closed_port()}"
    recorder = create_cloud_recorder(observer, server=address, token="t")
    with pytest.raises(CloudRecordingError) as info:
        await recorder.start(SANDBOX_APP_ID, "demo", None, 42)
    assert info.value.code is ErrorCode.CONNECT_ERROR
    assert address in str(info.value)
    assert observer.calls == [("connecting", (recorder.recording_id,))]  # connecting, never started
    with pytest.raises(CloudRecordingError) as again:
        await recorder.stop()
    assert again.value.code is ErrorCode.INVALID_OPERATION
    await recorder.release()


async def test_wrong_call_order_is_invalid_operation() -> None:
    recorder = create_cloud_recorder(Recorded(), server=f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(CloudRecordingError) as stop_first:
        await recorder.stop()
    assert stop_first.value.code is ErrorCode.INVALID_OPERATION
    with pytest.raises(CloudRecordingError):
        await recorder.start(SANDBOX_APP_ID, "demo", None, 42)
    with pytest.raises(CloudRecordingError) as start_twice:
        await recorder.start(SANDBOX_APP_ID, "demo", None, 42)
    assert start_twice.value.code is ErrorCode.INVALID_OPERATION
    await recorder.release()
    for call in (
        recorder.stop(),
        recorder.release(),
        recorder.start(SANDBOX_APP_ID, "demo", None, 42),
    ):
        with pytest.raises(CloudRecordingError) as after:
            await call
        assert after.value.code is ErrorCode.INVALID_OPERATION
        assert "released" in str(after.value)


async def test_server_errors_map_to_seed_codes() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"code": 2, "reason": "invalid appid"})

    recorder = create_cloud_recorder(Recorded(), transport=httpx.MockTransport(handler))
    with pytest.raises(CloudRecordingError) as info:
        await recorder.start(SANDBOX_APP_ID, "demo", None, 42)
    assert info.value.code is ErrorCode.INVALID_PARAMETER
    assert "invalid appid" in str(info.value)
    await recorder.release()


async def test_update_layout_checks_first_and_sends_agoras_update_layout() -> None:
    """Against a stand-in for Agora's service (tests.helpers.agora_mock)."""
    sent: list[httpx.Request] = []
    recorder = create_cloud_recorder(Recorded(), transport=agora_mock(sent))
    with pytest.raises(CloudRecordingError) as early:
        await recorder.update_layout(MixedVideoLayout.BEST_FIT)
    assert early.value.code is ErrorCode.INVALID_OPERATION and sent == []
    await recorder.start(SANDBOX_APP_ID, "demo", None, 42)
    before = len(sent)
    for layout, uid, field in (
        (4, 0, "layout"),
        (3, 0, "layout_config"),  # CUSTOM without regions
        (MixedVideoLayout.VERTICAL, 2**32, "max_resolution_uid"),
    ):
        with pytest.raises(InvalidParameterError) as bad:
            await recorder.update_layout(layout, uid)  # type: ignore[arg-type]
        assert bad.value.field == field
    assert not [r for r in sent[before:] if r.url.path.endswith("/updateLayout")]
    await recorder.update_layout(MixedVideoLayout.VERTICAL, max_resolution_uid=7)
    await recorder.update_layout(MixedVideoLayout.FLOAT)
    calls = [r for r in sent if r.url.path.endswith("/updateLayout")]
    path = f"/v1/apps/{SANDBOX_APP_ID}/cloud_recording/resourceid/rid/sid/sid/mode/mix/updateLayout"
    assert [(r.method, r.url.path) for r in calls] == [("POST", path)] * 2
    assert [json.loads(r.content) for r in calls] == [
        {
            "cname": "demo",
            "uid": "42",
            "clientRequest": {
                "mixedVideoLayout": 2,
                "backgroundColor": "#000000",  # Agora's call replaces it too
                "maxResolutionUid": "7",
            },
        },
        {
            "cname": "demo",
            "uid": "42",
            "clientRequest": {"mixedVideoLayout": 0, "backgroundColor": "#000000"},
        },
    ]
    await recorder.release()
    with pytest.raises(CloudRecordingError) as late:
        await recorder.update_layout(MixedVideoLayout.FLOAT)
    assert late.value.code is ErrorCode.INVALID_OPERATION
