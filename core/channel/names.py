"""Naming rules for app IDs, channel names and uids (Agora's)."""

from __future__ import annotations

import re
import string

from core.channel.errors import InvalidNameError

CHANNEL_NAME_CHARACTERS = frozenset(
    string.ascii_letters + string.digits + " !#$%&()+-:;<=.>?@[]^_{}|~,"
)
"""The characters Agora allows in a channel name."""

MAX_CHANNEL_NAME_BYTES = 64
MAX_UID = 2**32 - 1

_APP_ID = re.compile(r"^[0-9a-fA-F]{32}$")


def validate_channel_name(name: str) -> str:
    """Return ``name`` if it is 1-64 bytes of the allowed characters, else raise."""
    if not 1 <= len(name.encode()) <= MAX_CHANNEL_NAME_BYTES:
        raise InvalidNameError(
            f"channel name {name!r} must be 1 to {MAX_CHANNEL_NAME_BYTES} bytes long"
        )
    bad = sorted(set(name) - CHANNEL_NAME_CHARACTERS)
    if bad:
        raise InvalidNameError(
            f"channel name {name!r} contains {''.join(bad)!r}; allowed are a-z, A-Z, 0-9, "
            "space and !#$%&()+-:;<=.>?@[]^_{}|~,"
        )
    return name


def validate_uid(uid: int | str) -> int:
    """Return ``uid`` as an int in 1..2^32-1 (uid 0 is not a user), else raise."""
    if isinstance(uid, str) and not (uid.isascii() and uid.isdigit()):
        raise InvalidNameError(f"uid {uid!r} is not a number")
    value = int(uid)
    if not 1 <= value <= MAX_UID:
        raise InvalidNameError(f"uid {value} is outside 1..{MAX_UID}")
    return value


def validate_app_id(app_id: str) -> str:
    """Return ``app_id`` if it is 32 hexadecimal digits, else raise."""
    if not _APP_ID.match(app_id):
        raise InvalidNameError(f"app ID {app_id!r} is not 32 hexadecimal digits")
    return app_id
