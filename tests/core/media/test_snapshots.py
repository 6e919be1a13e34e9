"""Snapshots of the composed picture, offline: which ticks, which names, what they show."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
import pytest

from core.enums import MixedVideoLayout
from core.layout import compute_layout
from core.media.pipeline import MixPipeline, PipelineSettings
from core.media.playlist import snapshot_name
from core.media.segmenter import PTS_OFFSET, ClosedSlice
from core.media.snapshots import LivePicture, Snapshot, SnapshotTaker
from core.participants.analysis import iter_video, window_colour
from core.participants.synthetic import identify_uid, is_flash

from .conftest import Feed, tile_yuv

ORIGIN = 1_764_547_200.0  # 2025-12-01 00:00:00 UTC: output time 0 of these recordings


def recording(
    tmp_path: Path, interval: float, **settings: object
) -> tuple[MixPipeline, list[ClosedSlice], list[Snapshot]]:
    """A pipeline whose snapshots are taken every ``interval`` s (a failure raises)."""
    slices: list[ClosedSlice] = []
    snapshots: list[Snapshot] = []
    pipeline = MixPipeline(
        PipelineSettings(audio_profile=None, **settings),  # type: ignore[arg-type]
        tmp_path,
        lambda t: f"s_{round(t * 1000):07d}.ts",
        slices.append,
    )
    taker = SnapshotTaker(
        interval,
        tmp_path,
        lambda t: snapshot_name("sid", "cname", datetime.fromtimestamp(ORIGIN + t, UTC)),
        snapshots.append,
        failed,
    )
    pipeline.on_picture = taker.offer
    return pipeline, slices, snapshots


def failed(message: str) -> None:
    raise AssertionError(message)


def decoded(path: Path) -> np.ndarray:  # type: ignore[type-arg]
    [(_, image)] = list(iter_video([path]))
    return image


def test_twelve_seconds_at_five_give_snapshots_at_five_and_ten(
    tmp_path: Path, synthetic_feed: Feed
) -> None:
    pipeline, slices, snapshots = recording(tmp_path, 5)
    pipeline.user_joined(7, 0.0)
    synthetic_feed(pipeline, [7], 0.0, 12.0)
    pipeline.finish(12.0)
    # docs/recording-files.md: at k * interval for k >= 1, before the end: 5 s and 10 s.
    assert [s.time for s in snapshots] == [5.0, 10.0]
    assert [s.index for s in snapshots] == [0, 1]
    assert [s.name for s in snapshots] == [
        "sid_cname_20251201000005000.jpg",
        "sid_cname_20251201000010000.jpg",
    ]
    window = compute_layout(MixedVideoLayout.FLOAT, [7], 640, 360)[7]
    video = {round(t - PTS_OFFSET, 3): image for t, image in iter_video([s.path for s in slices])}
    for snapshot in snapshots:
        assert snapshot.path.read_bytes() == snapshot.data
        assert snapshot.data[:3] == b"\xff\xd8\xff"  # a JPEG (SOI marker)
        with av.open(str(snapshot.path)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.name, stream.width, stream.height) == ("mjpeg", 640, 360)
        image = decoded(snapshot.path)
        # The synthetic user flashes white on whole seconds: the snapshot is the picture
        # of its own tick (the ticks before and after show the tile's colour) ...
        assert is_flash(window_colour(image, window))
        for neighbour in (snapshot.time - 1 / 15, snapshot.time + 1 / 15):
            assert identify_uid(window_colour(video[round(neighbour, 3)], window), [7]) == 7
        # ... and the same picture as the recording's frame of that tick, pixel for pixel
        # within what JPEG and H.264 each lose.
        difference = np.abs(image.astype(int) - video[snapshot.time].astype(int))
        assert difference.mean() < 3, difference.mean()


@pytest.mark.parametrize(
    ("seconds", "interval", "times"),
    [(10.0, 5, [5.0]), (10.1, 5, [5.0, 10.0]), (4.0, 5, []), (3.0, 1, [1.0, 2.0])],
)
def test_snapshot_count_is_one_per_interval_after_the_start(
    tmp_path: Path, seconds: float, interval: int, times: list[float]
) -> None:
    pipeline, _, snapshots = recording(tmp_path, interval, width=320, height=180)
    pipeline.finish(seconds)  # nobody: the background alone is pictured
    assert [s.time for s in snapshots] == pytest.approx(times)


def test_each_tile_shows_its_user(tmp_path: Path) -> None:
    uids = [11, 12, 13]
    pipeline, _, snapshots = recording(tmp_path, 2, layout=MixedVideoLayout.BEST_FIT)
    for uid in uids:
        pipeline.user_joined(uid, 0.0)
    for k in range(4 * 15):  # tiles without a flash
        for uid in uids:
            frame = av.VideoFrame.from_ndarray(tile_yuv(uid, (320, 240)), format="yuv420p")
            pipeline.push_video(uid, frame, k / 15)
        pipeline.render_until(k / 15)
    pipeline.finish(4.0)
    assert [s.time for s in snapshots] == [2.0]
    image = decoded(snapshots[0].path)
    for uid, window in compute_layout(MixedVideoLayout.BEST_FIT, uids, 640, 360).items():
        assert identify_uid(window_colour(image, window), uids) == uid


def test_a_failed_snapshot_is_reported_once_and_skipped(tmp_path: Path) -> None:
    errors: list[str] = []
    taken: list[Snapshot] = []
    missing = tmp_path / "gone"
    taker = SnapshotTaker(1, missing, lambda t: f"{t:.0f}.jpg", taken.append, errors.append)
    frame = av.VideoFrame.from_ndarray(tile_yuv(3, (320, 240)), format="yuv420p")
    for k in range(46):  # three due times (1, 2, 3 s) in a folder that is not there
        taker.offer(k / 15, frame)
    assert (taker.taken, taker.failed, taken) == (0, 3, [])
    assert len(errors) == 1 and "1.000 s" in errors[0] and "No such file" in errors[0]
    missing.mkdir()  # the folder is back: the next one is taken, and a new failure is news
    taker.offer(4.0, frame)
    assert [s.name for s in taken] == ["4.jpg"] and taker.failed == 3


def test_the_live_picture_is_the_newest_composed_frame_encoded_once_when_asked(
    tmp_path: Path,
) -> None:
    """:class:`LivePicture` keeps the newest composed frame and encodes it only when
    asked: the same picture until a newer frame came, whose tiles show each user."""
    uids = [21, 22]
    pipeline, _, _ = recording(tmp_path, 100, layout=MixedVideoLayout.BEST_FIT)
    live = LivePicture()
    pipeline.on_picture = live.offer
    assert live.jpeg() is None  # nothing composed yet
    for uid in uids:
        pipeline.user_joined(uid, 0.0)
    for k in range(2 * 15):
        for uid in uids:
            frame = av.VideoFrame.from_ndarray(tile_yuv(uid, (320, 240)), format="yuv420p")
            pipeline.push_video(uid, frame, k / 15)
        pipeline.render_until(k / 15)
    first = live.jpeg()
    assert first is not None and live.jpeg() is first  # asked again: not encoded again
    assert 1.5 < first.time <= 29 / 15 + 1e-9  # the newest frame composed by then
    path = tmp_path / "live.jpg"
    path.write_bytes(first.data)
    image = decoded(path)
    for uid, window in compute_layout(MixedVideoLayout.BEST_FIT, uids, 640, 360).items():
        assert identify_uid(window_colour(image, window), uids) == uid
    pipeline.render_until(3.0)  # newer frames: a newer picture
    newer = live.jpeg()
    assert newer is not None and newer.time > first.time
