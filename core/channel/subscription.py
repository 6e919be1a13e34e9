"""In-process subscriptions: how the recorder receives a channel's users.

See ``docs/interfaces.md`` ("Channel -> recorder") for the contract. A subscription
holds a uid in the channel (listed with role ``recorder``), yields join/leave events,
and hands out one :class:`~core.channel.streams.FrameStream` per user and kind.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Protocol

from core.channel.roster import ChannelEvent, UserJoined, UserLeft
from core.channel.streams import AUDIO_QUEUE_FRAMES, VIDEO_QUEUE_FRAMES, FrameStream
from core.enums import ChannelType, VideoStreamType


class MediaSource(Protocol):
    """What a subscription needs of a user in the channel (a
    :class:`~core.channel.publisher.Publisher`): its tracks, and delivery to streams."""

    @property
    def audio_track(self) -> object | None: ...

    @property
    def video_tracks(self) -> Mapping[VideoStreamType, object]: ...

    def add_stream(self, stream: FrameStream) -> None: ...

    def remove_stream(self, stream: FrameStream) -> None: ...

    def source_of(self, stream: FrameStream) -> VideoStreamType: ...

    def update_gates(self) -> None: ...

    def request_keyframe(self, variant: VideoStreamType) -> None: ...

    def video_size(self, variant: VideoStreamType) -> tuple[int, int] | None: ...


class Subscription:
    """A recorder's view of one channel. Create with :meth:`Channel.subscribe`.

    It gets what it needs of the channel, not the channel: ``publishers`` looks a
    user up, ``channel_type`` tells the channel's current type, and ``on_close``
    frees the uid. The channel calls :meth:`user_joined` and :meth:`user_left`.
    """

    def __init__(
        self,
        uid: int,
        *,
        publishers: Callable[[int], MediaSource | None],
        channel_type: Callable[[], ChannelType | None],
        on_close: Callable[[Subscription], None],
        audio: bool,
        video: bool,
        video_stream: VideoStreamType,
        encoded: bool = False,
    ) -> None:
        self._publisher = publishers
        self.encoded = encoded
        """Whether its streams carry frames as they came (:class:`EncodedFrame`)."""
        self._channel_type = channel_type
        self._on_close = on_close
        self.uid = uid
        self.wants_audio = audio
        self.wants_video = video
        self.default_video_stream = video_stream
        self._video_choice: dict[int, VideoStreamType] = {}
        self._audio: dict[int, FrameStream] = {}
        self._video: dict[int, FrameStream] = {}
        self._events: asyncio.Queue[ChannelEvent | None] = asyncio.Queue()
        self._closed = False
        self._dropped_before = 0  # by streams already ended
        self.joined_at = time.time()
        self.joined_monotonic = time.monotonic()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def channel_type(self) -> ChannelType | None:
        """The channel's type now (``None`` while nobody publishes)."""
        return self._channel_type()

    @property
    def dropped(self) -> int:
        """Frames dropped by this subscription's streams (a slow consumer), ever."""
        live = sum(s.dropped for streams in (self._audio, self._video) for s in streams.values())
        return self._dropped_before + live

    async def events(self) -> AsyncIterator[ChannelEvent]:
        """Join/leave events, starting with a UserJoined for everyone already there;
        ends when the subscription closes."""
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event

    def audio(self, uid: int) -> FrameStream | None:
        """``uid``'s audio, or ``None`` (not subscribed, no such user or no audio)."""
        if not self.wants_audio or self._closed:
            return None
        stream = self._audio.get(uid)
        if stream is None:
            publisher = self._publisher(uid)
            if publisher is None or publisher.audio_track is None:
                return None
            stream = FrameStream(uid, "audio", AUDIO_QUEUE_FRAMES, encoded=self.encoded)
            publisher.add_stream(stream)
            self._audio[uid] = stream
        return stream

    def video(self, uid: int) -> FrameStream | None:
        """``uid``'s video (HIGH or LOW as chosen), or ``None`` (no such track)."""
        if not self.wants_video or self._closed:
            return None
        stream = self._video.get(uid)
        if stream is None:
            publisher = self._publisher(uid)
            if publisher is None or not publisher.video_tracks:
                return None
            choice = self._video_choice.get(uid, self.default_video_stream)
            stream = FrameStream(uid, "video", VIDEO_QUEUE_FRAMES, choice, encoded=self.encoded)
            publisher.add_stream(stream)
            self._video[uid] = stream
            publisher.request_keyframe(publisher.source_of(stream))
        return stream

    def request_keyframe(self, uid: int) -> None:
        """Ask ``uid`` for a keyframe of the video this subscription receives.

        Only encoded streams need it (end-to-end encrypted publishers, and encoded
        subscriptions: the subscriber decodes or stores them and must start on a
        keyframe); for a decoded stream the channel's own decoder asks when it needs one.
        """
        publisher = self._publisher(uid)
        stream = self._video.get(uid)
        if publisher is not None and stream is not None:
            publisher.request_keyframe(publisher.source_of(stream))

    def video_size(self, uid: int, stream_type: VideoStreamType) -> tuple[int, int] | None:
        """The picture size of ``uid``'s HIGH or LOW video, received or not (``None``
        if unknown: see :meth:`Publisher.video_size`)."""
        publisher = self._publisher(uid)
        return publisher.video_size(stream_type) if publisher is not None else None

    def set_video_stream(self, uid: int, stream_type: VideoStreamType) -> None:
        """Receive ``uid``'s HIGH or LOW video from now on (switchable at any time).

        LOW falls back to HIGH for a user without a low stream; AUTO means HIGH here
        (the recorder resolves AUTO per tile and calls this with HIGH or LOW).
        """
        self._video_choice[uid] = stream_type
        stream = self._video.get(uid)
        if stream is not None and stream.video_stream is not stream_type:
            publisher = self._publisher(uid)
            before = publisher.source_of(stream) if publisher is not None else None
            stream.video_stream = stream_type
            if publisher is not None and publisher.source_of(stream) is not before:
                publisher.update_gates()
                publisher.request_keyframe(publisher.source_of(stream))

    async def close(self) -> None:
        """End every stream and the event iterator, and free the uid."""
        if self._closed:
            return
        self._closed = True
        for uid in list(self._audio) + list(self._video):
            self._forget(uid)
        self._events.put_nowait(None)
        self._on_close(self)

    # -- channel side ----------------------------------------------------------------

    def user_joined(self, event: UserJoined) -> None:
        """The channel tells of a user who joined (queued for :meth:`events`)."""
        if not self._closed:
            self._events.put_nowait(event)

    def user_left(self, event: UserLeft) -> None:
        """The channel tells of a user who left: their streams end, the event is queued."""
        self._forget(event.uid)
        if not self._closed:
            self._events.put_nowait(event)

    def unsubscribe(self, uid: int, kind: str) -> None:
        """Stop receiving ``uid``'s ``kind`` ("audio" or "video"): its stream ends and the
        publisher stops decoding that track for this subscription. :meth:`audio` or
        :meth:`video` opens a new stream."""
        stream = (self._audio if kind == "audio" else self._video).pop(uid, None)
        if stream is not None:
            self._dropped_before += stream.dropped
            stream.end()
            publisher = self._publisher(uid)
            if publisher is not None:
                publisher.remove_stream(stream)

    def _forget(self, uid: int) -> None:
        for kind in ("audio", "video"):
            self.unsubscribe(uid, kind)
