"""``CloudRecorder.update_subscription``: checked before any traffic, sent as Agora's
``update`` body, and honoured by a real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from core import (
    CloudRecordingError,
    CloudStorageConfig,
    ErrorCode,
    InvalidParameterError,
    RecordingConfig,
    RecordingStreamType,
    StorageVendor,
    TranscodingConfig,
    create_cloud_recorder,
)
from core.enums import SANDBOX_APP_ID
from core.selection import NOBODY, StreamSelection, UidFilter
from tests.core.server.test_http_recording import service_of
from tests.helpers import agora_mock


async def test_update_subscription_checks_first_and_sends_agoras_update() -> None:
    sent: list[httpx.Request] = []
    recorder = create_cloud_recorder(None, transport=agora_mock(sent))
    with pytest.raises(CloudRecordingError) as early:
        await recorder.update_subscription(subscribe_audio_uids=["1"])
    assert early.value.code is ErrorCode.INVALID_OPERATION and sent == []
    config = RecordingConfig(recording_stream_types=RecordingStreamType.VIDEO_ONLY)
    await recorder.start(SANDBOX_APP_ID, "demo", None, 42, config)
    before = len(sent)
    for kwargs, field in (
        ({}, "subscribe_audio_uids"),  # no list at all: each update replaces the lists
        (
            {"subscribe_video_uids": ["1"], "unsubscribe_video_uids": ["2"]},
            "unsubscribe_video_uids",
        ),
        ({"subscribe_video_uids": ["x"]}, "subscribe_video_uids.0"),
        ({"subscribe_video_uids": [str(u) for u in range(1, 34)]}, "subscribe_video_uids"),
        ({"subscribe_audio_uids": ["#allstream#"]}, "subscribe_audio_uids"),  # video only
    ):
        with pytest.raises(InvalidParameterError) as bad:
            await recorder.update_subscription(**kwargs)  # type: ignore[arg-type]
        assert bad.value.field == field, (kwargs, bad.value)
    assert len(sent) == before  # nothing reached the service
    await recorder.update_subscription(subscribe_video_uids=["7", "#allstream#"])
    await recorder.update_subscription(unsubscribe_video_uids=["444", "555"])
    calls = [r for r in sent if r.url.path.endswith("/update")]
    path = f"/v1/apps/{SANDBOX_APP_ID}/cloud_recording/resourceid/rid/sid/sid/mode/mix/update"
    assert [(r.method, r.url.path) for r in calls] == [("POST", path)] * 2
    assert [json.loads(r.content) for r in calls] == [
        {
            "cname": "demo",
            "uid": "42",
            "clientRequest": {
                "streamSubscribe": {"videoUidList": {"subscribeVideoUids": ["7", "#allstream#"]}}
            },
        },
        {
            "cname": "demo",
            "uid": "42",
            "clientRequest": {
                "streamSubscribe": {"videoUidList": {"unSubscribeVideoUids": ["444", "555"]}}
            },
        },
    ]
    await recorder.release()
    with pytest.raises(CloudRecordingError) as late:
        await recorder.update_subscription(subscribe_video_uids=["1"])
    assert late.value.code is ErrorCode.INVALID_OPERATION


async def test_update_subscription_changes_what_the_servers_recorder_takes(
    channel_server: Any, tmp_path: Path
) -> None:
    """Against a real server: the start's lists, then each update, are the recorder's
    selection (what that does to the picture and the sound: tests/core/media/
    test_stream_selection.py)."""
    config = RecordingConfig(
        subscribe_audio_uids=("3",),
        subscribe_video_uids=("1", "2"),
        transcoding_config=TranscodingConfig(width=160, height=120, fps=15, bitrate=100),
    )
    storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(tmp_path / "rec"))
    recorder = create_cloud_recorder(
        None, server=channel_server.url, token=channel_server.settings.token
    )
    await recorder.start(SANDBOX_APP_ID, "sdksel", None, 965, config, storage)
    assert recorder.resource_id is not None and recorder.sid is not None
    engine = service_of(channel_server).session(SANDBOX_APP_ID, recorder.resource_id, recorder.sid)
    assert engine.recorder is not None
    assert engine.recorder.selection == StreamSelection(
        audio=UidFilter(frozenset({3}), everyone=False),
        video=UidFilter(frozenset({1, 2}), everyone=False),
    )
    await recorder.update_subscription(
        subscribe_video_uids=["3", "4"], unsubscribe_audio_uids=["#allstream#"]
    )
    assert engine.recorder.selection == StreamSelection(
        audio=NOBODY, video=UidFilter(frozenset({3, 4}), everyone=False)
    )
    await recorder.update_subscription(subscribe_audio_uids=["#allstream#"])
    assert engine.recorder.selection == StreamSelection(audio=UidFilter(), video=NOBODY)
    await recorder.release(cancel=True)
