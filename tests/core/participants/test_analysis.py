"""The measuring tools themselves: beep onsets to the millisecond, across slices and codecs."""

from __future__ import annotations

import fractions
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from core.channel.clock import OPUS_LOOKAHEAD
from core.enums import AudioProfile
from core.media.encoder import AudioEncoder
from core.media.segmenter import ClosedSlice, Segmenter, StreamSpec
from core.participants.analysis import DecodedAudio, beep_onsets, decode_audio

RATE = 48_000
BEEPS = [0.5, 1.5123, 3.0, 4.2071, 5.0]
"""Beep starts in seconds (more than half a second apart, as :func:`beep_onsets` needs):
on and off the 5 ms analysis hop, and on 1 s slice boundaries."""


def beeps_over_a_tone(seconds: float) -> npt.NDArray[np.float32]:
    """A quiet 440 Hz tone with a 100 ms 1 kHz beep starting at each of :data:`BEEPS`."""
    t = np.arange(round(seconds * RATE)) / RATE
    signal = 0.05 * np.sin(2 * np.pi * 440 * t)
    for start in BEEPS:
        span = (t >= start) & (t < start + 0.1)
        signal[span] = 0.5 * np.sin(2 * np.pi * 1000 * (t[span] - start))
    return signal.astype(np.float32)


def test_onsets_of_clean_audio_are_exact() -> None:
    onsets = beep_onsets(DecodedAudio(beeps_over_a_tone(6.0), RATE, 10.0, 1))
    assert np.allclose(onsets, [10.0 + b for b in BEEPS], atol=0.001), onsets


def test_audio_opening_inside_a_beep_holds_no_onset_of_it() -> None:
    samples = beeps_over_a_tone(6.0)[round(0.55 * RATE) :]  # 50 ms into the first beep
    onsets = beep_onsets(DecodedAudio(samples, RATE, 0.55, 1))
    assert np.allclose(onsets, BEEPS[1:], atol=0.001), onsets


def test_beeps_keep_their_place_through_aac_slices(tmp_path: Path) -> None:
    """One decoder reads all slices: a beep on a slice boundary is not garbled."""
    encoder = AudioEncoder(AudioProfile.MUSIC_STANDARD)
    closed: list[ClosedSlice] = []
    segmenter = Segmenter(
        tmp_path,
        StreamSpec(video=None, audio=(RATE, encoder.channels)),
        1.0,
        lambda t: f"slice{t:.0f}",
        closed.append,
    )
    samples = np.vstack([beeps_over_a_tone(6.0)] * encoder.channels)
    for i in range(0, samples.shape[1], 3200):  # the pipeline's tick size at 15 fps
        segmenter.write(encoder.encode(samples[:, i : i + 3200]))
    segmenter.write(encoder.flush())
    segmenter.close()
    assert len(closed) >= 5
    audio = decode_audio([c.path for c in closed])
    assert audio is not None
    onsets = np.array(beep_onsets(audio))
    # The slices' first presentation time is the recording's time 0 plus the mux offset.
    origin = onsets[2] - BEEPS[2]
    # AAC's 21 ms frames smear a beep's edge by a few ms; a garbled slice start by 15.
    assert np.allclose(onsets - origin, BEEPS, atol=0.005), onsets - origin


def test_opus_output_lags_its_timestamps_by_the_lookahead() -> None:
    """What :data:`OPUS_LOOKAHEAD` corrects: encode and decode as aiortc does over RTP."""
    signal = np.round(beeps_over_a_tone(6.0) * 32767).astype(np.int16)
    encoder = av.AudioCodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = RATE, "stereo", "s16"
    encoder.time_base = fractions.Fraction(1, RATE)
    decoder = av.AudioCodecContext.create("libopus", "r")
    first_pts: int | None = None
    decoded: list[npt.NDArray[np.float32]] = []
    for k in range(len(signal) // 960):
        frame = av.AudioFrame.from_ndarray(
            np.repeat(signal[k * 960 : (k + 1) * 960], 2).reshape(1, -1),
            format="s16",
            layout="stereo",
        )
        frame.sample_rate, frame.pts, frame.time_base = RATE, k * 960, encoder.time_base
        for packet in encoder.encode(frame):
            assert packet.pts is not None
            first_pts = packet.pts if first_pts is None else first_pts
            rtp = av.Packet(bytes(packet))
            rtp.pts = packet.pts - first_pts  # aiortc's RTP timestamp: 0 for the first packet
            rtp.time_base = encoder.time_base
            for out in decoder.decode(rtp):
                assert isinstance(out, av.AudioFrame)
                assert out.pts == len(decoded) * 960  # labelled with its RTP timestamp
                decoded.append(out.to_ndarray().reshape(-1, 2).mean(axis=1).astype(np.float32))
    onsets = beep_onsets(DecodedAudio(np.concatenate(decoded), RATE, 0.0, 1))
    lag = np.array(onsets) - BEEPS
    assert OPUS_LOOKAHEAD == pytest.approx(0.0065)
    assert np.allclose(lag, OPUS_LOOKAHEAD, atol=0.001), lag
