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


def test_a_report_with_a_zero_ntp_timestamp_is_ignored() -> None:
    """aiortc reports NTP 0 and RTP 0 until it sent its first RTP packet (a video track
    starting after its first report); RFC 3550 lets a sender without a clock send 0."""
    sender = SenderClock()
    video = TrackClock(sender, 90_000, buffer_delay=0.07)
    video.set_rtp_origin(5_000)
    video.add_sender_report(0, 0, arrival=100.0)
    assert not video.synchronized and sender.offset is None
    video.add_sender_report(5_000, ntp(5000.0), arrival=100.6)
    assert video.synchronized
    assert video.frame_time(9_000, arrival=999.0) == pytest.approx(100.7)


def test_a_frame_stamped_before_the_first_report_is_timed_by_it_afterwards() -> None:
    """The stamp keeps the RTP timestamp: the report that comes later times the frame
    exactly, as if it had been there when the frame arrived."""
    sender = SenderClock()
    audio = TrackClock(sender, 48_000, buffer_delay=0.08)
    audio.set_rtp_origin(1_000)
    early = audio.stamp(0, arrival=10.1)  # captured at sender time 4999.0
    assert audio.report_time(early) is None
    assert audio.arrival_time(early) == pytest.approx(10.02)
    later = audio.stamp(960, arrival=10.12)
    audio.add_sender_report(1_000 + 48_000, ntp(5000.0), arrival=11.03)  # 30 ms in transit
    assert audio.report_time(early) == pytest.approx(10.03)
    assert audio.report_time(later) == pytest.approx(10.05)
    # the arrival estimate keeps the fastest frame's anchor and the RTP spacing
    assert audio.arrival_time(later) == pytest.approx(10.04)


def test_a_sender_waits_for_its_tracks_that_carry_media() -> None:
    sender = SenderClock()
    audio = TrackClock(sender, 48_000, buffer_delay=0.08)
    video = TrackClock(sender, 90_000, buffer_delay=0.07)
    low = TrackClock(sender, 90_000, buffer_delay=0.07)
    assert sender.tracks == [audio, video, low]
    assert sender.waiting() == []  # no media yet: nothing to wait for
    audio.set_rtp_origin(0)
    video.set_rtp_origin(0)
    assert sender.waiting() == [audio, video]  # the low stream sends nothing
    audio.add_sender_report(48_000, ntp(5001.0), arrival=101.0)
    assert sender.waiting() == [video]
    video.add_sender_report(90_000, ntp(5001.0), arrival=101.0)
    assert sender.waiting() == []


def test_the_fastest_packet_bounds_the_offset_when_the_reports_come_late() -> None:
    """A busy event loop read the first report 42 ms late; the packets around it, some
    read at once, give the offset the report alone would have given had it been read
    at once (docs/channel.md, Timing and lip sync)."""
    sender = SenderClock()
    audio = TrackClock(sender, 48_000, buffer_delay=0.08)
    audio.set_rtp_origin(0)
    # Packet k is captured at sender time 5000 + k/50 (RTP k * 960) and read at our
    # 100 + k/50 + 3 ms, but the loop held packets 5..9 for 30 ms.
    for k in range(20):
        held = 0.030 if 5 <= k < 10 else 0.0
        audio.add_packet(k * 960, arrival=100.0 + k / 50 + 0.003 + held)
    assert audio.packet_offset() is None  # no report: packets map to no sender time
    audio.add_sender_report(19 * 960, ntp(5000.0 + 19 / 50), arrival=100.0 + 19 / 50 + 0.042)
    assert sender.offset == pytest.approx(100.003 - 5000.0)
    assert audio.frame_time(10 * 960, arrival=0) == pytest.approx(100.0 + 10 / 50 + 0.003)


def test_packets_across_the_rtp_wrap_keep_their_offset() -> None:
    sender = SenderClock()
    video = TrackClock(sender, 90_000, buffer_delay=0.07)
    first = 0xFFFF_FFFF - 6000  # two frames before the wrap
    video.set_rtp_origin(first)
    for k in range(6):
        video.add_packet((first + k * 3000) & 0xFFFF_FFFF, arrival=50.0 + k / 30 + 0.002)
    video.add_sender_report((first + 5 * 3000) & 0xFFFF_FFFF, ntp(7000.0), arrival=50.2)
    assert video.packet_offset() == pytest.approx(50.002 + 5 / 30 - 7000.0)
    assert sender.offset == pytest.approx(50.002 + 5 / 30 - 7000.0)


def test_a_new_rtp_timeline_in_the_packets_starts_their_window_afresh() -> None:
    """Packets of a restarted timeline, before the report that describes it, never
    pull the offset below what the reports say."""
    sender = SenderClock()
    audio = TrackClock(sender, 48_000, buffer_delay=0.08)
    audio.set_rtp_origin(0)
    for k in range(10):
        audio.add_packet(k * 960, arrival=10.0 + k / 50 + 0.001)
    audio.add_sender_report(9 * 960, ntp(900.0 + 9 / 50), arrival=10.0 + 9 / 50 + 0.020)
    assert sender.offset == pytest.approx(10.001 - 900.0)
    # The sender restarts its RTP clock at a random value, 3 s of ticks ahead.
    restart = 10 * 960 + 3 * 48_000
    for k in range(10):
        audio.add_packet(restart + k * 960, arrival=10.2 + k / 50 + 0.001)
    # the window holds only the new timeline's packets, which the old report maps 3 s
    # too late: below the reports' offset by more than TIMELINE_JUMP, so left out
    assert audio.packet_offset() == pytest.approx(10.001 - 900.0 - 3.0)
    assert sender.offset == pytest.approx(10.0 + 9 / 50 + 0.020 - (900.0 + 9 / 50))
    # the report of the new timeline maps them again
    audio.add_sender_report(restart + 9 * 960, ntp(900.2 + 9 / 50), arrival=10.2 + 9 / 50 + 0.02)
    assert sender.offset == pytest.approx(10.001 - 900.0)
