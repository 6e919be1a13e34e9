"""Decode a received track only while somebody receives it.

aiortc decodes every track it receives: each reassembled frame goes from the event
loop to the receiver's decoder thread, and every decoded frame comes back through
the loop. A publisher's LOW video that nobody records, or every track of a channel
while no recording runs, would cost a decode and two thread hand-offs per frame for
nothing, and on a busy server that work competes for the GIL with the recorder.

A :class:`DecodeGate` stands in for a receiver's private decoder queue (installed
before the receiver starts, as :mod:`core.channel.e2ee_rtp` does for encrypted
media). Its ``put`` runs on the event loop for every reassembled frame:

* it first notes that media arrived (the publisher's liveness watchdog must not
  depend on decoding);
* closed, it drops the frame there, before any thread is woken;
* opened, it passes frames to the decoder thread from the next frame that starts a
  picture (a VP8 key frame, an H.264 IDR/SPS; every audio frame), so the decoder
  never starts from a missing reference. It asks the sender for a keyframe (RTCP
  PLI) when it opens and again every :data:`KEYFRAME_RETRY` seconds while it waits.

Timing is unaffected: aiortc maps RTP timestamps to ``pts`` before this queue, for
every frame, so ``pts`` keeps counting while the gate is closed.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

from aiortc import RTCRtpReceiver

from core.channel.e2ee import Codec, is_keyframe

DECODER_QUEUE_ATTR = "_RTCRtpReceiver__decoder_queue"
"""aiortc's (1.16) private attribute holding a receiver's decoder queue."""

KEYFRAME_RETRY = 0.5
"""Seconds between two keyframe requests while an opened gate waits for one."""


def missing_internal(what: str, module: str) -> RuntimeError:
    """The error for an aiortc upgrade that removed an internal ``module`` relies on."""
    return RuntimeError(f"this aiortc version has no {what}; {module} needs updating")


def starts_picture(codec_name: str, data: bytes) -> bool:
    """Whether a decoder can start on this frame (unknown codecs: assume it can)."""
    try:
        codec = Codec.of(codec_name)
    except ValueError:
        return True
    return is_keyframe(codec, data)


class DecodeGate(queue.Queue[Any]):
    """A receiver's decoder queue that lets frames through only while open.

    ``on_arrival`` is called (on the event loop) for every frame, open or not;
    ``request_keyframe`` when the gate needs a frame to start decoding on.
    """

    def __init__(
        self, on_arrival: Callable[[], None], request_keyframe: Callable[[], None]
    ) -> None:
        super().__init__()
        self._on_arrival = on_arrival
        self._request_keyframe = request_keyframe
        self._open = False
        self._waiting = True
        self._asked_at = float("-inf")
        self.passed = 0
        """Frames handed to the decoder."""
        self.skipped = 0
        """Frames dropped undecoded (closed, or waiting for a keyframe)."""

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        """Decode from the next keyframe on (asked for now)."""
        if not self._open:
            self._open = True
            self._waiting = True
            self._ask()

    def close(self) -> None:
        """Stop decoding: frames are dropped until the next :meth:`open`."""
        self._open = False

    def _ask(self) -> None:
        self._asked_at = time.monotonic()
        self._request_keyframe()

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:  # the receiver stops: the decoder thread ends the track
            super().put(None, block, timeout)
            return
        self._on_arrival()
        if not self._open:
            self.skipped += 1
            return
        if self._waiting:
            codec_parameters, encoded_frame = item
            if not starts_picture(codec_parameters.name, bytes(encoded_frame.data)):
                self.skipped += 1
                if time.monotonic() - self._asked_at >= KEYFRAME_RETRY:
                    self._ask()
                return
            self._waiting = False
        self.passed += 1
        super().put(item, block, timeout)


def install_gate(receiver: RTCRtpReceiver, gate: DecodeGate) -> None:
    """Put ``gate`` in front of ``receiver``'s decoder. Call before the receiver starts."""
    if not hasattr(receiver, DECODER_QUEUE_ATTR):
        raise missing_internal("RTCRtpReceiver decoder queue", __name__)
    setattr(receiver, DECODER_QUEUE_ATTR, gate)
