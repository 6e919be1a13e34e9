"""The embedded server's webhook endpoints as the window keeps them (docs/gui.md).

An endpoint's URL (without user and password) and event types are in the settings
(:class:`gui.settings.WebhookEndpoint`); its signing secret and the URL's
``user:password``, if any, are in the keyring (``webhook:<url>``). When the window
starts its embedded server, :func:`server_environment` joins them into the server's
``CLOUDREC_WEBHOOKS`` value, which goes into the child's environment only, with
``--webhooks-from-env`` (never its command line or a file). The window checks what is
typed with the server's own parser (:func:`core.server.webhook_config.parse_webhooks`),
so the window and the server accept the same endpoints and say the same about the rest.

The running server knows its endpoints by their place in its status report
(``GET /v1/cloudrec/status``, ``webhooks``), listed without userinfo or query;
:func:`server_index` finds a window's endpoint there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from core.errors import CloudRecordingError
from core.notices import MSG_NAMES, EventType
from core.server.webhook_config import (
    MAX_ENDPOINTS,
    WEBHOOKS_ENV,
    Endpoint,
    event_types,
    parse_webhooks,
)
from gui.keyring_store import KeyringStore
from gui.settings import AppSettings, WebhookEndpoint

__all__ = [
    "MAX_ENDPOINTS",
    "WEBHOOKS_ENV",
    "check_endpoint",
    "event_names",
    "parse_events",
    "same_receiver",
    "server_environment",
    "server_index",
    "shown_url",
    "split_userinfo",
]

_SOURCE = "webhook"
_STAND_IN = {"url": "https://receiver.invalid/hook", "secret": "-"}
"""Valid values for the fields not being checked: the server's parser stops at the
first bad field, so each field is checked on its own with the others standing in."""
_PREFIX = re.compile(r"^webhook\[0\]\.[a-z]+(?:\[\d+\])?: ")


def split_userinfo(url: str) -> tuple[str, str]:
    """``url`` without ``user:password@`` and that userinfo ("" when there is none)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" not in netloc:
        return url, ""
    userinfo, _, host = netloc.rpartition("@")
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), userinfo


def with_userinfo(url: str, userinfo: str) -> str:
    """``url`` with ``userinfo`` put back (the URL the server is given)."""
    if not userinfo:
        return url
    parts = urlsplit(url)
    netloc = f"{userinfo}@{parts.netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def shown_url(url: str) -> str:
    """The URL as the server's status lists it: without userinfo, query or fragment."""
    return Endpoint(url, "-").shown


def same_receiver(a: str, b: str) -> bool:
    """Whether the server would take ``a`` and ``b`` for the same endpoint."""
    return Endpoint(a, "-").id == Endpoint(b, "-").id


def event_names() -> list[tuple[int, str]]:
    """(number, Agora's name) of every event type an endpoint may take."""
    return [(n, MSG_NAMES.get(EventType(n), "")) for n in event_types()]


def parse_events(text: str) -> list[int | str] | None:
    """The event types typed as ``31, 32 11``: None when empty (every event); items that
    are not whole numbers stay text, for the server's parser to name."""
    items = [item for item in re.split(r"[\s,;]+", text.strip()) if item]
    if not items:
        return None
    return [int(item) if re.fullmatch(r"[+-]?\d{1,12}", item) else item for item in items]


def _message(error: CloudRecordingError) -> str:
    """The server's message without the name of the variable it was read from."""
    return _PREFIX.sub("", error.message, count=1)


def check_endpoint(url: str, secret: str | None, events: str) -> dict[str, str]:
    """What is wrong with an endpoint as typed, per field (``url``, ``secret``,
    ``events``), in the server's words; empty when the server would take it.
    ``secret`` None: the stored one is kept and not checked."""
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {"url": url.strip()}
    if secret is not None:
        fields["secret"] = secret
    numbers = parse_events(events)
    if numbers is not None:
        fields["events"] = numbers
    for name, value in fields.items():
        try:
            parse_webhooks(json.dumps([{**_STAND_IN, name: value}]), _SOURCE)
        except CloudRecordingError as exc:
            errors[name] = _message(exc)
    return errors


async def server_environment(
    settings: AppSettings, keyring: KeyringStore
) -> tuple[str | None, tuple[str, ...], list[str]]:
    """The embedded server's ``CLOUDREC_WEBHOOKS`` value (None: no endpoint), the URLs
    it holds in its order (the server's numbering), and why endpoints were left out (an
    endpoint whose secret the keyring does not have, a value the server would refuse).
    Secrets are in the value only: never in what is returned besides it."""
    items: list[dict[str, Any]] = []
    urls: list[str] = []
    problems: list[str] = []
    for endpoint in settings.webhooks()[:MAX_ENDPOINTS]:
        secret, userinfo = await keyring.webhook_secret(endpoint.url)
        if not secret:
            problems.append(f"{shown_url(endpoint.url)}: no secret in the keyring")
            continue
        item: dict[str, Any] = {"url": with_userinfo(endpoint.url, userinfo), "secret": secret}
        if endpoint.events is not None:
            item["events"] = list(endpoint.events)
        try:
            parse_webhooks(json.dumps([item]), _SOURCE)
        except CloudRecordingError as exc:
            problems.append(f"{shown_url(endpoint.url)}: {_message(exc)}")
            continue
        if any(same_receiver(endpoint.url, url) for url in urls):
            problems.append(f"{shown_url(endpoint.url)}: listed twice")
            continue
        items.append(item)
        urls.append(endpoint.url)
    if not items:
        return None, (), problems
    return json.dumps(items), tuple(urls), problems


def server_index(
    url: str, entries: Sequence[Mapping[str, Any]], started: Sequence[str] = ()
) -> int | None:
    """The place of the endpoint at ``url`` in the server's status ``entries``, or None
    when the running server does not have it (added since it started, or a remote
    server's own configuration). ``started``: the URLs this window started the server
    with, in its order; they tell apart endpoints whose URLs differ only in the query,
    which the status lists alike."""
    shown = shown_url(url)
    if url in started:
        index = list(started).index(url)
        if index < len(entries) and entries[index].get("endpoint") == shown:
            return index
        return None
    matches = [i for i, entry in enumerate(entries) if entry.get("endpoint") == shown]
    return matches[0] if len(matches) == 1 else None


def endpoint_from_fields(url: str, events: str) -> tuple[WebhookEndpoint, str]:
    """The settings' endpoint (URL without userinfo) and the userinfo typed in ``url``,
    from fields :func:`check_endpoint` accepted."""
    bare, userinfo = split_userinfo(url.strip())
    numbers = parse_events(events)
    kept = None if numbers is None else tuple(sorted({int(n) for n in numbers}))
    return WebhookEndpoint(bare, kept), userinfo
