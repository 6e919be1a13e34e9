"""Live streams of a mix recording over REST (``rtmpPublishConfig``, docs/streaming.md):
given at start, replaced by ``update``; what a real RTMP listener on 127.0.0.1 received
is decoded; states in ``query`` and the notices, stream keys never shown."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np

from core.participants.synthetic import identify_uid, is_flash, tone_frequency
from tests.core.media.test_streaming import Listener, NginxRtmp, check_received, free_port
from tests.core.server.test_http_recording import acquire, local, read_events
from tests.helpers import wait_until
from tests.publishers import Publishers

CNAME = "live"
UID = 9911
SMALL = {"width": 320, "height": 240, "fps": 15, "bitrate": 300}


def body(client_request: dict[str, Any]) -> dict[str, Any]:
    return {"cname": CNAME, "uid": str(UID), "clientRequest": client_request}


def outputs(*urls: str) -> dict[str, Any]:
    return {"outputs": [{"rtmpUrl": url} for url in urls]}


def streams_of(query: httpx.Response) -> list[dict[str, Any]]:
    assert query.status_code == 200, query.text
    for entry in query.json()["serverResponse"]["extensionServiceState"]:
        if entry["serviceName"] == "cloudrec_recorder":
            return list(entry["payload"]["streams"])
    raise AssertionError(query.text)


def check_mix(path: Path, seconds: float = 1.0) -> None:
    """What a listener got decodes, every frame, and shows the user's colour (its only
    tile, BEST_FIT) with its flash once a second; at least ``seconds`` of it plays with
    the user's tone, continuous, each flash with its beep within 40 ms."""
    check_received(path, seconds, tone=tone_frequency(31))
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) >= 15, len(frames)
    flashes = 0
    for frame in frames:
        rgb = frame.to_ndarray(format="rgb24")
        h, w, _ = rgb.shape
        colour = tuple(
            float(v)
            for v in np.median(rgb[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].reshape(-1, 3), axis=0)
        )
        flash = is_flash(colour)
        flashes += flash
        assert flash or identify_uid(colour, [31]) == 31, colour
    assert flashes >= 1


async def test_streams_at_start_and_by_update(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A mix recording pushed live to one RTMP listener from its start; ``update`` adds a
    second (live within 5 s) and then leaves the first out (stopped within 2 s, its
    listener's file ends); both files decode to the user's picture. ``query`` and the
    notices show each destination's state with its key masked, never the key."""
    first_url = f"rtmp://127.0.0.1:{free_port()}/live/key-one-secret"
    second_url = f"rtmp://127.0.0.1:{free_port()}/live/key-two-secret"
    first = Listener(first_url, tmp_path / "first.flv", "flv")
    second = Listener(second_url, tmp_path / "second.flv", "flv")
    rid = await acquire(http, CNAME, UID)
    start = body({
        "recordingConfig": {"transcodingConfig": {**SMALL, "mixedVideoLayout": 1}},
        "storageConfig": local(tmp_path / "rec"),
        "rtmpPublishConfig": outputs(first_url),
    })  # fmt: skip
    try:
        await asyncio.sleep(0.5)  # the listeners bind their ports
        async with Publishers(channel_server.url, CNAME, [31], size=(160, 120)):
            answer = await http.post(f"/resourceid/{rid}/mode/mix/start", json=start)
            assert answer.status_code == 200, answer.text
            sid = answer.json()["sid"]
            base = f"/resourceid/{rid}/sid/{sid}/mode/mix"

            async def states() -> list[dict[str, Any]]:
                return streams_of(await http.get(f"{base}/query"))

            live = {"url": "rtmp://127.0.0.1:" + first_url.split(":")[2].split("/")[0]
                    + "/live/****", "state": "live"}  # fmt: skip
            await wait_until_async(
                lambda: states(),
                lambda s: any(x["url"] == live["url"] and x["state"] == "live" for x in s),
                10.0,
            )
            await asyncio.sleep(2.0)  # two seconds of it

            asked = time.monotonic()
            update = await http.post(f"{base}/update", json=body(
                {"rtmpPublishConfig": outputs(first_url, second_url)}))  # fmt: skip
            assert update.status_code == 200, update.text
            await wait_until_async(
                states, lambda s: sum(x["state"] == "live" for x in s) == 2, 10.0
            )
            assert time.monotonic() - asked < 5.0
            await asyncio.sleep(2.0)

            asked = time.monotonic()
            update = await http.post(f"{base}/update", json=body(
                {"rtmpPublishConfig": outputs(second_url)}))  # fmt: skip
            assert update.status_code == 200, update.text
            await wait_until(lambda: first.process.poll() is not None, 5.0)
            assert time.monotonic() - asked < 2.0  # the first listener's stream ended
            remaining = await states()
            assert [x["url"].endswith("/live/****") for x in remaining] == [True]
            await asyncio.sleep(1.0)
            query_text = (await http.get(f"{base}/query")).text
            stop = await http.post(f"{base}/stop", json=body({}))
            assert stop.status_code == 200, stop.text
        second.wait()
    finally:
        first.stop()
        second.stop()
    assert "secret" not in query_text and "secret" not in stop.text
    events = f"{channel_server.url}/v1/cloudrec/recordings/{sid}/events"
    notices = [n for _, n in await read_events(http, events, {})]
    streams = [n["payload"]["details"] for n in notices if n["eventType"] == 2002]
    assert {(s["url"].endswith("/live/****"), s["state"]) for s in streams} >= {
        (True, "connecting"), (True, "live"), (True, "stopped")
    }  # fmt: skip
    assert all("secret" not in str(n) for n in notices)
    listing = await http.get(f"{channel_server.url}/v1/cloudrec/recordings/{sid}")
    assert "secret" not in listing.text
    check_mix(tmp_path / "first.flv", 4.0)
    check_mix(tmp_path / "second.flv", 3.0)


async def wait_until_async(read: Any, condition: Any, timeout: float) -> None:
    """Poll the coroutine ``read()`` until ``condition`` holds of what it returns."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if condition(value):
            return
        assert time.monotonic() < deadline, value
        await asyncio.sleep(0.1)


async def test_the_sdk_starts_and_stops_a_stream(channel_server: Any, tmp_path: Path) -> None:
    """``RecordingConfig(rtmp_publish_config=...)`` through the SDK streams from the start
    (``on_stream_state``: connecting, then live, the URL masked); ``update_streams([])``
    stops it; the callbacks are those the docs promise for the notices."""
    from pydantic import SecretStr

    from core import CloudStorageConfig, RecordingConfig, StorageVendor, TranscodingConfig
    from core.config import RtmpPublishConfig, StreamOutput
    from core.sdk.recorder import create_cloud_recorder
    from tests.core.server.test_http_recording import APP, service_of
    from tests.helpers import CallbackLog, promised_callbacks

    url = f"rtmp://127.0.0.1:{free_port()}/live/sdk-secret-key"
    listener = Listener(url, tmp_path / "sdk.flv", "flv")
    config = RecordingConfig(
        transcoding_config=TranscodingConfig(**{k: v for k, v in SMALL.items()}),
        rtmp_publish_config=RtmpPublishConfig(outputs=(StreamOutput(rtmp_url=SecretStr(url)),)),
    )
    storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(tmp_path / "rec"))
    log = CallbackLog()
    try:
        await asyncio.sleep(0.5)
        async with Publishers(channel_server.url, "sdk-live", [31], size=(160, 120)):
            recorder = create_cloud_recorder(
                log, server=channel_server.url, token=channel_server.settings.token
            )
            await recorder.start(APP, "sdk-live", None, 951, config, storage)
            masked = url.rsplit("/", 1)[0] + "/****"
            await wait_until(
                lambda: ("on_stream_state", (masked, "live", "")) in log.without_id(), 10.0
            )
            await asyncio.sleep(2.0)  # two seconds of the stream under test
            await recorder.update_streams([])
            await wait_until(lambda: listener.process.poll() is not None, 5.0)
            await wait_until(
                lambda: ("on_stream_state", (masked, "stopped", "")) in log.without_id()
            )
            sid = recorder.sid
            await recorder.stop()
            await recorder.release()
    finally:
        listener.stop()
    assert [a for n, a in log.without_id() if n == "on_stream_state"][:2] == [
        (masked, "connecting", ""), (masked, "live", "")
    ]  # fmt: skip
    assert sid is not None
    notices = service_of(channel_server).store.notices(sid)
    streams = [c for c in promised_callbacks(notices) if c[0] == "on_stream_state"]
    assert streams == [c for c in log.without_id() if c[0] == "on_stream_state"]
    check_mix(tmp_path / "sdk.flv")


async def test_a_destination_down_for_20_s_comes_back_and_the_recording_loses_nothing(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Two destinations: nginx's RTMP module and an SRT listener (srt-live-transmit).
    nginx goes away 3 s into the recording and comes back 20 s later: its destination
    says it is retrying (with the error, no key), is live again within 10 s of nginx's
    return, and what nginx recorded before and after decodes to the user's picture and
    tone with every flash on its beep; the SRT destination stays live throughout and its
    one stream decodes the same way over the whole recording; the recording itself has
    every frame (its playlist decodes to exactly its listed length at 15 fps)."""
    from tests.helpers import check_recording

    nginx = NginxRtmp(tmp_path / "nginx")
    nginx.start()
    url = nginx.url("down-secret")
    srt_port = free_port(socket.SOCK_DGRAM)
    srt_url = f"srt://127.0.0.1:{srt_port}?streamid=srt-secret"
    srt = Listener(f"srt://:{srt_port}?mode=listener", tmp_path / "srt.ts", "mpegts")
    rid = await acquire(http, CNAME, UID)
    folder = tmp_path / "rec"
    start = body({
        "recordingConfig": {"transcodingConfig": {**SMALL, "mixedVideoLayout": 1},
                            "sliceDuration": 2},
        "storageConfig": local(folder),
        "rtmpPublishConfig": outputs(url, srt_url),
    })  # fmt: skip
    try:
        await asyncio.sleep(0.5)  # the SRT listener binds its port
        async with Publishers(channel_server.url, CNAME, [31], size=(160, 120)):
            answer = await http.post(f"/resourceid/{rid}/mode/mix/start", json=start)
            assert answer.status_code == 200, answer.text
            sid = answer.json()["sid"]
            base = f"/resourceid/{rid}/sid/{sid}/mode/mix"

            async def states() -> list[dict[str, Any]]:
                return streams_of(await http.get(f"{base}/query"))

            await wait_until_async(states, lambda s: [x["state"] for x in s] == ["live"] * 2, 10)
            await asyncio.sleep(3.0)
            nginx.stop()  # the RTMP server goes away
            await wait_until_async(states, lambda s: s[0]["state"] == "retrying", 10.0)
            error = (await states())[0]["error"]
            assert error and "secret" not in error
            srt_states = []
            for _ in range(20):  # nginx is down for 20 s; SRT goes on
                await asyncio.sleep(1.0)
                srt_states.append((await states())[1]["state"])
            assert set(srt_states) == {"live"}, srt_states
            nginx.start()
            back = time.monotonic()
            await wait_until_async(states, lambda s: s[0]["state"] == "live", 15.0)
            assert time.monotonic() - back < 10.0
            await asyncio.sleep(3.0)
            stop = await http.post(f"{base}/stop", json=body({}))
            assert stop.status_code == 200, stop.text
        srt.wait()
    finally:
        nginx.stop()
        srt.stop()
    before, after = nginx.recorded("down-secret")  # one file for each publish
    check_mix(before, 2.0)
    check_mix(after, 2.0)
    check_mix(tmp_path / "srt.ts", 25.0)  # one stream over the whole recording
    playlist = folder / f"{sid}_{CNAME}.m3u8"
    media = check_recording(playlist, fps=15)  # every frame of every slice, as listed
    assert media.video_frames >= 27 * 15, media.video_frames
