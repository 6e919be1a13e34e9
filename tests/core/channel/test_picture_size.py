"""Picture sizes read from keyframes match what the encoder was given."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from core.channel.picture_size import h264_sps_size, keyframe_size, vp8_keyframe_size

SIZES = [(320, 180), (640, 360), (1280, 720), (176, 144), (80, 60), (162, 98)]


def _encode(codec: str, size: tuple[int, int], **options: str) -> list[bytes]:
    ctx = av.CodecContext.create(codec, "w")
    ctx.width, ctx.height = size
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = Fraction(1, 15)
    ctx.framerate = 15
    ctx.options = options
    picture = np.random.default_rng(7).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    packets = []
    for i in range(3):
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        packets += ctx.encode(frame)
    packets += ctx.encode(None)
    return [bytes(p) for p in packets]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("profile", ["baseline", "high"])
def test_h264_sps_gives_the_cropped_size(size: tuple[int, int], profile: str) -> None:
    first, *rest = _encode("libx264", size, profile=profile, tune="zerolatency")
    assert keyframe_size("H264", first) == size
    assert all(keyframe_size("H264", p) is None for p in rest)  # no SPS in later frames


@pytest.mark.parametrize("size", SIZES)
def test_vp8_keyframe_header_gives_the_size(size: tuple[int, int]) -> None:
    first, *rest = _encode("libvpx", size)
    assert keyframe_size("vp8", first) == vp8_keyframe_size(first) == size
    assert all(keyframe_size("VP8", p) is None for p in rest)


def test_frames_that_state_no_size() -> None:
    assert keyframe_size("opus", b"\x00" * 40) is None
    assert vp8_keyframe_size(b"\x00\x00\x00\x9d\x01") is None  # cut short
    assert h264_sps_size(b"\x67\x42") is None  # an SPS cut short
    assert keyframe_size("H264", b"\x00\x00\x00\x01\x65\x88") is None  # IDR slice, no SPS
