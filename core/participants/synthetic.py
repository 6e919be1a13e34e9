"""Synthetic participant media: a coloured, numbered tile and a tone, with a sync marker.

Every synthetic participant (``cloudrec bots``, tests) sends:

* **Video**: a solid tile in :func:`uid_colour` with the uid drawn on it in
  seven-segment digits (:func:`digit_colour`; they cover well under a third of the
  tile, so the *median* colour of a tile is the uid colour). Once a second, on the wall-clock
  second boundary (``time.time()`` an integer), one frame is entirely white: the
  **flash**. All bots on one machine flash at the same instant.
* **Audio**: 48 kHz mono, 20 ms frames, a sine tone of :func:`tone_frequency` (between
  300 and 870 Hz, distinct for 20 consecutive uids). From each wall-clock second
  boundary, for 100 ms, a louder 1 kHz **beep** replaces the tone.

Frames are placed on a grid anchored to wall-clock time: video frame ``k`` is captured
at ``k / fps`` seconds (Unix time) and audio frame ``j`` at ``j * 0.02`` s, so a frame
starts exactly on every second boundary. Both tracks of a participant share one
:class:`SyntheticClock`, whose epoch is a whole Unix second; pts count from that epoch
(video in 90 kHz, audio in 48 kHz), so the flash is the video frame with
``pts % 90000 == 0`` and the beep starts at the audio sample with ``pts % 48000 == 0``
— the same capture instant.

Note for receivers: aiortc's Opus encoder ignores the audio frames' pts and numbers
RTP timestamps from the first packet it sends, and every RTP stream starts at a random
offset, so received pts never equal the pts sent here. Only the RTCP sender reports
(or arrival time) relate a received audio or video frame to capture time.

Measuring A/V sync from a recording
-----------------------------------
Decode the recording's video and audio with their presentation times (seconds on the
output timeline). For a recorded participant:

1. **Flash times**: take each decoded video frame's median colour over the
   participant's tile; frames where :func:`is_flash` holds are flashes. A flash
   lasts one source frame; if it spans several output frames, take the first.
2. **Beep onsets**: band-pass the mixed audio around 1 kHz (or take a short FFT per
   5 ms hop and read the 1 kHz bin); the onset is where the 1 kHz energy first rises
   above half its peak in that second. The tones of all uids stay below 900 Hz.
3. Pair each flash with the beep onset nearest to it (they are 1 s apart, so the
   pairing is unambiguous while the offset stays under 0.5 s). ``offset = beep onset -
   flash time``; positive means audio lags video. The design target is
   ``|offset| <= 40 ms``. The output frame interval bounds the resolution of the
   video side (1/fps), so average over several seconds.

Since every bot flashes on the same second boundary, one flash per second in the
composed picture shows all tiles white at once when the streams are aligned with
each other too.
"""

from __future__ import annotations

import asyncio
import colorsys
import fractions
import functools
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

VIDEO_CLOCK_RATE = 90_000
"""RTP clock of video: pts of video frames count in 1/90000 s."""

AUDIO_SAMPLE_RATE = 48_000
"""Audio sample rate; audio pts count samples."""

AUDIO_FRAME_SAMPLES = 960
"""Samples per audio frame (20 ms)."""

AUDIO_FRAMES_PER_SECOND = AUDIO_SAMPLE_RATE // AUDIO_FRAME_SAMPLES

BEEP_FREQUENCY = 1000
"""Frequency of the once-a-second beep, in Hz."""

BEEP_SAMPLES = AUDIO_SAMPLE_RATE // 10
"""Length of the beep: 100 ms."""

TONE_AMPLITUDE = 0.25
BEEP_AMPLITUDE = 0.7

FLASH_COLOUR: tuple[int, int, int] = (255, 255, 255)
"""Colour of the flash frame."""

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
_VALUES = (0.95, 0.75, 0.55)

_MAX_LAG_S = 0.5
"""Video frames later than this are skipped rather than sent in a burst."""

RGB = tuple[int, int, int]


def uid_colour(uid: int) -> RGB:
    """The tile colour of ``uid``: fully saturated, hue stepped by the golden ratio.

    Consecutive uids lie about 137 degrees apart on the colour wheel, and the value
    (brightness) cycles through 95, 75 and 55 % with ``uid % 3``, so that uids whose
    hues come close differ in brightness. Any 20 consecutive uids are at least 50
    RGB levels apart (Euclidean), far more than video compression moves a flat
    colour; no tile is near white, black or grey.
    """
    hue = (uid * _GOLDEN) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 1.0, _VALUES[uid % len(_VALUES)])
    return round(r * 255), round(g * 255), round(b * 255)


def digit_colour(uid: int) -> RGB:
    """The colour of the digits on ``uid``'s tile: black, or white on dark tiles."""
    r, g, b = uid_colour(uid)
    return (255, 255, 255) if 0.299 * r + 0.587 * g + 0.114 * b < 80 else (0, 0, 0)


def _distance(a: Sequence[float], b: Sequence[float]) -> float:
    return math.sqrt(sum((float(x) - float(y)) ** 2 for x, y in zip(a, b, strict=True)))


def identify_uid(rgb: Sequence[float], uids: Iterable[int], tolerance: float = 40.0) -> int | None:
    """The uid among ``uids`` whose tile colour is nearest to the measured ``rgb``.

    Returns ``None`` when no uid colour lies within ``tolerance`` (Euclidean distance
    in RGB levels), e.g. for background, a flash, or a uid not in ``uids``. Measure
    ``rgb`` as the median over the tile, which ignores the digits.
    """
    best: int | None = None
    best_distance = math.inf
    for uid in uids:
        d = _distance(rgb, uid_colour(uid))
        if d < best_distance:
            best, best_distance = uid, d
    return best if best_distance <= tolerance else None


def is_flash(rgb: Sequence[float], tolerance: float = 40.0) -> bool:
    """Whether a measured colour is the white flash."""
    return _distance(rgb, FLASH_COLOUR) <= tolerance


def tone_frequency(uid: int) -> int:
    """The audio tone of ``uid`` in Hz: 300 + 30 * (uid % 20), so 300..870 Hz.

    Integer frequencies make one second of tone repeat exactly, and the range stays
    well clear of the 1 kHz beep.
    """
    return 300 + 30 * (uid % 20)


def low_stream_size(size: tuple[int, int]) -> tuple[int, int]:
    """The low (dual) stream's size for a high stream of ``size``: half width and height."""
    return _even(size[0] // 2), _even(size[1] // 2)


def _even(n: int) -> int:
    return max(2, n - n % 2)


# --- rendering -----------------------------------------------------------------

# Seven-segment digits: segments a (top), b (top right), c (bottom right),
# d (bottom), e (bottom left), f (top left), g (middle).
_SEGMENTS = {
    "0": "abcdef",
    "1": "bc",
    "2": "abged",
    "3": "abgcd",
    "4": "fgbc",
    "5": "afgcd",
    "6": "afgedc",
    "7": "abc",
    "8": "abcdefg",
    "9": "abcdfg",
}


def _draw_digit(
    img: npt.NDArray[np.uint8], x: int, y: int, w: int, h: int, digit: str, colour: RGB
) -> None:
    t = max(1, round(w * 0.18))
    half = h // 2
    boxes = {
        "a": (y, y + t, x, x + w),
        "b": (y, y + half + t // 2, x + w - t, x + w),
        "c": (y + half - t // 2, y + h, x + w - t, x + w),
        "d": (y + h - t, y + h, x, x + w),
        "e": (y + half - t // 2, y + h, x, x + t),
        "f": (y, y + half + t // 2, x, x + t),
        "g": (y + half - t // 2, y + half - t // 2 + t, x, x + w),
    }
    for segment in _SEGMENTS[digit]:
        y0, y1, x0, x1 = boxes[segment]
        img[y0:y1, x0:x1] = colour


def render_tile(uid: int, size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """An RGB image (height x width x 3) of ``uid``'s tile: its colour and its number."""
    width, height = size
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:, :] = uid_colour(uid)
    text = str(uid)
    n = len(text)
    # Digit cells 0.55 as wide as tall, gaps a quarter of a cell, text at most
    # 80 % of the width and half the height.
    digit_w = min(0.5 * height * 0.55, 0.8 * width / (n + 0.25 * (n - 1)))
    digit_h = min(0.5 * height, digit_w / 0.55)
    dw, dh, gap = int(digit_w), int(digit_h), int(digit_w * 0.25)
    if dw < 3 or dh < 5:
        return img  # too small to write on
    total = n * dw + (n - 1) * gap
    x = (width - total) // 2
    y = (height - dh) // 2
    colour = digit_colour(uid)
    for ch in text:
        _draw_digit(img, x, y, dw, dh, ch, colour)
        x += dw + gap
    return img


def _rgb_to_yuv420p(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    return np.asarray(frame.to_ndarray(), dtype=np.uint8)


@functools.lru_cache(maxsize=256)
def _tile_yuv(uid: int, size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    return _rgb_to_yuv420p(render_tile(uid, size))


@functools.lru_cache(maxsize=32)
def _flash_yuv(size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    img = np.empty((size[1], size[0], 3), dtype=np.uint8)
    img[:, :] = FLASH_COLOUR
    return _rgb_to_yuv420p(img)


@functools.lru_cache(maxsize=64)
def _second_of_audio(uid: int) -> npt.NDArray[np.int16]:
    """One second of ``uid``'s audio starting on a second boundary (beep first)."""
    n = np.arange(AUDIO_SAMPLE_RATE, dtype=np.float64)
    signal = TONE_AMPLITUDE * np.sin(2 * np.pi * tone_frequency(uid) * n / AUDIO_SAMPLE_RATE)
    beep = 2 * np.pi * BEEP_FREQUENCY * n[:BEEP_SAMPLES] / AUDIO_SAMPLE_RATE
    signal[:BEEP_SAMPLES] = BEEP_AMPLITUDE * np.sin(beep)
    return np.round(signal * 32767).astype(np.int16)


# --- tracks ----------------------------------------------------------------------


class SyntheticClock:
    """The capture clock shared by one participant's tracks.

    ``epoch`` is a whole Unix second; a frame captured at Unix time ``t`` has pts
    ``(t - epoch) * rate``. Pass the same clock to a participant's audio and video
    tracks so their pts share an origin.
    """

    def __init__(self, epoch: int | None = None) -> None:
        self.epoch: int = int(time.time()) if epoch is None else epoch

    def time_of(self, pts: int, rate: int) -> float:
        """The Unix capture time of a frame with ``pts`` counted at ``rate`` Hz."""
        return self.epoch + pts / rate


async def _sleep_until(unix_time: float) -> None:
    delay = unix_time - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


class SyntheticVideoTrack(MediaStreamTrack):
    """A paced video track of ``uid``'s tile, flashing white on every second boundary.

    ``recv()`` returns each frame at its capture time (sleeping until then), so the
    track runs in real time however fast it is pulled. When the puller falls more
    than half a second behind, frames are skipped instead of sent in a burst.
    """

    kind = "video"

    def __init__(
        self,
        uid: int,
        *,
        size: tuple[int, int] = (320, 240),
        fps: int = 15,
        clock: SyntheticClock | None = None,
    ) -> None:
        super().__init__()
        if fps < 1 or fps > 120:
            raise ValueError(f"fps must be 1..120, not {fps}")
        self.uid = uid
        self.size = (_even(size[0]), _even(size[1]))
        self.fps = fps
        self.clock = clock or SyntheticClock()
        self.flashes = 0
        self.skipped = 0
        """Frames skipped because the puller fell more than half a second behind."""
        self._next_index: int | None = None
        self._time_base = fractions.Fraction(1, VIDEO_CLOCK_RATE)

    def low_stream(self) -> SyntheticVideoTrack:
        """A track for the low (dual) stream: same uid, clock and fps, a quarter of the area."""
        return SyntheticVideoTrack(
            self.uid, size=low_stream_size(self.size), fps=self.fps, clock=self.clock
        )

    async def recv(self) -> av.VideoFrame:
        """The next frame, returned at its capture time."""
        if self.readyState != "live":
            raise MediaStreamError
        now = time.time()
        first_due = math.ceil(now * self.fps)
        k = self._next_index
        if k is None or (now - k / self.fps) > _MAX_LAG_S:
            if k is not None:
                self.skipped += first_due - k
            k = first_due
        self._next_index = k + 1
        await _sleep_until(k / self.fps)
        if self.readyState != "live":
            raise MediaStreamError
        flash = k % self.fps == 0
        data = _flash_yuv(self.size) if flash else _tile_yuv(self.uid, self.size)
        frame = av.VideoFrame.from_ndarray(data, format="yuv420p")
        frame.pts = round((k - self.clock.epoch * self.fps) * VIDEO_CLOCK_RATE / self.fps)
        frame.time_base = self._time_base
        if flash:
            self.flashes += 1
        return frame


class SyntheticAudioTrack(MediaStreamTrack):
    """A paced 48 kHz mono track: ``uid``'s tone, a 1 kHz beep from every second boundary.

    Frames are never skipped, so the sample count stays continuous (aiortc's Opus
    encoder derives RTP timestamps from it); a late puller gets frames back to back.
    """

    kind = "audio"

    def __init__(self, uid: int, *, clock: SyntheticClock | None = None) -> None:
        super().__init__()
        self.uid = uid
        self.clock = clock or SyntheticClock()
        self.frequency = tone_frequency(uid)
        self._next_index: int | None = None
        self._time_base = fractions.Fraction(1, AUDIO_SAMPLE_RATE)

    async def recv(self) -> av.AudioFrame:
        """The next 20 ms frame, returned at its capture time."""
        if self.readyState != "live":
            raise MediaStreamError
        j = self._next_index
        if j is None:
            j = math.ceil(time.time() * AUDIO_FRAMES_PER_SECOND)
        self._next_index = j + 1
        await _sleep_until(j / AUDIO_FRAMES_PER_SECOND)
        if self.readyState != "live":
            raise MediaStreamError
        start = (j % AUDIO_FRAMES_PER_SECOND) * AUDIO_FRAME_SAMPLES
        samples = _second_of_audio(self.uid)[start : start + AUDIO_FRAME_SAMPLES]
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_SAMPLE_RATE
        frame.pts = (j - self.clock.epoch * AUDIO_FRAMES_PER_SECOND) * AUDIO_FRAME_SAMPLES
        frame.time_base = self._time_base
        return frame


@dataclass(frozen=True)
class SyntheticMedia:
    """The tracks of one synthetic participant, sharing one clock."""

    uid: int
    audio: SyntheticAudioTrack
    video: SyntheticVideoTrack
    low_video: SyntheticVideoTrack | None

    def stop(self) -> None:
        """Stop every track (ends their ``recv()``)."""
        for track in (self.audio, self.video, self.low_video):
            if track is not None:
                track.stop()


def synthetic_media(
    uid: int,
    *,
    size: tuple[int, int] = (320, 240),
    fps: int = 15,
    low_stream: bool = True,
    clock: SyntheticClock | None = None,
) -> SyntheticMedia:
    """Fresh audio, video and (optionally) low-stream video tracks for ``uid``."""
    clock = clock or SyntheticClock()
    video = SyntheticVideoTrack(uid, size=size, fps=fps, clock=clock)
    return SyntheticMedia(
        uid=uid,
        audio=SyntheticAudioTrack(uid, clock=clock),
        video=video,
        low_video=video.low_stream() if low_stream else None,
    )
