"""Real media through the channel: WHIP publishers in, in-process subscribers out."""

from __future__ import annotations

import asyncio
import itertools
import math
import time

import av
import numpy as np
import numpy.typing as npt

from core.channel.clock import HOLD_LIMIT
from core.channel.decoding import DecoderPool, TrackDecoder
from core.channel.publisher import MEDIA_TIMEOUT
from core.channel.streams import VIDEO_QUEUE_FRAMES, FrameStream, ReceivedFrame
from core.enums import SANDBOX_APP_ID, VideoStreamType
from core.participants.synthetic import (
    AUDIO_FRAME_SAMPLES,
    AUDIO_SAMPLE_RATE,
    VIDEO_CLOCK_RATE,
    identify_uid,
    is_flash,
    synthetic_media,
    tone_frequency,
)
from core.participants.whip_client import publish
from tests.publishers import Publishers

FPS = 15
SIZE = (320, 240)


def median_rgb(frame: av.VideoFrame) -> npt.NDArray[np.float64]:
    rgb = frame.to_ndarray(format="rgb24").reshape(-1, 3)
    return np.asarray(np.median(rgb, axis=0), dtype=np.float64)


def mono(frame: av.AudioFrame) -> npt.NDArray[np.float64]:
    """The first channel of a decoded frame as floats in -1..1."""
    data = frame.to_ndarray()
    if frame.format.is_planar:
        samples = data[0]
    else:
        samples = data.reshape(-1)[:: len(frame.layout.channels)]
    return samples.astype(np.float64) / 32768.0


def drain(stream: FrameStream) -> None:
    while stream.get_nowait() is not None:
        pass


async def collect(stream: FrameStream, seconds: float) -> list[ReceivedFrame]:
    frames: list[ReceivedFrame] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            async with asyncio.timeout(left):
                frames.append(await anext(stream))
        except TimeoutError:
            break
    return frames


async def collect_first(stream: FrameStream, seconds: float) -> list[ReceivedFrame]:
    """The frames of ``seconds`` from the first one on: a publisher's first frames come
    when its first sender reports do, up to HOLD_LIMIT after they arrived."""
    async with asyncio.timeout(HOLD_LIMIT + 5.0):
        first = await anext(stream)
    return [first, *await collect(stream, seconds)]


async def collect_captured(
    stream: FrameStream, start: float, seconds: float, grace: float = 3.0, margin: float = 0.0
) -> list[ReceivedFrame]:
    """The frames captured in ``[start - margin, start + seconds + margin)``, however late
    they arrive.

    Counting by capture time measures loss, not delivery speed: on a loaded machine
    a frame captured inside the window may reach the subscriber after it, and it
    still counts. Reading stops at the first frame captured after the window (frames
    arrive in capture order) or ``grace`` seconds after the window closes.
    """
    end = start + seconds + margin
    frames: list[ReceivedFrame] = []
    while (left := end + grace - time.monotonic()) > 0:
        try:
            async with asyncio.timeout(left):
                received = await anext(stream)
        except TimeoutError:
            break
        assert received.time < time.monotonic(), "captured after it arrived"
        if received.time >= end:
            break
        if received.time >= start - margin:
            frames.append(received)
    return frames


def rtp_steps(frames: list[ReceivedFrame]) -> list[int]:
    """The RTP-clock distance from each frame to the next (pts count the sender's RTP
    clock from the track's first frame; aiortc may jump them by 2**32, so modulo that)."""
    return [(b.frame.pts - a.frame.pts) % 2**32 for a, b in itertools.pairwise(frames)]  # type: ignore[operator]


def rtp_window(frames: list[ReceivedFrame], start: float, ticks: int) -> list[ReceivedFrame]:
    """From the first frame with a capture time at or after ``start``, the frames less
    than ``ticks`` of the sender's RTP clock after it.

    A frame's ``time`` carries the error of the sender-report mapping, which improves as
    less delayed reports come (docs/channel.md, Timing): counting a window by ``time``
    gained a frame in a loaded run when the mapping moved 33 ms earlier within it. The
    RTP clock is the sender's capture clock itself, so a window by it holds exactly
    ``ticks / step`` frames when none was lost (pass ``ticks`` half a step short of
    the window, as the decoder rounds pts by a tick)."""
    first = next(i for i, f in enumerate(frames) if f.time >= start)
    window = [frames[first]]
    for frame in frames[first + 1 :]:
        if (frame.frame.pts - window[0].frame.pts) % 2**32 >= ticks:  # type: ignore[operator]
            break
        window.append(frame)
    return window


def peak_frequency(samples: npt.NDArray[np.float64], below: float = 950.0) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / AUDIO_SAMPLE_RATE)
    band = (freqs > 100) & (freqs < below)
    return float(freqs[band][np.argmax(spectrum[band])])


def grid_window(fps: int, *, mid_second: bool = False) -> float:
    """A window start (monotonic) midway between two capture instants of the wall-clock
    grid of ``fps`` (synthetic participants capture frame ``k`` at Unix time ``k / fps``),
    so a window of whole seconds holds exactly ``seconds x fps`` frames, and at least
    half a second away so no frame of it arrived yet. ``mid_second``: also half a second
    from the whole seconds where flashes and beeps are."""
    wall_minus_mono = time.time() - time.monotonic()
    earliest = time.time() + 0.5
    if mid_second:
        earliest = math.floor(earliest) + 0.5 + (earliest % 1 > 0.5)
    first = math.ceil(earliest * fps)
    return (first + 0.5) / fps - wall_minus_mono


async def test_three_publishers_reach_a_subscriber(channel_server) -> None:
    """Every frame captured in a 3 s window from the publishers' first second on reaches
    the subscriber, in order and in its user's colour and tone, timed from the senders'
    reports (frames arriving before the first reports are held until they come); an
    idle subscriber's queue stays bounded and slows no one."""
    uids = [11, 12, 13]
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "three")
    reader = channel.subscribe(9000)
    idle = channel.subscribe(9001)  # never reads: must not slow anyone down
    events = reader.events()
    async with Publishers(channel_server.url, "three", uids, size=SIZE, fps=FPS):
        joined = [await anext(events) for _ in uids]
        assert [e.uid for e in joined] == uids
        video = {uid: reader.video(uid) for uid in uids}
        audio = {uid: reader.audio(uid) for uid in uids}
        idle_video = idle.video(uids[0])
        assert idle_video is not None
        seconds = 3.0
        start = grid_window(FPS)
        streams = [*video.values(), *audio.values()]
        for stream in streams:
            assert stream is not None
            drain(stream)
        # video a frame period and more either side, so the frames just outside the
        # window show that none was lost at its edges either
        results = await asyncio.gather(
            *(collect_captured(s, start, seconds, margin=0.2) for s in video.values()),  # type: ignore[arg-type]
            *(collect_captured(s, start, seconds) for s in audio.values()),  # type: ignore[arg-type]
        )
        arrival_timed = [channel.publisher(u).arrival_timed for u in uids]
    assert arrival_timed == [0, 0, 0]
    assert not any(rf.estimated for frames in results for rf in frames)
    got_video = dict(zip(uids, results[: len(uids)], strict=True))
    got_audio = dict(zip(uids, results[len(uids) :], strict=True))
    await reader.close()
    await idle.close()

    step = VIDEO_CLOCK_RATE // FPS
    for uid in uids:
        # No frame missing or repeated from 0.2 s before the window to 0.2 s after it.
        # The sender's pts are exact multiples of the step; the VP8 decoder (PyAV's
        # libvpx context, which rescales a packet's pts through its own time base) hands
        # them back rounded by up to one 90 kHz tick (11 us): steps of 5999/6000/6001.
        steps = rtp_steps(got_video[uid])
        assert steps and all(abs(s - step) <= 1 for s in steps), (uid, steps)
        frames = rtp_window(got_video[uid], start, round(seconds * VIDEO_CLOCK_RATE) - step // 2)
        assert len(frames) == FPS * seconds, (uid, len(frames))
        tiles = [c for c in (median_rgb(rf.frame) for rf in frames) if not is_flash(c)]  # type: ignore[arg-type]
        assert len(tiles) == len(frames) - seconds  # one flash a second
        assert all(identify_uid(c, uids) == uid for c in tiles), uid
        times = [rf.time for rf in frames]
        assert all(0.5 / FPS < b - a < 1.5 / FPS for a, b in itertools.pairwise(times)), times

        # Audio: no frame missing between the first and the last, by RTP time (pts, in
        # samples: each frame 960 after the one before; arrival and report-based times
        # jitter by tens of ms on a busy sender), and the window covered to within two
        # frames at its edges: a frame's absolute time carries the sender report's error
        # (docs/channel.md), while the 20 ms grid lies only 6.7 ms from the window's edges
        # (counting to one frame failed 1 loaded run of 4).
        pts = [rf.frame.pts for rf in got_audio[uid]]  # type: ignore[union-attr]
        assert all(b - a == AUDIO_FRAME_SAMPLES for a, b in itertools.pairwise(pts)), pts
        samples = np.concatenate([mono(rf.frame) for rf in got_audio[uid]])  # type: ignore[arg-type]
        assert abs(len(samples) - AUDIO_SAMPLE_RATE * seconds) <= 2 * AUDIO_FRAME_SAMPLES
        freq = peak_frequency(samples[-AUDIO_SAMPLE_RATE:])
        assert abs(freq - tone_frequency(uid)) <= 2, (uid, freq)

    # The idle subscriber's queue stayed bounded and lost its oldest frames.
    assert len(idle_video) == VIDEO_QUEUE_FRAMES
    assert idle_video.dropped > 0
    assert all(s.dropped == 0 for s in video.values() if s is not None)


async def test_dual_stream_is_switchable(channel_server) -> None:
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "dual")
    sub = channel.subscribe(9000, audio=False, video_stream=VideoStreamType.LOW)
    async with Publishers(channel_server.url, "dual", [31], size=SIZE, low_stream=True):
        (info,) = [p for p in channel.participants() if p.uid == 31]
        assert info.has_video and info.has_low_video
        assert sub.audio(31) is None
        stream = sub.video(31)
        assert stream is not None
        low = await collect_first(stream, 1.0)
        assert {rf.frame.width for rf in low} == {SIZE[0] // 2}  # type: ignore[union-attr]
        sub.set_video_stream(31, VideoStreamType.HIGH)
        drain(stream)
        high = await collect(stream, 0.7)
        assert high and high[-1].frame.width == SIZE[0]  # type: ignore[union-attr]
    await sub.close()


def beep_onsets(frames: list[ReceivedFrame]) -> list[float]:
    """Times where the loud 1 kHz beep starts.

    Decoded as stereo, the tone peaks at ~0.18 of full scale and the beep at ~0.49.
    A beep counts only after a quiet frame: frames collected from the middle of a beep
    hold no onset.
    """
    onsets: list[float] = []
    after_quiet = False
    for rf in frames:
        samples = mono(rf.frame)  # type: ignore[arg-type]
        loud = np.flatnonzero(np.abs(samples) > 0.35)
        if loud.size and after_quiet and (not onsets or rf.time - onsets[-1] > 0.5):
            onsets.append(rf.time + loud[0] / AUDIO_SAMPLE_RATE)
        after_quiet = not loud.size
    return onsets


async def test_audio_and_video_times_are_lip_synced(channel_server) -> None:
    """Video starts 0.6 s after audio; frame times match capture times from the first
    seconds on (frames are held until both tracks' first sender reports, one of which
    aiortc sends with NTP time 0 when it comes before the video's first packet)."""
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "sync")
    sub = channel.subscribe(9000)
    events = sub.events()
    async with Publishers(channel_server.url, "sync", [41], size=SIZE, video_delay=0.6):
        await anext(events)
        video, audio = sub.video(41), sub.audio(41)
        assert video is not None and audio is not None
        seconds = 3.0
        start = grid_window(FPS, mid_second=True)
        drain(video)
        drain(audio)
        got_video, got_audio = await asyncio.gather(
            collect_captured(video, start, seconds), collect_captured(audio, start, seconds)
        )
        assert channel.publisher(41).arrival_timed == 0
    await sub.close()
    assert not any(rf.estimated for rf in got_video + got_audio)
    flashes = [rf.time for rf in got_video if is_flash(median_rgb(rf.frame))]  # type: ignore[arg-type]
    beeps = beep_onsets(got_audio)
    # one flash and one beep on each whole second of the 3 s window
    assert len(flashes) == 3 and len(beeps) == 3, (flashes, beeps)
    # Flash and beep are captured on whole seconds of the wall clock.
    wall_minus_mono = time.time() - time.monotonic()
    for t in flashes + beeps:
        capture = round(t + wall_minus_mono) - wall_minus_mono
        assert abs(t - capture) < 0.040, (t - capture, flashes, beeps)
    for flash in flashes:
        offset = min(beeps, key=lambda b: abs(b - flash)) - flash
        assert abs(offset) <= 0.040, offset


async def test_h264_video(channel_server) -> None:
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "h264")
    sub = channel.subscribe(9000, audio=False)
    m = synthetic_media(51, size=SIZE, fps=FPS, low_stream=False)
    session = await publish(
        channel_server.whip_url("h264", 51), audio=None, video=m.video, video_codec="H264"
    )
    try:
        video_section = session.answer.split("m=video", 1)[1]
        first_codec = video_section.split("a=rtpmap:", 1)[1].split()[1]
        assert first_codec == "H264/90000"  # the answerer's preferred = the one sent
        stream = sub.video(51)
        assert stream is not None
        async with asyncio.timeout(5):
            frames = [await anext(stream) for _ in range(10)]
        colours = [median_rgb(rf.frame) for rf in frames]  # type: ignore[arg-type]
        assert any(identify_uid(c, [51]) == 51 for c in colours)
    finally:
        await session.close()
        m.stop()
        await sub.close()


async def test_only_received_tracks_are_decoded(channel_server) -> None:
    """A track nobody takes is not decoded, yet its publisher stays; taking it starts
    decoding on a keyframe, and a switch moves decoding to the other stream."""
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "gated")
    m = synthetic_media(41, size=SIZE, fps=FPS, low_stream=True)
    session = await publish(
        channel_server.whip_url("gated", 41), audio=m.audio, video=m.video, low_video=m.low_video
    )
    sub = channel.subscribe(9000, audio=False, video_stream=VideoStreamType.HIGH)
    try:
        publisher = channel.publisher(41)
        assert publisher is not None
        gates = publisher.gates
        assert set(gates) == {None, VideoStreamType.HIGH, VideoStreamType.LOW}
        await asyncio.sleep(MEDIA_TIMEOUT + 1.0)  # longer than the watchdog's limit
        assert 41 in [p.uid for p in channel.participants()]
        assert all(g.passed == 0 and g.skipped > 0 for g in gates.values())

        stream = sub.video(41)
        assert stream is not None
        high = await collect(stream, 1.0)
        assert high and all(rf.frame.width == SIZE[0] for rf in high)  # type: ignore[union-attr]
        assert gates[VideoStreamType.HIGH].is_open and not gates[VideoStreamType.LOW].is_open
        assert gates[VideoStreamType.LOW].passed == 0 and gates[None].passed == 0

        sub.set_video_stream(41, VideoStreamType.LOW)
        drain(stream)
        low = await collect(stream, 1.0)
        assert low and low[-1].frame.width == SIZE[0] // 2  # type: ignore[union-attr]
        assert gates[VideoStreamType.LOW].is_open and not gates[VideoStreamType.HIGH].is_open
        # every frame shows 41's tile but the once-a-second white flash (the last may be
        # one: CI saw it)
        tiles = [c for c in (median_rgb(rf.frame) for rf in low) if not is_flash(c)]  # type: ignore[arg-type]
        assert tiles and all(identify_uid(c, [41]) == 41 for c in tiles)

        await sub.close()
        assert not any(g.is_open for g in gates.values())
    finally:
        await session.close()
        m.stop()
        await sub.close()


async def test_a_failing_decoder_does_not_stop_the_pool() -> None:
    """One track's decoder raising (a bug, not bad media) costs that frame only."""
    pool = DecoderPool(workers=1)
    delivered: list[str] = []
    errors: list[str] = []
    broken = TrackDecoder("video", lambda frame: delivered.append("broken"), pool)
    healthy = TrackDecoder("audio", lambda frame: delivered.append("healthy"), pool)
    broken.on_error = lambda: errors.append("broken")

    def explode(codec: object, encoded_frame: object) -> list[av.frame.Frame]:
        raise RuntimeError("a bug")

    broken.decode = explode  # type: ignore[method-assign]
    healthy.decode = lambda codec, encoded_frame: [av.AudioFrame(samples=960)]  # type: ignore[method-assign]
    codec = type("Codec", (), {"name": "opus"})()
    broken.submit(codec, object())
    healthy.submit(codec, object())
    async with asyncio.timeout(2):
        while not (delivered and errors):
            await asyncio.sleep(0.01)
    assert delivered == ["healthy"] and errors == ["broken"]
    broken.close()
    healthy.close()


async def test_low_falls_back_to_high_for_a_user_without_a_low_stream(channel_server) -> None:
    """docs/channel.md: a subscriber asking for LOW of a user who sends no low stream
    gets the HIGH stream, from its first frames on."""
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "nolow")
    sub = channel.subscribe(9000, audio=False, video_stream=VideoStreamType.LOW)
    async with Publishers(channel_server.url, "nolow", [32], size=SIZE, low_stream=False):
        (info,) = [p for p in channel.participants() if p.uid == 32]
        assert info.has_video and not info.has_low_video
        stream = sub.video(32)
        assert stream is not None
        async with asyncio.timeout(10):
            frames = [await anext(stream) for _ in range(FPS)]
    await sub.close()
    assert {(rf.frame.width, rf.frame.height) for rf in frames} == {SIZE}  # type: ignore[union-attr]
    tiles = [c for c in (median_rgb(rf.frame) for rf in frames) if not is_flash(c)]  # type: ignore[arg-type]
    assert tiles and all(identify_uid(c, [32]) == 32 for c in tiles)
