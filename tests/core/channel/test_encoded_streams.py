"""Encoded subscriptions: frames as they came, for recording without transcoding.

A subscription made with ``encoded=True`` gets every user's frames as
``EncodedFrame`` objects, stamped with their capture times like decoded frames; the
channel decodes nothing for it. Checks decode what the stream delivered, every frame
from the first keyframe on.
"""

from __future__ import annotations

import asyncio
import itertools

import av
import numpy as np
import pytest

from core.channel.streams import EncodedFrame, FrameStream, ReceivedFrame
from core.enums import SANDBOX_APP_ID, VideoStreamType
from core.participants.synthetic import (
    AUDIO_SAMPLE_RATE,
    identify_uid,
    is_flash,
    tone_frequency,
)
from tests.core.channel.test_channel_media import collect_first, median_rgb, mono
from tests.publishers import Publishers

FPS = 15
SIZE = (320, 240)
DECODERS = {"VP8": "libvpx", "H264": "h264", "OPUS": "libopus"}


def decode_all(frames: list[ReceivedFrame]) -> list[tuple[float, av.AudioFrame | av.VideoFrame]]:
    """Decode every frame from the first keyframe on; a frame that fails fails the test.
    ``(capture time, decoded frame)`` in order."""
    encoded = [rf for rf in frames if isinstance(rf.frame, EncodedFrame)]
    assert len(encoded) == len(frames), "a decoded frame in an encoded stream"
    start = next(i for i, rf in enumerate(encoded) if rf.frame.keyframe)  # type: ignore[union-attr]
    first = encoded[start].frame
    assert isinstance(first, EncodedFrame)
    codec = av.CodecContext.create(DECODERS[first.codec], "r")
    decoded: list[tuple[float, av.AudioFrame | av.VideoFrame]] = []
    for rf in encoded[start:]:
        assert isinstance(rf.frame, EncodedFrame)
        out = codec.decode(av.Packet(rf.frame.data))
        assert len(out) == 1, (rf.time, len(out))
        decoded.append((rf.time, out[0]))  # type: ignore[arg-type]
    return decoded


@pytest.mark.parametrize("codec", ["VP8", "H264"])
async def test_an_encoded_subscription_gets_every_frame_undecoded(
    channel_server: object, codec: str
) -> None:
    """Three seconds of a user's video and audio through an encoded subscription: every
    frame (the sender's RTP clock a frame period apart) decodes, from the first keyframe
    on, to the user's colour (a flash once a second) and tone; the channel's decoders
    stay closed until a decoded subscriber comes."""
    channel = channel_server.registry.channel(SANDBOX_APP_ID, f"enc-{codec}")  # type: ignore[attr-defined]
    sub = channel.subscribe(9000, encoded=True)
    async with Publishers(channel_server.url, f"enc-{codec}", [61], size=SIZE, fps=FPS,  # type: ignore[attr-defined]
                          codec=codec):  # fmt: skip
        video, audio = sub.video(61), sub.audio(61)
        assert isinstance(video, FrameStream) and isinstance(audio, FrameStream)
        assert video.encoded and audio.encoded
        video_frames, audio_frames = await asyncio.gather(
            collect_first(video, 3.0), collect_first(audio, 3.0)
        )
        publisher = channel.publisher(61)
        assert publisher is not None
        gates = publisher.gates
        assert all(g.passed == 0 and not g.is_open for g in gates.values())

        # a decoded subscriber opens the video gate; the encoded stream goes on
        decoded_sub = channel.subscribe(9001, audio=False)
        decoded = decoded_sub.video(61)
        assert decoded is not None and not decoded.encoded
        await collect_first(decoded, 0.5)
        assert gates[VideoStreamType.HIGH].is_open and not gates[None].is_open
        await decoded_sub.close()
        assert not gates[VideoStreamType.HIGH].is_open
    await sub.close()

    # every frame, in order: the sender's RTP clock steps by one frame period each time
    # (6000 ticks, give or take the sender's rounding of its capture times to ticks)
    ticks = [rf.frame.pts for rf in video_frames]  # type: ignore[union-attr]
    assert all(abs(b - a - 90_000 / FPS) <= 1 for a, b in itertools.pairwise(ticks)), ticks
    # stamped on the channel's clock as decoded frames are: the sender offset moves only
    # by clock corrections (docs/recorder.md, "Clock corrections": up to 60 ms measured
    # under load; a loaded run moved a frame 2.2 ms off its period)
    offsets = [rf.time - rf.frame.pts / 90_000 for rf in video_frames]  # type: ignore[union-attr]
    assert max(offsets) - min(offsets) <= 0.060, (min(offsets), max(offsets))
    pictures = decode_all(video_frames)
    assert len(pictures) >= 2 * FPS, len(pictures)
    for _, picture in pictures:
        assert isinstance(picture, av.VideoFrame)
        assert (picture.width, picture.height) == SIZE
        colour = median_rgb(picture)
        assert is_flash(colour) or identify_uid(colour, [61]) == 61, colour
    flashes = sum(is_flash(median_rgb(p)) for _, p in pictures)  # type: ignore[arg-type]
    assert flashes >= 2, flashes

    sounds = decode_all(audio_frames)
    samples = np.concatenate([mono(f) for _, f in sounds])  # type: ignore[arg-type]
    assert len(samples) >= 2 * AUDIO_SAMPLE_RATE
    spectrum = np.abs(np.fft.rfft(samples[:AUDIO_SAMPLE_RATE] * np.hanning(AUDIO_SAMPLE_RATE)))
    spectrum[:100] = 0  # ignore DC and hum
    tone = int(np.argmax(spectrum[:1000]))  # 1 Hz bins; the beep is at 1 kHz
    assert abs(tone - tone_frequency(61)) <= 2, tone
