"""End-to-end encrypted media on aiortc's RTP path.

The frame format is :mod:`core.channel.e2ee`; this module puts it on aiortc's
RTP path, per sender or receiver instance (other peers are untouched), through
:mod:`core.channel.aiortc_hooks` (the one module that reaches into aiortc):

* **Sending** is the publishers' side: :mod:`core.participants.e2ee_sender`.
* **Receiving** (:func:`pass_through_receiver`): aiortc's receiver hands every
  reassembled frame to a decoder thread through a private queue. That queue is
  replaced by one that delivers the still-encoded frame to the track as an
  :class:`~core.channel.streams.EncodedFrame` (its ``pts`` mapped exactly as a
  decoded frame's would be), so the channel forwards opaque frames and never
  needs the secret. The decoder thread still starts and ends with the receiver,
  but never decodes.

Keyframe requests (RTCP PLI) are :func:`core.channel.aiortc_hooks.request_keyframe`.
The hooks raise :class:`~core.channel.errors.UnsupportedAiortcError` (a
``RuntimeError``) if an aiortc upgrade removed an internal they need.
"""

from __future__ import annotations

import queue
from typing import Any

from aiortc import RTCRtpReceiver

from core.channel.aiortc_hooks import (
    replace_decoder_queue,
    track_queue,
)
from core.channel.e2ee import Codec, is_keyframe
from core.channel.streams import EncodedFrame
from core.enums import VideoStreamType

# --- receiving -----------------------------------------------------------------------


class _PassThroughQueue(queue.Queue[Any]):
    """Stands in for a receiver's decoder queue: frames go to the track undecoded.

    ``put`` is called on the event loop (aiortc's RTP handler), so the track's asyncio
    queue is fed directly; ``None`` (the receiver stops) still goes to the idle
    decoder thread, which then ends the track after the frames already delivered.
    """

    def __init__(self, track_queue: Any, source: VideoStreamType | None) -> None:
        super().__init__()
        self._track_queue = track_queue
        self._source = source

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(None, block, timeout)
            return
        codec_parameters, jitter_frame = item
        frame = encoded_frame(codec_parameters, jitter_frame, self._source, encrypted=True)
        if frame is not None:
            self._track_queue.put_nowait(frame)


def encoded_frame(
    codec_parameters: Any, jitter_frame: Any, source: VideoStreamType | None, *, encrypted: bool
) -> EncodedFrame | None:
    """An :class:`EncodedFrame` of a reassembled frame (aiortc's codec parameters and
    jitter frame, its ``timestamp`` mapped as a decoded frame's ``pts`` would be), or
    ``None`` for a codec the channel does not accept."""
    try:
        codec = Codec.of(codec_parameters.name)
    except ValueError:
        return None
    data = bytes(jitter_frame.data)
    return EncodedFrame(
        data, str(codec), is_keyframe(codec, data), int(jitter_frame.timestamp), source, encrypted
    )


def pass_through_receiver(receiver: RTCRtpReceiver, source: VideoStreamType | None) -> None:
    """Make ``receiver``'s track yield :class:`EncodedFrame` instead of decoded frames.

    ``source`` is the video stream the receiver carries (``None`` for audio). Call
    before the receiver starts (before the connection is established).
    """
    frames = track_queue(receiver.track)
    replace_decoder_queue(receiver, _PassThroughQueue(frames, source))
