"""The media check the tests rely on (``tests/helpers.py``) fails on damaged recordings.

A real small recording is written by the recorder's own pipeline (H.264 + AAC in
MPEG-TS slices, a playlist as storage renders it); the check must count it exactly and
fail when a slice is replaced by random bytes, cut short, damaged inside or missing.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from core.media.pipeline import MixPipeline, PipelineSettings
from core.media.segmenter import ClosedSlice
from core.storage.hls import Playlist
from tests.helpers import AAC_FRAME_SAMPLES, _decode, check_recording, decode_media

FPS = 15
SECONDS = 3.5  # three whole 1 s slices and a short last one


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """An empty-channel recording (background and silence) of 3.5 s in 1 s slices."""
    slices: list[ClosedSlice] = []
    settings = PipelineSettings(width=160, height=96, fps=FPS, slice_seconds=1.0)
    pipeline = MixPipeline(
        settings, tmp_path, lambda t: f"r_{round(t * 1000):07d}.ts", slices.append
    )
    pipeline.finish(SECONDS)
    playlist = Playlist(target_duration=1.0)
    for s in slices:
        playlist.add(s.name, s.duration)
    playlist.end()
    path = tmp_path / "r.m3u8"
    path.write_text(playlist.render())
    return path


def test_a_whole_recording_is_counted_exactly(recording: Path) -> None:
    media = check_recording(recording, fps=FPS)
    assert media.video_frames == 52  # ticks 0..51 rendered by finish(3.5)
    assert [s.video_frames for s in media.slices] == [15, 15, 15, 7]
    # audio runs to the next whole AAC frame: 3.5 s = 164 062.5 -> 163 frames of 1024
    assert [s.listed_seconds for s in media.slices] == [1.0, 1.0, 1.0, 0.477]
    assert media.listed_seconds == pytest.approx(163 * AAC_FRAME_SAMPLES / 48_000, abs=5e-4)
    # plus the priming frame the first slice carries
    assert media.audio_samples == 164 * AAC_FRAME_SAMPLES and media.sample_rate == 48_000
    assert media.audio_frames == 164


def test_a_slice_of_random_bytes_fails(recording: Path) -> None:
    bad = recording.parent / "r_0001000.ts"
    bad.write_bytes(random.Random(1).randbytes(bad.stat().st_size))
    with pytest.raises(AssertionError, match=r"r_0001000\.ts.*Invalid data found"):
        check_recording(recording, fps=FPS)


def test_the_hls_demuxer_alone_skips_a_bad_slice_silently(recording: Path) -> None:
    """Why the check decodes every slice on its own: FFmpeg's HLS demuxer only warns."""
    bad = recording.parent / "r_0001000.ts"
    bad.write_bytes(random.Random(1).randbytes(bad.stat().st_size))
    assert _decode(recording, strict=False).video_frames == 52 - 15


def test_a_truncated_slice_fails(recording: Path) -> None:
    """A slice cut short decodes alone without an error; read with the others as one
    stream its lost packets break the continuity counters, and its frame count gives it
    away too."""
    short = recording.parent / "r_0002000.ts"
    with short.open("r+b") as f:
        f.truncate(short.stat().st_size // 2 + 77)
    assert decode_media(short).video_frames < 15
    with pytest.raises(AssertionError, match=r"r\.m3u8: corrupt input packet in stream 0"):
        check_recording(recording, fps=FPS)
    media = _decode(recording, strict=False)  # what the frame count check then sees
    assert media.video_frames < 52


def test_damage_inside_a_slice_fails(recording: Path) -> None:
    hurt = recording.parent / "r_0001000.ts"
    data = bytearray(hurt.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4000] = random.Random(2).randbytes(4000)
    hurt.write_bytes(bytes(data))
    with pytest.raises(AssertionError, match=r"r_0001000\.ts.*corrupt input packet"):
        check_recording(recording, fps=FPS)


def test_a_missing_slice_fails(recording: Path) -> None:
    (recording.parent / "r_0003000.ts").unlink()
    with pytest.raises(AssertionError, match=r"r_0003000\.ts is missing"):
        check_recording(recording, fps=FPS)


def test_a_wrong_frame_rate_or_a_missing_end_fails(recording: Path) -> None:
    with pytest.raises(AssertionError, match="video frames"):
        check_recording(recording, fps=30)
    recording.write_text(recording.read_text().replace("#EXT-X-ENDLIST\n", ""))
    with pytest.raises(AssertionError):
        check_recording(recording, fps=FPS)


def test_the_playlist_read_as_one_stream_has_no_corrupt_packet(recording: Path) -> None:
    """The slices join cleanly: FFmpeg reading the playlist as one stream, strictly and
    at warning level, prints nothing (before the segmenter continued the continuity
    counters across slices, every join was a "corrupt input packet")."""
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-v", "warning", "-xerror",
         "-i", str(recording), "-f", "null", "-"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
