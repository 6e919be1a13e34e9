"""Agora AccessToken2 ("007..." tokens): build, parse and verify.

The channel server accepts the same tokens as Agora's RTC service, so a token made by
Agora's own token builders (or by ``cloudrec token``) for an app ID and app
certificate lets a user join our channel, and the other way round.

The wire format, as Agora publishes it in its token builders:

``"007" + base64(zlib(pack_string(signature) + content))`` where ``content`` is
``pack_string(app_id) + u32(issue_ts) + u32(expire) + u32(salt) + u16(count)``
followed by the services, each ``u16(type) + map<u16 privilege, u32 seconds>`` and the
fields of that service type (RTC: channel name and uid as strings). Integers are
little-endian; ``pack_string`` is a u16 length and the bytes.

The signature is ``HMAC-SHA256(signing_key, content)`` with
``signing_key = HMAC(key=u32(salt), msg=HMAC(key=u32(issue_ts), msg=app_certificate))``.

Times: ``expire`` and every privilege value are seconds after ``issue_ts``. The token is
valid while ``now < issue_ts + expire``. A privilege lasts ``issue_ts + value`` but never
beyond the token; a privilege value of 0 (the default of Agora's builders) means "as
long as the token".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar

from core.errors import CloudRecordingError, ErrorCode, InvalidParameterError

__all__ = [
    "VERSION",
    "AccessToken2",
    "ApaasService",
    "ChatService",
    "FcdnService",
    "RtcGrant",
    "RtcPrivilege",
    "RtcRole",
    "RtcService",
    "Rtm2Service",
    "RtmService",
    "Service",
    "ServiceType",
    "StreamingService",
    "TokenError",
    "TokenExpiredError",
    "TokenMismatchError",
    "build_rtc_token",
    "build_token",
    "is_agora_id",
    "parse_token",
    "verify_rtc_token",
]

VERSION = "007"
"""The version prefix of every AccessToken2."""

_U16_MAX = 0xFFFF
_U32_MAX = 0xFFFF_FFFF
# Longest token text and decompressed content we accept: real tokens are a few
# hundred bytes; the limits stop a zlib bomb or a huge header from costing memory.
_MAX_TOKEN_CHARS = 16 * 1024
_MAX_CONTENT_BYTES = 64 * 1024


# --------------------------------------------------------------------------- errors


class TokenError(CloudRecordingError, ValueError):
    """A token that cannot be used: malformed, expired or not for this app/channel/user.

    Messages are safe to log and to send to a client; they never contain the app
    certificate. The channel server answers 401 for every one of these.
    """

    default_code = ErrorCode.INVALID_PARAMETER


class TokenExpiredError(TokenError):
    """The token (``issue_ts + expire``) is in the past."""


class TokenMismatchError(TokenError):
    """The token is well formed but not valid here.

    Raised for a wrong app ID, a bad signature (wrong app certificate or a tampered
    token), or a channel name or uid other than the one the token was issued for.
    """


# ------------------------------------------------------------------------- constants


class ServiceType(IntEnum):
    """Service types of AccessToken2, with Agora's numbers."""

    RTC = 1
    RTM = 2
    STREAMING = 3
    FPA = 4
    CHAT = 5
    FCDN = 6
    APAAS = 7
    RTM2 = 8
    CONVOAI = 9
    STT = 10


class RtcPrivilege(IntEnum):
    """Privileges of the RTC service, with Agora's numbers."""

    JOIN_CHANNEL = 1
    PUBLISH_AUDIO_STREAM = 2
    PUBLISH_VIDEO_STREAM = 3
    PUBLISH_DATA_STREAM = 4


class RtcRole(IntEnum):
    """Agora's ``Role_Publisher`` / ``Role_Subscriber`` of ``RtcTokenBuilder2``.

    A publisher (host) may join and publish audio, video and data; a subscriber
    (audience) may only join.
    """

    PUBLISHER = 1
    SUBSCRIBER = 2

    @classmethod
    def parse(cls, role: RtcRole | str | int) -> RtcRole:
        """Accept a member, its number, or a name: publisher/host, subscriber/audience."""
        if isinstance(role, RtcRole):
            return role
        if isinstance(role, int):
            try:
                return cls(role)
            except ValueError:
                raise InvalidParameterError("role", role, _ROLES_ALLOWED) from None
        name = role.strip().lower()
        if name in _ROLE_NAMES:
            return _ROLE_NAMES[name]
        raise InvalidParameterError("role", role, _ROLES_ALLOWED)


_ROLE_NAMES: dict[str, RtcRole] = {
    "publisher": RtcRole.PUBLISHER,
    "subscriber": RtcRole.SUBSCRIBER,
    "host": RtcRole.PUBLISHER,
    "audience": RtcRole.SUBSCRIBER,
}

_ROLES_ALLOWED = "one of publisher, subscriber, host, audience (or 1, 2)"
_PUBLISHER_PRIVILEGES = tuple(RtcPrivilege)
_SUBSCRIBER_PRIVILEGES = (RtcPrivilege.JOIN_CHANNEL,)


_ID_ALLOWED = "32 hexadecimal characters, as Agora issues them"


def is_agora_id(value: str) -> bool:
    """True if ``value`` is 32 hex characters, the form of Agora app IDs and certificates."""
    if len(value) != 32:
        return False
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------- byte packing


class _Writer:
    """Little-endian packer for Agora's token encoding."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def u16(self, value: int) -> None:
        self._parts.append(struct.pack("<H", value))

    def i16(self, value: int) -> None:
        self._parts.append(struct.pack("<h", value))

    def u32(self, value: int) -> None:
        self._parts.append(struct.pack("<I", value))

    def bytes_(self, value: bytes) -> None:
        if len(value) > _U16_MAX:
            shown = f"{len(value)} bytes"
            raise InvalidParameterError("token text field", shown, f"at most {_U16_MAX} bytes")
        self.u16(len(value))
        self._parts.append(value)

    def string(self, value: str) -> None:
        self.bytes_(value.encode("utf-8"))

    def privileges(self, privileges: Mapping[int, int]) -> None:
        # Agora sorts privileges by number; the order is part of what is signed.
        self.u16(len(privileges))
        for key in sorted(privileges):
            self.u16(key)
            self.u32(privileges[key])

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


class _Reader:
    """Cursor over decompressed token bytes; every short read is a :class:`TokenError`."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.pos = 0

    def since(self, start: int) -> bytes:
        """All bytes from offset ``start`` to the end."""
        return self._data[start:]

    @property
    def remaining(self) -> int:
        return len(self._data) - self.pos

    def _take(self, size: int, what: str) -> bytes:
        if self.remaining < size:
            raise TokenError(f"token is truncated: {what} is incomplete")
        chunk = self._data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def u16(self, what: str) -> int:
        value: int = struct.unpack("<H", self._take(2, what))[0]
        return value

    def i16(self, what: str) -> int:
        value: int = struct.unpack("<h", self._take(2, what))[0]
        return value

    def u32(self, what: str) -> int:
        value: int = struct.unpack("<I", self._take(4, what))[0]
        return value

    def bytes_(self, what: str) -> bytes:
        return self._take(self.u16(what), what)

    def string(self, what: str) -> str:
        raw = self.bytes_(what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TokenError(f"token is malformed: {what} is not UTF-8 text") from None

    def privileges(self, what: str) -> dict[int, int]:
        count = self.u16(what)
        result: dict[int, int] = {}
        for _ in range(count):
            key = self.u16(what)
            result[key] = self.u32(what)
        return result


# --------------------------------------------------------------------------- services


@dataclass(frozen=True)
class Service:
    """One service of a token: its type and privileges (privilege -> seconds after issue).

    Used as is for the services that carry nothing but privileges (FPA, ConvoAI, STT);
    the subclasses add the fields of the other types.
    """

    service_type: int
    privileges: Mapping[int, int] = field(default_factory=dict)

    def pack(self) -> bytes:
        """The service as it appears in a token, type first."""
        out = _Writer()
        out.u16(self.service_type)
        out.privileges(self.privileges)
        self._pack_fields(out)
        return out.getvalue()

    def _pack_fields(self, out: _Writer) -> None:
        """Write the fields that follow the privileges (none for a plain service)."""

    @classmethod
    def _unpack(cls, service_type: int, privileges: dict[int, int], src: _Reader) -> Service:
        return Service(service_type, privileges)


@dataclass(frozen=True)
class _ChannelService(Service):
    """A service bound to a channel name and a uid (RTC, streaming, FCDN)."""

    service_type: int = field(default=0, init=False)  # each subclass sets its own
    channel_name: str = ""
    account: str = ""
    _label: ClassVar[str] = ""

    def _pack_fields(self, out: _Writer) -> None:
        out.string(self.channel_name)
        out.string(self.account)

    @classmethod
    def _unpack(cls, service_type: int, privileges: dict[int, int], src: _Reader) -> Service:
        channel = src.string(f"{cls._label} channel name")
        return cls(privileges, channel, src.string(f"{cls._label} uid"))


@dataclass(frozen=True)
class RtcService(_ChannelService):
    """RTC (type 1): join and publish privileges for one channel and uid.

    ``account`` is the uid as text (Agora writes an integer uid in decimal); an empty
    account is Agora's uid 0, valid for any user.
    """

    service_type: int = field(default=ServiceType.RTC, init=False)
    _label: ClassVar[str] = "RTC"


@dataclass(frozen=True)
class StreamingService(_ChannelService):
    """Streaming (type 3): mix/raw stream publishing for a channel and uid."""

    service_type: int = field(default=ServiceType.STREAMING, init=False)
    _label: ClassVar[str] = "streaming"


@dataclass(frozen=True)
class FcdnService(_ChannelService):
    """FCDN (type 6): CDN publish/play for a channel and uid."""

    service_type: int = field(default=ServiceType.FCDN, init=False)
    _label: ClassVar[str] = "FCDN"


@dataclass(frozen=True)
class RtmService(Service):
    """RTM (type 2): signalling login for one user ID."""

    service_type: int = field(default=ServiceType.RTM, init=False)
    user_id: str = ""

    def _pack_fields(self, out: _Writer) -> None:
        out.string(self.user_id)

    @classmethod
    def _unpack(cls, service_type: int, privileges: dict[int, int], src: _Reader) -> Service:
        return cls(privileges, src.string("RTM user id"))


@dataclass(frozen=True)
class ChatService(Service):
    """Chat (type 5): a chat user (``user_id`` set) or the chat app (empty ``user_id``)."""

    service_type: int = field(default=ServiceType.CHAT, init=False)
    user_id: str = ""

    def _pack_fields(self, out: _Writer) -> None:
        out.string(self.user_id)

    @classmethod
    def _unpack(cls, service_type: int, privileges: dict[int, int], src: _Reader) -> Service:
        return cls(privileges, src.string("chat user id"))


@dataclass(frozen=True)
class ApaasService(Service):
    """APaaS / education (type 7): a room user, user or app, with a signed 16-bit role."""

    service_type: int = field(default=ServiceType.APAAS, init=False)
    room_uuid: str = ""
    user_uuid: str = ""
    role: int = -1

    def _pack_fields(self, out: _Writer) -> None:
        out.string(self.room_uuid)
        out.string(self.user_uuid)
        out.i16(self.role)

    @classmethod
    def _unpack(cls, service_type: int, privileges: dict[int, int], src: _Reader) -> Service:
        room = src.string("APaaS room uuid")
        user = src.string("APaaS user uuid")
        return cls(privileges, room, user, src.i16("APaaS role"))


@dataclass(frozen=True)
class Rtm2Service(Service):
    """RTM 2 (type 8): login plus resource permissions.

    ``permissions`` maps resource type -> permission type -> resource names.
    """

    service_type: int = field(default=ServiceType.RTM2, init=False)
    user_id: str = ""
    permissions: Mapping[int, Mapping[int, tuple[str, ...]]] = field(default_factory=dict)

    def _pack_fields(self, out: _Writer) -> None:
        out.string(self.user_id)
        out.u16(len(self.permissions))
        for resource_type in sorted(self.permissions):
            by_permission = self.permissions[resource_type]
            out.u16(resource_type)
            out.u16(len(by_permission))
            for permission_type in sorted(by_permission):
                names = by_permission[permission_type]
                out.u16(permission_type)
                out.u16(len(names))
                for name in names:
                    out.string(name)

    @classmethod
    def _unpack(cls, service_type: int, privileges: dict[int, int], src: _Reader) -> Service:
        user_id = src.string("RTM2 user id")
        permissions: dict[int, dict[int, tuple[str, ...]]] = {}
        for _ in range(src.u16("RTM2 permissions")):
            resource_type = src.u16("RTM2 permissions")
            by_permission = permissions.setdefault(resource_type, {})
            for _ in range(src.u16("RTM2 permissions")):
                permission_type = src.u16("RTM2 permissions")
                count = src.u16("RTM2 permissions")
                names = tuple(src.string("RTM2 resource") for _ in range(count))
                by_permission[permission_type] = names
        return cls(privileges, user_id, permissions)


_SERVICE_CLASSES: dict[int, type[Service]] = {
    ServiceType.RTC: RtcService,
    ServiceType.RTM: RtmService,
    ServiceType.STREAMING: StreamingService,
    ServiceType.FPA: Service,
    ServiceType.CHAT: ChatService,
    ServiceType.FCDN: FcdnService,
    ServiceType.APAAS: ApaasService,
    ServiceType.RTM2: Rtm2Service,
    ServiceType.CONVOAI: Service,
    ServiceType.STT: Service,
}


# ----------------------------------------------------------------------------- token


@dataclass(frozen=True)
class AccessToken2:
    """A decoded AccessToken2. Decoding checks the format only, never the signature.

    Attributes:
        app_id: the app ID the token was issued for.
        issue_ts: issue time, Unix seconds.
        expire: token lifetime in seconds after ``issue_ts``.
        salt: the random salt mixed into the signing key.
        signature: the 32-byte HMAC-SHA256 signature.
        services: the services in token order (normally ascending type).
        unknown_service_type: if decoding stopped at a service type this module does
            not know (its layout is unknown, so nothing after it can be read), that
            type; otherwise ``None``. The signature still covers the whole token.
        signed_content: the exact bytes the signature covers.
    """

    app_id: str
    issue_ts: int
    expire: int
    salt: int
    signature: bytes
    services: tuple[Service, ...]
    unknown_service_type: int | None = None
    signed_content: bytes = field(default=b"", repr=False)

    @property
    def expires_at(self) -> int:
        """Unix time at which the token stops being valid."""
        return self.issue_ts + self.expire

    def services_of(self, service_type: int) -> tuple[Service, ...]:
        """The services of one type, in token order."""
        return tuple(s for s in self.services if s.service_type == service_type)

    def rtc_services(self) -> tuple[RtcService, ...]:
        """The RTC services of the token (usually one)."""
        return tuple(s for s in self.services if isinstance(s, RtcService))

    def signature_matches(self, app_certificate: str) -> bool:
        """True if ``app_certificate`` signed this token (constant-time comparison)."""
        key = _signing_key(app_certificate, self.issue_ts, self.salt)
        expected = hmac.new(key, self.signed_content, hashlib.sha256).digest()
        return hmac.compare_digest(expected, self.signature)


def _signing_key(app_certificate: str, issue_ts: int, salt: int) -> bytes:
    first = hmac.new(struct.pack("<I", issue_ts), app_certificate.encode("utf-8"), hashlib.sha256)
    return hmac.new(struct.pack("<I", salt), first.digest(), hashlib.sha256).digest()


def _check_u32(name: str, value: int) -> None:
    if not 0 <= value <= _U32_MAX:
        raise InvalidParameterError(name, value, f"0..{_U32_MAX}")


def build_token(
    app_id: str,
    app_certificate: str,
    services: Iterable[Service],
    expire: int,
    *,
    issue_ts: int | None = None,
    salt: int | None = None,
) -> str:
    """Encode and sign an AccessToken2 carrying ``services``.

    ``expire`` is the token lifetime in seconds after ``issue_ts`` (default: now);
    ``salt`` defaults to a random number in Agora's range 1..99999999. Services are
    written in ascending type order, as Agora's builders do.

    Raises:
        InvalidParameterError: app ID or certificate is not 32 hex characters (Agora's
            builders refuse those too), no service is given, or a number is out of range.
    """
    if not is_agora_id(app_id):
        raise InvalidParameterError("app_id", app_id, _ID_ALLOWED)
    if not is_agora_id(app_certificate):
        raise InvalidParameterError("app_certificate", app_certificate, _ID_ALLOWED, redact=True)
    ordered = sorted(services, key=lambda s: s.service_type)
    if not ordered:
        raise InvalidParameterError("services", "none", "at least one service")
    if issue_ts is None:
        issue_ts = int(time.time())
    if salt is None:
        salt = secrets.randbelow(99_999_999) + 1
    _check_u32("expire", expire)
    _check_u32("issue_ts", issue_ts)
    _check_u32("salt", salt)
    for service in ordered:
        for privilege, seconds in service.privileges.items():
            _check_u32(f"privilege {privilege} expire", seconds)

    content = _Writer()
    content.string(app_id)
    content.u32(issue_ts)
    content.u32(expire)
    content.u32(salt)
    content.u16(len(ordered))
    signed = content.getvalue() + b"".join(s.pack() for s in ordered)

    key = _signing_key(app_certificate, issue_ts, salt)
    signature = hmac.new(key, signed, hashlib.sha256).digest()
    head = _Writer()
    head.bytes_(signature)
    payload = zlib.compress(head.getvalue() + signed)
    return VERSION + base64.b64encode(payload).decode("ascii")


def _uid_account(uid: int | str) -> str:
    """Agora's uid-to-account rule: integer 0 is "" (any uid), other integers decimal."""
    if isinstance(uid, bool):
        raise TypeError("uid must be an int or a str, not bool")
    if isinstance(uid, int):
        _check_u32("uid", uid)
        return "" if uid == 0 else str(uid)
    return uid


def build_rtc_token(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    uid: int | str,
    role: RtcRole | str,
    token_expire: int,
    privilege_expire: int | None = None,
    *,
    issue_ts: int | None = None,
    salt: int | None = None,
) -> str:
    """Build an RTC token as Agora's ``RtcTokenBuilder.build_token_with_uid/_user_account``.

    Args:
        app_id: the app ID (32 hex characters).
        app_certificate: the app certificate (32 hex characters).
        channel_name: the channel the token is for.
        uid: an integer uid (0 = any uid may use the token) or a user account string.
        role: "publisher" (join + publish audio, video and data) or "subscriber"
            (join only); "host" / "audience" and :class:`RtcRole` are accepted too.
        token_expire: seconds after issue until the token expires.
        privilege_expire: seconds after issue until the privileges expire; defaults
            to ``token_expire``. 0 means "as long as the token".
        issue_ts: issue time in Unix seconds (default: now); for reproducible tokens.
        salt: signing salt (default: random); for reproducible tokens.

    Returns:
        The token text, starting with "007".

    Raises:
        InvalidParameterError: a malformed app ID or certificate, an unknown role, or
            a uid or time out of the unsigned 32-bit range.
    """
    rtc_role = RtcRole.parse(role)
    seconds = token_expire if privilege_expire is None else privilege_expire
    granted = _PUBLISHER_PRIVILEGES if rtc_role is RtcRole.PUBLISHER else _SUBSCRIBER_PRIVILEGES
    service = RtcService({int(p): seconds for p in granted}, channel_name, _uid_account(uid))
    return build_token(
        app_id, app_certificate, [service], token_expire, issue_ts=issue_ts, salt=salt
    )


def _decode_payload(token: str) -> bytes:
    if not isinstance(token, str):
        raise TokenError(f"token must be text, not {type(token).__name__}")
    if len(token) > _MAX_TOKEN_CHARS:
        raise TokenError(f"token is {len(token)} characters long; at most {_MAX_TOKEN_CHARS}")
    if not token.startswith(VERSION):
        shown = token[:3] if token[:3].isalnum() else "?"
        raise TokenError(f"not an AccessToken2: it must start with {VERSION!r} (got {shown!r})")
    body = token[len(VERSION) :]
    if not body:
        raise TokenError("token is empty after its version")
    body += "=" * (-len(body) % 4)  # tolerate stripped padding
    try:
        compressed = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise TokenError("token is malformed: not valid base64") from None
    inflater = zlib.decompressobj()
    try:
        content = inflater.decompress(compressed, _MAX_CONTENT_BYTES)
    except zlib.error:
        raise TokenError("token is malformed: its content is not zlib data") from None
    if inflater.unconsumed_tail:
        raise TokenError("token is malformed: its content is too large")
    if not inflater.eof:
        raise TokenError("token is truncated: its zlib data is incomplete")
    return content


def parse_token(token: str) -> AccessToken2:
    """Decode an AccessToken2 without checking its signature.

    Raises:
        TokenError: the text is not a well-formed AccessToken2 (wrong version, bad
            base64 or zlib, truncated or trailing bytes, unreadable fields).
    """
    src = _Reader(_decode_payload(token))
    signature = src.bytes_("signature")
    signed_start = src.pos
    app_id = src.string("app id")
    issue_ts = src.u32("issue time")
    expire = src.u32("expire")
    salt = src.u32("salt")
    services: list[Service] = []
    unknown: int | None = None
    for _ in range(src.u16("service count")):
        service_type = src.u16("service type")
        cls = _SERVICE_CLASSES.get(service_type)
        if cls is None:
            # Services carry no length, so a type we do not know ends decoding (as
            # in Agora's Go parser); types are sorted, so RTC (1) comes before it.
            unknown = service_type
            break
        privileges = src.privileges(f"privileges of service {service_type}")
        services.append(cls._unpack(service_type, privileges, src))
    if unknown is None and src.remaining:
        raise TokenError(f"token is malformed: {src.remaining} unexpected bytes at its end")
    return AccessToken2(
        app_id=app_id,
        issue_ts=issue_ts,
        expire=expire,
        salt=salt,
        signature=signature,
        services=tuple(services),
        unknown_service_type=unknown,
        signed_content=src.since(signed_start),
    )


# ---------------------------------------------------------------------- verification


@dataclass(frozen=True)
class RtcGrant:
    """What a verified RTC token allows right now.

    The server answers 401 when :attr:`join` is false and 403 when a publish right is
    missing. ``privileges_expire_at`` holds the effective end (Unix seconds, capped by
    the token) of every RTC privilege the token names, expired or not, so a server
    can end a session when its join privilege runs out.
    """

    app_id: str
    channel_name: str
    account: str
    issue_ts: int
    expires_at: int
    join: bool
    publish_audio: bool
    publish_video: bool
    publish_data: bool
    privileges_expire_at: Mapping[int, int] = field(default_factory=dict)

    @property
    def any_uid(self) -> bool:
        """True if the token was issued for uid 0 / an empty account (any user)."""
        return self.account == ""

    @property
    def can_publish(self) -> bool:
        """True if the token may publish audio or video."""
        return self.publish_audio or self.publish_video


def _show(text: str) -> str:
    """``repr`` of a value read from a token, cut short: it is untrusted input."""
    return repr(text) if len(text) <= 80 else repr(text[:77]) + "..."


def _uid_text(uid: int | str) -> str:
    if isinstance(uid, bool):
        raise TypeError("uid must be an int or a str, not bool")
    return str(uid)


def _pick_rtc_service(
    services: tuple[RtcService, ...], channel_name: str, uid: int | str
) -> RtcService:
    if not services:
        raise TokenMismatchError("token grants no RTC service")
    in_channel = [s for s in services if s.channel_name == channel_name]
    if not in_channel:
        issued = ", ".join(_show(s.channel_name) for s in services)
        raise TokenMismatchError(f"token is for channel {issued}, not for channel {channel_name!r}")
    wanted = _uid_text(uid)
    for service in in_channel:
        if service.account in ("", wanted):
            return service
    issued = ", ".join(_show(s.account) for s in in_channel)
    raise TokenMismatchError(f"token is for uid {issued}, not for uid {wanted!r}")


def verify_rtc_token(
    token: str,
    *,
    app_id: str,
    app_certificate: str,
    channel_name: str,
    uid: int | str,
    now: float | None = None,
) -> RtcGrant:
    """Check an RTC token for joining ``channel_name`` as ``uid`` and report its rights.

    Checks, in order: format and version, app ID, signature (constant time), token
    expiry, then an RTC service for this channel and uid (a token uid of 0 / "" matches
    every uid; an integer uid matches the token account with the same decimal text).

    Returns:
        The grant: which of join / publish audio / publish video / publish data are
        present and unexpired at ``now`` (default: the current time).

    Raises:
        TokenError: the token is malformed.
        TokenMismatchError: wrong app ID, bad signature, other channel or uid.
        TokenExpiredError: the token has expired.
        InvalidParameterError: ``app_certificate`` is not 32 hex characters (a server
            setup error, not the client's).
    """
    if not is_agora_id(app_certificate):
        raise InvalidParameterError("app_certificate", app_certificate, _ID_ALLOWED, redact=True)
    parsed = parse_token(token)
    if parsed.app_id != app_id:
        raise TokenMismatchError(f"token is for app id {_show(parsed.app_id)}, not {app_id!r}")
    if not parsed.signature_matches(app_certificate):
        raise TokenMismatchError("token signature is invalid (wrong app certificate or altered)")
    moment = time.time() if now is None else now
    if moment >= parsed.expires_at:
        raise TokenExpiredError(
            f"token expired at {parsed.expires_at} (Unix time); it is now {int(moment)}"
        )
    service = _pick_rtc_service(parsed.rtc_services(), channel_name, uid)
    ends: dict[int, int] = {}
    for privilege, seconds in service.privileges.items():
        end = parsed.issue_ts + seconds if seconds else parsed.expires_at
        ends[privilege] = min(end, parsed.expires_at)

    def live(privilege: RtcPrivilege) -> bool:
        return privilege in ends and moment < ends[privilege]

    return RtcGrant(
        app_id=parsed.app_id,
        channel_name=service.channel_name,
        account=service.account,
        issue_ts=parsed.issue_ts,
        expires_at=parsed.expires_at,
        join=live(RtcPrivilege.JOIN_CHANNEL),
        publish_audio=live(RtcPrivilege.PUBLISH_AUDIO_STREAM),
        publish_video=live(RtcPrivilege.PUBLISH_VIDEO_STREAM),
        publish_data=live(RtcPrivilege.PUBLISH_DATA_STREAM),
        privileges_expire_at=ends,
    )
