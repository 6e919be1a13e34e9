"""Which web pages may call the channel's endpoints from a browser (CORS).

The channel's WHIP endpoints (``/whip/...``) and rosters (``/channels/...``) answer web
pages of the server's **own origin** (the join page, ``/join``, which the server serves
itself) and of the origins the server's operator lists (``cloudrec server
--allow-origin ORIGIN``, repeatable; ``*``: any origin). The own origin is the one the
request was sent to: its scheme and ``Host``, which a browser sets itself.

A request carrying an ``Origin`` header of any other page is refused, 403 in the shape
of the endpoint, before its body is read, and gets no ``Access-Control-Allow-Origin``:
so a page elsewhere on the web cannot make a visitor's browser publish into a channel
of a server on the visitor's machine or network, nor read a roster. A preflight
(``OPTIONS`` with ``Access-Control-Request-Method``) from an allowed origin is answered
here (204 with the allowed methods and headers); every answer to an allowed origin
carries ``Access-Control-Allow-Origin: <that origin>``, the exposed headers WHIP needs
(``Location``, ``ETag``, ``Link``, ``Accept-Patch``) and ``Vary: Origin``. Requests
without ``Origin`` (OBS, ffmpeg, the SDK's clients, ``curl``) are not browsers' and pass
unchanged, without CORS headers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.server.limits import refusal

CORS_PATHS = ("/whip/", "/channels/")

_ALLOW = {
    "Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
    "Access-Control-Max-Age": "86400",
}
_EXPOSE = {"Access-Control-Expose-Headers": "Location, ETag, Link, Accept-Patch"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origin(text: str) -> str:
    """An origin as browsers send it (``scheme://host[:port]``, lower case, without the
    scheme's default port), or ``*``; ``ValueError`` naming what is wrong."""
    text = text.strip()
    if text == "*":
        return text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an origin ({exc})") from None
    if (
        parts.scheme.lower() not in _DEFAULT_PORTS
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or port == 0
    ):
        raise ValueError(
            f"{text!r} is not an origin; expected http(s)://host[:port] (no path), or *"
        )
    return _origin(parts.scheme, parts.netloc)


def _origin(scheme: str, netloc: str) -> str:
    """``scheme://host[:port]`` in the form browsers send, for comparing."""
    scheme = scheme.lower()
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    shown = "" if port is None or port == _DEFAULT_PORTS.get(scheme) else f":{port}"
    return f"{scheme}://{host}{shown}"


class OriginPolicy:
    """ASGI middleware: CORS for :data:`CORS_PATHS`, for the own origin and ``allowed``."""

    def __init__(self, app: ASGIApp, *, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = frozenset(parse_origin(origin) for origin in allowed)

    def allows(self, origin: str, scope: Scope) -> bool:
        """Whether a page of ``origin`` may call the server that ``scope`` reached."""
        if "*" in self.allowed:
            return True
        headers = dict(scope["headers"])
        own = _origin(scope.get("scheme", "http"), headers.get(b"host", b"").decode("latin-1"))
        sent = _origin(*origin.split("://", 1)) if "://" in origin else ""
        return bool(sent) and (sent == own or sent in self.allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(CORS_PATHS):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw = headers.get(b"origin")
        if raw is None:
            await self.app(scope, receive, send)
            return
        origin = raw.decode("latin-1")
        path: str = scope["path"]
        if not self.allows(origin, scope):
            shown = repr(origin) if len(origin) <= 80 else f"{origin[:80]!r}..."
            answer = refusal(
                path,
                403,
                f"origin {shown} may not call this server from a web page: it answers pages "
                "of its own origin (its join page) and the origins its operator allows "
                "(cloudrec server --allow-origin)",
                {"Vary": "Origin"},
            )
            await answer(scope, receive, send)
            return
        cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await Response(status_code=204, headers={**cors, **_ALLOW})(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in {**cors, **_EXPOSE}.items()]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_cors)
