"""Frame timing: RTP -> sender NTP -> server monotonic, and the fallback before SRs."""

from __future__ import annotations

import pytest

from core.channel.clock import (
    NTP_UNIX_EPOCH_DIFF,
    SenderClock,
    TrackClock,
    ntp_to_seconds,
    rtp_delta,
)


def ntp(seconds: float) -> int:
    """Seconds since the NTP epoch as a 64-bit NTP timestamp."""
    return round(seconds * (1 << 32))


def test_ntp_and_rtp_arithmetic() -> None:
    assert ntp_to_seconds(ntp(3_900_000_000.25)) == pytest.approx(3_900_000_000.25)
    assert NTP_UNIX_EPOCH_DIFF == 2_208_988_800
    assert rtp_delta(10, 5) == 5
    assert rtp_delta(5, 10) == -5
    assert rtp_delta(3, 0xFFFF_FFFE) == 5  # across the wrap
    assert rtp_delta(0xFFFF_FFFE, 3) == -5


def test_frames_map_through_the_sender_report() -> None:
    sender = SenderClock()
    video = TrackClock(sender, 90_000, buffer_delay=0.07)
    video.set_rtp_origin(1_000_000)
    # The sender's clock reads 5000.0 s when it sends RTP 1_090_000 (1 s after the
    # first frame); the report arrives at our monotonic 100.010.
    video.add_sender_report(1_090_000, ntp(5000.0), arrival=100.010)
    assert video.synchronized
    assert sender.offset == pytest.approx(100.010 - 5000.0)
    # A frame 2 s after the first one was captured 1 s after the reported instant.
    assert video.frame_time(180_000, arrival=999.0) == pytest.approx(101.010)
    assert video.frame_time(90_000, arrival=999.0) == pytest.approx(100.010)


def test_audio_and_video_share_the_offset_of_the_fastest_report() -> None:
    sender = SenderClock()
    audio = TrackClock(sender, 48_000, buffer_delay=0.08)
    video = TrackClock(sender, 90_000, buffer_delay=0.07)
    audio.set_rtp_origin(0)
    video.set_rtp_origin(0)
    audio.add_sender_report(48_000, ntp(5001.0), arrival=101.050)  # 50 ms in transit
    video.add_sender_report(90_000, ntp(5001.0), arrival=101.010)  # 10 ms in transit
    assert sender.offset == pytest.approx(100.010 - 5000.0)
    # Both tracks' frames captured at sender time 5001.0 land on the same instant.
    assert audio.frame_time(48_000, arrival=0) == pytest.approx(video.frame_time(90_000, 0))


def sender_time(track: TrackClock, pts: int) -> float:
    """The sender wall clock time ``track`` gives the frame with ``pts``."""
    assert track.sender.offset is not None
    return track.frame_time(pts, arrival=0) - track.sender.offset


def test_the_least_delayed_report_of_a_track_sets_its_timeline() -> None:
    """aiortc pairs the last packet's RTP timestamp with the moment it was sent."""
    sender = SenderClock()
    video = TrackClock(sender, 90_000, buffer_delay=0.07)
    video.set_rtp_origin(0)
    # Frame k is captured at sender time 5000 + k/15 and sent 5, 45 and 8 ms later.
    for k, delay in ((15, 0.005), (30, 0.045), (45, 0.008)):
        captured = 5000.0 + k / 15
        video.add_sender_report(k * 6000, ntp(captured + delay), arrival=100.0 + k / 15)
        assert sender_time(video, k * 6000) == pytest.approx(5001.005 + (k - 15) / 15)
    # Reports older than the window no longer count.
    video.add_sender_report(600 * 6000, ntp(5040.0 + 0.020), arrival=140.0)
    assert sender_time(video, 600 * 6000) == pytest.approx(5040.020)


def test_a_new_rtp_timeline_replaces_the_old_one() -> None:
    sender = SenderClock()
    audio = TrackClock(sender, 48_000, buffer_delay=0.08)
    audio.set_rtp_origin(0)
    audio.add_sender_report(48_000, ntp(5001.0), arrival=101.0)
    # The sender paused 3 s without advancing its RTP clock: the same RTP distance
    # now means 3 s more of wall time, which no delayed report explains.
    audio.add_sender_report(96_000, ntp(5005.0), arrival=105.0)
    assert sender_time(audio, 96_000) == pytest.approx(5005.0)


def test_offset_window_follows_drift() -> None:
    sender = SenderClock(window=30.0)
    sender.add_report(1000.0, arrival=10.0)  # offset -990.0
    sender.add_report(1020.0, arrival=30.5)  # -989.5
    assert sender.offset == pytest.approx(-990.0)
    sender.add_report(1045.0, arrival=55.5)  # the first report left the window
    assert sender.offset == pytest.approx(-989.5)


def test_rtp_wrap_between_report_and_frame() -> None:
    sender = SenderClock()
    track = TrackClock(sender, 90_000, buffer_delay=0.07)
    track.set_rtp_origin(0xFFFF_0000)
    track.add_sender_report(0xFFFF_0000, ntp(10.0), arrival=50.0)
    # pts keeps counting past the 32-bit wrap of the RTP timestamp.
    assert track.frame_time(0x0002_0000, arrival=0) == pytest.approx(50.0 + 0x20000 / 90_000)


def test_fallback_before_the_first_report() -> None:
    track = TrackClock(SenderClock(), 90_000, buffer_delay=0.07)
    track.set_rtp_origin(123)
    assert not track.synchronized
    assert track.frame_time(0, arrival=10.0) == pytest.approx(9.93)
    # A late frame keeps its RTP spacing to the first one...
    assert track.frame_time(9_000, arrival=10.2) == pytest.approx(10.03)
    # ...an early one moves the anchor to the faster path.
    assert track.frame_time(18_000, arrival=10.15) == pytest.approx(10.08)
    assert track.frame_time(0, arrival=99.0) == pytest.approx(9.88)


def test_false_wraps_in_pts_are_ignored() -> None:
    """aiortc adds 2**32 to pts whenever a frame's RTP timestamp steps back."""
    track = TrackClock(SenderClock(), 90_000, buffer_delay=0.07)
    track.set_rtp_origin(1000)
    assert track.frame_time(0, arrival=10.0) == pytest.approx(9.93)
    assert track.frame_time(9_000, arrival=10.17) == pytest.approx(10.03)
    reordered = 4_500 + (1 << 32)  # 50 ms before the previous frame
    assert track.frame_time(reordered, arrival=10.2) == pytest.approx(9.98)
    assert track.frame_time(18_000 + (1 << 32), arrival=10.27) == pytest.approx(10.13)
    track.add_sender_report(1000 + 18_000, ntp(500.0), arrival=20.0)
    assert track.frame_time(27_000 + 2 * (1 << 32), arrival=0) == pytest.approx(20.1)


def test_report_before_the_first_frame() -> None:
    track = TrackClock(SenderClock(), 48_000, buffer_delay=0.08)
    track.add_sender_report(500, ntp(1.0), arrival=2.0)
    track.set_rtp_origin(500)
    assert track.synchronized
    assert track.frame_time(480, arrival=5.0) == pytest.approx(2.01)


def test_codec_delay_is_taken_off_every_frame_time() -> None:
    sender = SenderClock()
    audio = TrackClock(sender, 48_000, buffer_delay=0.08, codec_delay=0.0065)
    audio.set_rtp_origin(0)
    assert audio.frame_time(0, arrival=10.0) == pytest.approx(10.0 - 0.08 - 0.0065)
    audio.add_sender_report(48_000, ntp(5001.0), arrival=101.0)
    assert sender_time(audio, 96_000) == pytest.approx(5002.0 - 0.0065)
