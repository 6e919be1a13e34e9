"""Feed a track's clock from aiortc's RTP receiver (lip sync).

aiortc (1.16) reads RTCP sender reports but keeps only what its receiver reports
need; the RTP timestamp of the report, which lip sync needs, is dropped. It also
rebases every frame's ``pts`` on the track's first RTP timestamp and forgets that
origin. :func:`observe_receiver` keeps both, per receiver instance, without changing
what aiortc does, through :mod:`core.channel.aiortc_hooks` (the one module that
reaches into aiortc):

* each sender report of the media SSRC goes to a
  :class:`~core.channel.clock.TrackClock` before aiortc handles it
  (:func:`~core.channel.aiortc_hooks.observe_sender_reports`);
* the first RTP timestamp the receiver maps goes to the clock too
  (:func:`~core.channel.aiortc_hooks.report_rtp_origin`).

Both depend on aiortc internals: the hooks raise
:class:`~core.channel.errors.UnsupportedAiortcError` (a ``RuntimeError``) if an
aiortc upgrade removed them.
"""

from __future__ import annotations

import time

from aiortc import RTCRtpReceiver

from core.channel.aiortc_hooks import observe_sender_reports, report_rtp_origin, rtx_ssrcs
from core.channel.clock import TrackClock


def observe_receiver(receiver: RTCRtpReceiver, clock: TrackClock) -> None:
    """Feed ``clock`` from ``receiver``: call before the receiver gets any packet."""
    rtx = rtx_ssrcs(receiver)  # live: filled when the receiver starts
    report_rtp_origin(receiver, clock.set_rtp_origin)

    def sender_report(ssrc: int, rtp_timestamp: int, ntp_timestamp: int) -> None:
        # Sender reports of the retransmission stream describe another timeline.
        if ssrc not in rtx:
            clock.add_sender_report(rtp_timestamp, ntp_timestamp, time.monotonic())

    observe_sender_reports(receiver, sender_report)
