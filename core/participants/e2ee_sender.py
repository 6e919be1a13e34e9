"""End-to-end encryption on a publisher's aiortc sender (the channel's receiving side
is :mod:`core.channel.e2ee_rtp`; the frame format is :mod:`core.channel.e2ee`).

:func:`encrypt_sender` makes the sender encode with aiortc's own encoder for the
negotiated codec, subclassed so that each encoded frame is sealed between encoding and
packetising (VP8: the frame, H.264: each NAL unit, Opus: each packet;
:func:`~core.channel.aiortc_hooks.sealing_encoder`, installed before the first frame by
:func:`~core.channel.aiortc_hooks.replace_encoder`). aiortc's encoder settings, REMB
bitrate changes and keyframe requests (PLI/FIR) keep working, unlike with a track that
returns pre-encoded packets (aiortc's ``pack()`` path ignores keyframe requests).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from aiortc import RTCRtpSender

from core.channel.aiortc_hooks import Encoder, replace_encoder, sealing_encoder
from core.channel.e2ee import Codec, E2eeKeys, FrameEncryptor


def encrypting_encoder(codec_name: str, keys: E2eeKeys) -> Encoder:
    """aiortc's encoder for ``codec_name`` whose frames are sealed with ``keys``."""
    codec = Codec.of(codec_name)
    encryptor = FrameEncryptor(keys)
    # H.264 is sealed per NAL unit (the packetiser's unit), the others per frame.
    seal: Callable[[bytes], bytes] = (
        encryptor.encrypt_nal
        if codec is Codec.H264
        else functools.partial(encryptor.encrypt, codec)
    )
    return sealing_encoder(codec.value, seal)


def encrypt_sender(sender: RTCRtpSender, keys: E2eeKeys) -> None:
    """Make ``sender`` encrypt every frame it sends. Call before it starts sending."""
    replace_encoder(sender, lambda codec_name: encrypting_encoder(codec_name, keys))
