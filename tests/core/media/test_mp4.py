"""MP4 beside the slices: the same packets muxed twice, decoded and measured.

The pipeline renders synthetic users (a flash on every whole second, a beep from every
whole second) into HLS slices and, through :class:`Mp4Writer`, into fragmented MP4
parts; :func:`finalize` makes each part a regular MP4. Each output is decoded on its own.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from core.enums import MixedVideoLayout
from core.layout import compute_layout
from core.media.mp4 import PART_SUFFIX, Mp4Spec, Mp4Writer, finalize
from core.media.pipeline import MixPipeline, PipelineSettings
from core.media.segmenter import PTS_OFFSET, ClosedSlice
from core.participants.analysis import (
    beep_onsets,
    decode_audio,
    iter_video,
    pair_offsets,
    window_colour,
)
from core.participants.synthetic import is_flash
from tests.core.media.conftest import Feed
from tests.helpers import decode_media

FPS = 15
UIDS = [7, 8, 9]
LAYOUT = MixedVideoLayout.BEST_FIT


def record(
    tmp_path: Path, feed: Feed, seconds: float, max_seconds: float, slice_seconds: float = 2.0
) -> tuple[list[ClosedSlice], list[ClosedSlice]]:
    """``seconds`` of three users into 2 s slices and MP4 parts of ``max_seconds``."""
    parts: list[ClosedSlice] = []
    slices: list[ClosedSlice] = []
    writer = Mp4Writer(
        tmp_path, Mp4Spec((320, 180, FPS), (48_000, 1)), max_seconds, "r_{}.mp4".format,
        parts.append,
    )  # fmt: skip
    settings = PipelineSettings(width=320, height=180, fps=FPS, layout=LAYOUT,
                                slice_seconds=slice_seconds)  # fmt: skip
    pipeline = MixPipeline(
        settings, tmp_path, lambda t: f"s_{round(t * 1000):07d}.ts", slices.append, also=[writer]
    )
    for uid in UIDS:
        pipeline.user_joined(uid, 0.0)
    feed(pipeline, UIDS, 0.0, seconds)
    pipeline.finish(seconds)
    return slices, parts


def flash_beep(paths: list[Path], offset: float = 0.0) -> list[tuple[float, float]]:
    """(flash time, beep - flash) of the first user's window, times less ``offset``."""
    window = compute_layout(LAYOUT, UIDS, 320, 180)[UIDS[0]]
    flashes, previous = [], False
    for t, image in iter_video(paths):
        flash = is_flash(window_colour(image, window))
        if flash and not previous:
            flashes.append(t - offset)
        previous = flash
    audio = decode_audio(paths)
    assert audio is not None
    beeps = [b - offset for b in beep_onsets(audio)]
    return [(f, o) for f in flashes for o in pair_offsets([f], beeps)]


def top_level_boxes(path: Path) -> list[str]:
    data = path.read_bytes()
    boxes, at = [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        boxes.append(kind.decode())
        at += size
    return boxes


def test_one_mp4_matches_the_slices_frame_for_frame_and_in_sync(
    tmp_path: Path, synthetic_feed: Feed
) -> None:
    """12 s, one MP4: its frames are the slices' frames (same count, same A/V offsets
    to the sample), its moov is in front (seekable at once, as +faststart), and the
    part it was made from is a fragmented MP4 (moof boxes)."""
    slices, parts = record(tmp_path, synthetic_feed, 12.0, max_seconds=100)
    assert [(p.index, p.name, p.start) for p in parts] == [(0, "r_0.mp4", 0.0)]
    part = parts[0].path
    assert part.name == "r_0.mp4" + PART_SUFFIX and "moof" in top_level_boxes(part)
    out = tmp_path / "r_0.mp4"
    seconds = finalize(part, out)
    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat") and "moof" not in boxes
    mp4 = decode_media(out)
    ts = [decode_media(s.path) for s in slices]
    assert mp4.video_frames == sum(c.video_frames for c in ts) == 12 * FPS
    # audio frames: the slices decode AAC's priming frame too (MPEG-TS cannot say to skip
    # it); the MP4's edit list hides it
    assert mp4.audio_frames == sum(c.audio_frames for c in ts) - 1
    assert seconds == pytest.approx(12.0, abs=1.5 / FPS)
    # The same media at the same times: every video frame identical at its slice time,
    # the audio identical sample for sample from 0 on (what the slices decode before 0 is
    # the priming frame the MP4 hides).
    ts_frames = [(round(t - PTS_OFFSET, 6), image.tobytes()) for t, image in
                 iter_video([s.path for s in slices])]  # fmt: skip
    assert [(round(t, 6), image.tobytes()) for t, image in iter_video([out])] == ts_frames
    ts_audio, mp4_audio = decode_audio([s.path for s in slices]), decode_audio([out])
    assert ts_audio is not None and mp4_audio is not None
    assert mp4_audio.start == 0.0
    skip = round((PTS_OFFSET - ts_audio.start) * 48_000)  # the priming frame
    assert skip == 1024
    assert np.array_equal(ts_audio.samples[skip:], mp4_audio.samples)
    pairs = flash_beep([out])
    # (the beep at 0 begins the decoded audio: no onset can be seen against what is
    # before it, so the flash at 0 has no pair)
    assert [round(t) for t, _ in pairs] == list(range(1, 12)), pairs
    assert all(abs(o) <= 0.040 for _, o in pairs), pairs


def test_files_roll_over_at_the_limit_and_together_hold_every_frame(
    tmp_path: Path, synthetic_feed: Feed
) -> None:
    """A 4 s limit over 10 s: files 0, 1 and 2 starting at 0, 4 and 8 s, each cut on a
    keyframe, each decoding on its own with its video from 0 and its audio in place."""
    _, parts = record(tmp_path, synthetic_feed, 10.0, max_seconds=4)
    assert [(p.index, p.name, p.start) for p in parts] == [
        (0, "r_0.mp4", 0.0), (1, "r_1.mp4", 4.0), (2, "r_2.mp4", 8.0)
    ]  # fmt: skip
    frames = []
    for part in parts:
        out = part.path.with_name(part.name)
        finalize(part.path, out)
        frames.append(decode_media(out).video_frames)
        for t, o in flash_beep([out]):
            assert abs(t - round(t)) < 1e-6 and abs(o) <= 0.040, (part.name, t, o)
    assert frames == [4 * FPS, 4 * FPS, 2 * FPS]


def test_a_part_cut_short_by_a_crash_keeps_every_whole_fragment(
    tmp_path: Path, synthetic_feed: Feed
) -> None:
    """A part whose writer died (its file ends in the middle of a fragment) becomes an
    MP4 of everything before the torn fragment: at most a second and the torn part are
    lost, and what is kept decodes without an error."""
    _, parts = record(tmp_path, synthetic_feed, 12.0, max_seconds=100)
    part = parts[0].path
    data = part.read_bytes()
    part.write_bytes(data[: int(len(data) * 0.6)])  # about 7 s in, mid-fragment
    out = tmp_path / "recovered.mp4"
    seconds = finalize(part, out)
    video = decode_media(out).video_frames
    assert 5.5 <= seconds <= 7.5 and abs(video / FPS - seconds) <= 2 / FPS, (seconds, video)


def test_a_part_without_a_whole_packet_is_refused(tmp_path: Path) -> None:
    part = tmp_path / "empty.mp4.part"
    part.write_bytes(b"\x00\x00\x00\x08free")
    with pytest.raises(ValueError, match=r"empty\.mp4\.part"):
        finalize(part, tmp_path / "empty.mp4")
    assert not (tmp_path / "empty.mp4").exists()
