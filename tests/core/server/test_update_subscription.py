"""Stream selection over REST: ``start``'s subscription lists and ``update``, with the
bodies of Agora's documentation (fixtures/agora_stream_selection.json), and every wrong
combination answered 400 in Agora's shape naming the fields and the rule.

What the lists do to the recorded picture and sound is checked on decoded output in
tests/core/media/test_stream_selection.py; here the recorder's selection is read back.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.selection import NOBODY, StreamSelection, UidFilter
from tests.core.server.test_http_recording import APP, SMALL, acquire, local, service_of, stop

EXAMPLES = json.loads(
    (Path(__file__).parent / "fixtures" / "agora_stream_selection.json").read_text()
)


async def start_with(
    http: httpx.AsyncClient, cname: str, uid: int, folder: Path, recording: dict[str, Any]
) -> httpx.Response:
    rid = await acquire(http, cname, uid)
    config = {"transcodingConfig": SMALL, **recording}
    body = {
        "cname": cname,
        "uid": str(uid),
        "clientRequest": {"recordingConfig": config, "storageConfig": local(folder)},
    }
    response = await http.post(f"/resourceid/{rid}/mode/mix/start", json=body)
    response.rid = rid  # type: ignore[attr-defined]
    return response


def update_body(cname: str, uid: int, client_request: dict[str, Any]) -> dict[str, Any]:
    return {"cname": cname, "uid": str(uid), "clientRequest": client_request}


async def test_agoras_start_and_update_examples_set_the_recorders_selection(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Agora's start example (audio and video of 123 and 456, subscribeUidGroup 0) and
    update example (every audio, every video but 444, 555 and 666) are taken as Agora
    documents them; update answers Agora's shape."""
    started = await start_with(
        http, "sel", 961, tmp_path / "rec", EXAMPLES["start_recording_config"]
    )
    assert started.status_code == 200, started.text
    rid, sid = started.rid, started.json()["sid"]  # type: ignore[attr-defined]
    engine = service_of(channel_server).session(APP, rid, sid).recorder
    assert engine is not None
    only = UidFilter(frozenset({123, 456}), everyone=False)
    assert engine.selection == StreamSelection(audio=only, video=only)

    body = copy.deepcopy(EXAMPLES["update_request"])
    body.update(cname="sel", uid="961")
    answer = await http.post(f"/resourceid/{rid}/sid/{sid}/mode/mix/update", json=body)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == set(EXAMPLES["update_response"])
    assert answer.json() == {"cname": "sel", "uid": "961", "resourceId": rid, "sid": sid}
    assert engine.selection == StreamSelection(
        audio=UidFilter(everyone=True), video=UidFilter(frozenset({444, 555, 666}))
    )

    # each call replaces the subscription: a video list alone takes no audio (Agora)
    video_only = {"streamSubscribe": {"videoUidList": {"subscribeVideoUids": ["7"]}}}
    answer = await http.post(
        f"/resourceid/{rid}/sid/{sid}/mode/mix/update", json=update_body("sel", 961, video_only)
    )
    assert answer.status_code == 200, answer.text
    assert engine.selection == StreamSelection(
        audio=NOBODY, video=UidFilter(frozenset({7}), everyone=False)
    )
    await stop(http, rid, sid, "sel", 961)
    ended = await http.post(
        f"/resourceid/{rid}/sid/{sid}/mode/mix/update", json=update_body("sel", 961, video_only)
    )
    assert ended.status_code == 404, ended.text


ALL_AUDIO = {"subscribeAudioUids": ["#allstream#"]}

WRONG_UPDATES: list[tuple[str, dict[str, Any], int, tuple[str, ...]]] = [
    (
        "both audio lists",
        {
            "streamSubscribe": {
                "audioUidList": {"subscribeAudioUids": ["1"], "unSubscribeAudioUids": ["2"]}
            }
        },
        432,
        ("subscribeAudioUids", "unSubscribeAudioUids", "exclude each other"),
    ),
    (
        "both video lists",
        {
            "streamSubscribe": {
                "videoUidList": {"subscribeVideoUids": ["1"], "unsubscribeVideoUids": ["2"]}
            }
        },
        432,
        ("subscribeVideoUids", "unSubscribeVideoUids", "exclude each other"),
    ),
    (
        "both spellings of one list",
        {
            "streamSubscribe": {
                "audioUidList": {"unSubscribeAudioUids": ["1"], "unsubscribeAudioUids": ["2"]}
            }
        },
        432,
        ("unSubscribeAudioUids and unsubscribeAudioUids are one field",),
    ),
    (
        "no streamSubscribe",
        {},
        2,
        ("clientRequest.streamSubscribe: required", "#allstream#"),
    ),
    (
        "an empty streamSubscribe",
        {"streamSubscribe": {}},
        2,
        ("clientRequest.streamSubscribe: required",),
    ),
    (
        "an empty audioUidList",
        {"streamSubscribe": {"audioUidList": {}}},
        2,
        (
            "clientRequest.streamSubscribe.audioUidList: an object with subscribeAudioUids or unSubscribeAudioUids",
        ),
    ),
    (
        "a uid that is no uid",
        {"streamSubscribe": {"audioUidList": {"subscribeAudioUids": ["12", "abc"]}}},
        432,
        ("clientRequest.streamSubscribe.audioUidList.subscribeAudioUids.1: 'abc'", "#allstream#"),
    ),
    (
        "uid 0",
        {"streamSubscribe": {"videoUidList": {"subscribeVideoUids": ["0"]}}},
        432,
        ("clientRequest.streamSubscribe.videoUidList.subscribeVideoUids.0: '0'",),
    ),
    (
        "33 uids",
        {
            "streamSubscribe": {
                "videoUidList": {"subscribeVideoUids": [str(u) for u in range(1, 34)]}
            }
        },
        432,
        ("subscribeVideoUids", "at most 32 entries"),
    ),
    (
        "a list that is no array",
        {"streamSubscribe": {"audioUidList": {"subscribeAudioUids": "123"}}},
        2,
        ("clientRequest.streamSubscribe.audioUidList.subscribeAudioUids: an array of uid strings",),
    ),
    (
        "the misspelt key of Agora's schema",
        {"streamSubscribe": {"videoUidList": {"unsunscribeVideoUids": ["1"]}}},
        2,
        ("clientRequest.streamSubscribe.videoUidList.unsunscribeVideoUids: no such field",),
    ),
    (
        "a key Agora's update does not have",
        {"streamSubscribe": {"audioUidList": ALL_AUDIO}, "recordingConfig": {}},
        2,
        ("clientRequest.recordingConfig: no such field of Agora's update",),
    ),
    (
        "web page recording's field",
        {"webRecordingConfig": {"onhold": True}},
        432,
        ("clientRequest.webRecordingConfig: cloudrec does not support this field yet",),
    ),
]


async def test_every_wrong_update_is_a_400_naming_the_field_and_the_rule(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Each wrong body: 400 ``{"code", "reason"}`` (2 for a body of the wrong shape, 432
    for a value or a combination Agora's rules forbid), the reason naming the field(s) and
    the rule; the recording's selection stays as it was. On a recording of video only, an
    audio list is refused (Agora: audioUidList with streamTypes 1 is an error)."""
    started = await start_with(http, "wrong", 962, tmp_path / "rec", {"subscribeVideoUids": ["5"]})
    assert started.status_code == 200, started.text
    rid, sid = started.rid, started.json()["sid"]  # type: ignore[attr-defined]
    engine = service_of(channel_server).session(APP, rid, sid).recorder
    assert engine is not None
    before = engine.selection
    assert before == StreamSelection(audio=NOBODY, video=UidFilter(frozenset({5}), everyone=False))
    path = f"/resourceid/{rid}/sid/{sid}/mode/mix/update"
    for what, client_request, code, words in WRONG_UPDATES:
        answer = await http.post(path, json=update_body("wrong", 962, client_request))
        assert answer.status_code == 400, (what, answer.text)
        body = answer.json()
        assert set(body) == {"code", "reason"} and body["code"] == code, (what, body)
        assert all(w in body["reason"] for w in words), (what, body["reason"])
    assert engine.selection == before
    await stop(http, rid, sid, "wrong", 962)

    video_only = await start_with(http, "vonly", 963, tmp_path / "v", {"streamTypes": 1})
    assert video_only.status_code == 200, video_only.text
    rid, sid = video_only.rid, video_only.json()["sid"]  # type: ignore[attr-defined]
    answer = await http.post(
        f"/resourceid/{rid}/sid/{sid}/mode/mix/update",
        json=update_body("vonly", 963, {"streamSubscribe": {"audioUidList": ALL_AUDIO}}),
    )
    assert answer.status_code == 400 and answer.json()["code"] == 432, answer.text
    reason = answer.json()["reason"]
    assert "subscribeAudioUids" in reason and "VIDEO_ONLY (streamTypes 1)" in reason, reason
    await stop(http, rid, sid, "vonly", 963)


@pytest.mark.parametrize(
    ("recording", "words"),
    [
        (
            {"subscribeAudioUids": ["1"], "unSubscribeAudioUids": ["2"]},
            (
                "unsubscribe_audio_uids",
                "subscribeAudioUids and unSubscribeAudioUids exclude each other",
            ),
        ),
        (
            {"subscribeVideoUids": ["1"], "unsubscribeVideoUids": ["2"]},
            (
                "unsubscribe_video_uids",
                "subscribeVideoUids and unSubscribeVideoUids exclude each other",
            ),
        ),
        (
            {"streamTypes": 0, "subscribeVideoUids": ["1"]},
            ("subscribe_video_uids", "subscribeVideoUids", "AUDIO_ONLY (streamTypes 0)"),
        ),
        (
            {"streamTypes": 1, "unSubscribeAudioUids": ["1"]},
            ("unsubscribe_audio_uids", "unSubscribeAudioUids", "VIDEO_ONLY (streamTypes 1)"),
        ),
        ({"subscribeUidGroup": 6}, ("subscribe_uid_group: 6", "from 0 to 5")),
        ({"subscribeUidGroup": -1}, ("subscribe_uid_group: -1", "from 0 to 5")),
        ({"subscribeAudioUids": ["1", "4294967296"]}, ("subscribe_audio_uids.1: '4294967296'",)),
        ({"subscribeAudioUids": [1]}, ("subscribe_audio_uids.0: 1", "decimal strings")),
        ({"subscribeVideoUids": "1"}, ("subscribe_video_uids: '1'", "a list of")),
        (
            {"unSubscribeVideoUids": ["1"], "unsubscribeVideoUids": ["1"]},
            ("unSubscribeVideoUids and unsubscribeVideoUids",),
        ),
    ],
)
async def test_every_wrong_start_is_a_400_naming_the_field_and_the_rule(
    channel_server: Any,
    http: httpx.AsyncClient,
    tmp_path: Path,
    recording: dict[str, Any],
    words: tuple[str, ...],
) -> None:
    """A start whose lists break Agora's rules is 400 code 432 naming the field(s) and
    the rule, before any recording exists."""
    answer = await start_with(http, "bad", 964, tmp_path / "rec", recording)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert set(body) == {"code", "reason"} and body["code"] == 432, body
    assert all(w in body["reason"] for w in words), body["reason"]
    assert not service_of(channel_server).sessions()
