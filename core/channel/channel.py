"""A channel: one app ID + channel name, its publishers, recorders and type."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

from core.channel.errors import ChannelTypeMismatchError, PublishForbiddenError, UidInUseError
from core.channel.names import validate_uid
from core.channel.publisher import Publisher
from core.channel.roster import LeaveReason, ParticipantInfo, Role, UserJoined, UserLeft
from core.channel.sdp import OfferSummary
from core.channel.subscription import Subscription
from core.enums import ChannelType, DecryptionMode, VideoStreamType

logger = logging.getLogger(__name__)


class Channel:
    """Users of one channel. Get one from :meth:`ChannelRegistry.channel`.

    The channel type is set by the first joiner (publisher) and forgotten when the
    channel is empty again. In a LIVE channel only hosts publish.
    """

    def __init__(
        self,
        app_id: str,
        name: str,
        on_idle: Callable[[Channel], None],
        on_active: Callable[[Channel], None],
    ) -> None:
        self.app_id = app_id
        self.name = name
        self.channel_type: ChannelType | None = None
        self._publishers: dict[int, Publisher] = {}
        self._reserved: set[int] = set()
        self._subscriptions: dict[int, Subscription] = {}
        self._on_idle = on_idle
        self._on_active = on_active

    def __repr__(self) -> str:
        return f"<Channel {self.app_id}/{self.name} {len(self._publishers)} users>"

    # -- roster ----------------------------------------------------------------------

    def participants(self) -> list[ParticipantInfo]:
        """Everyone in the channel: publishers by join time, then recorders."""
        people = sorted((p.info() for p in self._publishers.values()), key=lambda i: i.joined_at)
        recorders = [
            ParticipantInfo(
                sub.uid, Role.RECORDER, sub.joined_at, sub.joined_monotonic, False, False, False
            )
            for sub in self._subscriptions.values()
        ]
        return people + recorders

    def publisher(self, uid: int) -> Publisher | None:
        """The publisher with ``uid``, if in the channel."""
        return self._publishers.get(uid)

    def publishers(self) -> list[Publisher]:
        """Every publisher in the channel."""
        return list(self._publishers.values())

    def whip_sessions(self) -> int:
        """Publishers in the channel plus joiners being answered (their uid reserved)."""
        return len(self._publishers) + len(self._reserved)

    @property
    def idle(self) -> bool:
        """No publisher, no joiner under way and no subscription."""
        return not (self._publishers or self._reserved or self._subscriptions)

    def _uid_taken(self, uid: int) -> bool:
        return uid in self._publishers or uid in self._reserved or uid in self._subscriptions

    # -- publishing ------------------------------------------------------------------

    def resolve_type(self, requested: ChannelType | None) -> ChannelType:
        """The type a joiner asking for ``requested`` (None: any) joins as; raises
        :class:`ChannelTypeMismatchError` if it differs from the channel's."""
        if self.channel_type is None:
            return requested if requested is not None else ChannelType.COMMUNICATION
        if requested is not None and requested is not self.channel_type:
            raise ChannelTypeMismatchError(
                f"channel {self.name!r} is a {self.channel_type.name} channel, "
                f"not {requested.name} (the first joiner chose its type)"
            )
        return self.channel_type

    async def publish(
        self,
        uid: int,
        role: Role,
        channel_type: ChannelType,
        offer: str,
        summary: OfferSummary,
        encryption: DecryptionMode = DecryptionMode.NONE,
    ) -> tuple[Publisher, str]:
        """Admit ``uid`` as a publisher and answer its offer; return it and the answer.

        ``encryption``: the end-to-end encryption the publisher announced; its media
        is then passed through undecoded (``docs/encryption.md``).

        Raises UidInUseError, ChannelTypeMismatchError, PublishForbiddenError, SdpError.
        """
        uid = validate_uid(uid)
        effective = self.resolve_type(channel_type)
        if effective is ChannelType.LIVE and role is not Role.HOST:
            raise PublishForbiddenError(
                f"uid {uid} is audience in LIVE channel {self.name!r}: only hosts publish"
            )
        if self._uid_taken(uid):
            raise UidInUseError(f"uid {uid} is already in channel {self.name!r}")
        self._on_active(self)
        self.channel_type = effective
        self._reserved.add(uid)
        publisher = Publisher(
            self.name,
            uid,
            role,
            secrets.token_urlsafe(24),
            max_bundle=summary.bundled,
            encryption=encryption,
        )
        try:
            answer = await publisher.answer(offer, summary)
        except BaseException:
            self._reserved.discard(uid)
            await publisher.close(LeaveReason.QUIT)
            self._check_idle()
            raise
        self._reserved.discard(uid)
        self._publishers[uid] = publisher
        publisher.start(self._publisher_left)
        event = UserJoined(uid, publisher.joined_monotonic, role, publisher.joined_at)
        for sub in list(self._subscriptions.values()):
            sub.user_joined(event)
        logger.info("uid %s joined %s/%s as %s", uid, self.app_id, self.name, role)
        return publisher, answer

    def _publisher_left(self, publisher: Publisher, reason: LeaveReason) -> None:
        if self._publishers.get(publisher.uid) is not publisher:
            return
        del self._publishers[publisher.uid]
        event = UserLeft(publisher.uid, time.monotonic(), reason, time.time())
        for sub in list(self._subscriptions.values()):
            sub.user_left(event)
        self._check_idle()

    # -- subscribing -----------------------------------------------------------------

    def subscribe(
        self,
        uid: int,
        audio: bool = True,
        video: bool = True,
        video_stream: VideoStreamType = VideoStreamType.HIGH,
        *,
        encoded: bool = False,
    ) -> Subscription:
        """Reserve ``uid`` for a recorder and return its subscription (``encoded``: its
        streams carry the frames as they came, :class:`~core.channel.streams.EncodedFrame`).

        Raises :class:`UidInUseError` if ``uid`` is in the channel.
        """
        uid = validate_uid(uid)
        if self._uid_taken(uid):
            raise UidInUseError(f"uid {uid} is already in channel {self.name!r}")
        self._on_active(self)
        sub = Subscription(
            uid,
            publishers=self.publisher,
            channel_type=lambda: self.channel_type,
            on_close=self._unsubscribe,
            audio=audio,
            video=video,
            video_stream=video_stream,
            encoded=encoded,
        )
        self._subscriptions[uid] = sub
        for publisher in sorted(self._publishers.values(), key=lambda p: p.joined_monotonic):
            if self.channel_type is ChannelType.LIVE and publisher.role is not Role.HOST:
                continue
            joined = publisher.joined_monotonic
            sub.user_joined(UserJoined(publisher.uid, joined, publisher.role, publisher.joined_at))
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        if self._subscriptions.get(sub.uid) is sub:
            del self._subscriptions[sub.uid]
        self._check_idle()

    def _check_idle(self) -> None:
        if not (self._publishers or self._reserved):
            self.channel_type = None
        if self.idle:
            self._on_idle(self)

    async def close(self) -> None:
        """Drop every publisher and end every subscription (server shutdown)."""
        for publisher in list(self._publishers.values()):
            await publisher.close(LeaveReason.SERVER_SHUTDOWN)
        for sub in list(self._subscriptions.values()):
            await sub.close()
