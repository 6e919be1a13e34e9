"""Synthetic participants fed straight into the media pipeline (real av frames)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

import av
import numpy as np
import numpy.typing as npt
import pytest

from core.media.pipeline import MixPipeline
from core.participants.synthetic import (
    BEEP_AMPLITUDE,
    BEEP_FREQUENCY,
    BEEP_SAMPLES,
    TONE_AMPLITUDE,
    render_tile,
    tone_frequency,
)

RATE = 48_000
AUDIO_FRAME = 960


@cache
def tile_yuv(uid: int, size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    rgb = render_tile(uid, size)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    return np.asarray(frame.to_ndarray(), dtype=np.uint8)


@cache
def flash_yuv(size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    rgb = np.full((size[1], size[0], 3), 255, dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    return np.asarray(frame.to_ndarray(), dtype=np.uint8)


@cache
def second_of_audio(uid: int) -> npt.NDArray[np.int16]:
    n = np.arange(RATE)
    signal = TONE_AMPLITUDE * np.sin(2 * np.pi * tone_frequency(uid) * n / RATE)
    signal[:BEEP_SAMPLES] = BEEP_AMPLITUDE * np.sin(
        2 * np.pi * BEEP_FREQUENCY * n[:BEEP_SAMPLES] / RATE
    )
    return np.round(signal * 32767).astype(np.int16)


def video_frame(uid: int, k: int, fps: int, size: tuple[int, int]) -> av.VideoFrame:
    data = flash_yuv(size) if k % fps == 0 else tile_yuv(uid, size)
    return av.VideoFrame.from_ndarray(data, format="yuv420p")


def audio_frame(uid: int, j: int) -> av.AudioFrame:
    start = (j % (RATE // AUDIO_FRAME)) * AUDIO_FRAME
    data = second_of_audio(uid)[start : start + AUDIO_FRAME].reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(data, format="s16", layout="mono")
    frame.sample_rate = RATE
    return frame


Feed = Callable[..., None]


def feed(
    pipeline: MixPipeline,
    uids: Sequence[int],
    start: float,
    end: float,
    *,
    fps: int = 15,
    size: tuple[int, int] = (320, 240),
    latency: float = 0.3,
    video_uids: Sequence[int] | None = None,
) -> None:
    """Push synthetic media of ``uids`` for output times [start, end), rendering behind it.

    Like :mod:`core.participants.synthetic`: frames on a grid from time 0, a white flash on
    every whole second, a 100 ms beep from every whole second.
    """
    video_uids = uids if video_uids is None else video_uids
    events: list[tuple[float, int, str, int]] = []
    for k in range(int(np.ceil(start * fps)), int(np.ceil(end * fps))):
        events += [(k / fps, uid, "v", k) for uid in video_uids]
    for j in range(int(np.ceil(start * 50)), int(np.ceil(end * 50))):
        events += [(j / 50, uid, "a", j) for uid in uids]
    events.sort()
    for t, uid, kind, index in events:
        if kind == "v":
            pipeline.push_video(uid, video_frame(uid, index, fps, size), t)
        else:
            pipeline.push_audio(uid, audio_frame(uid, index), t)
        pipeline.render_until(t - latency)
    pipeline.render_until(end - latency)


@pytest.fixture
def synthetic_feed() -> Feed:
    """The :func:`feed` function."""
    return feed
