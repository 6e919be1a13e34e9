"""Naming rules for app IDs, channel names and uids, as the channel server answers them.

The rules themselves (Agora's) live in :mod:`core.validation`, shared with the SDK's
``start()``; here a broken rule becomes an :class:`InvalidNameError`, which the WHIP
and web endpoints answer with HTTP 400 and the same message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from core.channel.errors import InvalidNameError
from core.errors import InvalidParameterError
from core.validation import MAX_UID, check_app_id, check_channel_name, check_uid

__all__ = ["MAX_UID", "validate_app_id", "validate_channel_name", "validate_uid"]

T = TypeVar("T")


def _as_name_error(check: Callable[[object], T], value: object) -> T:
    try:
        return check(value)
    except InvalidParameterError as exc:
        raise InvalidNameError(exc.message) from None


def validate_channel_name(name: str) -> str:
    """Return ``name`` if it is 1-64 bytes of the allowed characters, else raise."""
    return _as_name_error(check_channel_name, name)


def validate_uid(uid: int | str) -> int:
    """Return ``uid`` as an int in 1..2^32-1 (a decimal string is accepted), else raise."""
    if isinstance(uid, str):
        if not (uid.isascii() and uid.isdigit()):
            raise InvalidNameError(
                f"uid: {uid!r} is not allowed; a decimal number from 1 to {MAX_UID}"
            )
        uid = int(uid)
    return _as_name_error(check_uid, uid)


def validate_app_id(app_id: str) -> str:
    """Return ``app_id`` if it is 32 hexadecimal digits, else raise."""
    return _as_name_error(check_app_id, app_id)
