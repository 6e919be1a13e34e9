"""Stream destinations' URLs: which a recording may push to, and how they are shown.

A live stream's URL holds its stream key (RTMP: the last path segment; SRT: the stream
id or passphrase in the query), a secret: it is shown everywhere by :func:`mask_url`
(``docs/streaming.md``). Pure rules, shared by the config models, the recorder and the
window.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("rtmp", "rtmps", "srt")
"""The URL schemes a destination may have."""

MAX_DESTINATIONS = 5
"""Destinations of one recording at most."""

URL_ALLOWED = "rtmp://host/app/key, rtmps://host/app/key or srt://host:port?streamid=..."
"""What a destination's URL may be, as the errors say."""


def mask_url(url: str) -> str:
    """``url`` with what may be a secret hidden: the last of two or more path segments
    (an RTMP stream key), the query (an SRT stream id, passphrase), any userinfo."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    path = parts.path
    if "/" in path.strip("/"):  # app/key (any scheme: a mistyped one may carry a key)
        path = path.rsplit("/", 1)[0] + "/****"
    query = "****" if parts.query else ""
    return urlunsplit((parts.scheme, host, path, query, ""))


def check_url(url: str) -> str:
    """``url`` if a destination may have it, else ValueError naming what is allowed
    (the message holds the masked URL only)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(f"{mask_url(url)!r} is not a stream URL; {URL_ALLOWED}") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError(f"{mask_url(url)!r} is not a stream URL; {URL_ALLOWED}")
    if parts.scheme == "srt" and port is None:
        raise ValueError(f"{mask_url(url)!r} has no port; {URL_ALLOWED}")
    return url
