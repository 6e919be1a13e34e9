"""HLS and MP4 over the REST API, end to end: bots in their own process, the real server.

Agora's ``recordingFileConfig.avFileType ["hls","mp4"]`` gets MP4 files beside the
playlist (docs/recording-files.md): the tests decode each output on its own, compare the
MP4 with the slices frame for frame, play the MP4 to its end in headless Chromium's
``<video>``, and kill the server mid-recording to see the MP4 recovered after a restart.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

from core import create_cloud_recorder
from core.enums import SANDBOX_APP_ID, MixedVideoLayout
from core.layout import compute_layout
from core.media.segmenter import PTS_OFFSET
from core.participants.analysis import (
    beep_onsets,
    decode_audio,
    heard_from,
    iter_video,
    pair_offsets,
    playlist_slices,
    window_colour,
)
from core.participants.synthetic import TONE_AMPLITUDE, is_flash, tone_frequency
from core.sdk.embedded import EmbeddedServer
from tests.helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CallbackLog,
    check_recording,
    require_browser,
    wait_until,
)
from tests.publishers import Publishers

pytestmark = pytest.mark.slow

FPS = 15
WIDTH, HEIGHT = 320, 180
UIDS = [61, 62, 63]
TRANSCODING = {"width": WIDTH, "height": HEIGHT, "fps": FPS, "bitrate": 300, "mixedVideoLayout": 1}
FILE_CONFIG = {"avFileType": ["hls", "mp4"]}
SYNC_BOUND = 0.040


def local(folder: Path) -> dict[str, Any]:
    return {"vendor": 100, "region": 0, "extensionParams": {"localFolder": str(folder)}}


def start_body(cname: str, uid: int, folder: Path) -> dict[str, Any]:
    return {
        "cname": cname,
        "uid": str(uid),
        "clientRequest": {
            "recordingConfig": {"transcodingConfig": TRANSCODING, "sliceDuration": 2},
            "recordingFileConfig": FILE_CONFIG,
            "storageConfig": local(folder),
        },
    }


def decode_counts(path: Path) -> dict[str, int]:
    """Frames per stream of ``path``, every one decoded strictly (nothing on stderr)."""
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "warning", "-xerror", "-i", str(path), "-map", "0",
         "-fps_mode", "passthrough", "-f", "framemd5", "-"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    counts = {"video": 0, "audio": 0}
    kinds: dict[str, str] = {}
    for line in result.stdout.splitlines():
        if line.startswith("#media_type "):
            index, kind = line[len("#media_type ") :].split(": ")
            kinds[index] = kind
        elif line and not line.startswith("#"):
            counts[kinds[line.split(",")[0].strip()]] += 1
    return counts


def sync_pairs(paths: list[Path], offset: float) -> list[tuple[float, float]]:
    """(flash time, beep - flash) of the first user's window from when every user is
    heard; times less ``offset``."""
    windows = compute_layout(MixedVideoLayout.BEST_FIT, UIDS, WIDTH, HEIGHT)
    audio = decode_audio(paths)
    assert audio is not None
    heard = heard_from(audio, [tone_frequency(u) for u in UIDS], 0.5 * TONE_AMPLITUDE)
    assert heard is not None
    flashes, previous = [], False
    for t, image in iter_video(paths):
        flash = is_flash(window_colour(image, windows[UIDS[0]]))
        if flash and not previous and t > heard:
            flashes.append(t)
        previous = flash
    beeps = [b for b in beep_onsets(audio) if b > heard]
    return [(f - offset, o) for f in flashes for o in pair_offsets([f], beeps)]


async def play_in_chromium(path: Path) -> dict[str, Any]:
    """Play ``path`` in headless Chromium's ``<video>`` (muted, at 16x) to its end: what
    the element reports then."""
    api = require_browser()
    async with api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(path.parent.as_uri())
            return dict(
                await page.evaluate(
                    """async (src) => {
                        const v = document.createElement('video');
                        v.muted = true;
                        v.src = src;
                        document.body.appendChild(v);
                        await new Promise((ok, fail) => {
                            v.onloadedmetadata = ok;
                            v.onerror = () => fail(new Error('error ' + v.error.code));
                        });
                        v.playbackRate = 16;
                        const ended = new Promise((ok) => { v.onended = ok; });
                        await v.play();
                        await ended;
                        return {duration: v.duration, currentTime: v.currentTime,
                                width: v.videoWidth, height: v.videoHeight,
                                frames: v.getVideoPlaybackQuality().totalVideoFrames,
                                error: v.error ? v.error.code : 0};
                    }""",
                    path.as_uri(),
                )
            )
        finally:
            await browser.close()


async def notices(url: str, token: str, sid: str) -> list[dict[str, Any]]:
    notices: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as h:
        async with asyncio.timeout(30):
            path = f"/v1/cloudrec/recordings/{sid}/events"
            async with aconnect_sse(h, "GET", path, params={"after": "-1"}) as source:
                async for event in source.aiter_sse():
                    if event.event == "notice":
                        notices.append(json.loads(event.data)["payload"]["details"])
    return notices


def file_entry(name: str, start_ms: int) -> dict[str, Any]:
    return {"fileName": name, "trackType": "audio_and_video", "uid": "0",
            "mixedAllUser": True, "isPlayable": True, "sliceStartTime": start_ms}  # fmt: skip


async def test_thirty_seconds_of_hls_and_mp4_match_frame_for_frame_and_play_in_a_browser(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Three users, 30 s, ``avFileType ["hls","mp4"]``: query and stop answer
    ``fileListMode "json"`` (the MP4 first once it is written, then the playlist), as do
    the uploaded notices; the MP4 holds the slices' frames and their A/V offsets within
    one frame, its first second within 40 ms, and plays to its end in Chromium."""
    folder, cname = tmp_path / "rec", "mp4three"
    async with Publishers(channel_server.url, cname, UIDS, size=(160, 120)):
        channel = channel_server.registry.channel(SANDBOX_APP_ID, cname)
        await wait_until(lambda: all(channel.publisher(u).synchronized for u in UIDS), 15)
        answer = await http.post("/acquire", json={"cname": cname, "uid": "970"})
        rid = answer.json()["resourceId"]
        started = await http.post(
            f"/resourceid/{rid}/mode/mix/start", json=start_body(cname, 970, folder)
        )
        assert started.status_code == 200, started.text
        sid = started.json()["sid"]
        session = channel_server.app.state.recordings.session(SANDBOX_APP_ID, rid, sid)
        engine = session.recorder
        await wait_until(lambda: engine.duration >= 4, 20)
        query = await http.get(f"/resourceid/{rid}/sid/{sid}/mode/mix/query")
        response = query.json()["serverResponse"]
        start_ms = response["sliceStartTime"]
        playlist = f"{sid}_{cname}.m3u8"
        assert (response["fileListMode"], response["fileList"]) == (
            "json", [file_entry(playlist, start_ms)]
        )  # fmt: skip
        await wait_until(lambda: engine.duration >= 30, 60)
        body = {"cname": cname, "uid": "970", "clientRequest": {}}
        stopped = await http.post(f"/resourceid/{rid}/sid/{sid}/mode/mix/stop", json=body)
    assert stopped.status_code == 200, stopped.text
    mp4 = f"{sid}_{cname}_0.mp4"
    server_response = stopped.json()["serverResponse"]
    assert server_response["fileListMode"] == "json"
    assert server_response["fileList"] == [
        file_entry(mp4, start_ms),
        file_entry(playlist, start_ms),
    ]
    told = await notices(channel_server.url, channel_server.settings.token, sid)
    uploaded = [n for n in told if n["msgName"] == "uploaded"]
    assert [n["fileList"] for n in uploaded] == [server_response["fileList"]]

    media = check_recording(folder / playlist, fps=FPS)
    counts = decode_counts(folder / mp4)
    assert counts["video"] == media.video_frames >= 30 * FPS
    assert counts["audio"] == media.audio_frames - 1  # the priming frame, hidden by the MP4
    slices = [p for p, _ in playlist_slices(folder / playlist)]
    hls = sync_pairs(slices, PTS_OFFSET)
    ours = sync_pairs([folder / mp4], 0.0)
    print("MP4 flash/beep offsets (ms):", [round(float(o) * 1000, 1) for _, o in ours])
    assert len(ours) == len(hls) >= 28
    for (t_hls, o_hls), (t_mp4, o_mp4) in zip(hls, ours, strict=True):
        assert abs(t_mp4 - t_hls) < 1e-3 and abs(o_mp4 - o_hls) <= 1 / FPS, (t_hls, t_mp4)
        assert abs(o_mp4) <= SYNC_BOUND, (t_mp4, o_mp4)
    assert ours[0][0] < hls[0][0] + 1e-3 < 2.5  # the first second is in the check

    played = await play_in_chromium(folder / mp4)
    assert played["error"] == 0 and (played["width"], played["height"]) == (WIDTH, HEIGHT)
    assert played["currentTime"] == pytest.approx(played["duration"], abs=0.1)
    assert played["duration"] == pytest.approx(media.listed_seconds, abs=1.5 / FPS)


async def test_a_server_killed_at_twenty_seconds_leaves_a_playable_mp4_after_restart(
    tmp_path: Path,
) -> None:
    """SIGKILL 20 s into an HLS+MP4 recording: the restarted server makes the part the
    recorder was writing a regular MP4 of at least 15 s, stores it beside the playlist,
    lists it in the recording's fileList, and it plays to its end in Chromium."""
    data, folder, cname = tmp_path / "server", tmp_path / "rec", "mp4kill"
    first = EmbeddedServer(data, log_level="warning", storage_roots=(tmp_path,))
    await first.start()
    try:
        async with Publishers(first.url, cname, UIDS, size=(160, 120)):
            async with httpx.AsyncClient(
                base_url=f"{first.url}/v1/apps/{SANDBOX_APP_ID}/cloud_recording",
                headers={"Authorization": f"Bearer {first.token}"},
                timeout=30,
            ) as http:
                rid = (await http.post("/acquire", json={"cname": cname, "uid": "971"})).json()[
                    "resourceId"
                ]
                started = await http.post(
                    f"/resourceid/{rid}/mode/mix/start", json=start_body(cname, 971, folder)
                )
                assert started.status_code == 200, started.text
                sid = started.json()["sid"]
                part = data / "work" / sid / f"{sid}_{cname}_0.mp4.part"
                await wait_until(part.exists, 20)
                await asyncio.sleep(20)
            first.kill()
            assert await first.wait_exit(10) == -signal.SIGKILL
    finally:
        await first.stop()
    second = EmbeddedServer(data, log_level="warning", storage_roots=(tmp_path,))
    await second.start()
    recorder = create_cloud_recorder(CallbackLog(), server=second.url, token=second.token)
    try:
        await recorder.attach(SANDBOX_APP_ID, rid, sid, cname, 971)
        await recorder.wait_finished(60)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {second.token}"}) as h:
            listing = (await h.get(f"{second.url}/v1/cloudrec/recordings/{sid}")).json()
    finally:
        await recorder.release()
        await second.stop()
    mp4 = folder / f"{sid}_{cname}_0.mp4"
    names = [f["fileName"] for f in listing["serverResponse"]["fileList"]]
    assert names == [mp4.name, f"{sid}_{cname}.m3u8"]
    assert not part.exists() and not (data / "backup" / sid / mp4.name).exists()
    counts = decode_counts(mp4)
    assert counts["video"] >= 15 * FPS, counts
    played = await play_in_chromium(mp4)
    assert played["error"] == 0 and played["duration"] >= 15.0, played
    assert played["currentTime"] == pytest.approx(played["duration"], abs=0.1)
