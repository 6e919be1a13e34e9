"""Errors of the channel: each carries the HTTP status a WHIP client gets for it."""

from __future__ import annotations

from core.errors import CloudRecordingError, ErrorCode


class ChannelError(CloudRecordingError):
    """A request the channel refuses; ``status`` is the HTTP status to answer with."""

    status = 400
    default_code = ErrorCode.INVALID_PARAMETER


class InvalidNameError(ChannelError):
    """A channel name, uid or app ID that breaks the naming rules."""

    status = 400


class UnknownAppError(ChannelError):
    """An app ID the server has no configuration for."""

    status = 404


class UidInUseError(ChannelError):
    """The uid is already in the channel (publisher or recorder)."""

    status = 409
    default_code = ErrorCode.INVALID_OPERATION


class ChannelTypeMismatchError(ChannelError):
    """The joiner asked for another channel type than the channel's first joiner."""

    status = 409


class PublishForbiddenError(ChannelError):
    """The joiner may not publish (audience in a LIVE channel, or no privilege)."""

    status = 403


class UnauthorizedError(ChannelError):
    """Missing, malformed, expired or mismatching token."""

    status = 401


class SdpError(ChannelError):
    """An offer the server cannot answer."""

    status = 400


class BusyError(ChannelError):
    """An app's WHIP limits refuse a new session for now: 503 when it has as many
    sessions as allowed, 429 when new ones come faster than allowed. ``retry_after``:
    whole seconds to wait (the ``Retry-After`` header)."""

    status = 503
    default_code = ErrorCode.INVALID_OPERATION

    def __init__(self, message: str, *, status: int, retry_after: int) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class UnsupportedAiortcError(CloudRecordingError, RuntimeError):
    """The installed aiortc lacks an internal the channel hooks into
    (:mod:`core.channel.aiortc_hooks`): the message names it and the supported range."""
