"""Who is in a channel: participant records and join/leave events.

Times: ``time`` fields are seconds on the server's :func:`time.monotonic` (the clock
of frame times, see ``docs/interfaces.md``); ``wall_time`` / ``joined_at`` are
:func:`time.time` for people and logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """A participant's role. Recorders are subscribers, never recorded themselves."""

    HOST = "host"
    AUDIENCE = "audience"
    RECORDER = "recorder"


class LeaveReason(StrEnum):
    """Why a user left the channel."""

    QUIT = "quit"
    """The publisher sent DELETE."""
    ENDED = "ended"
    """Every track of the publisher ended (RTCP BYE, e.g. the peer connection closed)."""
    DROPPED = "dropped"
    """The connection failed or closed (ICE consent lost, DTLS closed)."""
    TIMEOUT = "timeout"
    """No media arrived for :data:`core.channel.publisher.MEDIA_TIMEOUT` seconds."""
    SERVER_SHUTDOWN = "server_shutdown"
    """The server is stopping."""
    TOKEN_EXPIRED = "token_expired"
    """The privilege of the publisher's token to be in the channel ran out: its join
    privilege, or the publish privilege of a kind it sends (apps with certificates)."""


@dataclass(frozen=True)
class ParticipantInfo:
    """One entry of the roster."""

    uid: int
    role: Role
    joined_at: float
    """Wall clock (``time.time()``) of the join."""
    joined_monotonic: float
    has_audio: bool
    has_video: bool
    has_low_video: bool
    encryption: str = "none"
    """End-to-end encryption the user announced: ``none``, ``aes_128_xts``, ..."""

    @property
    def tracks(self) -> list[str]:
        """Names of the published tracks: ``audio``, ``video``, ``video_low``."""
        names = [("audio", self.has_audio), ("video", self.has_video)]
        names.append(("video_low", self.has_low_video))
        return [name for name, present in names if present]

    def to_json(self) -> dict[str, Any]:
        """The roster entry as the ``GET /channels/...`` endpoint returns it."""
        return {
            "uid": self.uid,
            "role": str(self.role),
            "joined_at": self.joined_at,
            "tracks": self.tracks,
            "encryption": self.encryption,
        }


@dataclass(frozen=True)
class UserJoined:
    """A user (publisher) is in the channel."""

    uid: int
    time: float
    role: Role
    wall_time: float


@dataclass(frozen=True)
class UserLeft:
    """A user left the channel."""

    uid: int
    time: float
    reason: LeaveReason
    wall_time: float


ChannelEvent = UserJoined | UserLeft
