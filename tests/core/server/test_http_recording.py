"""The recording REST API over real HTTP: what docs/rest-api.md promises, value for value.

A real server (the ``channel_server`` fixture: uvicorn on 127.0.0.1, the recorder and
the durable uploader writing to a local folder) answers real requests. Recordings of an
empty channel need no participants (the recorder renders the background); the layout
test has two synthetic participants, because only decoding their tiles shows who is
where.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

import core.server.service as service_module
from core import (
    CloudRecordingError,
    CloudStorageConfig,
    ErrorCode,
    LayoutRegion,
    MixedVideoLayout,
    RecordingConfig,
    StorageVendor,
    TranscodingConfig,
    compute_layout,
    create_cloud_recorder,
)
from core.enums import SANDBOX_APP_ID
from core.layout import Rect
from core.media.segmenter import PTS_OFFSET
from core.participants.analysis import iter_video, window_colour
from core.participants.bots import run_bots
from core.participants.synthetic import identify_uid, is_flash
from core.sdk.client import Credentials, RestClient
from core.server.service import RecordingService
from core.server.session import RecordingSession
from tests.helpers import (
    BAD_CREDENTIALS,
    UNAUTHORIZED,
    CallbackLog,
    check_recording,
    promised_callbacks,
    wait_until,
)
from tests.image_server import encode_image, halves, image_server

APP = SANDBOX_APP_ID
SMALL = {"width": 160, "height": 120, "fps": 15, "bitrate": 100}
"""A small mixed picture: recordings of an empty channel only need to run."""


def service_of(channel_server: Any) -> RecordingService:
    service: RecordingService = channel_server.app.state.recordings
    return service


def local(folder: Path) -> dict[str, Any]:
    """``storageConfig`` of a local folder on the server (cloudrec's vendor 100)."""
    return {"vendor": 100, "region": 0, "extensionParams": {"localFolder": str(folder)}}


async def acquire(http: httpx.AsyncClient, cname: str, uid: int) -> str:
    response = await http.post("/acquire", json={"cname": cname, "uid": str(uid)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"resourceId", "cname", "uid"}
    assert (body["cname"], body["uid"]) == (cname, str(uid))
    return str(body["resourceId"])


async def start(
    http: httpx.AsyncClient, rid: str, cname: str, uid: int, folder: Path, **recording: Any
) -> httpx.Response:
    config = {"transcodingConfig": SMALL, **recording}
    client_request = {"recordingConfig": config, "storageConfig": local(folder)}
    body = {"cname": cname, "uid": str(uid), "clientRequest": client_request}
    return await http.post(f"/resourceid/{rid}/mode/mix/start", json=body)


NO_STREAM = {
    "code": 435,
    "reason": "no recorded data: no user the recording takes sent a stream during the whole "
    "recording (its slices hold only the background and silence)",
}
"""What Agora's stop adds to its answer, with status 206, when nobody sent a stream."""


async def stop(http: httpx.AsyncClient, rid: str, sid: str, cname: str, uid: int) -> Any:
    """Stop a recording of an empty channel (these tests record nobody): Agora's 206 with
    code 435 and stop's usual answer."""
    body = {"cname": cname, "uid": str(uid), "clientRequest": {}}
    response = await http.post(f"/resourceid/{rid}/sid/{sid}/mode/mix/stop", json=body)
    assert response.status_code == 206, response.text
    answer = response.json()
    assert {k: answer.pop(k) for k in NO_STREAM} == NO_STREAM
    return answer


def error(response: httpx.Response) -> tuple[int, dict[str, Any]]:
    """The HTTP status and the whole JSON body of an error answer."""
    return response.status_code, response.json()


# --- updateLayout --------------------------------------------------------------------


async def test_update_layout_over_http_and_through_the_sdk_changes_the_mix(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """FLOAT, then VERTICAL with the second joiner large (HTTP), then BEST_FIT (the SDK's
    ``update_layout``), then a custom layout through the SDK (regions without uids: join
    order) and one over HTTP (Agora's shape, uids named, fit and crop): every decoded
    frame after a call shows the new arrangement, every frame before it the old one
    ("take effect at the first tick at or after their time", docs/recorder.md)."""
    sdk_regions = [
        {"x_axis": 0, "y_axis": 0, "width": 1, "height": 0.5},
        {"x_axis": 0.25, "y_axis": 0.5, "width": 0.5, "height": 0.5},
    ]
    http_regions = [
        {"uid": 2, "x_axis": 0, "y_axis": 0, "width": 0.5, "height": 1, "alpha": 1,
         "render_mode": 1},
        {"uid": 1, "x_axis": 0.6, "y_axis": 0.25, "width": 0.3, "height": 0.5, "alpha": 1,
         "render_mode": 0},
    ]  # fmt: skip
    folder = tmp_path / "rec"
    width, height, fps = 320, 240, 15
    config = RecordingConfig(
        slice_duration=2,
        transcoding_config=TranscodingConfig(width=width, height=height, fps=fps, bitrate=300),
    )
    storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(folder))
    log = CallbackLog()
    async with run_bots(channel_server.url, channel="layout", uids=[11, 12], size=(160, 120)):
        recorder = create_cloud_recorder(
            log, server=channel_server.url, token=channel_server.settings.token
        )
        await recorder.start(APP, "layout", None, 950, config, storage)
        rid, sid = recorder.resource_id, recorder.sid
        assert rid is not None and sid is not None
        engine = service_of(channel_server).session(APP, rid, sid).recorder
        assert engine is not None and engine.clock is not None
        clock = engine.clock
        await wait_until(lambda: len(engine.users) == 2)
        # both joins are queued to the renderer now: every tick from here on has both
        both = clock.now()
        first, second = engine.users  # join order: FLOAT gives the first the canvas
        await wait_until(lambda: clock.now() >= both + 2.0)

        http_sent = clock.now()
        body = {
            "cname": "layout",
            "uid": "950",
            "clientRequest": {"mixedVideoLayout": 2, "maxResolutionUid": str(second)},
        }
        answer = await http.post(f"/resourceid/{rid}/sid/{sid}/mode/mix/updateLayout", json=body)
        http_done = clock.now()
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"resourceId": rid, "sid": sid, "cname": "layout", "uid": "950"}
        await wait_until(lambda: clock.now() >= http_done + 1.5)

        sdk_sent = clock.now()
        await recorder.update_layout(MixedVideoLayout.BEST_FIT)
        sdk_done = clock.now()
        await wait_until(lambda: clock.now() >= sdk_done + 1.5)

        # the custom layout, through the SDK (regions as LayoutRegion) ...
        custom_sent = clock.now()
        await recorder.update_layout(
            MixedVideoLayout.CUSTOM, layout_config=[LayoutRegion(**r) for r in sdk_regions]
        )
        custom_done = clock.now()
        await wait_until(lambda: clock.now() >= custom_done + 1.5)
        # ... and over HTTP, shaped as Agora's example (uids as strings, alpha, render_mode)
        regions_sent = clock.now()
        body["clientRequest"] = {
            "mixedVideoLayout": 3,
            "layoutConfig": [{**r, "uid": str(second if r["uid"] == 2 else first)}
                             for r in http_regions],
        }  # fmt: skip
        answer = await http.post(f"/resourceid/{rid}/sid/{sid}/mode/mix/updateLayout", json=body)
        regions_done = clock.now()
        assert answer.status_code == 200, answer.text
        await wait_until(lambda: clock.now() >= regions_done + 1.5)
        await recorder.stop()
        await recorder.wait_finished(20)
        await recorder.release()

    media = check_recording(folder / f"{sid}_layout.m3u8", fps=fps)
    stages = [
        (
            both,
            http_sent,
            compute_layout(MixedVideoLayout.FLOAT, [first, second], width, height),
        ),
        (
            http_done,
            sdk_sent,
            compute_layout(MixedVideoLayout.VERTICAL, [first, second], width, height, second),
        ),
        (
            sdk_done,
            custom_sent,
            compute_layout(MixedVideoLayout.BEST_FIT, [first, second], width, height),
        ),
        (
            custom_done,
            regions_sent,
            compute_layout(
                MixedVideoLayout.CUSTOM, [first, second], width, height,
                regions=[LayoutRegion(**r).region for r in sdk_regions],
            ),
        ),
        (
            regions_done,
            float("inf"),
            {  # the second user fills the left half, the first a box on the right
                second: Rect(0, 0, width // 2, height),
                first: Rect(width * 3 // 5, height // 4, width * 3 // 10, height // 2),
            },
        ),
    ]  # fmt: skip
    assert stages[1][2][second].width > stages[1][2][first].width  # the large one is the second
    shown: list[dict[int, int]] = [{first: 0, second: 0} for _ in stages]
    baseline = False  # the first stage counts from its first frame that shows both users
    for t, image in iter_video([s.path for s in media.slices]):
        t -= PTS_OFFSET
        for index, (begin, end, windows) in enumerate(stages):
            if not begin <= t < end:
                continue  # frames while a call was under way may show either layout
            colours = {uid: window_colour(image, window) for uid, window in windows.items()}
            found = {uid: identify_uid(colour, [first, second]) for uid, colour in colours.items()}
            if index == 0 and not baseline:
                baseline = all(found[uid] == uid for uid in windows)
                if not baseline:
                    continue  # a user's first picture has not reached the recorder yet
            for uid, colour in colours.items():
                if is_flash(colour):
                    continue  # the once-a-second white flash of every participant
                assert found[uid] == uid, (t, index, uid, found[uid], colour)
                shown[index][uid] += 1
    # every stage showed both users on at least a second of frames (1.5 s were recorded)
    assert all(count >= fps for stage in shown for count in stage.values()), shown
    assert log.names().count("on_recording_stopped") == 1


async def test_update_layout_replaces_every_setting_the_background_colour_included(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Agora's updateLayout replaces all layout settings: a colour given changes the
    background from the next frame on, and a call that omits it returns it to
    ``#000000`` (before, ``backgroundColor`` was accepted and ignored). Every decoded
    frame of the empty channel's recording is the colour of its stage."""
    folder, width, height = tmp_path / "rec", 160, 120
    rid = await acquire(http, "colours", 951)
    started = await start(
        http, rid, "colours", 951, folder, sliceDuration=2,
        transcodingConfig={**SMALL, "backgroundColor": "#FF0000"},
    )  # fmt: skip
    assert started.status_code == 200, started.text
    sid = started.json()["sid"]
    engine = service_of(channel_server).session(APP, rid, sid).recorder
    assert engine is not None
    await wait_until(lambda: engine.clock is not None)
    clock = engine.clock
    assert clock is not None
    path = f"/resourceid/{rid}/sid/{sid}/mode/mix/updateLayout"
    colours = [(255, 0, 0)]
    bounds: list[tuple[float, float]] = []  # output times each colour must fill
    begin = clock.now()
    for colour, request in (
        ((0, 0, 255), {"mixedVideoLayout": 0, "backgroundColor": "#0000FF"}),
        ((0, 0, 0), {"mixedVideoLayout": 1}),  # no colour: back to the default
    ):
        await wait_until(lambda at=begin: clock.now() >= at + 1.5, 15)
        sent = clock.now()
        body = {"cname": "colours", "uid": "951", "clientRequest": request}
        answer = await http.post(path, json=body)
        assert answer.status_code == 200, answer.text
        bounds.append((begin, sent))
        colours.append(colour)
        begin = clock.now()
    await wait_until(lambda: clock.now() >= begin + 1.5, 15)
    bounds.append((begin, float("inf")))
    bad = await http.post(
        path, json={"cname": "colours", "uid": "951", "clientRequest": {"backgroundColor": "red"}}
    )
    assert error(bad) == (
        400,
        {"code": 432, "reason": "backgroundColor: 'red' is not allowed; a colour as #RRGGBB"},
    )
    await stop(http, rid, sid, "colours", 951)

    stages = [(first, last, colour) for (first, last), colour in zip(bounds, colours, strict=True)]
    media = check_recording(folder / f"{sid}_colours.m3u8", fps=SMALL["fps"])
    counted = [0, 0, 0]
    canvas = Rect(0, 0, width, height)
    for t, image in iter_video([s.path for s in media.slices]):
        t -= PTS_OFFSET
        for index, (first, last, colour) in enumerate(stages):
            if first <= t < last:  # frames while a call was under way may show either
                seen = window_colour(image, canvas, fraction=0.9)
                assert all(abs(a - b) <= 24 for a, b in zip(seen, colour, strict=True)), (
                    t, index, seen, colour,
                )  # fmt: skip
                counted[index] += 1
    assert all(n >= SMALL["fps"] for n in counted), counted  # over a second of each


async def test_background_images_at_start_and_in_update_layout(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A canvas image that cannot be fetched is a 400 naming the field and the URL, and
    the resource stays usable; one that can fills the empty channel's picture; an
    ``updateLayout`` naming something that is not an image is refused and changes
    nothing, one naming another image changes the picture from the next frame on.
    Every decoded frame is checked."""
    red, blue, green = (220, 0, 0), (0, 0, 220), (0, 200, 0)
    folder = tmp_path / "rec"
    with image_server() as images:
        halves_url = images.add("/halves.png", encode_image(halves(red, blue, (160, 120))))
        green_url = images.add("/green.jpg", encode_image(halves(green, green, (40, 30)), "jpg"))
        page_url = images.add("/page.png", b"<html>a page</html>", kind="text/html")
        missing = f"{images.url}/missing.png"
        rid = await acquire(http, "images", 952)
        refused = await start(
            http, rid, "images", 952, folder,
            transcodingConfig={**SMALL, "backgroundImage": missing},
        )  # fmt: skip
        field = "recordingConfig.transcodingConfig.backgroundImage"
        assert error(refused)[0] == 400 and error(refused)[1]["code"] == 432
        reason = error(refused)[1]["reason"]
        assert reason.startswith(f"{field}: '{missing}' is not allowed; the http(s) URL of a JPEG")
        assert reason.endswith(": the host answered 404")
        started = await start(
            http, rid, "images", 952, folder,
            transcodingConfig={**SMALL, "backgroundImage": halves_url},
        )  # fmt: skip
        assert started.status_code == 200, started.text  # the same resource
        sid = started.json()["sid"]
        engine = service_of(channel_server).session(APP, rid, sid).recorder
        assert engine is not None
        await wait_until(lambda: engine.clock is not None)
        clock = engine.clock
        assert clock is not None
        begin = clock.now()
        await wait_until(lambda: clock.now() >= begin + 1.5, 15)
        path = f"/resourceid/{rid}/sid/{sid}/mode/mix/updateLayout"
        ident = {"cname": "images", "uid": "952"}
        bad = await http.post(path, json={**ident, "clientRequest": {"backgroundImage": page_url}})
        assert error(bad)[0] == 400
        assert error(bad)[1]["reason"].startswith(f"backgroundImage: '{page_url}' is not allowed")
        assert error(bad)[1]["reason"].endswith(": it is not a JPEG or PNG image")
        sent = clock.now()
        changed = await http.post(
            path, json={**ident, "clientRequest": {"backgroundImage": green_url}}
        )
        assert changed.status_code == 200, changed.text
        done = clock.now()
        await wait_until(lambda: clock.now() >= done + 1.5, 15)
        await stop(http, rid, sid, "images", 952)
        assert images.asked.count("/halves.png") == 1  # fetched once
    media = check_recording(folder / f"{sid}_images.m3u8", fps=SMALL["fps"])
    counted = {"halves": 0, "green": 0}
    for t, image in iter_video([s.path for s in media.slices]):
        t -= PTS_OFFSET
        left = window_colour(image, Rect(0, 0, 80, 120))
        right = window_colour(image, Rect(80, 0, 80, 120))
        if t < sent:  # the bad call changed nothing
            expected, stage = (red, blue), "halves"
        elif t >= done:
            expected, stage = (green, green), "green"
        else:
            continue  # a frame while the call was under way may show either
        seen = (left, right)
        assert all(
            abs(a - b) <= 24
            for pair in zip(seen, expected, strict=True)
            for a, b in zip(*pair, strict=True)
        ), (t, seen, expected)
        counted[stage] += 1
    assert min(counted.values()) >= SMALL["fps"], counted  # over a second of each


async def test_update_layout_answers_agoras_errors(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    rid = await acquire(http, "lay2", 951)
    started = await start(http, rid, "lay2", 951, tmp_path)
    assert started.status_code == 200, started.text
    sid = started.json()["sid"]
    path = f"/resourceid/{rid}/sid/{sid}/mode/mix/updateLayout"
    ident = {"cname": "lay2", "uid": "951"}
    regions_allowed = (
        "is not allowed; 1 to 17 regions, each uid at most once, with mixedVideoLayout 3 (CUSTOM)"
    )
    region = {"x_axis": 0, "y_axis": 0, "width": 1, "height": 1}
    for fields, reason in (
        ({"mixedVideoLayout": 3}, f"layoutConfig: [] {regions_allowed}"),
        (
            {"mixedVideoLayout": 3, "layoutConfig": [region, {**region, "x_axis": 1.5}]},
            "layoutConfig[1].x_axis: 1.5 is not allowed; a number from 0 to 1 (a fraction "
            "of the canvas, to six decimals)",
        ),
        (
            {"mixedVideoLayout": 3, "layoutConfig": [{**region, "uid": "7"}] * 2},
            f"layoutConfig: 'uid 7 twice' {regions_allowed}",
        ),
        (
            {"mixedVideoLayout": 3, "layoutConfig": [region] * 18},
            f"layoutConfig: '18 regions' {regions_allowed}",
        ),
        (
            {"mixedVideoLayout": 3, "layoutConfig": [{**region, "render_mode": 2}]},
            "layoutConfig[0].render_mode: 2 is not allowed; CROP (0) or FIT (1)",
        ),
        (
            {"mixedVideoLayout": 1, "renderMode": 5},
            "renderMode: 5 is not allowed; CROP (0) or FIT (1)",
        ),
        (
            {"mixedVideoLayout": 1, "activeSpeaker": True},
            "activeSpeaker: True is not allowed; false with BEST_FIT (1): the active speaker "
            "takes the large window of FLOAT (0) or VERTICAL (2)",
        ),
    ):
        bad = await http.post(path, json={**ident, "clientRequest": fields})
        assert error(bad) == (400, {"code": 432, "reason": reason}), fields
    unknown = await http.post(
        f"/resourceid/{rid}/sid/nosuchsid/mode/mix/updateLayout",
        json={**ident, "clientRequest": {"mixedVideoLayout": 1}},
    )
    assert error(unknown) == (
        404,
        {"code": 404, "reason": "no recording with sid 'nosuchsid' for this resourceId"},
    )
    await stop(http, rid, sid, "lay2", 951)
    await wait_until(lambda: service_of(channel_server).session(APP, rid, sid).finished)
    ended = await http.post(path, json={**ident, "clientRequest": {"mixedVideoLayout": 1}})
    assert error(ended) == (404, {"code": 404, "reason": "the recording is not running"})


# --- acquire's resource: Agora's 201 code 7, 400 code 53, 432 and 433 ------------------


async def test_a_resource_is_valid_five_minutes_and_starts_one_recording(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's clock is moved on by the test (the 5 minutes are not waited for)."""
    offset = [0.0]
    clock = SimpleNamespace(monotonic=lambda: time.monotonic() + offset[0], time=time.time)
    monkeypatch.setattr(service_module, "time", clock)
    kept = await acquire(http, "exp", 1)
    late = await acquire(http, "exp", 2)

    offset[0] = 299.5  # the requests below take far less than the remaining half second
    started = await start(http, kept, "exp", 1, tmp_path)
    assert started.status_code == 200, started.text
    sid = started.json()["sid"]
    assert started.json() == {"resourceId": kept, "sid": sid, "cname": "exp", "uid": "1"}

    again = await start(http, kept, "exp", 1, tmp_path)
    assert error(again) == (  # Agora: 201 Created, code 7, "already started"
        201,
        {
            "code": 7,
            "reason": "already started: this resourceId already started a recording: "
            "acquire a new one",
        },
    )
    twice = await acquire(http, "exp", 1)
    conflict = await start(http, twice, "exp", 1, tmp_path)
    assert error(conflict) == (  # Agora: 400, code 53, "task conflict"
        400,
        {
            "code": 53,
            "reason": f"task conflict: uid 1 is already recording channel 'exp' (sid {sid})",
        },
    )
    sdk = create_cloud_recorder(
        CallbackLog(), server=channel_server.url, token=channel_server.settings.token
    )
    storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(tmp_path))
    with pytest.raises(CloudRecordingError) as info:  # the SDK's code for Agora's 53
        await sdk.start(APP, "exp", None, 1, RecordingConfig(), storage)
    assert info.value.code is ErrorCode.INVALID_OPERATION
    assert info.value.message == (
        f"HTTP 400: task conflict: uid 1 is already recording channel 'exp' (sid {sid})"
    )
    await sdk.release()
    other = await acquire(http, "exp", 3)
    mismatch = await start(http, other, "exp", 4, tmp_path)
    assert error(mismatch) == (
        400,
        {"code": 432, "reason": "cname and uid must match those of the acquire request"},
    )

    offset[0] = 300.0  # acquired a moment more than 300 s ago on this clock
    expired = await start(http, late, "exp", 2, tmp_path)
    assert error(expired) == (  # Agora's 433: the resource ID expired
        400,
        {
            "code": 433,
            "reason": "the resourceId expired (start within 5 minutes of acquire): "
            "call acquire again",
        },
    )

    stopped = await stop(http, kept, sid, "exp", 1)
    assert stopped == {
        "resourceId": kept,
        "sid": sid,
        "cname": "exp",
        "uid": "1",
        "serverResponse": {
            "fileListMode": "string",
            "fileList": f"{sid}_exp.m3u8",
            "uploadingStatus": "uploaded",
        },
    }
    await wait_until(lambda: service_of(channel_server).session(APP, kept, sid).finished)
    # the conflict used nothing up: once the first recording ended, the uid records again
    restarted = await start(http, twice, "exp", 1, tmp_path)
    assert restarted.status_code == 200, restarted.text
    await stop(http, twice, restarted.json()["sid"], "exp", 1)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            b"{not json",
            "invalid request: body: JSON decode error: Expecting property name enclosed "
            "in double quotes (character 1)",
        ),
        (
            b"[]",
            "invalid request: body: Input should be a valid dictionary or object to extract fields from",
        ),
        (b'{"uid": "1"}', "invalid request: cname: Field required"),
        (b'{"cname": "a"}', "invalid request: uid: Field required"),
        (b'{"cname": "a", "uid": 5}', "invalid request: uid: Input should be a valid string"),
        (
            b'{"cname": "a", "uid": "1", "clientRequest": 3}',
            "invalid request: clientRequest: Input should be a valid dictionary or object to extract fields from",
        ),
    ],
)
async def test_a_malformed_request_is_400_with_code_2(
    http: httpx.AsyncClient, content: bytes, reason: str
) -> None:
    headers = {"Content-Type": "application/json"}
    for path in (
        "/acquire",
        "/resourceid/any/mode/mix/start",
        "/resourceid/any/sid/s/mode/mix/updateLayout",
    ):
        response = await http.post(path, content=content, headers=headers)
        assert error(response) == (400, {"code": 2, "reason": reason}), path


async def test_parameter_auth_and_lookup_errors_have_agoras_shape(
    channel_server: Any, http: httpx.AsyncClient
) -> None:
    zero = await http.post("/acquire", json={"cname": "a", "uid": "0"})
    assert error(zero) == (
        400,
        {
            "code": 432,
            "reason": "uid: 0 is not allowed; an integer from 1 to 4294967295 (0 is reserved)",
        },
    )
    rid = await acquire(http, "a", 1)
    idle = await http.post(
        f"/resourceid/{rid}/mode/mix/start",
        json={"cname": "a", "uid": "1", "clientRequest": {"recordingConfig": {"maxIdleTime": 2}}},
    )
    assert error(idle) == (
        400,
        {
            "code": 432,
            "reason": "max_idle_time: 2 is not allowed; "
            "an integer number of seconds from 5 to 2592000",
        },
    )
    missing = await http.get("/resourceid/x/sid/y/mode/mix/query")
    assert error(missing) == (
        404,
        {"code": 404, "reason": "no recording with sid 'y' for this resourceId"},
    )
    base = f"{channel_server.url}/v1/apps/{APP}/cloud_recording/acquire"
    async with httpx.AsyncClient() as anonymous:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic !!"}):
            denied = await anonymous.post(base, json={"cname": "a", "uid": "1"}, headers=headers)
            expected = BAD_CREDENTIALS if headers else UNAUTHORIZED
            assert error(denied) == (401, expected), headers
        spec = await anonymous.get(f"{channel_server.url}/openapi.json")
    assert "/v1/apps/{appid}/cloud_recording/acquire" in spec.json()["paths"]


# --- the event stream ----------------------------------------------------------------


async def read_events(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], until: int | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """``(id, notice)`` of each event, until sequence ``until`` or the stream's end (its
    ``end`` event, which must be its last)."""
    got: list[tuple[str, dict[str, Any]]] = []
    async with aconnect_sse(http, "GET", path, headers=headers) as source:
        assert source.response.status_code == 200
        ended = False
        async for event in source.aiter_sse():
            assert not ended, "an event after the end"
            if event.event == "end":
                ended = True
                continue
            assert event.event == "notice"
            notice = json.loads(event.data)
            got.append((event.id, notice))
            if until is not None and notice["payload"]["sequence"] >= until:
                break
    return got


async def test_last_event_id_replays_exactly_the_notices_after_it(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    rid = await acquire(http, "replay", 5)
    started = await start(http, rid, "replay", 5, tmp_path, progressInterval=1, sliceDuration=1)
    assert started.status_code == 200, started.text
    sid = started.json()["sid"]
    session: RecordingSession = service_of(channel_server).session(APP, rid, sid)
    events = f"{channel_server.url}/v1/cloudrec/recordings/{sid}/events"

    first = await read_events(http, events, {}, until=3)  # then the client goes away
    assert [n["payload"]["sequence"] for _, n in first] == [0, 1, 2, 3]  # from 0, as Agora's
    # the recording goes on without it: slices and progress notices are logged
    await wait_until(lambda: session.log.last_sequence >= 12)
    stopping = await stop(http, rid, sid, "replay", 5)
    assert stopping["serverResponse"]["uploadingStatus"] == "uploaded"
    await wait_until(lambda: session.finished)
    rest = await read_events(http, events, {"Last-Event-ID": "3"})

    logged = service_of(channel_server).store.notices(sid)
    assert [n["payload"]["sequence"] for n in logged] == list(range(len(logged)))
    assert [n for _, n in first] + [n for _, n in rest] == logged  # each once, in order
    assert [i for i, _ in first + rest] == [str(n["payload"]["sequence"]) for n in logged]
    for last in (0, 7, len(logged) - 2, len(logged) - 1):
        again = await read_events(http, events, {"Last-Event-ID": str(last)})
        assert [n for _, n in again] == logged[last + 1 :], last


# --- reattaching ------------------------------------------------------------------------


async def test_a_recording_started_by_another_client_is_listed_and_reattached(
    channel_server: Any, tmp_path: Path
) -> None:
    url, token = channel_server.url, channel_server.settings.token
    config = RecordingConfig(transcoding_config=TranscodingConfig(**SMALL), progress_interval=1)
    storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(tmp_path))
    before = time.time()
    first_log = CallbackLog()
    first = create_cloud_recorder(first_log, server=url, token=token)
    await first.start(APP, "listed", None, 77, config, storage)
    after = time.time()
    await first.release(cancel=False)
    assert first_log.names() == ["on_recording_connecting", "on_recording_started"]

    lister = RestClient(url, Credentials(bearer=token))
    try:
        (entry,) = await lister.recordings()
        assert before <= entry.pop("createdAt") <= after
        assert entry == {
            "sid": first.sid,
            "resourceId": first.resource_id,
            "appId": APP,
            "cname": "listed",
            "uid": "77",
            "status": 5,
            "mode": "mix",
            "fileList": f"{first.sid}_listed.m3u8",
            "folder": "",
            "uploadingStatus": "unknown",
            "finished": False,
            "location": str(tmp_path),  # the operator (bearer) is told where the files are
        }
        log = CallbackLog()
        second = create_cloud_recorder(log, server=url, token=token)
        await second.attach(
            entry["appId"], entry["resourceId"], entry["sid"], entry["cname"], int(entry["uid"])
        )
        await wait_until(lambda: "on_recording_uploading_progress" in log.names())
        await second.stop()
        await second.wait_finished(20)
        await second.release()
        (done,) = await lister.recordings()
    finally:
        await lister.aclose()
    assert (done["status"], done["uploadingStatus"], done["finished"]) == (7, "uploaded", True)
    notices = service_of(channel_server).store.notices(entry["sid"])
    assert log.without_id() == promised_callbacks(notices)  # replayed, then live, once each
    assert log.names().count("on_recording_started") == 1
    assert log.names().count("on_recording_stopped") == 1
    assert log.names().count("on_recording_uploaded") == 1
    assert first_log.names() == ["on_recording_connecting", "on_recording_started"]
    check_recording(tmp_path / entry["fileList"], fps=15)


# --- RECORDER_INIT ----------------------------------------------------------------------


async def test_a_recorder_that_cannot_be_set_up_is_recorder_init(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """The server's work folder cannot be made (a file is where it should be: a broken
    data folder): the recorder cannot initialise."""
    work = channel_server.settings.data_dir / "work"
    work.parent.mkdir(parents=True, exist_ok=True)
    work.write_text("not a folder")
    url, token = channel_server.url, channel_server.settings.token
    log = CallbackLog()
    recorder = create_cloud_recorder(log, server=url, token=token)
    storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(tmp_path))
    with pytest.raises(CloudRecordingError) as info:
        await recorder.start(APP, "noinit", None, 78, RecordingConfig(), storage)
    assert info.value.code is ErrorCode.RECORDER_INIT
    assert info.value.message.startswith("HTTP 400: cannot set up the recorder: ")
    assert log.names() == ["on_recording_connecting"]
    await recorder.release()

    (entry,) = (await http.get(f"{url}/v1/cloudrec/recordings")).json()["recordings"]
    assert (entry["status"], entry["finished"]) == (20, True)
    attached_log = CallbackLog()
    attached = create_cloud_recorder(attached_log, server=url, token=token)
    await attached.attach(APP, entry["resourceId"], entry["sid"], "noinit", 78)
    await attached.wait_finished(10)
    await attached.release()
    assert attached_log.without_id() == [("on_recording_fatal_error", (ErrorCode.RECORDER_INIT,))]
    (notice,) = [
        n for n in service_of(channel_server).store.notices(entry["sid"]) if n["eventType"] == 1
    ]
    assert notice["payload"]["details"]["errorMsg"] == info.value.message.removeprefix("HTTP 400: ")
