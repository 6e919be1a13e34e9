"""Bounded per-subscriber frame queues.

A :class:`FrameStream` is what a subscriber iterates for one user's audio or video.
The channel pushes into it without ever waiting: when the consumer is slow the
oldest frame is dropped (and counted in :attr:`FrameStream.dropped`), so a slow
subscriber never stalls the channel or other subscribers. Frames are shared between
subscribers: treat them as read-only.

A user who publishes end-to-end encrypted media (``docs/encryption.md``) is not
decoded by the channel: its streams carry :class:`EncodedFrame` objects, which the
recorder decrypts and decodes itself. A subscriber that stores media as it came
(individual recording without transcoding) asks for *encoded* streams: they carry
every user's frames as :class:`EncodedFrame` objects, as they arrive, and the channel
decodes a track only for the decoded streams that take it.

A frame's ``time`` is its capture time from the sender's reports. Frames that arrive
before those reports are held back by the channel and come later, together
(:mod:`core.channel.hold`); meanwhile :attr:`FrameStream.held_since` says since when,
so a consumer that renders on a deadline can wait for them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
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
    encrypted: bool = False
    """Whether its sender encrypted it end to end (``data`` is then ciphertext)."""


@dataclass(frozen=True)
class ReceivedFrame:
    """A frame and its capture time (seconds, server ``time.monotonic()``).

    ``frame`` is decoded (``av.AudioFrame`` / ``av.VideoFrame``), or an
    :class:`EncodedFrame` for a publisher that encrypts its media.
    """

    frame: av.AudioFrame | av.VideoFrame | EncodedFrame
    time: float
    estimated: bool = False
    """Whether ``time`` was estimated from arrival: the sender sent no report within
    the channel's hold limit (``docs/channel.md``, "Timing and lip sync")."""


class FrameStream:
    """One user's audio or video for one subscriber; ends when the user leaves."""

    def __init__(
        self,
        uid: int,
        kind: str,
        maxlen: int,
        video_stream: VideoStreamType = VideoStreamType.HIGH,
        *,
        encoded: bool = False,
    ) -> None:
        self.uid = uid
        self.kind = kind
        self.encoded = encoded
        """Whether the stream carries the frames as they came (:class:`EncodedFrame`),
        never decoded by the channel."""
        self.video_stream = video_stream
        """For video: which of the user's streams feeds this one (HIGH or LOW)."""
        self.dropped = 0
        """Frames dropped because the consumer was slow."""
        self.received = 0
        """Frames put into the stream (delivered or dropped)."""
        self._frames: deque[ReceivedFrame] = deque()
        self._maxlen = maxlen
        self._burst = 0  # room above maxlen left by held frames released together
        self._held_since: float | None = None  # the channel's hold (see hold())
        self.on_held: Callable[[av.AudioFrame | av.VideoFrame | EncodedFrame], None] | None = None
        """Called by the channel, as it arrives, with each frame it holds back for this
        stream (the frame comes later, timed): for a consumer that must look at frames
        at once (the recorder's decryption check). Set by the consumer."""
        self._released_since: float | None = None  # a released hold not yet read through
        self._unread = 0  # frames queued up to the last one released
        self._ready = asyncio.Event()
        self._ended = False

    @property
    def ended(self) -> bool:
        """True once the user left (or the subscription closed)."""
        return self._ended

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def held_since(self) -> float | None:
        """Server monotonic arrival time of the oldest frame the channel holds back for
        this stream's user until its first sender reports, or ``None``.

        Those frames come later, with times that may be as early as this minus the usual
        delivery delay. It stays set after they were released until the consumer came
        back for a frame after the last of them, so a consumer that checks it before it
        takes what it read (the recorder's renderer) never misses them.
        """
        return self._held_since if self._held_since is not None else self._released_since

    def __aiter__(self) -> FrameStream:
        return self

    async def __anext__(self) -> ReceivedFrame:
        self._read_through()
        while not self._frames:
            if self._ended:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._take()

    def get_nowait(self) -> ReceivedFrame | None:
        """The oldest queued frame, or ``None`` if none is queued."""
        self._read_through()
        return self._take() if self._frames else None

    def _take(self) -> ReceivedFrame:
        self._unread = max(0, self._unread - 1)
        return self._frames.popleft()

    def _read_through(self) -> None:
        # The consumer comes back for more: it has handled every frame it took.
        if self._unread == 0:
            self._released_since = None

    def put(self, frame: ReceivedFrame) -> None:
        """Queue a frame, dropping the oldest one when full (channel side)."""
        if self._ended:
            return
        while len(self._frames) >= self._maxlen + self._burst:
            self._take()
            self.dropped += 1
        self._burst = max(0, self._burst - 1)
        self._frames.append(frame)
        self.received += 1
        self._ready.set()

    def put_many(self, frames: list[ReceivedFrame]) -> None:
        """Queue frames the channel held back and releases together (channel side).

        A hold of up to three seconds may release more frames than the stream's bound
        at once; they are all kept, so a consumer reading as fast as frames come loses
        none of them. The room they take above the bound shrinks by a frame with each
        later :meth:`put`, so a consumer that does not read is back to the bound soon.
        """
        if self._ended or not frames:
            return
        self._burst += len(frames)
        self._frames.extend(frames)
        self.received += len(frames)
        if self._held_since is not None:
            since = self._released_since
            self._released_since = (
                self._held_since if since is None else min(since, self._held_since)
            )
        self._unread = len(self._frames)
        self._ready.set()

    def hold(self, since: float | None) -> None:
        """The channel holds this stream's user's frames since ``since`` (arrival, server
        monotonic), or, ``None``, no longer (channel side; call after :meth:`put_many`
        of what it released)."""
        self._held_since = since

    def end(self) -> None:
        """No more frames will come; queued frames can still be read (channel side)."""
        self._ended = True
        self._held_since = None
        self._ready.set()
