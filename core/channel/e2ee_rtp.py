"""The one place where cloudrec reaches into aiortc for end-to-end encrypted media.

The frame format is :mod:`core.channel.e2ee`; this module puts it on aiortc's
RTP path, per sender or receiver instance (other peers are untouched):

* **Sending** (:func:`encrypt_sender`): aiortc (1.16) creates a sender's encoder
  lazily from the negotiated codec and keeps it in a private attribute. The
  sender's ``_next_encoded_frame(codec)`` is wrapped to install, before the first
  frame, aiortc's own encoder for that codec subclassed so that each encoded frame
  is sealed between encoding and packetising (VP8: the frame, H.264: each NAL
  unit, Opus: each packet). aiortc's encoder settings, REMB bitrate changes and
  keyframe requests (PLI/FIR) keep working, unlike with a track that returns
  pre-encoded packets (aiortc's ``pack()`` path ignores keyframe requests).
* **Receiving** (:func:`pass_through_receiver`): aiortc's receiver hands every
  reassembled frame to a decoder thread through a private queue. That queue is
  replaced by one that delivers the still-encoded frame to the track as an
  :class:`~core.channel.streams.EncodedFrame` (its ``pts`` mapped exactly as a
  decoded frame's would be), so the channel forwards opaque frames and never
  needs the secret. The decoder thread still starts and ends with the receiver,
  but never decodes.
* :func:`request_keyframe` sends a PLI for a receiver's media stream, so a new
  subscriber (or a switch between HIGH and LOW) gets a decodable frame at once.

All of this depends on aiortc internals: the functions check that they exist and
raise ``RuntimeError`` if an aiortc upgrade removed them.
"""

from __future__ import annotations

import queue
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.codecs.base import Encoder
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from av.frame import Frame

from core.channel.decoding import DECODER_QUEUE_ATTR, missing_internal
from core.channel.e2ee import Codec, E2eeKeys, FrameEncryptor, is_keyframe
from core.channel.rtcp_sync import RTX_ATTR
from core.channel.streams import EncodedFrame
from core.enums import VideoStreamType

_ENCODER_ATTR = "_RTCRtpSender__encoder"


def _missing(what: str) -> RuntimeError:
    return missing_internal(what, __name__)


# --- sending -------------------------------------------------------------------------


class _EncryptingVp8Encoder(Vp8Encoder):
    def __init__(self, encryptor: FrameEncryptor) -> None:
        super().__init__()
        self._encryptor = encryptor

    def _packetize(self, buffer: bytes, picture_id: int) -> list[bytes]:  # type: ignore[override]
        if not buffer:
            return []
        return super()._packetize(self._encryptor.encrypt(Codec.VP8, buffer), picture_id)


class _EncryptingH264Encoder(H264Encoder):
    def __init__(self, encryptor: FrameEncryptor) -> None:
        super().__init__()
        self._encryptor = encryptor

    def _packetize(self, packages: Iterable[bytes]) -> list[bytes]:  # type: ignore[override]
        sealed = [self._encryptor.encrypt_nal(nal) for nal in packages if nal]
        return super()._packetize(sealed)


class _EncryptingOpusEncoder(OpusEncoder):
    def __init__(self, encryptor: FrameEncryptor) -> None:
        super().__init__()
        self._encryptor = encryptor

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        payloads, timestamp = super().encode(frame, force_keyframe)
        return [self._encryptor.encrypt(Codec.OPUS, p) for p in payloads], timestamp


_ENCODERS: dict[Codec, Callable[[FrameEncryptor], Encoder]] = {
    Codec.VP8: _EncryptingVp8Encoder,
    Codec.H264: _EncryptingH264Encoder,
    Codec.OPUS: _EncryptingOpusEncoder,
}


def encrypting_encoder(codec_name: str, keys: E2eeKeys) -> Encoder:
    """aiortc's encoder for ``codec_name`` whose frames are sealed with ``keys``."""
    return _ENCODERS[Codec.of(codec_name)](FrameEncryptor(keys))


def encrypt_sender(sender: RTCRtpSender, keys: E2eeKeys) -> None:
    """Make ``sender`` encrypt every frame it sends. Call before it starts sending."""
    if not hasattr(sender, _ENCODER_ATTR) or not hasattr(sender, "_next_encoded_frame"):
        raise _missing("RTCRtpSender encoder attribute")
    next_encoded_frame: Callable[[RTCRtpCodecParameters], Awaitable[Any]]
    next_encoded_frame = sender._next_encoded_frame

    async def encrypted_next_encoded_frame(codec: RTCRtpCodecParameters) -> Any:
        if getattr(sender, _ENCODER_ATTR) is None:
            setattr(sender, _ENCODER_ATTR, encrypting_encoder(codec.name, keys))
        return await next_encoded_frame(codec)

    sender._next_encoded_frame = encrypted_next_encoded_frame  # type: ignore[method-assign]


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
        try:
            codec = Codec.of(codec_parameters.name)
        except ValueError:
            return  # not a codec the channel accepts
        data = bytes(jitter_frame.data)
        frame = EncodedFrame(
            data, str(codec), is_keyframe(codec, data), int(jitter_frame.timestamp), self._source
        )
        self._track_queue.put_nowait(frame)


def pass_through_receiver(receiver: RTCRtpReceiver, source: VideoStreamType | None) -> None:
    """Make ``receiver``'s track yield :class:`EncodedFrame` instead of decoded frames.

    ``source`` is the video stream the receiver carries (``None`` for audio). Call
    before the receiver starts (before the connection is established).
    """
    track = receiver.track
    track_queue = getattr(track, "_queue", None)
    if not hasattr(receiver, DECODER_QUEUE_ATTR) or track_queue is None:
        raise _missing("RTCRtpReceiver decoder queue")
    setattr(receiver, DECODER_QUEUE_ATTR, _PassThroughQueue(track_queue, source))


async def request_keyframe(receiver: RTCRtpReceiver) -> None:
    """Ask the sender of ``receiver``'s media for a keyframe (RTCP PLI)."""
    rtx: dict[int, int] = getattr(receiver, RTX_ATTR, {})
    send_pli: Callable[[int], Awaitable[None]] | None = getattr(receiver, "_send_rtcp_pli", None)
    if send_pli is None:
        raise _missing("RTCRtpReceiver._send_rtcp_pli")
    for source in receiver.getSynchronizationSources():
        if source.source not in rtx:
            await send_pli(source.source)
