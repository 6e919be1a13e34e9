"""Checks of the identifiers ``start()`` takes, made before any network traffic.

Rules are Agora's: a uid is a 32-bit unsigned integer from 1 to 2^32-1 (0 is
reserved for "any"), an App ID is 32 hexadecimal characters, and a channel name
is 1 to 64 bytes from a fixed character set.
"""

from __future__ import annotations

import re

from core.errors import InvalidParameterError

MAX_UID = 2**32 - 1
CHANNEL_NAME_CHARS = "a-z, A-Z, 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~,"
_CHANNEL_NAME = re.compile(r"^[a-zA-Z0-9 !#$%&()+\-:;<=.>?@\[\]^_{}|~,]{1,64}$")
_APP_ID = re.compile(r"^[0-9a-fA-F]{32}$")


def check_uid(uid: object, field: str = "uid") -> int:
    """Return ``uid`` as an int, or raise InvalidParameterError (1..4294967295, never 0)."""
    if isinstance(uid, bool) or not isinstance(uid, int) or not 1 <= uid <= MAX_UID:
        raise InvalidParameterError(field, uid, f"an integer from 1 to {MAX_UID} (0 is reserved)")
    return uid


def check_app_id(app_id: object) -> str:
    """Return the App ID, or raise InvalidParameterError (32 hexadecimal characters)."""
    if not isinstance(app_id, str) or not _APP_ID.match(app_id):
        raise InvalidParameterError("app_id", app_id, "32 hexadecimal characters (0-9, a-f)")
    return app_id


def check_channel_name(name: object) -> str:
    """Return the channel name, or raise InvalidParameterError (Agora's channel name rules)."""
    allowed = f"1 to 64 bytes from {CHANNEL_NAME_CHARS}"
    if not isinstance(name, str) or not 1 <= len(name.encode("utf-8")) <= 64:
        raise InvalidParameterError("channel_name", name, allowed)
    if not _CHANNEL_NAME.match(name):
        bad = "".join(sorted({ch for ch in name if not _CHANNEL_NAME.match(ch)}))
        raise InvalidParameterError("channel_name", name, f"{bad!r} may not be used; {allowed}")
    return name
