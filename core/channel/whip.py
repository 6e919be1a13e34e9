"""WHIP (RFC 9725) endpoints of the channel.

* ``POST /whip/{app_id}/{channel}/{uid}`` with an ``application/sdp`` offer joins the
  channel and publishes; query ``role=host|audience`` (default host) and
  ``channel_type=communication|live`` (default: the channel's, or communication);
  ``encryption=none|aes_128_xts|aes_128_ecb|aes_256_xts`` announces end-to-end
  encrypted media (the mode only, never the secret: the channel then forwards the
  frames undecoded, ``docs/encryption.md``); the token goes in ``Authorization:
  Bearer``. Answers 201 with the SDP answer (every ICE candidate included: the server gathers before answering), ``Location:
  /whip/session/{id}`` and an ``ETag``.
* ``PATCH /whip/session/{id}`` (``application/trickle-ice-sdpfrag``) adds trickled
  candidates: 204.
* ``DELETE /whip/session/{id}`` leaves: 200.
* ``OPTIONS`` on both (``Accept-Post``); CORS for the join page's origin and the ones
  the operator allows is :mod:`core.server.cors`.

Errors are plain text a person can read: 400 unusable SDP or names, 401 missing,
bad or expired token, 403 no right to publish, 404 unknown app or session, 409 uid
already in the channel or channel type mismatch, 413 a body over 256 KiB
(:mod:`core.server.limits`), 415 wrong content type, 429 and 503 (with ``Retry-After``)
new sessions too fast or too many for the app (:mod:`core.channel.whip_limits`).
"""

from __future__ import annotations

import logging
from typing import TypeVar

from aiortc.sdp import candidate_from_sdp
from fastapi import APIRouter, Request, Response

from core.channel.apps import AppRegistry
from core.channel.errors import (
    BusyError,
    ChannelError,
    InvalidNameError,
    SdpError,
    UnauthorizedError,
)
from core.channel.names import MAX_UID, validate_channel_name, validate_uid
from core.channel.registry import ChannelRegistry
from core.channel.roster import LeaveReason, Role
from core.channel.sdp import check_candidate as _check_candidate
from core.channel.sdp import parse_offer, parse_trickle_fragment
from core.channel.whip_limits import WhipLimits
from core.enums import ChannelType, DecryptionMode

logger = logging.getLogger(__name__)

router = APIRouter(tags=["channel"])

_T = TypeVar("_T")

MAX_OFFER_BYTES = 256 * 1024


_ROLES = {"host": Role.HOST, "audience": Role.AUDIENCE}
_TYPES = {"communication": ChannelType.COMMUNICATION, "live": ChannelType.LIVE}
_ENCRYPTION = {mode.name.lower(): mode for mode in DecryptionMode}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A readable plain-text error (CORS headers: :mod:`core.server.cors`)."""
    return Response(message.rstrip() + "\n", status, headers=headers, media_type="text/plain")


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _uid(text: str) -> int:
    """The uid of a WHIP path: ASCII digits, at most as many as 4294967295 has (so a
    thousands-digit path never reaches ``int``), from 1 to 4294967295."""
    if len(text) > len(str(MAX_UID)):
        shown = repr(text) if len(text) <= 24 else f"{text[:24]!r}... ({len(text)} characters)"
        raise InvalidNameError(f"uid: {shown} is not allowed; a decimal number from 1 to {MAX_UID}")
    return validate_uid(text)


def _token(request: Request, app_id: str, apps: AppRegistry) -> str | None:
    """The bearer token, if any; for an app with a certificate a token that is not ASCII
    is refused (401) as what it is, instead of as garbled Latin-1 text."""
    token = _bearer(request)
    if token is not None and not token.isascii() and apps.certificate(app_id) is not None:
        raise UnauthorizedError(
            "token rejected: the Authorization header is not ASCII; "
            "send 'Authorization: Bearer <AccessToken2>' (ASCII text starting with '007')"
        )
    return token


def _choice(value: str | None, options: dict[str, _T], name: str) -> _T | None:
    if value is None or value == "":
        return None
    try:
        return options[value.lower()]
    except KeyError:
        raise ChannelError(f"{name}={value!r}: use one of {', '.join(options)}") from None


@router.options("/whip/{app_id}/{channel}/{uid}", include_in_schema=False)
@router.options("/whip/session/{session_id}", include_in_schema=False)
async def whip_options() -> Response:
    """WHIP capability discovery (a browser's CORS preflight is answered by
    :mod:`core.server.cors`)."""
    return Response(status_code=204, headers={"Accept-Post": "application/sdp"})


@router.post("/whip/{app_id}/{channel}/{uid}", status_code=201)
async def whip_publish(
    request: Request,
    app_id: str,
    channel: str,
    uid: str,
    role: str | None = None,
    channel_type: str | None = None,
    encryption: str | None = None,
) -> Response:
    """Join ``channel`` as ``uid`` and publish the offered audio/video."""
    apps: AppRegistry = request.app.state.apps
    registry: ChannelRegistry = request.app.state.channels
    try:
        apps.certificate(app_id)
        validate_channel_name(channel)
        number = _uid(uid)
        requested_role = _choice(role, _ROLES, "role") or Role.HOST
        requested_type = _choice(channel_type, _TYPES, "channel_type")
        mode = _choice(encryption, _ENCRYPTION, "encryption") or DecryptionMode.NONE
        if _content_type(request) != "application/sdp":
            return error_response(415, "send the offer with Content-Type: application/sdp")
        admission = apps.admit(
            app_id, channel, number, _token(request, app_id, apps), requested_role
        )
        body = await request.body()
        if len(body) > MAX_OFFER_BYTES:
            raise SdpError(f"offer larger than {MAX_OFFER_BYTES} bytes")
        try:
            offer = body.decode()
        except UnicodeDecodeError:
            raise SdpError("the body is not UTF-8 SDP text") from None
        summary = parse_offer(offer)
        room = registry.channel(app_id, channel)
        effective = room.resolve_type(requested_type)
        apps.check_publish(admission, effective, summary.sends_audio, summary.sends_video)
        limits: WhipLimits | None = getattr(request.app.state, "whip_limits", None)
        if limits is not None:  # no await from here to the uid's reservation in publish
            limits.admit(app_id, registry.whip_sessions(app_id))
        publisher, answer = await room.publish(
            number, admission.role, effective, offer, summary, mode
        )
        # the watchdog ends the session when the token's privileges run out
        publisher.privileges_end = admission.ends_at(summary.sends_audio, summary.sends_video)
    except BusyError as exc:
        return error_response(exc.status, exc.message, {"Retry-After": str(exc.retry_after)})
    except ChannelError as exc:
        return error_response(exc.status, exc.message)
    headers = {
        "Location": f"/whip/session/{publisher.session_id}",
        "ETag": publisher.etag,
        "Accept-Patch": "application/trickle-ice-sdpfrag",
    }
    return Response(answer, 201, headers=headers, media_type="application/sdp")


@router.patch("/whip/session/{session_id}", status_code=204)
async def whip_trickle(request: Request, session_id: str) -> Response:
    """Add trickled ICE candidates to a session."""
    registry: ChannelRegistry = request.app.state.channels
    publisher = registry.session(session_id)
    if publisher is None:
        return error_response(404, f"no WHIP session {session_id!r}")
    if _content_type(request) != "application/trickle-ice-sdpfrag":
        return error_response(415, "send Content-Type: application/trickle-ice-sdpfrag")
    if_match = request.headers.get("if-match")
    if if_match not in (None, "*", publisher.etag):
        return error_response(412, f"ETag mismatch: the session's ETag is {publisher.etag}")
    fragment = parse_trickle_fragment((await request.body()).decode(errors="replace"))
    try:
        for mid, index, line in fragment.candidates:
            _check_candidate(line)
            candidate = candidate_from_sdp(line)
            candidate.sdpMid = mid
            candidate.sdpMLineIndex = index
            await publisher.pc.addIceCandidate(candidate)
    except (AssertionError, ValueError) as exc:
        return error_response(400, f"bad candidate: {str(exc) or 'malformed'}")
    return Response(status_code=204)


@router.delete("/whip/session/{session_id}")
async def whip_leave(request: Request, session_id: str) -> Response:
    """Leave the channel: end the session and its peer connection."""
    registry: ChannelRegistry = request.app.state.channels
    publisher = registry.session(session_id)
    if publisher is None:
        return error_response(404, f"no WHIP session {session_id!r}")
    await publisher.close(LeaveReason.QUIT)
    return Response("left\n", 200, media_type="text/plain")
