"""Measurements on recorded media: decode slices, read tile colours, find sync markers.

Used by the tests and ``bench/`` to check what the recorder wrote by decoding it
(never by trusting the writer's own numbers), and usable by operators to check a
recording of synthetic participants (see :mod:`core.participants.synthetic`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import av
import numpy as np
import numpy.typing as npt

from core.layout import Rect

RGBImage = npt.NDArray[np.uint8]


def playlist_slices(playlist: Path) -> list[tuple[Path, float]]:
    """The slices an HLS playlist lists (paths next to it) with their EXTINF durations.

    Each entry is a relative URI (``core.storage.hls``): percent-decoded to the file name.
    """
    out: list[tuple[Path, float]] = []
    duration = 0.0
    for line in playlist.read_text().splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",")[0])
        elif line and not line.startswith("#"):
            out.append((playlist.parent / unquote(line), duration))
    return out


def iter_video(paths: Sequence[Path]) -> Iterator[tuple[float, RGBImage]]:
    """Every decoded video frame of the slices as (presentation time s, RGB image)."""
    for path in paths:
        with av.open(str(path)) as container:
            if not container.streams.video:
                continue
            for frame in container.decode(container.streams.video[0]):
                if frame.pts is None or frame.time_base is None:
                    continue
                image = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
                yield float(frame.pts * frame.time_base), image


@dataclass(frozen=True)
class DecodedAudio:
    """Decoded audio of a recording, channels averaged to mono."""

    samples: npt.NDArray[np.float32]
    sample_rate: int
    start: float  # presentation time of samples[0], seconds
    channels: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def decode_audio(paths: Sequence[Path]) -> DecodedAudio | None:
    """All audio of the slices, placed by presentation time (gaps as silence).

    One decoder reads the slices in order, as a player does: AAC frames overlap, so
    a decoder started afresh on each slice would garble each slice's first frame.
    """
    chunks: list[tuple[float, npt.NDArray[np.float32]]] = []
    rate, channels = 48_000, 1
    decoder: av.AudioCodecContext | None = None

    def take(frames: Sequence[object]) -> None:
        nonlocal rate, channels
        for frame in frames:
            if not isinstance(frame, av.AudioFrame) or frame.pts is None or not frame.time_base:
                continue
            rate, channels = frame.sample_rate, frame.layout.nb_channels
            data = frame.to_ndarray().astype(np.float32)
            if frame.format.is_planar:
                mono = data.mean(axis=0)
            else:
                mono = data.reshape(-1, channels).mean(axis=1)
            chunks.append((float(frame.pts * frame.time_base), mono))

    for path in paths:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                continue
            stream = container.streams.audio[0]
            if decoder is None:
                created = av.CodecContext.create(stream.codec_context.name, "r")
                assert isinstance(created, av.AudioCodecContext)
                if stream.codec_context.extradata:  # MP4 carries AAC's config out of band
                    created.extradata = stream.codec_context.extradata
                decoder = created
            for packet in container.demux(stream):
                if packet.size:
                    take(decoder.decode(packet))
    if decoder is not None:
        take(decoder.decode(None))
    if not chunks:
        return None
    start = chunks[0][0]
    end = max(t + len(c) / rate for t, c in chunks)
    out = np.zeros(round((end - start) * rate) + 1, dtype=np.float32)
    for t, c in chunks:
        i = round((t - start) * rate)
        out[i : i + len(c)] = c[: len(out) - i]
    return DecodedAudio(out, rate, start, channels)


def window_colour(image: RGBImage, window: Rect, fraction: float = 0.4) -> tuple[int, int, int]:
    """Median colour of the central ``fraction`` of ``window`` (ignores digits and borders)."""
    cx, cy = window.x + window.width / 2, window.y + window.height / 2
    hw, hh = max(1.0, window.width * fraction / 2), max(1.0, window.height * fraction / 2)
    region = image[int(cy - hh) : int(cy + hh) + 1, int(cx - hw) : int(cx + hw) + 1]
    median = np.median(region.reshape(-1, 3), axis=0)
    return int(median[0]), int(median[1]), int(median[2])


def tile_colour(image: RGBImage, window: Rect) -> tuple[int, int, int]:
    """Median colour of the band of a synthetic tile's ``window`` above its digits.

    :func:`window_colour` measures the centre, which holds the digits; four-digit uids
    (the demo participants') fill 80 % of the width and the middle half of the height,
    and in a small tile the encoder smears their strokes over enough of the centre to
    move its median off the tile colour. The band from 6 % to 20 % of the height, inset
    a tenth at each side, is tile colour only, as long as the picture fills its window
    (no letterbox bars: the same aspect, or cropped)."""
    band = Rect(
        window.x + window.width // 10,
        window.y + window.height * 6 // 100,
        max(1, window.width * 8 // 10),
        max(1, window.height * 14 // 100),
    )
    return window_colour(image, band, fraction=1.0)


def beep_onsets(
    audio: DecodedAudio, frequency: float = 1000.0, hop: float = 0.005, window: float = 0.02
) -> list[float]:
    """Presentation times where a ``frequency`` tone starts (rises above half its local peak).

    The signal is correlated with a ``window``-long complex tone every ``hop``
    seconds; each onset is where the energy first reaches half of the peak within
    the following 100 ms, interpolated between the two hops around that crossing
    (the tone then fills half the window, so the window's centre is the onset).
    """
    rate = audio.sample_rate
    n = round(window * rate)
    step = round(hop * rate)
    t = np.arange(n) / rate
    kernel = (np.exp(-2j * np.pi * frequency * t) * np.hanning(n)).astype(np.complex64)
    count = max(0, (len(audio.samples) - n) // step)
    if count == 0:
        return []
    idx = np.arange(count)[:, None] * step + np.arange(n)[None, :]
    energy = np.abs(audio.samples[idx] @ kernel)
    peak = float(energy.max())
    if peak <= 0:
        return []
    onsets: list[float] = []
    threshold = 0.25 * peak
    i = 0
    span = round(0.1 / hop)
    while i < count:
        if energy[i] > threshold:
            local = float(energy[i : i + span].max())
            j = i
            while energy[j] < 0.5 * local:
                j += 1
            position = float(j)
            if j > 0 and energy[j] > energy[j - 1]:
                position -= (energy[j] - 0.5 * local) / (energy[j] - energy[j - 1])
            if i > 0:  # audio that opens inside a beep holds no onset of it
                onsets.append(audio.start + (position * step + n / 2) / rate)
            i += round(0.5 / hop)  # beeps are a second apart
        else:
            i += 1
    return onsets


def tone_level(audio: DecodedAudio, start: float, frequency: int, window: float = 0.3) -> float:
    """Amplitude of ``frequency`` Hz in the ``window`` seconds of ``audio`` from
    presentation time ``start`` (exact for whole cycles: integer Hz over 0.1 s steps)."""
    rate = audio.sample_rate
    first = round((start - audio.start) * rate)
    part = audio.samples[first : first + round(window * rate)]
    if first < 0 or len(part) < round(window * rate):
        raise ValueError(f"{window} s from {start:.3f} s is outside the audio")
    spectrum = np.abs(np.fft.rfft(part)) * 2 / len(part)
    return float(spectrum[round(frequency * window)])


def heard_from(audio: DecodedAudio, frequencies: Sequence[int], level: float) -> float | None:
    """The first presentation time from which every tone of ``frequencies`` is at least
    ``level`` in two consecutive 0.3 s windows (0.05 s steps); ``None`` if never.

    Each participant's audio begins wherever its first frame falls, possibly inside a
    beep, which :func:`beep_onsets` takes for an onset: count beeps from here. It is
    never earlier than just after the first sound, for the same reason (a recording
    that starts while its participants beep).
    """
    loud = np.flatnonzero(np.abs(audio.samples) > 0.05)
    if not loud.size:
        return None
    end = audio.start + audio.duration - 0.6
    t = audio.start + float(loud[0]) / audio.sample_rate + 0.01
    while t <= end:
        if all(
            tone_level(audio, t, f) >= level and tone_level(audio, t + 0.3, f) >= level
            for f in frequencies
        ):
            return t
        t += 0.05
    return None


def pair_offsets(flashes: Sequence[float], beeps: Sequence[float]) -> list[float]:
    """``beep - flash`` for each flash and its nearest beep within half a second."""
    offsets = []
    for f in flashes:
        if not beeps:
            break
        nearest = min(beeps, key=lambda b: abs(b - f))
        if abs(nearest - f) < 0.5:
            offsets.append(nearest - f)
    return offsets
