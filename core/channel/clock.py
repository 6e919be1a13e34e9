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
   monotonic clock: the smallest ``arrival - sender NTP`` of that user's recent SRs
   (the SR that travelled fastest). Audio and video of a user share this offset, so
   their relative timing is exactly what the sender reported.
4. A codec's algorithmic delay is taken off: an Opus decoder's output at RTP time
   ``t`` is what the sender's microphone took at ``t`` minus the encoder's
   look-ahead (:data:`OPUS_LOOKAHEAD`, 6.5 ms, the same in libopus for aiortc and
   browsers), which no RTP timestamp accounts for.
5. Before a track's first SR (0.5-1.5 s after start) the time is the arrival time
   minus the typical buffer delay of its kind (:data:`AUDIO_BUFFER_DELAY`,
   :data:`VIDEO_BUFFER_DELAY`), anchored on the earliest-arriving frame so that
   consecutive frames keep their RTP spacing.

This module is pure arithmetic (no aiortc import) so it can be unit tested;
:mod:`core.channel.rtcp_sync` feeds it from aiortc's receiver.
"""

from __future__ import annotations

from collections import deque

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

NTP_UNIX_EPOCH_DIFF = 2_208_988_800
"""Seconds from the NTP epoch (1900) to the Unix epoch (1970)."""


def ntp_to_seconds(ntp: int) -> float:
    """A 64-bit NTP timestamp (32.32 fixed point) as seconds since the NTP epoch."""
    return (ntp >> 32) + (ntp & 0xFFFFFFFF) / 4_294_967_296.0


def rtp_delta(a: int, b: int) -> int:
    """``a - b`` for 32-bit RTP timestamps, taking wrap-around into account."""
    d = (a - b) & 0xFFFFFFFF
    return d - (1 << 32) if d >= (1 << 31) else d


class SenderClock:
    """The offset between one sender's wall clock (NTP) and our monotonic clock.

    Shared by all tracks of one user, so their frames stay in the sender's relative
    timing.
    """

    def __init__(self, window: float = OFFSET_WINDOW) -> None:
        self._window = window
        self._samples: deque[tuple[float, float]] = deque()  # (arrival, candidate)
        self._offset: float | None = None

    @property
    def offset(self) -> float | None:
        """``monotonic - sender_ntp_seconds``, or ``None`` before the first SR."""
        return self._offset

    def add_report(self, ntp_seconds: float, arrival: float) -> None:
        """Record a sender report sent at ``ntp_seconds`` (sender clock) that arrived
        at ``arrival`` (our monotonic clock)."""
        self._samples.append((arrival, arrival - ntp_seconds))
        while self._samples and self._samples[0][0] < arrival - self._window:
            self._samples.popleft()
        self._offset = min(candidate for _, candidate in self._samples)


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
        self._report: tuple[int, float] | None = None  # (rtp timestamp, ntp seconds)
        self._reports: deque[tuple[float, int, float]] = deque()  # (arrival, rtp, ntp)
        self._last: tuple[int, int] | None = None  # (rtp timestamp, unwrapped)
        self._fallback_anchor: float | None = None

    @property
    def synchronized(self) -> bool:
        """Whether frame times come from sender reports (not the arrival fallback)."""
        return self._report is not None and self.sender.offset is not None

    def set_rtp_origin(self, rtp_timestamp: int) -> None:
        """The RTP timestamp of the track's first frame (``pts`` 0)."""
        self._rtp_origin = rtp_timestamp & 0xFFFFFFFF

    def add_sender_report(self, rtp_timestamp: int, ntp: int, arrival: float) -> None:
        """Record a sender report of this track (raw 32-bit RTP, 64-bit NTP)."""
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
        reports.append((arrival, rtp, ntp_seconds))
        self._report = (rtp, min([*implied, ntp_seconds]))
        self.sender.add_report(ntp_seconds, arrival)

    def frame_time(self, pts: int, arrival: float) -> float:
        """Capture time of the frame with ``pts`` that ``recv()`` returned at
        ``arrival``, on the monotonic clock."""
        rtp = (self._rtp_origin + pts) & 0xFFFFFFFF
        unwrapped = self._unwrap(rtp)
        offset = self.sender.offset
        if self._report is not None and offset is not None:
            report_rtp, report_ntp = self._report
            sender_time = report_ntp + rtp_delta(rtp, report_rtp) / self.clock_rate
            return sender_time + offset - self.codec_delay
        return self._fallback_time(unwrapped / self.clock_rate, arrival) - self.codec_delay

    def _unwrap(self, rtp: int) -> int:
        unwrapped = rtp if self._last is None else self._last[1] + rtp_delta(rtp, self._last[0])
        self._last = (rtp, unwrapped)
        return unwrapped

    def _fallback_time(self, media_time: float, arrival: float) -> float:
        anchor = arrival - self.buffer_delay - media_time
        if self._fallback_anchor is None or anchor < self._fallback_anchor:
            self._fallback_anchor = anchor
        return self._fallback_anchor + media_time
