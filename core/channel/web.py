"""The channel's pages: the roster endpoint and the join page.

* ``GET /channels/{app_id}/{channel}``: who is in the channel, as JSON
  (``{"app_id", "channel", "channel_type", "users": [{uid, role, joined_at,
  tracks}]}``; ``joined_at`` is Unix time, ``channel_type`` null while empty). Public
  for the sandbox app; for an app with a certificate it needs ``Authorization: Bearer``
  with an RTC token for the channel or the server's admin token (401 otherwise).
* ``GET /join``: a page that publishes camera and microphone over WHIP
  (``resources/join/``).
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from core.channel.apps import AppRegistry
from core.channel.errors import ChannelError
from core.channel.names import validate_channel_name
from core.channel.registry import ChannelRegistry
from core.enums import SANDBOX_APP_ID
from core.resources import resources_dir

router = APIRouter(tags=["channel"])


JOIN_PAGE_DIR = resources_dir() / "join"
"""Where the join page's files live (``resources/join``)."""

_JOIN_FILES = {"index.html": "text/html", "join.js": "text/javascript"}


@router.get("/channels/{app_id}/{channel}")
async def roster(request: Request, app_id: str, channel: str) -> Response:
    """The users in a channel, for the join page and for people."""
    apps: AppRegistry = request.app.state.apps
    registry: ChannelRegistry = request.app.state.channels
    headers = {"Cache-Control": "no-store"}  # CORS: core.server.cors
    try:
        apps.certificate(app_id)
        validate_channel_name(channel)
        if not _is_admin(request):
            apps.check_roster(app_id, channel, _bearer(request))
    except ChannelError as exc:
        return JSONResponse({"error": exc.message}, exc.status, headers=headers)
    room = registry.get(app_id, channel)
    users = [] if room is None else [p.to_json() for p in room.participants()]
    kind = None if room is None or room.channel_type is None else room.channel_type.name.lower()
    body = {"app_id": app_id, "channel": channel, "channel_type": kind, "users": users}
    return JSONResponse(body, headers=headers)


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _is_admin(request: Request) -> bool:
    """Whether the request carries the server's admin (bearer) token, compared as bytes."""
    token = _bearer(request)
    settings = getattr(request.app.state, "settings", None)
    if token is None or settings is None:
        return False
    expected: str = settings.token
    return secrets.compare_digest(token.encode("latin-1"), expected.encode("utf-8"))


def _join_file(name: str) -> Response:
    path = JOIN_PAGE_DIR / name
    if not path.is_file():
        return Response(f"join page file {name} is not installed\n", 404, media_type="text/plain")
    text = path.read_text(encoding="utf-8").replace("{{SANDBOX_APP_ID}}", SANDBOX_APP_ID)
    return Response(text, media_type=_JOIN_FILES[name], headers={"Cache-Control": "no-cache"})


@router.get("/join", include_in_schema=False)
@router.get("/join/", include_in_schema=False)
async def join_page() -> Response:
    """The join page."""
    return _join_file("index.html")


@router.get("/join/join.js", include_in_schema=False)
async def join_script() -> Response:
    """The join page's script."""
    return _join_file("join.js")
