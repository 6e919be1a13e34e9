"""Holding a sender's frames until its first sender reports (core/channel/hold.py), the
streams that receive them together (FrameStream.put_many, held_since), and the
publisher that does both. The hold's tests are pure arithmetic: a sender whose capture
clock reads ``5000 + t`` at our monotonic ``100 + t`` (reports travel ``transit``
seconds), audio at 48 kHz and video at 90 kHz from RTP 0."""

from __future__ import annotations

import asyncio
import time

import av
import pytest

from core.channel.clock import HOLD_LIMIT, SenderClock, TrackClock
from core.channel.hold import SyncHold, Timed
from core.channel.publisher import Publisher
from core.channel.roster import LeaveReason, Role
from core.channel.streams import FrameStream, ReceivedFrame
from core.enums import VideoStreamType

SENDER = 5000.0  # the sender's clock at our monotonic 100.0
OURS = 100.0


def ntp(seconds: float) -> int:
    return round(seconds * (1 << 32))


class User:
    """One publisher's clocks and hold."""

    def __init__(self, *, limit: float = HOLD_LIMIT) -> None:
        self.sender = SenderClock()
        self.audio = TrackClock(self.sender, 48_000, buffer_delay=0.08)
        self.video = TrackClock(self.sender, 90_000, buffer_delay=0.07)
        self.hold: SyncHold[str] = SyncHold(self.sender, limit)

    def frame(self, kind: str, captured: float, delay: float) -> list[Timed[str]]:
        """A frame captured at our ``captured`` arriving ``delay`` later."""
        track = self.audio if kind == "audio" else self.video
        if not track.has_media:
            track.set_rtp_origin(0)
        pts = round((captured - OURS) * track.clock_rate)
        stamp = track.stamp(pts, captured + delay)
        return self.hold.add(f"{kind}@{captured:.2f}", track, stamp)

    def report(self, kind: str, at: float, transit: float) -> list[Timed[str]]:
        """A sender report of the frame captured at our ``at``, arriving ``transit`` later."""
        track = self.audio if kind == "audio" else self.video
        rtp = round((at - OURS) * track.clock_rate)
        track.add_sender_report(rtp, ntp(SENDER + at - OURS), at + transit)
        return self.hold.release(at + transit)


def test_frames_before_the_reports_are_held_then_timed_exactly() -> None:
    """Both tracks wait for their reports; then every frame held gets its capture time
    (plus the report's transit, the one offset both tracks share), in arrival order."""
    user = User()
    assert user.frame("audio", 100.00, 0.08) == []
    assert user.frame("video", 100.00, 0.05) == []
    assert user.hold.since == pytest.approx(100.08)
    assert user.hold.deadline == pytest.approx(100.08 + HOLD_LIMIT)
    assert user.frame("audio", 100.02, 0.09) == []
    assert user.report("audio", 100.5, transit=0.01) == []  # the video has none yet
    assert user.frame("video", 100.40, 0.30) == []  # a loaded moment: 300 ms late
    released = user.report("video", 101.2, transit=0.004)
    assert [t.item for t in released] == [
        "audio@100.00", "video@100.00", "audio@100.02", "video@100.40",
    ]  # fmt: skip
    # every time carries the smallest transit of the user's reports, 4 ms
    expected = [100.004, 100.004, 100.024, 100.404]
    assert [t.time for t in released] == pytest.approx(expected)
    assert not any(t.estimated for t in released)
    assert user.hold.since is None and user.hold.arrival_timed == 0
    # from now on frames go straight through, timed exactly
    (after,) = user.frame("audio", 101.30, 0.5)
    assert after.time == pytest.approx(101.304) and not after.estimated


def test_a_track_without_media_is_not_waited_for() -> None:
    """An audio-only user (or a video track that has not started) holds nothing up."""
    user = User()
    assert user.frame("audio", 100.0, 0.08) == []
    released = user.report("audio", 100.7, transit=0.02)
    assert [(t.item, round(t.time, 3)) for t in released] == [("audio@100.00", 100.02)]


def test_a_track_starting_later_is_waited_for_in_its_turn() -> None:
    """The camera starts after the microphone's frames were released: its frames are
    held until its own report, and the microphone's with them (one offset for both)."""
    user = User()
    user.frame("audio", 100.0, 0.08)
    assert len(user.report("audio", 100.6, transit=0.03)) == 1
    assert user.frame("video", 100.66, 0.07) == []
    assert user.frame("audio", 100.70, 0.08) == []
    released = user.report("video", 101.5, transit=0.01)
    assert [(t.item, round(t.time, 3)) for t in released] == [
        ("video@100.66", 100.67), ("audio@100.70", 100.71),
    ]  # fmt: skip


def test_without_reports_the_limit_releases_frames_timed_by_arrival_and_counted() -> None:
    """A track with no report when the limit passes: its held frames are timed by
    arrival (counted), the other track's from its report; it is not waited for again."""
    user = User(limit=2.0)
    user.frame("audio", 100.00, 0.08)
    user.frame("video", 100.00, 0.07)
    user.report("video", 100.5, transit=0.01)
    user.frame("audio", 100.02, 0.10)
    assert user.hold.release(102.07) == []  # a moment before the limit
    released = user.hold.release(102.08)
    assert [(t.item, round(t.time, 3), t.estimated) for t in released] == [
        ("audio@100.00", 100.0, True),  # arrival minus the audio buffer delay (80 ms)
        ("video@100.00", 100.01, False),
        ("audio@100.02", 100.02, True),  # the first frame's anchor, RTP spacing
    ]
    assert user.hold.arrival_timed == 2
    (later,) = user.frame("audio", 102.5, 0.08)  # not held again
    assert later.estimated and user.hold.arrival_timed == 3
    user.report("audio", 103.0, transit=0.01)
    (synced,) = user.frame("audio", 103.1, 0.08)
    assert not synced.estimated and synced.time == pytest.approx(103.11)


def test_a_frame_arriving_after_the_limit_releases_the_hold() -> None:
    """The release does not depend on a timer alone: the next frame past the limit
    releases everything held, itself included, in order."""
    user = User(limit=1.0)
    user.frame("audio", 100.00, 0.08)
    released = user.frame("audio", 101.00, 0.10)
    assert [t.item for t in released] == ["audio@100.00", "audio@101.00"]
    assert all(t.estimated for t in released)


def test_a_leaving_publisher_releases_what_it_holds() -> None:
    user = User()
    user.frame("audio", 100.0, 0.08)
    user.frame("video", 100.0, 0.07)
    user.report("audio", 100.5, transit=0.02)
    released = user.hold.release(100.6, force=True)
    assert [(t.item, t.estimated) for t in released] == [
        ("audio@100.00", False), ("video@100.00", True),
    ]  # fmt: skip


def received(n: int) -> list[ReceivedFrame]:
    return [ReceivedFrame(object(), float(i)) for i in range(n)]  # type: ignore[arg-type]


def test_held_frames_released_together_are_all_kept() -> None:
    """A stream bounded to 5 frames gets 12 held frames at once: a consumer reading as
    fast as frames come loses none; one that never reads is back to 5 frames soon."""
    stream = FrameStream(7, "audio", 5)
    stream.put_many(received(12))
    assert len(stream) == 12 and stream.dropped == 0 and stream.received == 12
    stream.put(received(1)[0])  # before the consumer got to run
    assert len(stream) == 13 and stream.dropped == 0
    while stream.get_nowait() is not None:
        pass
    idle = FrameStream(8, "audio", 5)
    for frame in received(5):
        idle.put(frame)
    idle.put_many(received(12))
    assert len(idle) == 17 and idle.dropped == 0
    for frame in received(20):
        idle.put(frame)
    assert len(idle) == 5 and idle.dropped == 32


def test_a_stream_says_frames_are_held_until_its_consumer_read_them_through() -> None:
    """held_since is set while the channel holds the user's frames, and after their
    release until the consumer came back for a frame after the last of them: a renderer
    that checks it before taking what its reader queued cannot render past them."""
    stream = FrameStream(7, "audio", 100)
    before = received(2)
    for frame in before:
        stream.put(frame)
    stream.hold(50.0)
    assert stream.held_since == 50.0
    burst = received(3)
    stream.put_many(burst)  # released ...
    stream.hold(None)  # ... and no longer held
    assert stream.held_since == 50.0
    taken = [stream.get_nowait() for _ in range(5)]
    assert taken == before + burst
    assert stream.held_since == 50.0  # the last released frame taken, not yet handled
    stream.put(received(1)[0])
    assert stream.get_nowait() is not None  # the consumer came back: all handled
    assert stream.held_since is None
    stream.hold(60.0)
    stream.end()
    assert stream.held_since is None


def audio_frame(pts: int) -> av.AudioFrame:
    frame = av.AudioFrame(format="s16", layout="mono", samples=960)
    frame.pts = pts
    return frame


def video_frame(pts: int) -> av.VideoFrame:
    frame = av.VideoFrame(16, 16, "yuv420p")
    frame.pts = pts
    return frame


async def test_a_publisher_holds_its_frames_for_its_reports_then_delivers_them() -> None:
    """The publisher's side (no network: its clocks and streams driven directly, as its
    receivers and decoders do): frames wait for both tracks' first reports, the streams
    say so meanwhile, and get them together, exactly timed, when the last report comes;
    a later user without reports is released by the limit's timer, timed by arrival;
    a leaving publisher releases what it holds."""
    publisher = Publisher("hold", 1, Role.HOST, "0" * 32)
    audio = TrackClock(publisher.sender_clock, 48_000, buffer_delay=0.08)
    video = TrackClock(publisher.sender_clock, 90_000, buffer_delay=0.07)
    audio.set_rtp_origin(0)
    video.set_rtp_origin(0)
    heard, seen = FrameStream(1, "audio", 100), FrameStream(1, "video", 30)
    publisher.add_stream(heard)
    publisher.add_stream(seen)
    start = time.monotonic()
    publisher._deliver(None, audio, audio_frame(0))
    publisher._deliver(VideoStreamType.HIGH, video, video_frame(0))
    assert heard.held_since is not None and seen.held_since is not None
    assert heard.held_since >= start and len(heard) == len(seen) == 0
    # RTP 0 was captured at sender time 5000.0, which its reports map to our start
    audio.add_sender_report(0, ntp(5000.0), start + 0.02)
    publisher._release_held()
    assert len(heard) == 0  # the video has no report yet
    video.add_sender_report(0, ntp(5000.0), start + 0.01)
    publisher._release_held()
    (a,), (v,) = [heard.get_nowait()], [seen.get_nowait()]
    assert a is not None and v is not None
    assert a.time == pytest.approx(start + 0.01 - audio.codec_delay) and not a.estimated
    assert v.time == pytest.approx(start + 0.01) and not v.estimated
    assert heard.get_nowait() is None and heard.held_since is None
    publisher._deliver(None, audio, audio_frame(960))  # from now on, as they come
    assert heard.get_nowait().time == pytest.approx(start + 0.03)  # type: ignore[union-attr]
    await publisher.close(LeaveReason.QUIT)

    late = Publisher("hold", 2, Role.HOST, "1" * 32)
    late._hold.limit = 0.2
    clock = TrackClock(late.sender_clock, 48_000, buffer_delay=0.08)
    clock.set_rtp_origin(0)
    stream = FrameStream(2, "audio", 100)
    late.add_stream(stream)
    late._deliver(None, clock, audio_frame(0))
    assert stream.held_since is not None
    async with asyncio.timeout(2):
        first = await anext(stream)
    assert first.estimated and late.arrival_timed == 1
    assert time.monotonic() - stream.held_since >= 0.2  # type: ignore[operator]
    await late.close(LeaveReason.QUIT)

    leaving = Publisher("hold", 3, Role.HOST, "2" * 32)
    clock = TrackClock(leaving.sender_clock, 48_000, buffer_delay=0.08)
    clock.set_rtp_origin(0)
    stream = FrameStream(3, "audio", 100)
    leaving.add_stream(stream)
    leaving._deliver(None, clock, audio_frame(0))
    await leaving.close(LeaveReason.QUIT)
    assert stream.ended and [stream.get_nowait() is not None, stream.get_nowait()] == [True, None]
