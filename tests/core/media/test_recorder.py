"""The recorder against a real channel server with synthetic participants over WHIP.

Every check decodes what the recorder stored (PyAV / ffprobe).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest

from core.channel.errors import UidInUseError
from core.config import RecordingConfig, TranscodingConfig
from core.enums import (
    SANDBOX_APP_ID,
    AudioProfile,
    ChannelType,
    MixedVideoLayout,
    RecordingStreamType,
    VideoStreamType,
)
from core.errors import ErrorCode
from core.layout import Rect, compute_layout
from core.media.recorder import (
    IdleExit,
    Recorder,
    RecorderEvent,
    RecorderFailure,
    RecorderStarted,
    RecorderStatus,
    RecorderStopped,
    SliceStored,
    StopReason,
)
from core.media.segmenter import PTS_OFFSET
from core.participants.analysis import (
    beep_onsets,
    decode_audio,
    iter_video,
    pair_offsets,
    playlist_slices,
    window_colour,
)
from core.participants.bots import Bots, run_bots
from core.participants.synthetic import identify_uid, is_flash
from core.storage.destination import StorageError
from core.storage.local import LocalFolderDestination
from core.storage.playlist_writer import PlaylistWriter

SID = "0123abcd"
RECORDER_UID = 4_000_000_001


class Recording:
    """A recorder writing to a local folder, with its events collected."""

    def __init__(self, server: object, tmp_path: Path, cname: str, config: RecordingConfig,
                 **kwargs: object) -> None:  # fmt: skip
        self.cname = cname
        self.out = tmp_path / "out"
        self.work = tmp_path / "work"
        self.events: list[RecorderEvent] = []
        self.event_times: list[float] = []
        destination = kwargs.pop("destination", None) or LocalFolderDestination(self.out)
        slice_seconds = float(kwargs.get("slice_seconds") or config.slice_duration)  # type: ignore[arg-type]
        sink = PlaylistWriter(
            destination,  # type: ignore[arg-type]
            f"{SID}_{cname}.m3u8",
            target_duration=slice_seconds,
        )
        self.recorder = Recorder(
            server.registry,  # type: ignore[attr-defined]
            SANDBOX_APP_ID,
            cname,
            kwargs.pop("uid", RECORDER_UID),  # type: ignore[arg-type]
            SID,
            config,
            sink,
            self.work,
            events=self._on_event,
            **kwargs,  # type: ignore[arg-type]
        )

    def _on_event(self, event: RecorderEvent) -> None:
        self.events.append(event)
        self.event_times.append(time.monotonic())

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def playlist(self) -> Path:
        return self.out / f"{SID}_{self.cname}.m3u8"

    def slice_paths(self) -> list[Path]:
        return [p for p, _ in playlist_slices(self.playlist)]

    def output_time(self) -> float:
        clock = self.recorder.clock
        assert clock is not None
        return clock.now()


def config(**transcoding: object) -> RecordingConfig:
    tc = {"width": 640, "height": 360, "fps": 15, "bitrate": 500, **transcoding}
    return RecordingConfig(transcoding_config=TranscodingConfig(**tc))  # type: ignore[arg-type]


@asynccontextmanager
async def bots_in(server: object, cname: str, uids: list[int], **kw: object) -> AsyncIterator[Bots]:
    kw.setdefault("size", (320, 240))
    kw.setdefault("low_stream", False)
    async with run_bots(server.url, channel=cname, uids=uids, **kw) as bots:  # type: ignore[attr-defined,arg-type]
        yield bots


def ffprobe(path: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def decodes_cleanly(path: Path) -> None:
    """FFmpeg decodes every packet of ``path`` without an error."""
    subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-i", str(path), "-f", "null", "-"],
                   check=True, capture_output=True)  # fmt: skip


def flash_times(paths: list[Path], window: Rect) -> list[float]:
    times, previous = [], False
    for t, image in iter_video(paths):
        flash = is_flash(window_colour(image, window))
        if flash and not previous:
            times.append(t)
        previous = flash
    return times


SYNC_SETTLE = 2.0
"""Output seconds before flashes count for sync: until a user's first RTCP sender
reports arrive (0.5-1.5 s) frame times are estimated from arrival (docs/channel.md,
"Timing and lip sync") and may be one video frame off on a loaded machine."""


def sync_offsets(paths: list[Path], window: Rect) -> list[float]:
    audio = decode_audio(paths)
    assert audio is not None
    flashes = [t for t in flash_times(paths, window) if t - PTS_OFFSET >= SYNC_SETTLE]
    return pair_offsets(flashes, beep_onsets(audio))


@pytest.mark.slow
async def test_thirty_seconds_of_three_users(channel_server: object, tmp_path: Path) -> None:
    rec = Recording(channel_server, tmp_path, "thirty", config(layout=MixedVideoLayout.BEST_FIT))
    async with bots_in(channel_server, "thirty", [1, 2, 3]):
        await rec.recorder.start()
        started = time.monotonic()
        await asyncio.sleep(30)
        await rec.recorder.stop()
        wall = time.monotonic() - started
    r = rec.recorder
    assert r.status is RecorderStatus.STOPPED and r.stop_reason is StopReason.REQUESTED
    assert isinstance(rec.events[0], RecorderStarted) and isinstance(
        rec.events[-1], RecorderStopped
    )
    assert not rec.of(RecorderFailure)
    stored = rec.of(SliceStored)
    assert [e.slice for e in stored] == r.slices and len(stored) >= 7

    text = rec.playlist.read_text()
    assert text.startswith("#EXTM3U\n") and text.endswith("#EXT-X-ENDLIST\n")
    listed = playlist_slices(rec.playlist)
    assert [p.name for p, _ in listed] == [s.name for s in r.slices]
    pattern = re.compile(rf"^{SID}_thirty_\d{{17}}\.ts$")
    assert all(pattern.match(p.name) for p, _ in listed)
    assert abs(sum(d for _, d in listed) - wall) <= 4.0, (sum(d for _, d in listed), wall)
    assert not list(rec.work.glob("*.ts"))  # stored slices leave the work folder

    totals = {"video": 0, "audio": 0}
    decoded = 0.0
    for path, _ in listed:
        decodes_cleanly(path)
        info = ffprobe(path, "-show_entries",
                       "stream=index,codec_type,width,height,r_frame_rate,sample_rate,channels"
                       ":format=duration:packet=stream_index,size")  # fmt: skip
        video, audio = info["streams"]
        assert (video["width"], video["height"], video["r_frame_rate"]) == (640, 360, "15/1")
        assert (audio["sample_rate"], audio["channels"]) == ("48000", 1)
        kinds = {s["index"]: s["codec_type"] for s in info["streams"]}
        for p in info["packets"]:
            totals[kinds[p["stream_index"]]] += int(p["size"])
        decoded += float(info["format"]["duration"])
    assert abs(decoded - wall) <= 4.0
    video_kbps = totals["video"] * 8 / decoded / 1000
    audio_kbps = totals["audio"] * 8 / decoded / 1000 - 7 * 8 * 48_000 / 1024 / 1000  # minus ADTS
    print(f"wall {wall:.2f} s, listed {sum(d for _, d in listed):.2f} s, decoded {decoded:.2f} s, "
          f"video {video_kbps:.0f} kbps, audio {audio_kbps:.1f} kbps")  # fmt: skip
    assert 400 <= video_kbps <= 600
    assert 48 * 0.85 <= audio_kbps <= 48 * 1.15

    window = compute_layout(MixedVideoLayout.BEST_FIT, [1, 2, 3], 640, 360)[2]
    offsets = sync_offsets(rec.slice_paths(), window)
    print("sync offsets ms", [round(o * 1000) for o in offsets])
    assert len(offsets) >= 25 and max(abs(o) for o in offsets) <= 0.040


async def test_every_layout_shows_every_user(channel_server: object, tmp_path: Path) -> None:
    """FLOAT, BEST_FIT and VERTICAL with 1, 2, 4 and 5 users, in one recording."""
    rec = Recording(channel_server, tmp_path, "layouts", config(), slice_seconds=2)
    stages: list[tuple[float, MixedVideoLayout, list[int]]] = []
    async with bots_in(channel_server, "layouts", [1], size=(160, 120)) as bots:
        await rec.recorder.start()
        for count in (1, 2, 4, 5):
            for uid in range(len(bots.uids) + 1, count + 1):
                await bots.join(uid)
            for layout in MixedVideoLayout:
                await rec.recorder.update_layout(layout)
                stages.append((rec.output_time(), layout, list(bots.uids)))
                await asyncio.sleep(1.0)
        await rec.recorder.stop()
    assert not rec.of(RecorderFailure)
    frames = [(t - PTS_OFFSET, image) for t, image in iter_video(rec.slice_paths())]
    for start, layout, uids in stages:
        t, image = min(frames, key=lambda f: abs(f[0] - (start + 0.7)))
        windows = compute_layout(layout, uids, 640, 360)
        assert len(windows) == len(uids)
        for uid, window in windows.items():
            x, y = window.centre
            found = identify_uid(window_colour(image, window), uids)
            if found is None and is_flash(window_colour(image, window)):
                t, image = min(frames, key=lambda f: abs(f[0] - (start + 0.8)))
                found = identify_uid(window_colour(image, window), uids)
            assert found == uid, (layout.name, uids, uid, t)
            assert identify_uid(image[y, x], uids) in (uid, None)  # None: a digit's pixel


async def test_joiners_and_leavers_within_half_a_second(
    channel_server: object, tmp_path: Path
) -> None:
    rec = Recording(channel_server, tmp_path, "retile", config(layout=MixedVideoLayout.BEST_FIT),
                    slice_seconds=2)  # fmt: skip
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "retile")  # type: ignore[attr-defined]
    async with bots_in(channel_server, "retile", [1, 2]) as bots:
        await rec.recorder.start()
        await asyncio.sleep(1.5)
        await bots.join(3)
        publisher = channel.publisher(3)
        assert publisher is not None and rec.recorder.clock is not None
        joined = rec.recorder.clock.to_output(publisher.joined_monotonic)
        await asyncio.sleep(2.0)
        left_call = rec.output_time()
        await bots.leave(1)
        await asyncio.sleep(1.5)
        await rec.recorder.stop()
    three = compute_layout(MixedVideoLayout.BEST_FIT, [1, 2, 3], 640, 360)
    two = compute_layout(MixedVideoLayout.BEST_FIT, [2, 3], 640, 360)
    appeared = retiled = None
    for t, image in iter_video(rec.slice_paths()):
        t -= PTS_OFFSET
        if appeared is None and identify_uid(window_colour(image, three[3]), [1, 2, 3]) == 3:
            appeared = t
        if t >= left_call and retiled is None:
            if identify_uid(window_colour(image, two[2]), [1, 2, 3]) == 2:
                retiled = t
    print(f"appeared {appeared and appeared - joined:.3f} s after joining, "
          f"re-tiled {retiled and retiled - left_call:.3f} s after leaving")  # fmt: skip
    assert appeared is not None and 0 <= appeared - joined <= 0.5
    assert retiled is not None and 0 <= retiled - left_call <= 0.5


@pytest.mark.slow
async def test_flash_and_beep_within_40ms_for_a_minute(
    channel_server: object, tmp_path: Path
) -> None:
    rec = Recording(
        channel_server, tmp_path, "sync", config(width=320, height=180), slice_seconds=6
    )
    async with bots_in(channel_server, "sync", [7, 8], size=(160, 120)):
        await rec.recorder.start()
        await asyncio.sleep(60)
        await rec.recorder.stop()
    assert not rec.of(RecorderFailure)
    window = compute_layout(MixedVideoLayout.FLOAT, [7, 8], 320, 180)[7]
    offsets = sync_offsets(rec.slice_paths(), window)
    print(f"{len(offsets)} pairs, offset ms: mean {np.mean(offsets) * 1000:.1f}, "
          f"max |{max(abs(o) for o in offsets) * 1000:.1f}|")  # fmt: skip
    health = f"late {rec.recorder.late_frames}, dropped {rec.recorder.dropped_frames}"
    assert len(offsets) >= 55, health
    assert max(abs(o) for o in offsets) <= 0.040, ([round(o * 1000, 1) for o in offsets], health)


async def test_empty_channel_ends_after_max_idle_time(
    channel_server: object, tmp_path: Path
) -> None:
    cfg = RecordingConfig(max_idle_time=5, recording_stream_types=RecordingStreamType.AUDIO_ONLY)
    rec = Recording(channel_server, tmp_path, "idle", cfg, slice_seconds=2)
    started = time.monotonic()
    await rec.recorder.start()
    async with asyncio.timeout(15):
        await rec.recorder.wait_stopped()
    idle = [t for e, t in zip(rec.events, rec.event_times, strict=True) if isinstance(e, IdleExit)]
    assert len(idle) == 1 and 3.0 <= idle[0] - started <= 7.0
    assert rec.recorder.status is RecorderStatus.STOPPED
    assert rec.recorder.stop_reason is StopReason.IDLE
    assert rec.playlist.read_text().endswith("#EXT-X-ENDLIST\n")


async def test_idle_time_counts_from_the_last_user_leaving(
    channel_server: object, tmp_path: Path
) -> None:
    cfg = RecordingConfig(max_idle_time=5, recording_stream_types=RecordingStreamType.AUDIO_ONLY)
    rec = Recording(channel_server, tmp_path, "leave", cfg, slice_seconds=2)
    async with bots_in(channel_server, "leave", [5]) as bots:
        await rec.recorder.start()
        await asyncio.sleep(6)  # longer than max_idle_time: a user is there
        assert rec.recorder.status is RecorderStatus.RECORDING
        left = time.monotonic()
        await bots.leave(5)
        async with asyncio.timeout(15):
            await rec.recorder.wait_stopped()
    idle = [t for e, t in zip(rec.events, rec.event_times, strict=True) if isinstance(e, IdleExit)]
    assert len(idle) == 1 and 3.0 <= idle[0] - left <= 7.0


async def test_a_uid_in_the_channel_cannot_record(channel_server: object, tmp_path: Path) -> None:
    async with bots_in(channel_server, "taken", [5]):
        rec = Recording(channel_server, tmp_path, "taken", config(), uid=5)
        with pytest.raises(UidInUseError):
            await rec.recorder.start()
        assert rec.recorder.status is RecorderStatus.FAILED
        first = Recording(channel_server, tmp_path / "a", "taken", config())
        second = Recording(channel_server, tmp_path / "b", "taken", config())
        await first.recorder.start()
        with pytest.raises(UidInUseError):
            await second.recorder.start()
        await first.recorder.stop()


async def test_live_channel_audio_only_records_hosts(
    channel_server: object, tmp_path: Path
) -> None:
    cfg = RecordingConfig(
        channel_type=ChannelType.LIVE,
        recording_stream_types=RecordingStreamType.AUDIO_ONLY,
        audio_profile=AudioProfile.MUSIC_HIGH_QUALITY_STEREO,
    )
    rec = Recording(channel_server, tmp_path, "live", cfg, slice_seconds=1)
    async with bots_in(channel_server, "live", [6], channel_type="live"):
        await rec.recorder.start()
        await asyncio.sleep(3)
        assert rec.recorder.users == [6]
        await rec.recorder.stop()
    paths = rec.slice_paths()
    assert len(paths) >= 2
    for path in paths:
        info = ffprobe(path, "-show_entries", "stream=codec_type,channels,sample_rate")
        assert info["streams"] == [{"codec_type": "audio", "sample_rate": "48000", "channels": 2}]
    audio = decode_audio(paths)
    assert audio is not None and len(beep_onsets(audio)) >= 2


class FullDisk(LocalFolderDestination):
    """A local folder that runs out of space after ``room`` slices."""

    def __init__(self, root: Path, room: int) -> None:
        super().__init__(root)
        self.room = room

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        if self.room <= 0:
            raise StorageError(f"cannot write {key}: disk full")
        self.room -= 1
        await super().put_file(key, path, content_type)


async def test_storage_failure_is_reported_and_unlisted(
    channel_server: object, tmp_path: Path
) -> None:
    dest = FullDisk(tmp_path / "out", room=2)
    rec = Recording(channel_server, tmp_path, "full", config(), slice_seconds=1, destination=dest)
    await rec.recorder.start()
    await asyncio.sleep(3.5)
    await rec.recorder.stop()
    failures = rec.of(RecorderFailure)
    assert failures and all(f.code is ErrorCode.UPLOADER_FAILED for f in failures)
    assert "disk full" in failures[0].message
    assert len(rec.recorder.slices) == 2 and len(rec.slice_paths()) == 2
    assert rec.playlist.read_text().endswith("#EXT-X-ENDLIST\n")
    assert rec.recorder.status is RecorderStatus.STOPPED
    assert len(list(rec.work.glob("*.ts"))) >= 1  # unstored slices stay for a retry


async def test_losing_the_work_folder_is_a_recorder_failure(
    channel_server: object, tmp_path: Path
) -> None:
    rec = Recording(channel_server, tmp_path, "lost", config(), slice_seconds=1)
    await rec.recorder.start()
    await asyncio.sleep(3)
    await asyncio.to_thread(shutil.rmtree, rec.work)
    async with asyncio.timeout(10):
        await rec.recorder.wait_stopped()
    failures = rec.of(RecorderFailure)
    assert [f.code for f in failures] == [ErrorCode.RECORDER_FAILED]
    assert "failed" in failures[0].message
    stopped = rec.of(RecorderStopped)
    assert len(stopped) == 1 and stopped[0].reason is StopReason.FAILED
    assert rec.recorder.status is RecorderStatus.FAILED
    assert rec.playlist.read_text().endswith("#EXT-X-ENDLIST\n")
    assert len(rec.recorder.slices) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("codec", ["VP8", "H264"])
async def test_auto_takes_low_streams_for_small_windows(
    channel_server: object, tmp_path: Path, codec: str
) -> None:
    """AUTO: LOW while a user's window is no larger than its low stream (160x120 here),
    HIGH once the window grows; only the stream taken is decoded."""
    cname = f"auto{codec.lower()}"
    cfg = RecordingConfig(
        video_stream_type=VideoStreamType.AUTO,
        transcoding_config=TranscodingConfig(
            width=320, height=180, fps=15, bitrate=300, layout=MixedVideoLayout.BEST_FIT
        ),
    )
    rec = Recording(channel_server, tmp_path, cname, cfg, slice_seconds=2)
    channel = channel_server.registry.channel(SANDBOX_APP_ID, cname)  # type: ignore[attr-defined]

    def decoding(uid: int) -> set[VideoStreamType]:
        publisher = channel.publisher(uid)
        assert publisher is not None
        return {v for v, g in publisher.gates.items() if v is not None and g.is_open}

    uids = [1, 2, 3, 4]
    async with bots_in(channel_server, cname, uids, low_stream=True, codec=codec) as bots:
        await rec.recorder.start()
        await asyncio.sleep(2.0)
        # 4 users on 320x180: 160x90 windows, no larger than the 160x120 low streams
        assert {channel.publisher(u).video_size(VideoStreamType.LOW) for u in uids} == {(160, 120)}
        assert {channel.publisher(u).video_size(VideoStreamType.HIGH) for u in uids} == {(320, 240)}
        assert all(decoding(u) == {VideoStreamType.LOW} for u in uids)
        low_until = rec.output_time()
        for uid in uids[1:]:
            await bots.leave(uid)
        await asyncio.sleep(2.0)  # one user: a 320x180 window, larger than the low stream
        assert decoding(1) == {VideoStreamType.HIGH}
        high_from = rec.output_time() - 1.0
        await asyncio.sleep(1.0)
        await rec.recorder.stop()
    assert rec.recorder.dropped_frames == 0
    four = compute_layout(MixedVideoLayout.BEST_FIT, uids, 320, 180)
    one = compute_layout(MixedVideoLayout.BEST_FIT, [1], 320, 180)[1]
    seen_small = seen_large = 0
    for t, image in iter_video(rec.slice_paths()):
        t -= PTS_OFFSET
        if 1.0 <= t <= low_until:
            shown = [identify_uid(window_colour(image, four[u]), uids) for u in uids]
            seen_small += shown == uids
        elif t >= high_from:
            seen_large += identify_uid(window_colour(image, one), uids) == 1
    assert seen_small >= 10 and seen_large >= 10
