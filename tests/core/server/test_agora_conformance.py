"""Agora's documented requests against a real server (the ``channel_server`` fixture,
real HTTP): each is honoured or refused as ``docs/rest-api.md`` ("Agora's fields")
says, and the documented error cases answer Agora's HTTP status and ``code``."""

from __future__ import annotations

import asyncio
import copy
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

import core.server.service as service_module
from core.enums import SANDBOX_APP_ID
from core.notices import service_state
from core.server.agora_fields import refused_paths
from tests.core.server import agora_examples as ex
from tests.helpers import wait_until

APP = SANDBOX_APP_ID


def _body(example: dict[str, Any], cname: str, uid: int, folder: Path) -> dict[str, Any]:
    """A documented body with its placeholders filled and a local folder as storage."""
    body = copy.deepcopy(example)
    body["cname"], body["uid"] = cname, str(uid)
    request = body["clientRequest"]
    if "storageConfig" in request:
        request["storageConfig"] = {
            "vendor": 100,
            "region": 0,
            "extensionParams": {"localFolder": str(folder)},
        }
    return body


async def _acquire(http: httpx.AsyncClient, cname: str, uid: int) -> str:
    answer = await http.post("/acquire", json=_body(ex.ACQUIRE, cname, uid, Path()))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["resourceId"])


def _composite(cname: str, uid: int, folder: Path) -> dict[str, Any]:
    """The composite example, HLS only (the tests that need no MP4 write none)."""
    body = _body(ex.START_COMPOSITE, cname, uid, folder)
    body["clientRequest"]["recordingFileConfig"]["avFileType"] = ["hls"]
    return body


def _error(answer: httpx.Response) -> tuple[int, int]:
    return answer.status_code, answer.json()["code"]


async def test_documented_examples_are_honoured_or_refused_per_table(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    rid = await _acquire(http, "conf", 527841)
    # ["mp4"] alone: refused, naming the field and what is allowed (Agora refuses it too)
    body = _body(ex.START_COMPOSITE, "conf", 527841, tmp_path)
    body["clientRequest"]["recordingFileConfig"]["avFileType"] = ["mp4"]
    alone = await http.post(f"/resourceid/{rid}/mode/mix/start", json=body)
    assert _error(alone) == (400, 432)
    assert alone.json()["reason"] == (
        'av_file_type: [\'mp4\'] is not allowed; ["hls"] (the default) or ["hls", "mp4"]: '
        "MP4 only beside HLS, as Agora"
    )
    # The screenshot example (Agora's individual mode) records in mix mode with snapshots
    # of the composed picture (docs/recording-files.md, "Snapshots"); without video
    # (streamTypes 0) it is refused, naming the field and what is allowed.
    shot_rid = await _acquire(http, "conf", 527842)
    audio_only = _body(ex.START_SCREENSHOT, "conf", 527842, tmp_path)
    audio_only["clientRequest"]["recordingConfig"]["streamTypes"] = 0
    del audio_only["clientRequest"]["recordingConfig"]["subscribeVideoUids"]
    refused = await http.post(f"/resourceid/{shot_rid}/mode/mix/start", json=audio_only)
    assert _error(refused) == (400, 432)
    assert refused.json()["reason"] == (
        "snapshot_config: {'capture_interval': 5} is not allowed; no snapshot_config "
        "(snapshotConfig) when recording_stream_types is AUDIO_ONLY (streamTypes 0): snapshots "
        "are pictures of the video; record VIDEO_ONLY (1) or AUDIO_VIDEO (2) to take them"
    )
    shot = await http.post(
        f"/resourceid/{shot_rid}/mode/mix/start",
        json=_body(ex.START_SCREENSHOT, "conf", 527842, tmp_path),
    )
    assert shot.status_code == 200, shot.text
    shot_stop = f"/resourceid/{shot_rid}/sid/{shot.json()['sid']}/mode/mix/stop"
    stopped_shot = await http.post(shot_stop, json=_body(ex.STOP, "conf", 527842, tmp_path))
    assert _error(stopped_shot) == (206, 435)  # nobody sent a stream (snapshots: background)
    # the refusals left the resource usable: the documented example, HLS and MP4, starts
    started = await http.post(
        f"/resourceid/{rid}/mode/mix/start",
        json=_body(ex.START_COMPOSITE, "conf", 527841, tmp_path),
    )
    assert started.status_code == 200, started.text
    sid = started.json()["sid"]
    base = f"/resourceid/{rid}/sid/{sid}/mode/mix"
    query = (await http.get(f"{base}/query")).json()["serverResponse"]
    assert query["fileListMode"] == "json"  # Agora's mode with MP4: no MP4 is written yet
    assert [f["fileName"] for f in query["fileList"]] == [f"{sid}_conf.m3u8"]
    entries = query["extensionServiceState"]
    assert [sorted(e) for e in entries] == [["payload", "serviceName"]]
    assert entries[0]["serviceName"] == "cloudrec_recorder"
    assert set(service_state(query)) >= {"duration", "bytes", "slices", "users", "renderLag"}
    layout = await http.post(
        f"{base}/updateLayout", json=_body(ex.UPDATE_LAYOUT, "conf", 527841, tmp_path)
    )
    # the custom layout of Agora's example (regions for uids 1 and 2) is honoured
    assert layout.status_code == 200, layout.text
    assert layout.json() == {"resourceId": rid, "sid": sid, "cname": "conf", "uid": "527841"}
    stopped = await http.post(f"{base}/stop", json=_body(ex.STOP, "conf", 527841, tmp_path))
    assert _error(stopped) == (206, 435)  # nobody sent a stream: Agora's 206
    answer = stopped.json()["serverResponse"]
    assert set(answer) == {"fileListMode", "fileList", "uploadingStatus"}
    # stopped at once: not one output frame, so no slice and no MP4 (test_mp4_recording
    # lists a real MP4)
    assert [f["fileName"] for f in answer["fileList"]] == [f"{sid}_conf.m3u8"]


async def test_calls_after_resource_expired_hour_are_400_code_433(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``resourceExpiredHour`` 1: an hour after start, query, update, updateLayout and stop
    answer Agora's 400 code 433 and change nothing; the recording goes on meanwhile."""
    acquired = await http.post(
        "/acquire",
        json={"cname": "hour", "uid": "91", "clientRequest": {"resourceExpiredHour": 1}},
    )
    rid = acquired.json()["resourceId"]
    started = await http.post(
        f"/resourceid/{rid}/mode/mix/start", json=_composite("hour", 91, tmp_path)
    )
    assert started.status_code == 200, started.text
    base = f"/resourceid/{rid}/sid/{started.json()['sid']}/mode/mix"
    identity = {"cname": "hour", "uid": "91"}
    calls = {
        "query": ("GET", f"{base}/query", None),
        "update": ("POST", f"{base}/update", {**identity, "clientRequest": {"streamSubscribe": {
            "audioUidList": {"subscribeAudioUids": ["#allstream#"]}}}}),
        "updateLayout": ("POST", f"{base}/updateLayout",
                         {**identity, "clientRequest": {"mixedVideoLayout": 1}}),
        "stop": ("POST", f"{base}/stop", {**identity, "clientRequest": {}}),
    }  # fmt: skip
    hour_later = time.time() + 3600.5
    monkeypatch.setattr(service_module, "time", SimpleNamespace(
        monotonic=time.monotonic, time=lambda: hour_later))  # fmt: skip
    for name, (method, path, body) in calls.items():
        answer = await http.request(method, path, json=body)
        assert _error(answer) == (400, 433), (name, answer.text)
        assert answer.json()["reason"] == (
            "the resourceId expired: its resourceExpiredHour (1 h) passed since start"
        )
    monkeypatch.undo()  # within the hour again: it was recording all along
    query = (await http.get(f"{base}/query")).json()["serverResponse"]
    assert query["status"] == 5
    assert _error(await http.post(f"{base}/stop", json=calls["stop"][2])) == (206, 435)


START_REFUSED = refused_paths("start")


@pytest.mark.parametrize("path", START_REFUSED)
async def test_a_start_with_an_unsupported_field_is_400_naming_it(
    http: httpx.AsyncClient, tmp_path: Path, path: str
) -> None:
    body = _composite("unsup", 77, tmp_path)
    where = body["clientRequest"]
    *parents, leaf = path.split(".")
    for key in parents:
        where = where.setdefault(key, {})
    where[leaf] = "x"
    rid = await _acquire(http, "unsup", 77)
    answer = await http.post(f"/resourceid/{rid}/mode/mix/start", json=body)
    assert _error(answer) == (400, 432)
    assert answer.json()["reason"].startswith(
        f"clientRequest.{path}: cloudrec does not support this field yet"
    )


async def test_unknown_keys_are_400_code_2_naming_them(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    body = _composite("typo", 78, tmp_path)
    body["clientRequest"]["recordingConfig"]["subscribeAudioUID"] = ["1"]
    rid = await _acquire(http, "typo", 78)
    answer = await http.post(f"/resourceid/{rid}/mode/mix/start", json=body)
    assert _error(answer) == (400, 2)
    assert (
        "clientRequest.recordingConfig.subscribeAudioUID: no such field" in answer.json()["reason"]
    )


async def test_agoras_statuses_and_codes(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    # acquire: an invalid channel name is 400 code 401; a bad resourceExpiredHour code 2
    bad_name = await http.post("/acquire", json={"cname": "a/b", "uid": "1"})
    assert _error(bad_name) == (400, 401)
    hours = await http.post(
        "/acquire", json={"cname": "c", "uid": "1", "clientRequest": {"resourceExpiredHour": 721}}
    )
    assert _error(hours) == (400, 2)
    assert hours.json()["reason"].startswith("Acquire: invalid resourceExpiredHour value!")
    rid = await _acquire(http, "codes", 90)
    started = await http.post(
        f"/resourceid/{rid}/mode/mix/start", json=_composite("codes", 90, tmp_path)
    )
    assert started.status_code == 200, started.text
    sid = started.json()["sid"]
    # the same start again: 201 code 7; the same cname and uid on a new resource: 400 code 53
    again = await http.post(
        f"/resourceid/{rid}/mode/mix/start", json=_composite("codes", 90, tmp_path)
    )
    assert _error(again) == (201, 7)
    other = await _acquire(http, "codes", 90)
    conflict = await http.post(
        f"/resourceid/{other}/mode/mix/start", json=_composite("codes", 90, tmp_path)
    )
    assert _error(conflict) == (400, 53)
    # two stops at once: one stops, the other finds it exiting (400 code 49); nobody
    # was in the channel, so the stop is Agora's 206 code 435 (no user sent a stream)
    # with the usual answer
    base = f"/resourceid/{rid}/sid/{sid}/mode/mix"
    stop = _body(ex.STOP, "codes", 90, tmp_path)
    answers = await asyncio.gather(
        http.post(f"{base}/stop", json=stop), http.post(f"{base}/stop", json=stop)
    )
    assert sorted(_error(a) for a in answers) == [(206, 435), (400, 49)]
    (stopped,) = [a.json() for a in answers if a.status_code == 206]
    assert (stopped["sid"], stopped["serverResponse"]["fileListMode"]) == (sid, "string")
    assert stopped["serverResponse"]["fileList"].endswith(".m3u8")
    service = channel_server.app.state.recordings
    await wait_until(lambda: service.session(APP, rid, sid).finished, 20)
    # once it ended: query, updateLayout and stop are 404 code 404, as Agora's
    assert _error(await http.get(f"{base}/query")) == (404, 404)
    assert _error(await http.post(f"{base}/stop", json=stop)) == (404, 404)
    layout = {**stop, "clientRequest": {"mixedVideoLayout": 1}}
    assert _error(await http.post(f"{base}/updateLayout", json=layout)) == (404, 404)
    # cloudrec's extension still answers for it (clients that reattach)
    kept = await http.get(f"{channel_server.url}/v1/cloudrec/recordings/{sid}")
    assert kept.status_code == 200 and kept.json()["serverResponse"]["status"] in (7, 20)
