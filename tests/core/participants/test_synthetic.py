"""Synthetic participant media: colours survive real codecs, flash and beep line up."""

from __future__ import annotations

import asyncio
import fractions
import itertools
import time

import av
import numpy as np
import numpy.typing as npt
import pytest
from aiortc.mediastreams import MediaStreamError

from core.participants.synthetic import (
    AUDIO_FRAME_SAMPLES,
    AUDIO_SAMPLE_RATE,
    BEEP_FREQUENCY,
    VIDEO_CLOCK_RATE,
    SyntheticAudioTrack,
    SyntheticClock,
    SyntheticVideoTrack,
    digit_colour,
    identify_uid,
    is_flash,
    low_stream_size,
    render_tile,
    synthetic_media,
    tone_frequency,
    uid_colour,
)

UIDS = list(range(1, 21))


def median_rgb(frame: av.VideoFrame) -> tuple[float, float, float]:
    rgb = frame.to_ndarray(format="rgb24").reshape(-1, 3)
    r, g, b = np.median(rgb, axis=0)
    return float(r), float(g), float(b)


def round_trip(codec: str, images: list[npt.NDArray[np.uint8]]) -> list[av.VideoFrame]:
    """Encode images with a real encoder at a modest bitrate and decode them again."""
    height, width = images[0].shape[:2]
    encoder = av.CodecContext.create(codec, "w")
    assert isinstance(encoder, av.VideoCodecContext)
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = fractions.Fraction(1, 15)
    encoder.framerate = fractions.Fraction(15, 1)
    encoder.bit_rate = 300_000
    if codec == "libx264":
        encoder.options = {"preset": "veryfast", "tune": "zerolatency"}
    else:
        encoder.options = {"deadline": "realtime", "cpu-used": "8"}
    decoder = av.CodecContext.create("libvpx" if codec == "libvpx" else "h264", "r")
    packets = []
    for i, img in enumerate(images):
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        packets += encoder.encode(frame)
    packets += encoder.encode(None)
    decoded: list[av.VideoFrame] = []
    for packet in packets:
        decoded += [f for f in decoder.decode(packet) if isinstance(f, av.VideoFrame)]
    decoded += [f for f in decoder.decode(None) if isinstance(f, av.VideoFrame)]
    assert len(decoded) == len(images)
    return decoded


def test_colours_are_saturated_and_distinct() -> None:
    for uids in (UIDS, list(range(1001, 1021)), list(range(4_294_967_276, 4_294_967_296))):
        colours = [uid_colour(u) for u in uids]
        assert len(set(colours)) == len(colours)
        for r, g, b in colours:
            assert max(r, g, b) - min(r, g, b) >= 130  # saturated: far from grey
            assert 130 <= max(r, g, b) <= 250 and min(r, g, b) <= 10  # not white or black
        closest = min(
            float(np.linalg.norm(np.subtract(a, b))) for a, b in itertools.combinations(colours, 2)
        )
        assert closest >= 50


def test_identify_uid_rejects_what_is_not_a_tile() -> None:
    for grey in ((0, 0, 0), (255, 255, 255), (128, 128, 128), (40, 40, 40)):
        assert identify_uid(grey, UIDS) is None
    assert identify_uid(uid_colour(7), UIDS) == 7
    assert identify_uid(uid_colour(7), [1, 2, 3]) is None
    assert is_flash((250, 252, 249)) and not is_flash(uid_colour(3))


@pytest.mark.parametrize("codec", ["libvpx", "libx264"])
@pytest.mark.parametrize("size", [(320, 240), (160, 120)])
def test_uid_identified_after_codec_round_trip(codec: str, size: tuple[int, int]) -> None:
    # Each uid's tile for a few frames (the first is a keyframe, the rest predicted),
    # then one flash frame, as the track sends it.
    images: list[npt.NDArray[np.uint8]] = []
    for uid in UIDS:
        images += [render_tile(uid, size)] * 3
    flash = np.full((size[1], size[0], 3), 255, dtype=np.uint8)
    images.append(flash)
    decoded = round_trip(codec, images)
    found = [identify_uid(median_rgb(f), UIDS) for f in decoded[:-1]]
    assert found == [uid for uid in UIDS for _ in range(3)]
    errors = [
        float(np.linalg.norm(np.subtract(median_rgb(f), uid_colour(uid))))
        for f, uid in zip(decoded[2:-1:3], UIDS, strict=True)
    ]
    assert max(errors) < 15, errors
    assert is_flash(median_rgb(decoded[-1]))
    assert not any(is_flash(median_rgb(f)) for f in decoded[:-1])


def test_digits_contrast_with_the_tile() -> None:
    for uid in range(1, 100):
        r, g, b = uid_colour(uid)
        luma = 0.299 * r + 0.587 * g + 0.114 * b
        assert abs(luma - 255 * (digit_colour(uid)[0] > 0)) >= 80


def test_tile_shows_the_uid_on_its_colour() -> None:
    tile = render_tile(1234, (320, 240))
    colour = np.all(tile == uid_colour(1234), axis=2)
    digits = np.all(tile == digit_colour(1234), axis=2)
    assert np.all(colour | digits)
    assert 0.05 < digits.mean() < 0.3  # legible, and the median stays the uid colour
    # Ten digits (the largest uid) still fit the low stream.
    small = render_tile(4_294_967_295, low_stream_size((320, 240)))
    assert small.shape == (120, 160, 3)
    assert np.all(small == digit_colour(4_294_967_295), axis=2).any()
    assert np.all(small[:, :4] == uid_colour(4_294_967_295))  # margins are clear


def test_low_stream_is_a_quarter_of_the_area() -> None:
    video = SyntheticVideoTrack(5, size=(640, 360), fps=15)
    low = video.low_stream()
    assert low.size == (320, 180) and low.clock is video.clock and low.fps == 15
    assert low_stream_size((320, 240)) == (160, 120)
    media = synthetic_media(5, size=(320, 240), fps=10, low_stream=False)
    assert media.low_video is None and media.audio.clock is media.video.clock


async def record(
    tracks: list[SyntheticVideoTrack | SyntheticAudioTrack], seconds: float
) -> dict[str, list[tuple[float, av.VideoFrame | av.AudioFrame]]]:
    """Pull each track like an RTP sender does, noting when each frame was returned."""
    out: dict[str, list[tuple[float, av.VideoFrame | av.AudioFrame]]] = {}

    async def pull(name: str, track: SyntheticVideoTrack | SyntheticAudioTrack) -> None:
        frames = out.setdefault(name, [])
        deadline = time.time() + seconds
        while time.time() < deadline:
            frame = await track.recv()
            frames.append((time.time(), frame))

    async with asyncio.TaskGroup() as tg:
        for i, track in enumerate(tracks):
            tg.create_task(pull(f"{track.kind}{i}", track))
    return out


def beep_onsets(samples: npt.NDArray[np.int16], first_pts: int) -> list[int]:
    """pts of the samples where a 1 kHz beep starts (5 ms hops, energy at 1 kHz)."""
    hop = AUDIO_SAMPLE_RATE // 200
    window = np.arange(hop)
    probe = np.exp(-2j * np.pi * BEEP_FREQUENCY * window / AUDIO_SAMPLE_RATE)
    levels = [
        abs(np.dot(samples[i : i + hop].astype(np.float64), probe)) / hop
        for i in range(0, len(samples) - hop + 1, hop)
    ]
    loud = [level > 0.3 * 32767 for level in levels]
    # An onset needs a quiet hop before it (a recording may start inside a beep).
    return [first_pts + i * hop for i in range(1, len(loud)) if loud[i] and not loud[i - 1]]


@pytest.mark.parametrize("start_phase", [0.03, 0.5])  # inside a beep / between beeps
async def test_flash_and_beep_share_the_second_boundaries(start_phase: float) -> None:
    now = time.time()
    await asyncio.sleep((start_phase - now % 1.0) % 1.0)
    clock = SyntheticClock()
    media = synthetic_media(42, size=(160, 120), fps=15, clock=clock)
    assert media.low_video is not None
    frames = await record([media.video, media.low_video, media.audio], 2.3)
    media.stop()

    flash_instants: dict[str, set[float]] = {}
    for name in ("video0", "video1"):
        video = frames[name]
        assert len(video) >= 2.3 * 15 - 2
        instants = set()
        for returned_at, frame in video:
            assert isinstance(frame, av.VideoFrame) and frame.pts is not None
            assert frame.time_base == fractions.Fraction(1, VIDEO_CLOCK_RATE)
            captured = clock.time_of(frame.pts, VIDEO_CLOCK_RATE)
            assert 0 <= returned_at - captured < 0.15  # paced: returned at capture time
            if is_flash(median_rgb(frame)):
                instants.add(captured)
                assert frame.pts % VIDEO_CLOCK_RATE == 0
            else:
                assert identify_uid(median_rgb(frame), [42]) == 42
        # Frames are 1/15 s apart, on a grid through every second boundary.
        pts = [f.pts for _, f in video if f.pts is not None]
        assert set(np.diff(pts)) == {VIDEO_CLOCK_RATE // 15}
        flash_instants[name] = instants
        assert len(instants) >= 2 and all(t == int(t) for t in instants)

    audio = [f for _, f in frames["audio2"]]
    assert all(isinstance(f, av.AudioFrame) for f in audio)
    assert all(f.samples == AUDIO_FRAME_SAMPLES and f.sample_rate == 48_000 for f in audio)
    pts = [f.pts for f in audio if f.pts is not None]
    assert set(np.diff(pts)) == {AUDIO_FRAME_SAMPLES}  # no gaps
    samples = np.concatenate([f.to_ndarray().reshape(-1) for f in audio])
    onsets = beep_onsets(samples, pts[0])
    assert onsets and all(p % AUDIO_SAMPLE_RATE == 0 for p in onsets)
    beep_instants = {clock.time_of(p, AUDIO_SAMPLE_RATE) for p in onsets}
    # The same capture instants in all three tracks (where their spans overlap).
    assert flash_instants["video0"] == flash_instants["video1"]
    span = (clock.time_of(pts[0], 48_000), clock.time_of(pts[-1], 48_000))
    in_span = {t for t in flash_instants["video0"] if span[0] < t <= span[1]}
    assert in_span and in_span == beep_instants


async def test_tone_frequency_by_fft() -> None:
    uid = 1003
    assert tone_frequency(uid) not in range(900, 1101)
    assert len({tone_frequency(u) for u in range(1001, 1021)}) == 20
    track = SyntheticAudioTrack(uid)
    audio = [f for _, f in (await record([track], 0.6))["audio0"]]
    track.stop()
    # Keep only tone (frames outside the first 100 ms of a second).
    tone = [
        f.to_ndarray().reshape(-1)
        for f in audio
        if f.pts is not None and f.pts % AUDIO_SAMPLE_RATE >= AUDIO_SAMPLE_RATE // 10
    ]
    samples = np.concatenate(tone[:20]).astype(np.float64)  # 400 ms: 2.5 Hz bins
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    peak = float(np.fft.rfftfreq(len(samples), 1 / AUDIO_SAMPLE_RATE)[np.argmax(spectrum)])
    assert abs(peak - tone_frequency(uid)) <= 2.5


async def test_stopped_track_ends() -> None:
    track = SyntheticVideoTrack(1, size=(64, 48), fps=10)
    await track.recv()
    pending = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    track.stop()
    with pytest.raises(MediaStreamError):
        await pending
    audio = SyntheticAudioTrack(1)
    audio.stop()
    with pytest.raises(MediaStreamError):
        await audio.recv()
