"""The server's webhook endpoints: where notices are pushed, each with its signing secret.

``cloudrec server --webhooks-from-env`` reads them from ``CLOUDREC_WEBHOOKS``, a JSON
list of objects (docs/webhooks.md, "Configuration")::

    [{"url": "https://hooks.example.com/agora", "secret": "...", "events": [31, 32, 11]}]

``url`` (http or https; userinfo is sent as Basic auth, as httpx does) and ``secret``
(the key of both signatures) are required; ``events`` (event type numbers) is optional,
and without it every event is sent. Secrets come only from the environment: never from
a file, the command line or a log. A malformed value stops the server with a message
that names the field and what it may be, and never quotes the value: a URL can hold a
token of its own, and the secret is a secret.

An endpoint is known by :attr:`Endpoint.id`, derived from its URL only, so the delivery
cursors kept in the database survive a restart, and a changed secret, unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from core.errors import CloudRecordingError
from core.notices import EventType

WEBHOOKS_ENV = "CLOUDREC_WEBHOOKS"

MAX_TEXT = 64 * 1024
"""Characters the whole value may have (a few endpoints need a few hundred)."""
MAX_ENDPOINTS = 32
MAX_URL = 2048
MAX_SECRET = 1024
FIELDS = ("url", "secret", "events")

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")


@dataclass(frozen=True)
class Endpoint:
    """One webhook receiver: its URL, its secret (never shown) and the event types it
    takes (None: every event)."""

    url: str
    secret: str = field(repr=False)
    events: frozenset[int] | None = None

    @property
    def id(self) -> str:
        """A stable name of the endpoint in the database: a hash of its URL without
        userinfo (never of its secret), so a rotated secret keeps its cursors."""
        return hashlib.sha256(_without_userinfo(urlsplit(self.url)).encode()).hexdigest()[:32]

    @property
    def shown(self) -> str:
        """The URL as logs and the status endpoint show it: without userinfo, query or
        fragment, where tokens of the receiver's own may be."""
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, _host_port(parts), parts.path, "", ""))

    def wants(self, event_type: object) -> bool:
        """Whether a notice of ``event_type`` is sent to this endpoint."""
        return self.events is None or event_type in self.events


def _host_port(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port is not None else host


def _without_userinfo(parts: SplitResult) -> str:
    return urlunsplit((parts.scheme, _host_port(parts), parts.path, parts.query, ""))


def event_types() -> list[int]:
    """The event type numbers an endpoint's ``events`` may name (those cloudrec sends)."""
    return sorted(int(e) for e in EventType)


def parse_webhooks(text: str, source: str = WEBHOOKS_ENV) -> tuple[Endpoint, ...]:
    """The endpoints of ``text`` (the value of ``source``); raises
    :class:`~core.errors.CloudRecordingError` naming the field (``source[1].url``) and
    what it may be, never quoting a value. An empty text is no endpoint."""
    if not text.strip():
        return ()
    if len(text) > MAX_TEXT:
        raise CloudRecordingError(
            f"{source}: {len(text)} characters, more than the {MAX_TEXT} allowed"
        )
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg and exc.pos say where, without the text around it
        raise CloudRecordingError(
            f"{source}: not JSON ({exc.msg} at character {exc.pos}); " + _FORMAT
        ) from None
    if not isinstance(body, list):
        raise CloudRecordingError(f"{source}: {_kind(body)}, not a list; " + _FORMAT)
    if len(body) > MAX_ENDPOINTS:
        raise CloudRecordingError(
            f"{source}: {len(body)} endpoints, more than the {MAX_ENDPOINTS} allowed"
        )
    endpoints: list[Endpoint] = []
    for index, item in enumerate(body):
        where = f"{source}[{index}]"
        endpoint = _endpoint(item, where)
        for other, known in enumerate(endpoints):
            if known.id == endpoint.id:
                raise CloudRecordingError(
                    f"{where}.url: the same URL as {source}[{other}].url; name each "
                    "receiver once (one endpoint can take several event types)"
                )
        endpoints.append(endpoint)
    return tuple(endpoints)


_FORMAT = (
    'a JSON list of {"url": "https://...", "secret": "...", "events": [31, 11]} objects '
    "(events optional: every event without it; docs/webhooks.md)"
)


def _kind(value: object) -> str:
    """A JSON value's kind, for messages that must not quote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _endpoint(item: object, where: str) -> Endpoint:
    if not isinstance(item, dict):
        raise CloudRecordingError(f"{where}: {_kind(item)}, not an object; " + _FORMAT)
    for key in item:
        if key not in FIELDS:
            name = repr(key) if _FIELD_NAME.fullmatch(key) else f"of {len(key)} characters"
            raise CloudRecordingError(
                f"{where}: unknown field {name}; the fields are {', '.join(FIELDS)}"
            )
    return Endpoint(
        url=_url(item.get("url"), f"{where}.url"),
        secret=_secret(item.get("secret"), f"{where}.secret"),
        events=_events(item["events"], f"{where}.events") if "events" in item else None,
    )


def _url(value: Any, where: str) -> str:
    wanted = "the receiver's http:// or https:// URL"
    if value is None:
        raise CloudRecordingError(f"{where}: missing; {wanted}")
    if not isinstance(value, str):
        raise CloudRecordingError(f"{where}: {_kind(value)}, not a string; {wanted}")
    if len(value) > MAX_URL:
        raise CloudRecordingError(f"{where}: longer than {MAX_URL} characters; {wanted}")
    if not value.isascii() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        raise CloudRecordingError(
            f"{where}: holds spaces, control or non-ASCII characters; {wanted}, "
            "percent-encoded (IDNA for a host name)"
        )
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        raise CloudRecordingError(
            f"{where}: not a valid URL (its host or port); {wanted}"
        ) from None
    if parts.scheme not in ("http", "https"):
        raise CloudRecordingError(f"{where}: its scheme is not http or https; {wanted}")
    if not parts.hostname:
        raise CloudRecordingError(f"{where}: it names no host; {wanted}")
    if port == 0:
        raise CloudRecordingError(f"{where}: port 0; {wanted}, with a port from 1 to 65535")
    if parts.fragment or value.endswith("#"):
        raise CloudRecordingError(
            f"{where}: it has a fragment ('#...'), which is never sent; {wanted}"
        )
    return value


def _secret(value: Any, where: str) -> str:
    wanted = "the endpoint's secret (the key of Agora-Signature and Agora-Signature-V2)"
    if value is None:
        raise CloudRecordingError(f"{where}: missing; {wanted}")
    if not isinstance(value, str):
        raise CloudRecordingError(f"{where}: {_kind(value)}, not a string; {wanted}")
    if not value:
        raise CloudRecordingError(f"{where}: empty; {wanted}, not empty")
    if len(value) > MAX_SECRET:
        raise CloudRecordingError(f"{where}: longer than {MAX_SECRET} characters; {wanted}")
    return value


def _events(value: Any, where: str) -> frozenset[int]:
    allowed = ", ".join(str(n) for n in event_types())
    wanted = f"a list of event types, each one of {allowed} (omit events for every event)"
    if not isinstance(value, list):
        raise CloudRecordingError(f"{where}: {_kind(value)}, not a list; {wanted}")
    if not value:
        raise CloudRecordingError(f"{where}: empty, so nothing would be sent; {wanted}")
    events = set()
    for index, number in enumerate(value):
        if isinstance(number, bool) or not isinstance(number, int):
            raise CloudRecordingError(
                f"{where}[{index}]: {_kind(number)}, not an event type number; {wanted}"
            )
        if number not in event_types():
            shown = str(number) if abs(number) < 10**9 else "a number"
            raise CloudRecordingError(
                f"{where}[{index}]: {shown} is not an event type cloudrec sends; {wanted}"
            )
        events.add(number)
    return frozenset(events)
