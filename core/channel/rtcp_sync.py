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
  (:func:`~core.channel.aiortc_hooks.report_rtp_origin`);
* each RTP packet's timestamp and arrival go to the clock as the transport hands the
  packet over (:func:`~core.channel.aiortc_hooks.observe_rtp_packets`): the fastest
  bounds the sender's clock offset sooner and tighter than the reports alone.

Both depend on aiortc internals: the hooks raise
:class:`~core.channel.errors.UnsupportedAiortcError` (a ``RuntimeError``) if an
aiortc upgrade removed them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiortc import RTCRtpReceiver

from core.channel.aiortc_hooks import (
    observe_rtp_packets,
    observe_sender_reports,
    report_rtp_origin,
    rtx_ssrcs,
)
from core.channel.clock import TrackClock


def observe_receiver(
    receiver: RTCRtpReceiver, clock: TrackClock, on_report: Callable[[], None] | None = None
) -> None:
    """Feed ``clock`` from ``receiver``: call before the receiver gets any packet.
    ``on_report`` is called after each sender report reached the clock (frames held
    for it may be timed now: :mod:`core.channel.hold`)."""
    rtx = rtx_ssrcs(receiver)  # live: filled when the receiver starts
    report_rtp_origin(receiver, clock.set_rtp_origin)

    def sender_report(ssrc: int, rtp_timestamp: int, ntp_timestamp: int) -> None:
        # Sender reports of the retransmission stream describe another timeline.
        if ssrc not in rtx:
            clock.add_sender_report(rtp_timestamp, ntp_timestamp, time.monotonic())
            if on_report is not None:
                on_report()

    def rtp_packet(ssrc: int, rtp_timestamp: int) -> None:
        if ssrc not in rtx:  # a retransmission arrives late by design
            clock.add_packet(rtp_timestamp, time.monotonic())

    observe_sender_reports(receiver, sender_report)
    observe_rtp_packets(receiver, rtp_packet)
