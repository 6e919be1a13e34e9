"""Bounded per-subscriber frame queues.

A :class:`FrameStream` is what a subscriber iterates for one user's audio or video.
The channel pushes into it without ever waiting: when the consumer is slow the
oldest frame is dropped (and counted in :attr:`FrameStream.dropped`), so a slow
subscriber never stalls the channel or other subscribers. Frames are shared between
subscribers: treat them as read-only.

A user who publishes end-to-end encrypted media (``docs/encryption.md``) is not
decoded by the channel: its streams carry :class:`EncodedFrame` objects, which the
recorder decrypts and decodes itself.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

import av

from core.enums import VideoStreamType

AUDIO_QUEUE_FRAMES = 100
"""Audio frames a stream holds (20 ms each: 2 s)."""

VIDEO_QUEUE_FRAMES = 30
"""Video frames a stream holds (2 s at 15 fps)."""


@dataclass(frozen=True)
class EncodedFrame:
    """A still-encoded (end-to-end encrypted) frame, as the publisher sent it."""

    data: bytes
    """The frame's bytes: a VP8 frame, an H.264 Annex-B access unit or an Opus packet."""
    codec: str
    """``VP8``, ``H264`` or ``OPUS``."""
    keyframe: bool
    """Whether it starts a picture (always true for audio); read from its clear header."""
    pts: int
    """RTP ticks since the track's first frame, like a decoded frame's ``pts``."""
    source: VideoStreamType | None
    """The video stream it belongs to (HIGH or LOW); ``None`` for audio."""


@dataclass(frozen=True)
class ReceivedFrame:
    """A frame and its capture time (seconds, server ``time.monotonic()``).

    ``frame`` is decoded (``av.AudioFrame`` / ``av.VideoFrame``), or an
    :class:`EncodedFrame` for a publisher that encrypts its media.
    """

    frame: av.AudioFrame | av.VideoFrame | EncodedFrame
    time: float


class FrameStream:
    """One user's audio or video for one subscriber; ends when the user leaves."""

    def __init__(
        self,
        uid: int,
        kind: str,
        maxlen: int,
        video_stream: VideoStreamType = VideoStreamType.HIGH,
    ) -> None:
        self.uid = uid
        self.kind = kind
        self.video_stream = video_stream
        """For video: which of the user's streams feeds this one (HIGH or LOW)."""
        self.dropped = 0
        """Frames dropped because the consumer was slow."""
        self.received = 0
        """Frames put into the stream (delivered or dropped)."""
        self._frames: deque[ReceivedFrame] = deque()
        self._maxlen = maxlen
        self._ready = asyncio.Event()
        self._ended = False

    @property
    def ended(self) -> bool:
        """True once the user left (or the subscription closed)."""
        return self._ended

    def __len__(self) -> int:
        return len(self._frames)

    def __aiter__(self) -> FrameStream:
        return self

    async def __anext__(self) -> ReceivedFrame:
        while not self._frames:
            if self._ended:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._frames.popleft()

    def get_nowait(self) -> ReceivedFrame | None:
        """The oldest queued frame, or ``None`` if none is queued."""
        return self._frames.popleft() if self._frames else None

    def put(self, frame: ReceivedFrame) -> None:
        """Queue a frame, dropping the oldest one when full (channel side)."""
        if self._ended:
            return
        if len(self._frames) >= self._maxlen:
            self._frames.popleft()
            self.dropped += 1
        self._frames.append(frame)
        self.received += 1
        self._ready.set()

    def end(self) -> None:
        """No more frames will come; queued frames can still be read (channel side)."""
        self._ended = True
        self._ready.set()
