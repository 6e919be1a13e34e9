"""Map received media timestamps to the server's clock, for lip sync.

Every frame the channel delivers carries a ``time``: the sender's capture time of
that frame, in seconds on this process's :func:`time.monotonic` (see
``docs/interfaces.md``). Audio and video of one user, and different users, can then
be placed on one timeline by that number alone.

How a frame's time is found:

1. aiortc gives a decoded frame a ``pts`` that counts RTP ticks from the first frame
   of its track; adding that first frame's RTP timestamp gives the frame's RTP
   timestamp again (:meth:`TrackClock.set_rtp_origin`).
2. An RTCP sender report (SR) pairs an RTP timestamp of the track with the sender's
   NTP wall clock, and so a frame's RTP timestamp becomes a sender wall clock time
   (its capture time). Senders are not exact here: aiortc pairs the RTP timestamp of
   the last packet it sent with the moment it sent it, so each report is late by
   that packet's encoding and scheduling delay (tens of milliseconds on a busy
   sender, different for audio and video). Each track therefore keeps the reports
   of the last :data:`REPORT_WINDOW` seconds and uses the earliest capture time
   they imply for the newest report's RTP timestamp (the report sent with the least
   delay); a report implying a time :data:`TIMELINE_JUMP` later than that starts a
   new window (the sender restarted its RTP timeline).
3. One offset per user (:class:`SenderClock`) maps the sender's wall clock to our
   monotonic clock: the smallest ``arrival - sender time`` of that user's recent SRs
   and RTP packets. An SR's sender time is its NTP timestamp; a packet's is the
   capture time its RTP timestamp maps to through its track's reports (2.), and
   its arrival is when the transport handed it to the receiver (before the jitter
   buffer). Packets come 50-100 times a second per track, reports about once a
   second, and an event loop busy when the first reports come makes them look late
   (a loaded run measured 42 ms): the fastest packet bounds the offset within a
   frame's time of the track starting. Audio and video of a user share this offset,
   so their relative timing is exactly what the sender reported.
4. A codec's algorithmic delay is taken off: an Opus decoder's output at RTP time
   ``t`` is what the sender's microphone took at ``t`` minus the encoder's
   look-ahead (:data:`OPUS_LOOKAHEAD`, 6.5 ms, the same in libopus for aiortc and
   browsers), which no RTP timestamp accounts for.
5. Before a track's first SR (0.5-1.5 s after start) its frames have no such time.
   The channel holds them back (:mod:`core.channel.hold`) and times them from their
   RTP timestamps once the reports come (:meth:`TrackClock.stamp` keeps what that
   needs, :meth:`TrackClock.report_time` computes it). Only when no report comes within
   :data:`HOLD_LIMIT` is a frame timed by its arrival (:meth:`TrackClock.arrival_time`):
   the arrival time minus the typical buffer delay of its kind
   (:data:`AUDIO_BUFFER_DELAY`, :data:`VIDEO_BUFFER_DELAY`), anchored on the
   earliest-arriving frame so that consecutive frames keep their RTP spacing.

A report whose NTP timestamp is zero says nothing of the sender's clock (RFC 3550,
6.4.1: a sender without a wall clock sends zero; aiortc sends zero, with RTP
timestamp zero, until its first RTP packet) and is ignored.

This module is pure arithmetic (no aiortc import) so it can be unit tested;
:mod:`core.channel.rtcp_sync` feeds it from aiortc's receiver.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

AUDIO_BUFFER_DELAY = 0.080
"""Seconds between an audio frame's capture and its ``recv()`` in aiortc (prefetch of
4 packets plus transport), measured on loopback."""

VIDEO_BUFFER_DELAY = 0.070
"""Seconds between a video frame's capture and its ``recv()`` in aiortc (the jitter
buffer releases a frame when the next frame's first packet arrives)."""

OFFSET_WINDOW = 30.0
"""Seconds of sender reports over which the smallest clock offset is taken. A window
rather than all history lets the offset follow a slow drift between the sender's
clock and ours."""

OPUS_LOOKAHEAD = 312 / 48_000
"""Seconds by which libopus's decoded audio lags the RTP timestamp it is labelled
with: 2.5 ms of look-ahead plus 4 ms of delay compensation at 48 kHz (the pre-skip
an Ogg Opus file would declare; RTP carries no such field)."""

REPORT_WINDOW = 10.0
"""Seconds of one track's sender reports over which the least delayed one is taken.
Short, so that a sender whose RTP clock runs at a slightly different rate from its
wall clock (a sound card's crystal) moves the result by well under a millisecond."""

TIMELINE_JUMP = 0.5
"""Seconds by which a sender report may imply a later capture time than the window's
best before it is taken for a new RTP timeline rather than a delayed report."""

HOLD_LIMIT = 3.0
"""Seconds a sender's frames are held back, at most, waiting for its first sender
reports (from the arrival of the first frame held). aiortc sends a track's first
report 0.5-1.5 s after the track starts; Chromium sends its video's within half a
second and its audio's 2.0-2.25 s after the first frame (measured; libwebrtc reports
audio every 5 s, the first after half that). The rest is for a loaded event loop. A
subscriber that renders on a deadline (the recorder) waits for held frames up to this
long (``docs/channel.md``, "Timing and lip sync")."""

NTP_UNIX_EPOCH_DIFF = 2_208_988_800
"""Seconds from the NTP epoch (1900) to the Unix epoch (1970)."""


def ntp_to_seconds(ntp: int) -> float:
    """A 64-bit NTP timestamp (32.32 fixed point) as seconds since the NTP epoch."""
    return (ntp >> 32) + (ntp & 0xFFFFFFFF) / 4_294_967_296.0


def rtp_delta(a: int, b: int) -> int:
    """``a - b`` for 32-bit RTP timestamps, taking wrap-around into account."""
    d = (a - b) & 0xFFFFFFFF
    return d - (1 << 32) if d >= (1 << 31) else d


@dataclass(frozen=True)
class Stamp:
    """What a received frame's time is computed from, taken when it arrives."""

    rtp: int
    """The frame's 32-bit RTP timestamp."""
    media_time: float
    """Seconds of RTP time since the track's first frame (unwrapped)."""
    arrival: float
    """When the frame was received (server monotonic)."""


class WindowMinimum:
    """The smallest value added in the last ``window`` seconds (a monotonic deque:
    amortised constant time per value, for a value per RTP packet)."""

    def __init__(self, window: float) -> None:
        self._window = window
        self._items: deque[tuple[float, float]] = deque()  # (when, value), values rising

    def add(self, when: float, value: float) -> None:
        items = self._items
        while items and items[-1][1] >= value:
            items.pop()
        items.append((when, value))
        while items[0][0] < when - self._window:
            items.popleft()

    def clear(self) -> None:
        self._items.clear()

    @property
    def value(self) -> float | None:
        """The smallest value of the window, ``None`` when nothing was added in it."""
        return self._items[0][1] if self._items else None


class SenderClock:
    """The offset between one sender's wall clock (NTP) and our monotonic clock.

    Shared by all tracks of one user, so their frames stay in the sender's relative
    timing. It knows those tracks (each :class:`TrackClock` adds itself), so it can
    tell which of them still wait for a first report (:meth:`waiting`).
    """

    def __init__(self, window: float = OFFSET_WINDOW) -> None:
        self.window = window
        self._reports = WindowMinimum(window)
        self.tracks: list[TrackClock] = []
        """The clocks of this sender's tracks."""

    @property
    def offset(self) -> float | None:
        """``monotonic - sender_ntp_seconds``, or ``None`` before the first SR: the
        smallest of the reports' and of the packets of tracks that have a report.

        A packet-based value more than :data:`TIMELINE_JUMP` below the reports' is
        left out: its track's RTP timeline restarted and no report of the new one
        came yet, so its packets do not map through the reports held."""
        reports = self._reports.value
        if reports is None:
            return None
        packets = [o for t in self.tracks if (o := t.packet_offset()) is not None]
        return min([reports, *(o for o in packets if o > reports - TIMELINE_JUMP)])

    def waiting(self) -> list[TrackClock]:
        """The tracks that carry media but whose frames cannot be timed from sender
        reports yet (no usable report of theirs so far)."""
        return [t for t in self.tracks if t.has_media and not t.synchronized]

    def add_report(self, ntp_seconds: float, arrival: float) -> None:
        """Record a sender report sent at ``ntp_seconds`` (sender clock) that arrived
        at ``arrival`` (our monotonic clock)."""
        self._reports.add(arrival, arrival - ntp_seconds)


class TrackClock:
    """Turns the ``pts`` of one received track's frames into server monotonic time.

    Only the low 32 bits of ``origin + pts`` are trusted: aiortc's timestamp mapper
    takes every backwards step of the RTP timestamp (a reordered frame, as
    Chromium sends) for a wrap and adds 2**32 to all later ``pts``. Timestamps are
    therefore unwrapped here, by the signed 32-bit distance to the previous frame.
    """

    def __init__(
        self, sender: SenderClock, clock_rate: int, buffer_delay: float, codec_delay: float = 0.0
    ) -> None:
        self.sender = sender
        self.clock_rate = clock_rate
        self.buffer_delay = buffer_delay
        self.codec_delay = codec_delay
        """Seconds by which decoded media lags its RTP timestamp (taken off every time)."""
        self._rtp_origin = 0
        self.has_media = False
        """Whether the track's first frame arrived (its RTP origin is known)."""
        self._report: tuple[int, float] | None = None  # (rtp timestamp, ntp seconds)
        self._reports: deque[tuple[float, int, float]] = deque()  # (arrival, rtp, ntp)
        self._last: tuple[int, int] | None = None  # (rtp timestamp, unwrapped)
        self._fallback_anchor: float | None = None
        self._packets = WindowMinimum(sender.window)  # arrival - unwrapped RTP seconds
        self._last_packet: tuple[int, int, float] | None = None  # (rtp, unwrapped, value)
        sender.tracks.append(self)

    @property
    def synchronized(self) -> bool:
        """Whether frame times come from sender reports (not the arrival fallback)."""
        return self._report is not None and self.sender.offset is not None

    def set_rtp_origin(self, rtp_timestamp: int) -> None:
        """The RTP timestamp of the track's first frame (``pts`` 0)."""
        self._rtp_origin = rtp_timestamp & 0xFFFFFFFF
        self.has_media = True

    def add_sender_report(self, rtp_timestamp: int, ntp: int, arrival: float) -> None:
        """Record a sender report of this track (raw 32-bit RTP, 64-bit NTP); one with
        a zero NTP timestamp carries no sender time and is ignored."""
        if ntp == 0:
            return
        ntp_seconds = ntp_to_seconds(ntp)
        rtp = rtp_timestamp & 0xFFFFFFFF
        reports = self._reports
        while reports and reports[0][0] < arrival - REPORT_WINDOW:
            reports.popleft()
        # The capture time each kept report implies for this report's RTP timestamp.
        implied = [n + rtp_delta(rtp, r) / self.clock_rate for _, r, n in reports]
        if implied and ntp_seconds - min(implied) > TIMELINE_JUMP:
            reports.clear()
            implied.clear()
            self._packets.clear()
        reports.append((arrival, rtp, ntp_seconds))
        self._report = (rtp, min([*implied, ntp_seconds]))
        self.sender.add_report(ntp_seconds, arrival)

    def add_packet(self, rtp_timestamp: int, arrival: float) -> None:
        """Record an RTP packet of this track (raw 32-bit RTP timestamp) that the
        transport handed over at ``arrival`` (our monotonic clock).

        Its ``arrival - RTP seconds`` (unwrapped) goes into a window minimum; a value
        :data:`TIMELINE_JUMP` away from the previous packet's is a new RTP timeline,
        and the window starts afresh."""
        rtp = rtp_timestamp & 0xFFFFFFFF
        last = self._last_packet
        unwrapped = rtp if last is None else last[1] + rtp_delta(rtp, last[0])
        value = arrival - unwrapped / self.clock_rate
        if last is not None and abs(value - last[2]) > TIMELINE_JUMP:
            self._packets.clear()
        self._last_packet = (rtp, unwrapped, value)
        self._packets.add(arrival, value)

    def packet_offset(self) -> float | None:
        """The smallest ``arrival - sender time`` of this track's recent packets, their
        sender (capture) times from the track's reports; ``None`` before both."""
        least = self._packets.value
        if least is None or self._report is None or self._last_packet is None:
            return None
        report_rtp, report_ntp = self._report
        last_rtp, last_unwrapped, _ = self._last_packet
        report_seconds = (last_unwrapped + rtp_delta(report_rtp, last_rtp)) / self.clock_rate
        return least - (report_ntp - report_seconds)

    def frame_time(self, pts: int, arrival: float) -> float:
        """Capture time of the frame with ``pts`` that ``recv()`` returned at
        ``arrival``, on the monotonic clock: from the sender reports, or before the
        first one from arrival."""
        stamp = self.stamp(pts, arrival)
        when = self.report_time(stamp)
        return self.arrival_time(stamp) if when is None else when

    def stamp(self, pts: int, arrival: float) -> Stamp:
        """Take what the time of the frame with ``pts``, received at ``arrival``, is
        computed from. Call for every frame of the track, in the order received (it
        unwraps the RTP timestamp and anchors the arrival fallback)."""
        rtp = (self._rtp_origin + pts) & 0xFFFFFFFF
        unwrapped = rtp if self._last is None else self._last[1] + rtp_delta(rtp, self._last[0])
        self._last = (rtp, unwrapped)
        media_time = unwrapped / self.clock_rate
        anchor = arrival - self.buffer_delay - media_time
        if self._fallback_anchor is None or anchor < self._fallback_anchor:
            self._fallback_anchor = anchor
        return Stamp(rtp, media_time, arrival)

    def report_time(self, stamp: Stamp) -> float | None:
        """The frame's capture time from the sender reports (monotonic clock), with
        what they tell now; ``None`` before the track's first report."""
        offset = self.sender.offset
        if self._report is None or offset is None:
            return None
        report_rtp, report_ntp = self._report
        sender_time = report_ntp + rtp_delta(stamp.rtp, report_rtp) / self.clock_rate
        return sender_time + offset - self.codec_delay

    def arrival_time(self, stamp: Stamp) -> float:
        """The frame's capture time estimated from arrival (point 5 of the module's
        description), anchored on the fastest frame of the track so far."""
        anchor = self._fallback_anchor
        assert anchor is not None, "a stamp of this clock anchors it"
        return anchor + stamp.media_time - self.codec_delay
