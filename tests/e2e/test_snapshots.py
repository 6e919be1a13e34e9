"""Snapshots end to end: bots in their own process, the real server, the SDK, an S3 server.

``snapshotConfig`` (the SDK's ``RecordingConfig.snapshot_config``) gets a JPEG of the
composed picture every ``captureInterval`` seconds, stored beside the playlist in the
bucket, each announced by Agora's notice 45 once it is there, and the newest served to
the window (``docs/recording-files.md``, "Snapshots").
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

from core import (
    CloudStorageConfig,
    RecordingConfig,
    StorageVendor,
    TranscodingConfig,
    create_cloud_recorder,
)
from core.config import SnapshotConfig
from core.enums import SANDBOX_APP_ID, MixedVideoLayout
from core.layout import compute_layout
from core.media.playlist import snapshot_name
from core.participants.analysis import iter_video, window_colour
from core.participants.synthetic import identify_uid, is_flash
from core.sdk.client import Credentials, RestClient, RestError
from tests.helpers import (
    CallbackLog,
    check_recording,
    promised_callbacks,
    require_secret_service,
    wait_until,
)
from tests.publishers import Publishers
from tests.s3server import S3Server

pytestmark = pytest.mark.slow

FPS = 15
WIDTH, HEIGHT = 320, 180
UIDS = [71, 72, 73]
INTERVAL = 5
PREFIX = "recordings/snaps"


async def notices_of(url: str, token: str, sid: str) -> list[dict[str, Any]]:
    """Every notice of a finished recording, from its event stream."""
    notices: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as h:
        async with asyncio.timeout(30):
            path = f"/v1/cloudrec/recordings/{sid}/events"
            async with aconnect_sse(h, "GET", path, params={"after": "-1"}) as source:
                async for event in source.aiter_sse():
                    if event.event == "notice":
                        notices.append(json.loads(event.data))
    return notices


async def test_thirty_seconds_at_five_give_six_jpegs_of_every_users_tile_in_the_bucket(
    channel_server: Any, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    """Three users, 30 s, ``captureInterval`` 5: JPEGs at 5, 10, ... s in the bucket
    beside the playlist, named by their picture's UTC time, each window showing its user's
    colour; one notice 45 per JPEG naming its key; the SDK's ``on_recording_snapshot`` for
    each; the newest served by ``/v1/cloudrec/recordings/{sid}/snapshot`` (304 while it is
    the one the client has)."""
    require_secret_service()  # the server keeps the S3 keys in the OS keyring
    cname, url, token = "snapthree", channel_server.url, channel_server.settings.token
    storage = CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3,
        bucket=s3_bucket,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        endpoint=s3_server.endpoint,
        file_name_prefix=tuple(PREFIX.split("/")),
    )
    config = RecordingConfig(
        slice_duration=2,
        transcoding_config=TranscodingConfig(
            width=WIDTH, height=HEIGHT, fps=FPS, bitrate=300, layout=MixedVideoLayout.BEST_FIT
        ),
        snapshot_config=SnapshotConfig(capture_interval=INTERVAL),
    )
    log = CallbackLog()
    client = RestClient(url, Credentials(bearer=token))
    served: list[tuple[str, bytes]] = []
    try:
        async with Publishers(url, cname, UIDS, size=(160, 120)):
            channel = channel_server.registry.channel(SANDBOX_APP_ID, cname)
            await wait_until(lambda: all(channel.publisher(u).synchronized for u in UIDS), 15)
            recorder = create_cloud_recorder(log, server=url, token=token)
            await recorder.start(SANDBOX_APP_ID, cname, None, 980, config, storage)
            assert recorder.sid is not None and recorder.resource_id is not None
            sid = recorder.sid
            with pytest.raises(RestError) as none_yet:  # nothing before the first interval
                await client.snapshot(sid)
            assert (none_yet.value.status, none_yet.value.rest_code) == (404, 404)
            assert "no snapshot of recording" in none_yet.value.message
            session = channel_server.app.state.recordings.session(
                SANDBOX_APP_ID, recorder.resource_id, sid
            )
            engine = session.recorder
            await wait_until(lambda: session.latest_snapshot is not None, 15)
            first = await client.snapshot(sid)
            assert first is not None
            served.append((first.name, first.data))
            assert await client.snapshot(sid, first.etag) is None  # 304: still that one
            # the live picture: the newest composed frame, each window its user's
            live = await client.preview(sid)
            assert live is not None
            live_path = tmp_path / "live.jpg"
            live_path.write_bytes(live.data)
            [(_, image)] = list(iter_video([live_path]))
            assert image.shape == (HEIGHT, WIDTH, 3)
            windows = compute_layout(MixedVideoLayout.BEST_FIT, UIDS, WIDTH, HEIGHT)
            for uid, window in windows.items():  # a window may show its user's flash
                colour = window_colour(image, window)
                assert identify_uid(colour, UIDS) == uid or is_flash(colour), (uid, colour)
            await wait_until(lambda: engine.duration >= 30, 60)
            newer = await client.preview(sid, live.etag)  # many frames later: a newer one
            assert newer is not None and int(newer.etag.strip('"')) > int(live.etag.strip('"'))
            await recorder.stop()
            with pytest.raises(RestError) as ended:  # stopped: no live picture
                await client.preview(sid)
            assert (ended.value.status, ended.value.rest_code) == (404, 404)
            last = await client.snapshot(sid, first.etag)
            assert last is not None and last.name != first.name
            served.append((last.name, last.data))
            await recorder.wait_finished(30)
        await recorder.release()
    finally:
        await client.aclose()
    taker = engine.snapshots
    assert taker is not None and taker.failed == 0

    notices = await notices_of(url, token, sid)
    started = next(n for n in notices if n["eventType"] == 40)["payload"]["details"]
    playlist_key = f"{PREFIX}/{sid}_{cname}.m3u8"
    folder = tmp_path / "down"
    folder.mkdir()
    (folder / "p.m3u8").write_bytes(s3_server.get_object(s3_bucket, playlist_key))
    for key in s3_server.list_keys(s3_bucket, f"{PREFIX}/"):
        if key.endswith(".ts"):
            (folder / key.rsplit("/", 1)[1]).write_bytes(s3_server.get_object(s3_bucket, key))
    media = check_recording(folder / "p.m3u8", fps=FPS)

    # docs/recording-files.md: one at k * interval for k = 1, 2, ... up to the last
    # frame recorded; named by the picture's UTC time (output time 0 is startTime).
    last_tick = (media.video_frames - 1) / FPS
    times = [k * INTERVAL for k in range(1, int(last_tick // INTERVAL) + 1)]
    assert 5 <= len(times) <= 7  # 6 (+-1) for 30 s at 5 s
    utc = [datetime.fromtimestamp(started["startTime"] + t, UTC) for t in times]
    names = [snapshot_name(sid, cname, when) for when in utc]
    keys = [f"{PREFIX}/{name}" for name in names]
    assert [k for k in s3_server.list_keys(s3_bucket, f"{PREFIX}/") if k.endswith(".jpg")] == keys
    told = [n["payload"]["details"] for n in notices if n["eventType"] == 45]
    assert told == [{"msgName": "recorder_snapshot_file", "fileName": key} for key in keys]
    assert log.without_id() == [("on_recording_connecting", ()), *promised_callbacks(notices)]
    assert [args[1] for name, args in log.calls if name == "on_recording_snapshot"] == keys

    windows = compute_layout(MixedVideoLayout.BEST_FIT, UIDS, WIDTH, HEIGHT)
    sizes = []
    for key, when in zip(keys, utc, strict=True):
        assert s3_server.head_object(s3_bucket, key)["ContentType"] == "image/jpeg"
        data = s3_server.get_object(s3_bucket, key)
        sizes.append(len(data))
        path = tmp_path / key.rsplit("/", 1)[1]
        path.write_bytes(data)
        [(_, image)] = list(iter_video([path]))
        assert image.shape == (HEIGHT, WIDTH, 3)
        # Each window shows its user; the bots flash white on whole seconds of the wall
        # clock, which a picture within a frame (and the 40 ms sync bound) of one shows.
        fraction = when.timestamp() % 1
        on_flash = min(fraction, 1 - fraction) <= 1 / FPS + 0.040
        for uid, window in windows.items():
            colour = window_colour(image, window)
            assert identify_uid(colour, UIDS) == uid or (on_flash and is_flash(colour)), (
                key,
                uid,
                colour,
            )
    # What the window was served: the first and the newest, byte for byte the bucket's.
    by_name = {k.rsplit("/", 1)[1]: k for k in keys}
    for name, data in served:
        assert s3_server.get_object(s3_bucket, by_name[name]) == data
    assert served[-1][0] == names[-1]
    per_snapshot = taker.encode_seconds / taker.taken * 1000
    print(
        f"{len(keys)} JPEGs of {WIDTH}x{HEIGHT} in {last_tick + 1 / FPS:.2f} s: "
        f"{min(sizes)}-{max(sizes)} bytes, {per_snapshot:.2f} ms CPU each (encode + write)"
    )
