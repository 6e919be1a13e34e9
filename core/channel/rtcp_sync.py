"""The one place where cloudrec reaches into aiortc's RTP receiver for timing.

aiortc (1.16) reads RTCP sender reports but keeps only what its receiver reports
need; the RTP timestamp of the report, which lip sync needs, is dropped. It also
rebases every frame's ``pts`` on the track's first RTP timestamp and forgets that
origin. :func:`observe_receiver` keeps both, per receiver instance, without changing
what aiortc does:

* the receiver's ``_handle_rtcp_packet`` is wrapped (instance attribute, so other
  receivers are untouched) to hand each sender report of the media SSRC to a
  :class:`~core.channel.clock.TrackClock` before aiortc handles it;
* the receiver's private ``TimestampMapper`` is replaced by a subclass that tells
  the clock the first RTP timestamp it saw.

Both depend on aiortc internals: :func:`observe_receiver` checks that they exist
and fails loudly (``RuntimeError``) if an aiortc upgrade removed them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCRtpReceiver
from aiortc.rtcrtpreceiver import TimestampMapper
from aiortc.rtp import RtcpSrPacket

from core.channel.clock import TrackClock
from core.channel.decoding import missing_internal

_MAPPER_ATTR = "_RTCRtpReceiver__timestamp_mapper"
RTX_ATTR = "_RTCRtpReceiver__rtx_ssrc"
"""aiortc's (1.16) private attribute mapping a receiver's RTX SSRCs to media SSRCs."""


class _OriginTimestampMapper(TimestampMapper):
    """aiortc's mapper, reporting the first RTP timestamp to a clock."""

    def __init__(self, clock: TrackClock) -> None:
        super().__init__()
        self._clock = clock

    def map(self, timestamp: int) -> int:
        if self._origin is None:
            self._clock.set_rtp_origin(timestamp)
        result: int = super().map(timestamp)
        return result


def observe_receiver(receiver: RTCRtpReceiver, clock: TrackClock) -> None:
    """Feed ``clock`` from ``receiver``: call before the receiver gets any packet."""
    if not hasattr(receiver, _MAPPER_ATTR) or not hasattr(receiver, RTX_ATTR):
        raise missing_internal("RTCRtpReceiver timestamp mapper", __name__)
    setattr(receiver, _MAPPER_ATTR, _OriginTimestampMapper(clock))
    rtx_ssrcs: dict[int, int] = getattr(receiver, RTX_ATTR)
    handle: Callable[[Any], Awaitable[None]] = receiver._handle_rtcp_packet

    async def handle_rtcp_packet(packet: Any) -> None:
        # Sender reports of the retransmission stream describe another timeline.
        if isinstance(packet, RtcpSrPacket) and packet.ssrc not in rtx_ssrcs:
            info = packet.sender_info
            clock.add_sender_report(info.rtp_timestamp, info.ntp_timestamp, time.monotonic())
        await handle(packet)

    receiver._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]
