"""Individual recording over Agora's REST API (``.../mode/individual/...``) and the SDK:
each user's playlists in the destination, ``fileList`` and the notices as Agora's
individual mode has them, and the mode's errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from core.enums import RecordingMode
from core.media.playlist import track_playlist_name
from core.participants.analysis import playlist_slices
from tests.core.server.test_http_recording import SMALL, acquire, error, local, read_events
from tests.helpers import wait_until
from tests.publishers import Publishers

CNAME = "solo"
UID = 9901


def body(client_request: dict[str, Any]) -> dict[str, Any]:
    return {"cname": CNAME, "uid": str(UID), "clientRequest": client_request}


async def test_an_individual_recording_over_rest(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Two users recorded with ``mode/individual``: query and stop list each user's
    audio and video playlist (``fileListMode`` json, ``trackType``, ``uid``,
    ``mixedAllUser`` false); the folder holds those four playlists and their slices,
    no playlist of the recording's own; recorder_slice_start comes once per track with
    its user; updateLayout and a path of the other mode are refused, naming the mode."""
    folder = tmp_path / "rec"
    rid = await acquire(http, CNAME, UID)
    start = body({"recordingConfig": {"transcodingConfig": SMALL, "maxIdleTime": 30},
                  "storageConfig": local(folder)})  # fmt: skip
    async with Publishers(channel_server.url, CNAME, [21, 22], size=(160, 120)):
        answer = await http.post(f"/resourceid/{rid}/mode/individual/start", json=start)
        assert answer.status_code == 200, answer.text
        sid = answer.json()["sid"]
        base = f"/resourceid/{rid}/sid/{sid}"
        tracks = {
            track_playlist_name(sid, CNAME, u, k) for u in (21, 22) for k in ("audio", "video")
        }

        async def listed() -> set[str]:
            query = await http.get(f"{base}/mode/individual/query")
            assert query.status_code == 200, query.text
            response = query.json()["serverResponse"]
            assert response["fileListMode"] == "json"
            return {entry["fileName"] for entry in response["fileList"]}

        await wait_until(lambda: len(list(folder.glob("*.m3u8"))) == 4, 20.0)
        assert await listed() == tracks

        wrong = await http.get(f"{base}/mode/mix/query")
        assert error(wrong)[0] == 400
        assert "started in mode 'individual'" in wrong.json()["reason"], wrong.text
        layout = await http.post(f"{base}/mode/individual/updateLayout",
                                 json=body({"mixedVideoLayout": 1}))  # fmt: skip
        assert layout.status_code == 400 and "mode 'mix' only" in layout.json()["reason"]

        stopped = await http.post(f"{base}/mode/individual/stop", json=body({}))
    assert stopped.status_code == 200, stopped.text
    response = stopped.json()["serverResponse"]
    assert response["uploadingStatus"] == "uploaded"
    entries = response["fileList"]
    assert {e["fileName"] for e in entries} == tracks
    for entry in entries:
        uid, kind = entry["uid"], entry["trackType"]
        assert entry["fileName"] == track_playlist_name(sid, CNAME, int(uid), kind)
        assert entry["mixedAllUser"] is False and entry["isPlayable"] is True
        assert entry["sliceStartTime"] > 1.7e12  # Unix ms of the track's first slice

    listing = await http.get(f"{channel_server.url}/v1/cloudrec/recordings/{sid}")
    assert listing.status_code == 200, listing.text
    assert listing.json()["mode"] == "individual"
    assert set(listing.json()["fileList"].split(",")) == tracks  # as the callbacks name them

    assert {p.name for p in folder.glob("*.m3u8")} == tracks
    for name in tracks:
        slices = playlist_slices(folder / name)
        assert slices and all(path.exists() for path, _ in slices)
        suffix = ".webm" if name.endswith("_video.m3u8") else ".ts"
        assert all(path.suffix == suffix for path, _ in slices)

    events = f"{channel_server.url}/v1/cloudrec/recordings/{sid}/events"
    notices = [notice for _, notice in await read_events(http, events, {})]
    starts = [n["payload"]["details"] for n in notices if n["eventType"] == 42]
    assert sorted((s["streamUid"], s["trackType"]) for s in starts) == [
        ("21", "audio"), ("21", "video"), ("22", "audio"), ("22", "video")
    ]  # fmt: skip
    assert all(s["mixedAllUser"] is False for s in starts)
    modes = {n["payload"]["details"]["recordingMode"] for n in notices if n["eventType"] == 3}
    assert modes == {int(RecordingMode.INDIVIDUAL)}


async def test_individual_modes_refusals(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """An unknown mode, a streamMode cloudrec does not write yet, and MP4 (Agora's
    individual mode writes HLS only) are refused before anything starts, naming what
    is allowed."""
    rid = await acquire(http, CNAME, UID)
    config = {"transcodingConfig": SMALL}
    storage = local(tmp_path / "rec")
    answer = await http.post(f"/resourceid/{rid}/mode/web/start",
                             json=body({"recordingConfig": config, "storageConfig": storage}))  # fmt: skip
    assert answer.status_code == 400 and "use 'mix' or 'individual'" in answer.json()["reason"]
    for stream_mode, expected in (("standard", "not supported by cloudrec yet"),
                                  ("raw", "one of")):  # fmt: skip
        request = {"recordingConfig": {**config, "streamMode": stream_mode},
                   "storageConfig": storage}  # fmt: skip
        answer = await http.post(f"/resourceid/{rid}/mode/individual/start", json=body(request))
        assert answer.status_code == 400, answer.text
        assert "recordingConfig.streamMode" in answer.json()["reason"]
        assert expected in answer.json()["reason"]
    request = {"recordingConfig": config, "storageConfig": storage,
               "recordingFileConfig": {"avFileType": ["hls", "mp4"]}}  # fmt: skip
    answer = await http.post(f"/resourceid/{rid}/mode/individual/start", json=body(request))
    assert answer.status_code == 400, answer.text
    assert "individual mode" in answer.json()["reason"]
