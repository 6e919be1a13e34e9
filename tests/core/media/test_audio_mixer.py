"""AudioMixer: placement by time, silence in gaps, limiting without wrap-around."""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt
import pytest

from core.enums import AudioProfile
from core.media.audio_mixer import LIMIT_THRESHOLD, LOOKAHEAD, AudioMixer
from core.media.encoder import AAC_FRAME_SAMPLES, AudioEncoder

RATE = 48_000


def tone(
    freq: float, n: int, amp: float, rate: int = RATE, start: int = 0
) -> npt.NDArray[np.float64]:
    return amp * np.sin(2 * np.pi * freq * (np.arange(n) + start) / rate)


def s16_frame(
    samples: npt.NDArray[np.float64], rate: int = RATE, layout: str = "mono"
) -> av.AudioFrame:
    channels = 2 if layout == "stereo" else 1
    data = np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16)
    packed = np.repeat(data, channels).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(packed, format="s16", layout=layout)
    frame.sample_rate = rate
    return frame


def dominant_frequency(x: npt.NDArray[np.float32], rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def test_silence_without_users_and_in_gaps() -> None:
    mixer = AudioMixer(1)
    assert not mixer.mix(4800).any()
    mixer.push(7, s16_frame(tone(440, 960, 0.5)), 0.2)  # 20 ms at 200 ms
    out = mixer.mix(RATE // 2)
    assert out.shape == (1, 19_200)  # 0.1 s .. 0.5 s
    at = RATE // 10  # the frame's place relative to the start of this mix
    assert not out[0, :at].any()
    assert np.abs(out[0, at : at + 960]).max() > 0.45
    assert not out[0, at + 960 :].any()


def test_frames_are_placed_by_time_not_arrival_order() -> None:
    mixer = AudioMixer(1)
    beep = s16_frame(tone(1000, 960, 0.5))
    mixer.push(1, beep, 0.5)  # a frame whose time is later arrives first
    mixer.push(2, s16_frame(tone(500, 960, 0.5)), 0.1)
    out = mixer.mix(RATE)[0]
    onset = int(np.argmax(np.abs(out) > 0.01))
    assert abs(onset - 0.1 * RATE) <= 2
    late = np.nonzero(np.abs(out[int(0.3 * RATE) :]) > 0.01)[0][0] + int(0.3 * RATE)
    assert abs(late - 0.5 * RATE) <= 2


def test_jitter_within_tolerance_stays_contiguous() -> None:
    mixer = AudioMixer(1)
    n = 960
    for j in range(50):
        jitter = (j % 3 - 1) * 0.01  # +-10 ms of timestamp noise
        mixer.push(1, s16_frame(tone(440, n, 0.5, start=j * n)), j * 0.02 + jitter)
    out = mixer.mix(50 * n - 480)[0]
    body = out[n : 49 * n]
    # a continuous sine: no zero runs (holes) and no doubled samples
    assert np.abs(body).max() > 0.45
    assert np.max(np.abs(np.diff(body))) < 2 * np.pi * 440 / RATE * 0.5 * 1.05


def test_loud_mix_is_limited_without_wrap_around() -> None:
    mixer = AudioMixer(1)
    n = RATE // 2
    for uid in (1, 2, 3):
        mixer.push(uid, s16_frame(tone(300, n, 0.99)), 0.0)  # in phase: sum ~3.0
    out = mixer.mix(n)[0]
    assert np.abs(out).max() <= 1.0
    reference = tone(300, n, 1.0)
    # every sample keeps the sign of the true sum (an int16 wrap flips it)
    loud = np.abs(reference) > 0.1
    assert np.all(np.sign(out[loud]) == np.sign(reference[loud]))
    # the gain falls before the first peak: no sample passes the threshold, none is
    # clipped, and the held gain keeps the peaks at the threshold
    assert float(np.abs(out).max()) <= LIMIT_THRESHOLD + 1e-6
    assert float(np.abs(out[RATE // 10 :]).max()) == pytest.approx(LIMIT_THRESHOLD, abs=1e-3)


def test_quiet_mix_passes_unchanged() -> None:
    mixer = AudioMixer(1)
    mixer.push(1, s16_frame(tone(300, 4800, 0.2)), 0.0)
    mixer.push(2, s16_frame(tone(700, 4800, 0.2)), 0.0)
    out = mixer.mix(4800)[0]
    expected = (
        np.round(tone(300, 4800, 0.2) * 32767) + np.round(tone(700, 4800, 0.2) * 32767)
    ) / 32768
    assert np.allclose(out, expected, atol=1e-3)


def test_other_rates_and_layouts_are_resampled() -> None:
    mixer = AudioMixer(2)
    frame = s16_frame(tone(1000, 16_000, 0.5, rate=16_000), rate=16_000, layout="stereo")
    mixer.push(1, frame, 0.0)
    out = mixer.mix(RATE)
    assert out.shape == (2, RATE)
    body = out[:, 4800:40_000]
    assert abs(dominant_frequency(body[0]) - 1000) < 5
    assert np.allclose(body[0], body[1])


def test_late_audio_is_dropped_and_counted() -> None:
    """Audio is late once the mixer summed its time, which it does LOOKAHEAD ahead of
    what it hands out (the limiter looks there)."""
    mixer = AudioMixer(1)
    mixer.mix(RATE)  # summed up to RATE + LOOKAHEAD
    mixer.push(1, s16_frame(tone(440, 960, 0.5)), 0.5)  # entirely before the summed point
    assert mixer.late_samples == 960
    mixer.push(1, s16_frame(tone(440, 960, 0.5)), 0.99)  # straddles it
    out = mixer.mix(RATE + 960)[0]
    late = RATE + LOOKAHEAD - round(0.99 * RATE)  # its samples before the summed point
    assert mixer.late_samples == 960 + late
    ends = 960 - late + LOOKAHEAD  # where its samples placed in time end, in ``out``
    assert not out[:LOOKAHEAD].any() and np.abs(out[LOOKAHEAD:ends]).max() > 0.4
    assert not out[ends:].any()
    mixer.remove_user(1)
    assert mixer.users == []


def test_a_clock_correction_beyond_tolerance_re_places_without_summing_twice() -> None:
    """A user's 440 Hz tone, 20 ms frames; from frame 10 on its times are 60 ms earlier
    (a sender clock correction larger than the continuity tolerance). The user is
    re-placed 60 ms earlier: the 60 ms its new frames share with what it already has
    placed are dropped (never summed: the level never doubles), the jump is listed, and
    the tone goes on without a hole."""
    mixer = AudioMixer(1)
    n = 960
    for j in range(30):
        time = 0.1 + j * 0.02 - (0.060 if j >= 10 else 0.0)
        mixer.push(5, s16_frame(tone(440, n, 0.5, start=j * n)), time)
    out = mixer.mix(RATE)[0]
    start, end = round(0.1 * RATE), round((0.1 + 30 * 0.02 - 0.060) * RATE)
    assert float(np.abs(out).max()) < 0.51  # one copy of the tone, nowhere two
    assert not out[:start].any() and not out[end:].any()
    body = out[start:end]
    assert len(body) == 30 * n - 3 * n  # three frames' worth overlapped and were dropped
    for block in body.reshape(-1, 480):  # no hole of 10 ms anywhere
        assert float(np.abs(block).max()) > 0.45
    assert list(mixer.jumps) == [(5, 0.1 + 10 * 0.02 - 0.060, -0.060)]


def test_jitter_and_first_frames_are_not_jumps() -> None:
    mixer = AudioMixer(1)
    for j in range(20):
        jitter = (j % 3 - 1) * 0.01
        mixer.push(1, s16_frame(tone(440, 960, 0.5, start=j * 960)), j * 0.02 + jitter)
        mixer.push(2, s16_frame(tone(440, 960, 0.5, start=j * 960)), 0.5 + j * 0.02)
    assert list(mixer.jumps) == []


def test_each_users_level_is_a_peak_meter_falling_20_db_a_second() -> None:
    """``levels``: a user at half of full scale shows -6.0 dBFS, a silent one -90; once
    the first falls silent, its level falls by 20 dB a second of mixed audio."""
    mixer = AudioMixer(1)
    assert mixer.levels == {}
    for k in range(25):  # half a second of 440 Hz at 0.5 for user 1, silence for 2
        at = k * 960
        mixer.push(1, s16_frame(tone(440, 960, 0.5, start=at)), at / RATE)
        mixer.push(2, s16_frame(np.zeros(960)), at / RATE)
    mixer.mix(RATE // 2)
    assert set(mixer.levels) == {1, 2}
    assert abs(mixer.levels[1] - 20 * np.log10(0.5)) < 0.1  # -6.0 dBFS
    assert mixer.levels[2] == -90.0
    mixer.mix(RATE // 2 + RATE)  # one second more, nobody sent anything
    assert abs(mixer.levels[1] - (20 * np.log10(0.5) - 20.0)) < 0.1  # -26.0 dBFS
    mixer.remove_user(2)
    mixer.mix(2 * RATE)
    assert set(mixer.levels) == {1}


# --- the look-ahead limiter and the encoder (issue 29) ------------------------------

TONES = (330, 360, 390, 420)
"""Four users' tones, 30 Hz apart (their sum beats 30 times a second)."""


def mixed(signals: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float32]:
    """Each signal a user's, pushed in 20 ms frames as the channel delivers them, mixed
    in 1/15 s ticks as the recorder renders."""
    mixer = AudioMixer(1)
    for uid, signal in enumerate(signals, 1):
        for k in range(0, len(signal), 960):
            mixer.push(uid, s16_frame(signal[k : k + 960]), k / RATE)
    n = len(signals[0])
    return np.concatenate([mixer.mix(min(k + 3200, n))[0] for k in range(0, n, 3200)])


def aac_round_trip(signal: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``signal`` through the recording's default audio encoder (48 Kbps mono) and
    FFmpeg's decoder, every packet decoded, aligned with the input."""
    encoder = AudioEncoder(AudioProfile.MUSIC_STANDARD)
    packets = encoder.encode(signal[None, :]) + encoder.flush()
    decoder = av.CodecContext.create("aac", "r")
    frames = [f.to_ndarray()[0] for p in packets for f in decoder.decode(av.Packet(p.data))]
    return np.concatenate(frames)[AAC_FRAME_SAMPLES : AAC_FRAME_SAMPLES + len(signal)]


def distortion_db(signal: npt.NDArray[np.float32], tones: tuple[int, ...]) -> float:
    """Energy away from ``tones`` (beyond 5 Hz of each, above 20 Hz) against the whole,
    in dB (Hann window)."""
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal)))) ** 2
    frequencies = np.fft.rfftfreq(len(signal), 1 / RATE)
    away = frequencies > 20
    for f in tones:
        away &= np.abs(frequencies - f) > 5
    return float(10 * np.log10(spectrum[away].sum() / spectrum.sum()))


def bot_voice(frequency: int, seconds: int) -> npt.NDArray[np.float64]:
    """A bot's audio: a 0.25 tone with a 100 ms 0.7 beep at 1 kHz at each second."""
    signal = tone(frequency, seconds * RATE, 0.25)
    for s in range(seconds):
        signal[s * RATE : s * RATE + 4800] = tone(1000, 4800, 0.7)
    return signal


def test_steady_tones_over_full_scale_are_limited_without_distortion() -> None:
    """Four users' steady tones whose sum peaks at 1.2x full scale: after the mixer and
    AAC (48 Kbps), what is not one of the tones is below -40 dB of the whole, and the
    decoded peaks stay within full scale."""
    signals = [tone(f, 6 * RATE, 0.3) for f in TONES]
    assert 1.15 < float(np.abs(sum(signals)).max()) < 1.2
    out = mixed(signals)
    assert float(np.abs(out).max()) <= LIMIT_THRESHOLD + 1e-6
    decoded = aac_round_trip(out)
    steady = decoded[RATE : 5 * RATE]  # past the first beat's attack
    assert distortion_db(steady, TONES) < -40, distortion_db(steady, TONES)
    assert float(np.abs(decoded).max()) <= 1.0


def test_coinciding_beeps_decode_within_full_scale_and_the_tones_recover() -> None:
    """Four bots whose 0.7 beeps coincide (2.8 summed): the decoded mix stays within
    full scale, and between the beeps the tones come back without distortion."""
    out = mixed([bot_voice(f, 6) for f in TONES])
    assert float(np.abs(out).max()) <= LIMIT_THRESHOLD + 1e-6
    decoded = aac_round_trip(out)
    assert float(np.abs(decoded).max()) <= 1.0
    between = np.concatenate([decoded[s * RATE + 19_200 : s * RATE + 43_200] for s in range(1, 5)])
    assert distortion_db(between, TONES) < -40, distortion_db(between, TONES)


def test_a_single_quiet_user_passes_the_mixer_unchanged() -> None:
    """One bot's audio (peaks 0.7, under the threshold) comes out sample for sample as
    sent (its int16 samples as floats)."""
    signal = bot_voice(TONES[0], 3)
    out = mixed([signal])
    sent = np.round(np.clip(signal, -1, 1) * 32767) / 32768
    assert np.array_equal(out, sent.astype(np.float32))
