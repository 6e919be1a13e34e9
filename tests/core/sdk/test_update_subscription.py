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
from core.selection import NOBODY, StreamSelection, UidFilter, lists_for_update
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


@pytest.mark.parametrize(
    ("types", "lists", "sent"),
    [
        # no list at all is everyone at start; update needs a list: #allstream# per kind
        (RecordingStreamType.AUDIO_VIDEO, {}, {"subscribe_audio_uids": ("#allstream#",),
                                               "subscribe_video_uids": ("#allstream#",)}),
        (RecordingStreamType.AUDIO_ONLY, {}, {"subscribe_audio_uids": ("#allstream#",)}),
        (RecordingStreamType.VIDEO_ONLY, {}, {"subscribe_video_uids": ("#allstream#",)}),
        # any list is sent as it is: a list for one kind only takes nothing of the other
        (RecordingStreamType.AUDIO_VIDEO, {"subscribe_video_uids": ("3",)},
         {"subscribe_video_uids": ("3",)}),
        (RecordingStreamType.AUDIO_VIDEO,
         {"unsubscribe_audio_uids": ("4",), "subscribe_video_uids": ("3", "5")},
         {"unsubscribe_audio_uids": ("4",), "subscribe_video_uids": ("3", "5")}),
    ],
)  # fmt: skip
def test_the_windows_lists_become_an_update_meaning_what_they_mean_at_start(
    types: RecordingStreamType, lists: dict[str, tuple[str, ...]], sent: dict[str, Any]
) -> None:
    every = dict.fromkeys(
        ("subscribe_audio_uids", "unsubscribe_audio_uids", "subscribe_video_uids",
         "unsubscribe_video_uids"), None)  # fmt: skip
    update = lists_for_update(types, {**every, **lists})
    assert update == sent
    # what the update selects is what the same lists select at start
    start = StreamSelection.of(**lists)  # type: ignore[arg-type]
    if lists:
        assert StreamSelection.of(**update) == start  # type: ignore[arg-type]
    else:
        assert all(StreamSelection.of(**update).audio.takes(u) == types.has_audio for u in (1, 9))
        assert all(StreamSelection.of(**update).video.takes(u) == types.has_video for u in (1, 9))
