"""The Agora-compatible Cloud Recording REST API (v1, mix mode) and its event stream.

Paths, request and response shapes, enum numbers and status numbers are those of
Agora's Cloud Recording RESTful API, so one client drives this server and Agora's
hosted service. Errors are ``{"code": N, "reason": "..."}`` with the HTTP status
Agora uses. The event stream (server-sent events, replayable by sequence number
through ``?after=N`` or ``Last-Event-ID``) is a cloudrec extension.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from core.channel.apps import AppRegistry
from core.channel.errors import UnauthorizedError
from core.config import RtmpPublishConfig
from core.enums import RecordingMode
from core.errors import CloudRecordingError, ErrorCode, InvalidParameterError
from core.notices import Status
from core.selection import StreamSelection, check_lists, check_uid_list
from core.server.agora_fields import CODE_UNSUPPORTED, FieldRefused, check_request, expired_hour
from core.server.confinement import Confinement
from core.server.customers import MadeCustomer
from core.server.images import backgrounds_of
from core.server.service import (
    OPERATOR,
    AlreadyStartedError,
    ConflictError,
    ExitingError,
    NotFoundError,
    RecordingService,
    ResourceExpiredError,
)
from core.server.session import CHECK_TIMEOUT, RecordingSession
from core.server.state import StateStore
from core.server.webhooks import WebhookDeliverer
from core.storage.destination import StorageError
from core.validation import MAX_UID, check_app_id, check_channel_name, check_uid
from core.wire import recording_config_from_wire, storage_config_from_wire, wire_name

KEEPALIVE_SECONDS = 10.0

MAX_SEQUENCE = 2**31
"""The largest notice sequence number ``after`` and ``Last-Event-ID`` take."""

_BODY_PARSE_ERROR = "There was an error parsing the body"  # FastAPI's detail


class ApiError(Exception):
    """An error answered as Agora does: an HTTP status and ``{"code", "reason"}``, or
    for 401 Agora's gateway shape ``{"message"}`` (plus cloudrec's ``reason``)."""

    def __init__(self, status: int, code: int, reason: str, message: str | None = None) -> None:
        super().__init__(reason)
        self.status, self.code, self.reason, self.message = status, code, reason, message

    @property
    def body(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        if self.message is not None:
            return {"message": self.message, "reason": self.reason}
        return {"code": self.code, "reason": self.reason}


UNAUTHORIZED_REASON = (
    "send 'Authorization: Basic <base64 of customer ID:customer secret>' "
    "(or the server's bearer token)"
)
"""The ``reason`` of every 401 of the recording API, beside Agora's ``message``."""


def _error_response(status: int, code: int, reason: str) -> JSONResponse:
    return JSONResponse({"code": code, "reason": reason}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Agora-style error bodies for every error of the recording API."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":  # loc is ("body", character position)
            position = first.get("loc", ("body", 0))[-1]
            detail = (first.get("ctx") or {}).get("error", "")
            reason = f"body: JSON decode error: {detail} (character {position})"
            return _error_response(400, 2, f"invalid request: {reason}")
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error_response(
            400, 2, f"invalid request: {where or 'body'}: {first.get('msg', 'malformed')}"
        )

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        # FastAPI answers a body its JSON parser gave up on (not UTF-8, nested too
        # deeply, a number of more than 4300 digits) with its own shape: answer Agora's.
        if exc.status_code == 400 and exc.detail == _BODY_PARSE_ERROR:
            reason = f"body: JSON decode error: {_parse_failure(exc.__cause__)}"
            return _error_response(400, 2, f"invalid request: {reason}")
        if request.url.path.startswith("/v1/") and exc.status_code in (404, 405):
            return _no_such_path(request, exc)  # Starlette's router: {"detail": ...}
        return await http_exception_handler(request, exc)


def _no_such_path(request: Request, exc: HTTPException) -> JSONResponse:
    """A path or method the REST API does not have, answered in Agora's shape (e.g.
    ``.../mode//query``, a ``GET`` of ``acquire``)."""
    where = f"{request.method} {_shown(request.url.path, 120)}"
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        reason = f"method not allowed: {where}; this path takes {allowed}"
    else:
        reason = f"not found: {where} is no path of this API (docs/rest-api.md lists them)"
    response = _error_response(exc.status_code, exc.status_code, reason)
    response.headers.update(exc.headers or {})
    return response


def _parse_failure(cause: BaseException | None) -> str:
    """Why Python's JSON parser could not read a body, for a reason a person can act on."""
    if isinstance(cause, UnicodeDecodeError):
        bad = cause.object[cause.start : cause.start + 1].hex()
        return f"not UTF-8 text (byte 0x{bad} at position {cause.start}); send JSON in UTF-8"
    if isinstance(cause, RecursionError):
        return "arrays or objects nested too deeply to read"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return f"a number of more than {sys.get_int_max_str_digits()} digits"
    return f"unreadable ({type(cause).__name__})"


def _shown(text: str, limit: int = 24) -> str:
    """``text`` as a reason quotes it: its repr, cut after ``limit`` characters."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def _header_text(value: str) -> str:
    """A header's bytes (Starlette decodes them as Latin-1) as UTF-8 text, undecodable
    bytes escaped, for quoting in a reason."""
    return value.encode("latin-1").decode("utf-8", "backslashreplace")


def _check_text(value: Any, where: str) -> None:
    """Refuse strings that are not Unicode text (JSON's ``\\ud800`` escapes decode to
    lone surrogates, which no UTF-8 encoder takes): 400 naming the field, never its value
    (it may be a key). Walks without recursion: a body may nest as deep as JSON allows."""
    pending: list[tuple[Any, str]] = [(value, where)]
    while pending:
        item, at = pending.pop()
        if isinstance(item, str) and not _is_text(item):
            raise ApiError(
                400,
                2,
                f"invalid request: {at or 'body'}: not Unicode text (it holds an unpaired "
                "surrogate escape such as \\ud800); send text that UTF-8 can encode",
            )
        if isinstance(item, dict):
            for key, child in item.items():  # the key is popped, and checked, first
                pending.append((child, f"{at}.{key}" if at else str(key)))
                pending.append((key, at))
        elif isinstance(item, list):
            pending.extend((child, f"{at}.{i}" if at else str(i)) for i, child in enumerate(item))


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _as_api_error(exc: CloudRecordingError) -> ApiError:
    # Agora's statuses and codes (its "Response status codes" page, docs/rest-api.md).
    if isinstance(exc, ResourceExpiredError):
        return ApiError(400, 433, exc.message)
    if isinstance(exc, NotFoundError):
        return ApiError(404, 404, exc.message)
    if isinstance(exc, AlreadyStartedError):
        return ApiError(201, 7, f"already started: {exc.message}")
    if isinstance(exc, ConflictError):
        return ApiError(400, 53, f"task conflict: {exc.message}")
    if isinstance(exc, ExitingError):
        return ApiError(400, 49, f"invalid operation: {exc.message}")
    if isinstance(exc, InvalidParameterError) or exc.code is ErrorCode.INVALID_PARAMETER:
        return ApiError(400, int(ErrorCode.INVALID_PARAMETER), exc.message)
    if exc.code is ErrorCode.INVALID_OPERATION:
        return ApiError(400, 49, f"invalid operation: {exc.message}")
    if exc.code in (ErrorCode.UPLOADER_INIT, ErrorCode.RECORDER_INIT):
        return ApiError(400, int(exc.code), exc.message)
    return ApiError(500 if exc.code is ErrorCode.GENERAL_ERROR else 400, int(exc.code), exc.message)


def authorize(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Accept the server's bearer token or a configured customer ID/secret (Basic), and
    note who called in ``request.state.caller`` (:func:`caller`).

    Credentials are compared as bytes (the header's own bytes against the UTF-8 of the
    configured ones), so any header, ASCII or not, is either accepted or a 401.
    """
    request.state.caller = _authenticate(request, authorization)


def caller(request: Request) -> str | None:
    """Who sent an authorized request: a Basic customer's ID, or
    :data:`~core.server.service.OPERATOR` (None) for the server's bearer token, which
    sees and controls every recording; a customer sees and controls only its own."""
    who: str | None = request.state.caller
    return who


def require_operator(request: Request, what: str) -> None:
    """Refuse ``what`` to a Basic customer: only the server's operator (its bearer token)
    may steer the server itself (a customer controls only its own recordings)."""
    if caller(request) is not OPERATOR:
        raise ApiError(
            403, 403, f"forbidden: only the server's operator (its bearer token) may {what}"
        )


def _authenticate(request: Request, authorization: str | None) -> str | None:
    settings = request.app.state.settings
    # Starlette decodes headers as Latin-1: encoding back gives the bytes as sent.
    scheme, _, value = (authorization or "").encode("latin-1").partition(b" ")
    if scheme.lower() == b"bearer" and value:
        if secrets.compare_digest(value, settings.token.encode("utf-8")):
            return OPERATOR
    if scheme.lower() == b"basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        customer, _, secret = decoded.partition(b":")
        customers = dict(getattr(settings, "customers", {}) or {})
        expected = customers.get(customer.decode("utf-8", "replace")) if customer else None
        if expected is not None and secrets.compare_digest(secret, expected.encode("utf-8")):
            return customer.decode("utf-8", "replace")
        own: MadeCustomer | None = getattr(settings, "own_customer", None)
        if (
            own is not None
            and secrets.compare_digest(customer, own.customer_id.encode("utf-8"))
            and own.hashed.matches(secret)
        ):
            return own.customer_id
    # Agora's gateway: "Unauthorized" without the header, "Invalid authentication
    # credentials" with one it does not accept (its "Response status codes" page).
    message = "Invalid authentication credentials" if authorization else "Unauthorized"
    raise ApiError(401, 401, UNAUTHORIZED_REASON, message=message)


class ClientRequest(BaseModel):
    """``clientRequest`` of acquire/start/stop/updateLayout (Agora's fields)."""

    model_config = ConfigDict(extra="allow")
    token: str | None = None
    recordingConfig: dict[str, Any] = Field(default_factory=dict)
    storageConfig: dict[str, Any] = Field(default_factory=dict)
    scene: int | None = None
    resourceExpiredHour: int | None = None


class RecordingRequest(BaseModel):
    """Body of acquire, start, stop and updateLayout."""

    model_config = ConfigDict(extra="allow")
    cname: str
    uid: str
    clientRequest: ClientRequest = Field(default_factory=ClientRequest)


def _service(request: Request) -> RecordingService:
    service: RecordingService = request.app.state.recordings
    return service


def _check_fields(method: str, body: RecordingRequest) -> None:
    """Refuse the fields of Agora's ``method`` body cloudrec does not honour, and keys
    Agora does not have: 400 naming the field (:mod:`core.server.agora_fields`)."""
    try:
        check_request(method, body.model_dump(exclude_unset=True))
    except FieldRefused as exc:
        raise ApiError(400, exc.code, exc.reason) from None


def _identify(appid: str, body: RecordingRequest) -> tuple[str, str, int]:
    _check_text(body.model_dump(), "")
    try:
        app_id = check_app_id(appid)
        cname = check_channel_name(body.cname)
        uid = check_uid(_uid_of(body.uid))
    except InvalidParameterError as exc:
        raise ApiError(400, int(ErrorCode.INVALID_PARAMETER), exc.message) from None
    return app_id, cname, uid


def _uid_of(text: str) -> int:
    """The uid of a request body: the decimal string of an integer (Agora sends strings).

    Only ASCII digits count (``str.isdigit`` also takes "²" and "١"), and at most as
    many as 4294967295 has, so ``int`` never sees a number it cannot or should not read.
    """
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_UID))):
        raise ApiError(
            400,
            int(ErrorCode.INVALID_PARAMETER),
            f"uid: {_shown(text)} is not allowed; "
            f"a decimal string of an integer from 1 to {MAX_UID}",
        )
    return int(text)


router = APIRouter(
    prefix="/v1/apps/{appid}/cloud_recording",
    dependencies=[Depends(authorize)],
    tags=["cloud recording"],
)


@router.post("/acquire")
async def acquire(appid: str, body: RecordingRequest, request: Request) -> dict[str, Any]:
    """Reserve a recording resource (valid for 5 minutes)."""
    _check_text(body.model_dump(), "")
    try:
        check_channel_name(body.cname)
    except InvalidParameterError as exc:  # Agora's acquire: code 401, invalid_channel_name
        raise ApiError(400, 401, f"invalid_channel_name: {exc.message}") from None
    app_id, cname, uid = _identify(appid, body)
    _check_fields("acquire", body)
    try:
        hours = expired_hour(body.clientRequest.resourceExpiredHour)
    except FieldRefused as exc:
        raise ApiError(400, exc.code, exc.reason) from None
    resource = _service(request).acquire(app_id, cname, uid, caller(request), expired_hour=hours)
    return {"resourceId": resource.resource_id, "cname": cname, "uid": str(uid)}


@router.post("/resourceid/{resourceid}/mode/{mode}/start")
async def start(
    appid: str, resourceid: str, mode: str, body: RecordingRequest, request: Request
) -> dict[str, Any]:
    """Start a recording (``mode`` mix or individual); returns once the recorder has
    joined the channel."""
    recording_mode = _check_mode(mode)
    app_id, cname, uid = _identify(appid, body)
    _check_fields("start", body)
    _check_stream_mode(recording_mode, body.clientRequest.recordingConfig)
    service = _service(request)
    try:
        resource = service.resource(app_id, resourceid, cname, uid, caller(request))
        _check_token(request, app_id, cname, uid, body.clientRequest.token)
        recording = recording_config_from_wire(
            body.clientRequest.recordingConfig,
            body.clientRequest.model_dump(exclude_unset=True),
            mode=recording_mode,
        )
        storage = storage_config_from_wire(body.clientRequest.storageConfig)
        session = await service.start(resource, recording, storage)
    except CloudRecordingError as exc:
        raise _as_api_error(exc) from None
    return {"resourceId": resourceid, "sid": session.sid, "cname": cname, "uid": str(uid)}


def _check_token(request: Request, app_id: str, cname: str, uid: int, token: str | None) -> None:
    """``clientRequest.token`` of ``start``: for an app with a certificate, an RTC token
    valid now for ``cname`` and ``uid`` with the join privilege, as a publisher's
    (docs/security.md, "Who may do what"); 400 code 432 naming the field otherwise,
    before anything is made (the resource stays usable). The token is never quoted."""
    apps: AppRegistry = request.app.state.apps
    try:
        apps.check_recorder(app_id, cname, uid, token)
    except UnauthorizedError as exc:
        raise ApiError(
            400,
            int(ErrorCode.INVALID_PARAMETER),
            f"clientRequest.token: {exc.message}; app {app_id} needs an RTC token "
            f"(AccessToken2) for channel {cname!r} and uid {uid}, unexpired, with the "
            "join privilege (cloudrec token)",
        ) from None


_MODES = {m.path: m for m in RecordingMode}
_STREAM_MODES = ("default", "standard", "original")


def _check_mode(mode: str) -> RecordingMode:
    """The recording mode a path names: ``mix`` or ``individual`` (Agora's legacy name of
    individual recording; its newer ``raw`` writes other files, docs/recorder.md)."""
    found = _MODES.get(mode)
    if found is None:
        raise ApiError(
            400,
            int(ErrorCode.INVALID_PARAMETER),
            f"mode {mode!r} is not supported; use 'mix' or 'individual'",
        )
    return found


def _check_stream_mode(mode: RecordingMode, recording_config: dict[str, Any]) -> None:
    """``recordingConfig.streamMode``: one of Agora's three values; in individual mode
    cloudrec writes ``default``'s and ``original``'s files (each user's audio and video
    playlists), not ``standard``'s."""
    value = recording_config.get("streamMode", "default")
    if value not in _STREAM_MODES:
        raise ApiError(
            400,
            int(ErrorCode.INVALID_PARAMETER),
            f"recordingConfig.streamMode: {value!r} is not allowed; one of "
            '"default", "standard" or "original"',
        )
    if mode is RecordingMode.INDIVIDUAL and value == "standard":
        raise ApiError(
            400,
            CODE_UNSUPPORTED,
            f'recordingConfig.streamMode: "{value}" is not supported by cloudrec yet; '
            '"default" (each user\'s audio playlist, AAC, and video playlist, as sent) '
            'or "original" (nothing transcoded: the audio as sent, Opus)',
        )


def _session(
    request: Request, appid: str, resourceid: str, sid: str, mode: str
) -> RecordingSession:
    """The recording a ``.../sid/{sid}/mode/{mode}/...`` path names, or an Agora-style
    error; the path's mode must be the recording's."""
    recording_mode = _check_mode(mode)
    try:
        session = _service(request).session(appid, resourceid, sid, caller(request))
    except CloudRecordingError as exc:
        raise _as_api_error(exc) from None
    if session.config.recording_mode is not recording_mode:
        actual = session.config.recording_mode.path
        raise ApiError(
            400,
            int(ErrorCode.INVALID_PARAMETER),
            f"mode {mode!r}: recording {sid} was started in mode {actual!r}; "
            f"use .../mode/{actual}/...",
        )
    return session


def _live_session(
    request: Request, appid: str, resourceid: str, sid: str, mode: str
) -> RecordingSession:
    """The recording of Agora's ``query``, ``update``, ``updateLayout`` and ``stop``: as
    Agora's, 404 code 404 once it ended (nothing more will happen to it; cloudrec's
    ``/v1/cloudrec/recordings/{sid}`` still answers) and 400 code 433 once the
    resource's ``resourceExpiredHour`` passed."""
    session = _session(request, appid, resourceid, sid, mode)
    try:
        if session.finished:
            raise NotFoundError("the recording is not running")
        _service(request).check_expired_hour(session)
    except CloudRecordingError as exc:
        raise _as_api_error(exc) from None
    return session


_EXITING = (Status.STOP_RECEIVED, Status.STOPPED, Status.EXITING, Status.EXITED_ABNORMALLY)


def _identity(resourceid: str, session: RecordingSession) -> dict[str, Any]:
    """The fields every answer about one recording carries."""
    row = session.row
    return {"resourceId": resourceid, "sid": row.sid, "cname": row.cname, "uid": str(row.uid)}


@router.get("/resourceid/{resourceid}/sid/{sid}/mode/{mode}/query")
async def query(
    appid: str, resourceid: str, sid: str, mode: str, request: Request
) -> dict[str, Any]:
    """The recording's status (Agora's numbers) and its playlist."""
    session = _live_session(request, appid, resourceid, sid, mode)
    return {**_identity(resourceid, session), "serverResponse": session.query_body()}


@router.post("/resourceid/{resourceid}/sid/{sid}/mode/{mode}/updateLayout")
async def update_layout(
    appid: str, resourceid: str, sid: str, mode: str, body: RecordingRequest, request: Request
) -> dict[str, Any]:
    """Change the mixed layout of a running recording. As Agora's call, it replaces every
    layout setting: a field it omits returns to its default (``mixedVideoLayout`` 0,
    ``maxResolutionUid`` the first user, ``backgroundColor`` ``#000000``, no
    ``layoutConfig``, ``renderMode`` crop, no background images, no ``activeSpeaker``). Images it names are
    fetched before it answers (a 400 naming the field and the URL if one cannot be
    used, and the layout stays as it was)."""
    _check_text(body.model_dump(), "")
    # As Agora's, a recording that ended (or another customer's) is 404 before its
    # fields are read.
    session = _live_session(request, appid, resourceid, sid, mode)
    if session.config.recording_mode is not RecordingMode.MIX:
        raise ApiError(
            400,
            int(ErrorCode.INVALID_PARAMETER),
            "updateLayout: an individual recording has no layout; updateLayout is for "
            "mode 'mix' only (as Agora's)",
        )
    _check_fields("updateLayout", body)
    try:
        fields = body.clientRequest.model_extra or {}
        changes = {
            "layout": fields.get("mixedVideoLayout", 0),
            "max_resolution_uid": fields.get("maxResolutionUid", 0),
            "background_color": fields.get("backgroundColor", "#000000"),
            "layout_config": fields.get("layoutConfig", ()),
            "render_mode": fields.get("renderMode", 0),
            "background_image": fields.get("backgroundImage"),
            "default_user_background_image": fields.get("defaultUserBackgroundImage"),
            "background_config": fields.get("backgroundConfig", ()),
            "active_speaker": fields.get("activeSpeaker", False),
        }
        current = session.config.transcoding_config
        # Each value is checked as TranscodingConfig checks it (a uid as a number or, as
        # Agora sends it, a decimal string; a colour as #RRGGBB), naming the wire field.
        try:
            updated = type(current)(**{**current.model_dump(), **changes})
        except InvalidParameterError as exc:
            field = wire_name(type(current), exc.field)
            raise InvalidParameterError(field, exc.value, exc.allowed) from None
        backgrounds = await backgrounds_of(updated, _service(request).images)
        if session.recorder is None or session.finished:
            raise NotFoundError("the recording is not running")
        spec = updated.layout_spec
        await session.recorder.update_layout(
            spec.layout,
            spec.max_resolution_uid,
            updated.background_color,
            regions=spec.regions,
            render_mode=spec.render_mode,
            backgrounds=backgrounds,
            active_speaker=spec.active_speaker,
        )
    except CloudRecordingError as exc:
        raise _as_api_error(exc) from None
    return _identity(resourceid, session)


_UID_LISTS = {
    "audioUidList": {
        "subscribeAudioUids": "subscribe_audio_uids",
        "unSubscribeAudioUids": "unsubscribe_audio_uids",
        "unsubscribeAudioUids": "unsubscribe_audio_uids",
    },
    "videoUidList": {
        "subscribeVideoUids": "subscribe_video_uids",
        "unSubscribeVideoUids": "unsubscribe_video_uids",
        "unsubscribeVideoUids": "unsubscribe_video_uids",
    },
}
"""``update``'s ``streamSubscribe`` lists and the config fields they set (Agora's
references spell the unsubscribe lists both ways)."""


def _stream_subscribe(client_request: dict[str, Any]) -> dict[str, Any]:
    """The subscription lists of ``update``'s ``clientRequest`` by config field name, or
    400 naming the field: code 2 for a key Agora's ``update`` does not have or a value of
    the wrong type, 432 for web page recording's fields (cloudrec has no web mode)."""
    where = "clientRequest.streamSubscribe"
    for key in client_request:
        if key == "rtmpPublishConfig":
            continue  # the live streams: _stream_urls
        if key == "webRecordingConfig":
            raise ApiError(
                400,
                int(ErrorCode.INVALID_PARAMETER),
                f"clientRequest.{key}: cloudrec does not support this field yet (web page "
                "recording); leave it out",
            )
        if key != "streamSubscribe":
            raise ApiError(
                400, 2, f"invalid request: clientRequest.{key}: no such field of Agora's update"
            )
    subscribe = client_request.get("streamSubscribe")
    if subscribe is None and "rtmpPublishConfig" in client_request:
        return {}  # the live streams only
    if not isinstance(subscribe, dict) or not subscribe:
        raise ApiError(
            400,
            2,
            f"invalid request: {where}: required, an object with audioUidList and/or "
            "videoUidList (each call replaces the subscription; to record everyone's audio, "
            "send audioUidList.subscribeAudioUids ['#allstream#'])",
        )
    lists: dict[str, Any] = {}
    for key, uid_list in subscribe.items():
        names = _UID_LISTS.get(key)
        if names is None:
            raise ApiError(
                400,
                2,
                f"invalid request: {where}.{key}: no such field; audioUidList or videoUidList",
            )
        if not isinstance(uid_list, dict) or not uid_list:
            wanted = " or ".join(list(names)[:2])
            raise ApiError(
                400, 2, f"invalid request: {where}.{key}: an object with {wanted} is required"
            )
        for wire, value in uid_list.items():
            name = names.get(wire)
            if name is None:
                raise ApiError(400, 2, f"invalid request: {where}.{key}.{wire}: no such field")
            if name in lists:
                raise ApiError(
                    400,
                    int(ErrorCode.INVALID_PARAMETER),
                    f"{where}.{key}: {' and '.join(uid_list)} are one field; send one of them",
                )
            if not isinstance(value, list):
                raise ApiError(
                    400, 2, f"invalid request: {where}.{key}.{wire}: an array of uid strings"
                )
            lists[name] = check_uid_list(f"{where}.{key}.{wire}", value)
    return lists


def _stream_urls(session: RecordingSession, client_request: dict[str, Any]) -> list[str] | None:
    """The live stream URLs ``update``'s ``rtmpPublishConfig`` asks for (it replaces
    them all, as Agora's update of a web page recording), or None when it has none; 400
    naming the field for a wrong one or an individual recording (URLs masked)."""
    if "rtmpPublishConfig" not in client_request:
        return None
    if session.config.recording_mode is not RecordingMode.MIX:
        raise ApiError(
            400,
            int(ErrorCode.INVALID_PARAMETER),
            "clientRequest.rtmpPublishConfig: a live stream is of a mix recording's picture "
            "and sound; this recording is individual",
        )
    value = client_request["rtmpPublishConfig"]
    try:
        if not isinstance(value, dict):
            raise InvalidParameterError("rtmpPublishConfig", value, "an object {outputs}")
        publish = RtmpPublishConfig(**value)
    except InvalidParameterError as exc:
        raise exc.within("rtmpPublishConfig") from None
    return [output.rtmp_url.get_secret_value() for output in publish.outputs]


@router.post("/resourceid/{resourceid}/sid/{sid}/mode/{mode}/update")
async def update(
    appid: str, resourceid: str, sid: str, mode: str, body: RecordingRequest, request: Request
) -> dict[str, Any]:
    """Replace the subscription lists of a running recording (Agora's ``update`` with
    ``clientRequest.streamSubscribe``): from the next output frame on, a user taken out
    loses window and voice, a user taken in gets them, now and when joining later. The
    lists combine by Agora's rules (core.selection; docs/rest-api.md, "Stream selection
    and update"), a list for one kind only taking nothing of the other kind."""
    _check_text(body.model_dump(), "")
    session = _live_session(request, appid, resourceid, sid, mode)
    try:
        client_request = body.clientRequest.model_dump(exclude_unset=True)
        lists = _stream_subscribe(client_request)
        urls = _stream_urls(session, client_request)
        if lists:
            check_lists(session.config.recording_stream_types, **lists)
        if session.recorder is None or session.finished:
            raise NotFoundError("the recording is not running")
        if lists:
            await session.recorder.update_subscription(StreamSelection.of(**lists))
        if urls is not None:
            session.recorder.set_streams(urls)
    except CloudRecordingError as exc:
        raise _as_api_error(exc) from None
    return _identity(resourceid, session)


@router.post("/resourceid/{resourceid}/sid/{sid}/mode/{mode}/stop", response_model=None)
async def stop(
    appid: str,
    resourceid: str,
    sid: str,
    mode: str,
    request: Request,
    body: RecordingRequest | None = None,
) -> dict[str, Any] | JSONResponse:
    """Stop recording; answers once the last slice and the playlist are stored. As
    Agora's: 400 code 49 while it is already exiting (a stop repeated, or it left the
    channel by itself), 404 once it ended, and 206 code 435 with the usual answer when
    no user it records sent a stream during the whole recording."""
    if body is not None:
        _check_text(body.model_dump(), "")
    session = _live_session(request, appid, resourceid, sid, mode)  # 404 before the fields
    if body is not None:
        _check_fields("stop", body)
    try:
        if session.status in _EXITING or session.settled:
            raise ExitingError(
                "the recording is already exiting (a stop repeated, or it left the channel "
                "by itself: maxIdleTime passed or it failed)"
            )
        await session.stop()
    except CloudRecordingError as exc:
        raise _as_api_error(exc) from None
    answer = {
        **_identity(resourceid, session),
        "serverResponse": {**session.file_list(), "uploadingStatus": session.uploading_status},
    }  # fmt: skip
    if session.recorded_no_media:
        reason = (
            "no recorded data: no user the recording takes sent a stream during the whole "
            "recording (its slices hold only the background and silence)"
        )
        return JSONResponse({**answer, "code": 435, "reason": reason}, status_code=206)
    return answer


def _sequence_of(last_event_id: str) -> int:
    """The notice sequence number a ``Last-Event-ID`` header holds (an ``id:`` this
    stream sent: a decimal integer), or 400 naming the header and what it may be."""
    if last_event_id.isascii() and last_event_id.isdigit() and len(last_event_id) <= 10:
        if (number := int(last_event_id)) <= MAX_SEQUENCE:
            return number
    raise ApiError(
        400,
        2,
        f"invalid request: header.Last-Event-ID: {_shown(_header_text(last_event_id))} is not "
        f"allowed; the id of a notice this stream sent, a decimal integer from 0 to {MAX_SEQUENCE}",
    )


admin = APIRouter(prefix="/v1/cloudrec", dependencies=[Depends(authorize)], tags=["cloudrec"])


@admin.get("/recordings")
async def recordings(request: Request) -> dict[str, Any]:
    """Every recording of the caller (the operator: every recording of this server), for
    clients that reattach (extension)."""
    who = caller(request)
    return {"recordings": [_listing(s, who) for s in _service(request).sessions(who)]}


def _listing(session: RecordingSession, who: str | None) -> dict[str, Any]:
    """A recording as listed to ``who``. ``location`` is where its files are
    (``<location>/<file name>``): the bucket URL of its prefix, or to the operator only,
    the absolute path of its local folder on this server (a customer is not told the
    server's paths); null when not known."""
    row = session.row
    location = row.location
    if location is not None and who is not OPERATOR and not _is_url(location):
        location = None
    return {
        "sid": row.sid, "resourceId": row.resource_id, "appId": row.app_id, "cname": row.cname,
        "uid": str(row.uid), "status": int(session.status), "fileList": session.playlists,
        "folder": row.folder, "location": location, "createdAt": row.created_at,
        "uploadingStatus": session.uploading_status, "finished": session.finished,
        "mode": session.config.recording_mode.path,
    }  # fmt: skip


def _is_url(location: str) -> bool:
    return location.startswith(("https://", "http://"))


def _own_session(request: Request, sid: str) -> RecordingSession:
    """The caller's recording ``sid``, running or ended; 404 code 404 for an unknown sid
    or another customer's."""
    for session in _service(request).sessions(caller(request)):
        if session.sid == sid:
            return session
    raise ApiError(404, 404, f"failed to find worker: no recording with sid {_shown(sid, 64)}")


@admin.get("/recordings/{sid}")
async def recording(sid: str, request: Request) -> dict[str, Any]:
    """One recording of the caller, running or ended, with what ``query`` would answer
    (extension: Agora's ``query`` answers 404 once a recording ended; clients that
    reattach to a finished recording ask here). 404 code 404 for an unknown sid or
    another customer's."""
    session = _own_session(request, sid)
    return {**_listing(session, caller(request)), "serverResponse": session.query_body()}


def _jpeg_responses(what: str, when: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of an endpoint serving ``what`` (a JPEG) with an ETag."""
    return {
        200: {"content": {"image/jpeg": {}}, "description": f"The newest {what} (JPEG)."},
        304: {"description": f"The newest {what} is the one If-None-Match names."},
        404: {"description": f"No such recording of the caller's, or no {what} of it {when}."},
    }


def _jpeg(data: bytes, etag: str, if_none_match: str | None, **headers: str) -> Response:
    """``data`` as ``image/jpeg`` with ``etag``, or 304 when ``If-None-Match`` names it."""
    headers = {"ETag": etag, "Cache-Control": "no-store", **headers}
    if if_none_match is not None and etag in (t.strip() for t in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="image/jpeg", headers=headers)


@admin.get(
    "/recordings/{sid}/snapshot",
    response_class=Response,
    responses=_jpeg_responses("snapshot", "yet"),
)
async def snapshot(
    sid: str, request: Request, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    """The newest snapshot of one recording of the caller, as ``image/jpeg`` (extension:
    the window's thumbnail, wherever the storage is). Its ``ETag`` is its file name in
    quotes; ``If-None-Match`` with it answers 304 without the picture. 404 code 404 for an
    unknown sid or another customer's (as ``/recordings/{sid}``) and for a recording
    without a snapshot yet (none taken, or none since this server started)."""
    session = _own_session(request, sid)
    shot = session.latest_snapshot
    if shot is None:
        raise ApiError(
            404,
            404,
            f"no snapshot of recording {_shown(sid, 64)} yet: it takes one every "
            "snapshotConfig.captureInterval seconds from one interval after its start, when "
            "its start asked for snapshots",
        )
    disposition = f'inline; filename="{shot.name}"'
    return _jpeg(shot.data, f'"{shot.name}"', if_none_match, **{"Content-Disposition": disposition})


@admin.get(
    "/recordings/{sid}/preview",
    response_class=Response,
    responses=_jpeg_responses("composed picture", "now"),
)
async def preview(
    sid: str, request: Request, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    """The newest composed picture of one recording of the caller while it records, as
    ``image/jpeg`` (extension: the window's live thumbnail and preview; encoded when
    asked, at most once per output frame). Its ``ETag`` is the picture's output time in
    ms; ``If-None-Match`` with it answers 304 without the picture. 404 code 404 for an
    unknown sid or another customer's (as ``/recordings/{sid}``), and for a recording
    with no picture now (audio only, not composing yet, or ended)."""
    session = _own_session(request, sid)
    recorder = session.recorder
    recording = recorder is not None and session.status not in (*_EXITING, Status.NOT_STARTED)
    latest = recorder.live_picture if recorder is not None and recording else None
    picture = await asyncio.to_thread(latest.jpeg) if latest is not None else None
    if picture is None:
        raise ApiError(
            404,
            404,
            f"no picture of recording {_shown(sid, 64)} now: it has one while it records "
            "video (not before its first composed frame, not once it ended)",
        )
    return _jpeg(picture.data, f'"{round(picture.time * 1000)}"', if_none_match)


@admin.get("/recordings/{sid}/events")
async def events(
    sid: str,
    request: Request,
    after: Annotated[int, Query(ge=-1, le=MAX_SEQUENCE)] = -1,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events of one recording of the caller: every notice after sequence
    ``after`` (-1, the default: from the first, sequence 0), then live ones until it ends,
    when an ``end`` event says that nothing more will come (extension; 404 code 404 as
    ``/recordings/{sid}``)."""
    session = _own_session(request, sid)
    if last_event_id:
        after = max(after, _sequence_of(last_event_id))

    async def stream() -> AsyncIterator[bytes]:
        notices = session.notices(after).__aiter__()
        pending: asyncio.Task[dict[str, Any]] | None = None
        try:
            while True:
                pending = pending or asyncio.ensure_future(notices.__anext__())
                done, _ = await asyncio.wait({pending}, timeout=KEEPALIVE_SECONDS)
                if not done:
                    yield b": keep-alive\n\n"
                    continue
                try:
                    notice = pending.result()
                except StopAsyncIteration:  # the log is closed: nothing more will come
                    yield b"event: end\ndata: {}\n\n"
                    return
                pending = None
                seq = notice["payload"]["sequence"]
                yield f"id: {seq}\nevent: notice\ndata: {json.dumps(notice)}\n\n".encode()
        finally:
            if pending is not None:
                pending.cancel()

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


def install(app: FastAPI) -> RecordingService:
    """Add the recording API to the server app; close the returned service on shutdown."""
    settings = app.state.settings
    store = StateStore(settings.data_dir / "state.sqlite3")
    confinement = Confinement(settings.data_dir, settings.storage_roots, settings.allowed_endpoints)
    service = RecordingService(
        app.state.channels,
        store,
        settings.data_dir,
        confinement,
        min_free_space=settings.min_free_space,
        low_disk_warning=settings.low_disk_warning,
        master_key=settings.master_key,
    )
    app.state.recordings = service
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(admin)
    return service


class StorageCheckRequest(BaseModel):
    """Body of the storage check: a ``storageConfig`` as ``start`` takes it."""

    storageConfig: dict[str, Any]


@admin.post("/storage/check")
async def check_storage(body: StorageCheckRequest, request: Request) -> dict[str, Any]:
    """Write and delete a small object at the destination, as ``start`` does (extension).

    Answers ``{"ok": true, "destination": ...}`` or ``{"ok": false, "code": 438,
    "reason": ...}`` naming what is wrong (unknown bucket, access denied, bad signature,
    endpoint unreachable); the keys never appear in the answer. A folder outside the
    server's storage roots or an endpoint host it does not allow is a 400 (432), as in
    ``start``, before anything is made or sent (docs/security.md, "Confinement").
    """
    _check_text(body.storageConfig, "storageConfig")
    try:
        storage = storage_config_from_wire(body.storageConfig)
    except CloudRecordingError as exc:
        raise _as_api_error(exc) from None
    service = _service(request)
    try:
        service.confinement.check(storage)  # 432 before anything is made or sent
    except CloudRecordingError as exc:
        raise _as_api_error(exc) from None
    try:
        destination, _ = service.destination(storage)
    except CloudRecordingError as exc:
        return {"ok": False, "code": int(ErrorCode.UPLOADER_INIT), "reason": exc.message}
    try:
        await asyncio.wait_for(destination.check(), CHECK_TIMEOUT)
    except StorageError as exc:
        return {"ok": False, "code": int(ErrorCode.UPLOADER_INIT), "reason": exc.message}
    except TimeoutError:
        reason = f"{destination.description} did not answer within {CHECK_TIMEOUT:.0f} s"
        return {"ok": False, "code": int(ErrorCode.UPLOADER_INIT), "reason": reason}
    finally:
        await destination.aclose()
    return {"ok": True, "destination": destination.description}


@admin.post("/exit-when-done")
async def exit_when_done(request: Request) -> dict[str, Any]:
    """Shut the server down once every recording has finished uploading (extension).

    The window calls this when it closes and leaves its embedded server recording in
    the background, so the server does not outlive its work.
    """
    require_operator(request, "make the server exit")
    service = _service(request)
    shutdown = getattr(request.app.state, "request_shutdown", None)
    if shutdown is None:  # an app served by someone else (tests): nothing to shut down
        raise ApiError(
            409, 409, "this server is not run by `cloudrec server` and cannot stop itself"
        )
    if not service.exit_when_done:
        service.exit_when_done = True
        service.exit_task = service.spawn(_exit_when_done(service, shutdown))
    active = sum(1 for s in service.sessions() if not s.finished)
    return {"ok": True, "activeRecordings": active}


@admin.delete("/exit-when-done")
async def keep_running(request: Request) -> dict[str, Any]:
    """Take back ``exit-when-done`` (extension): a window that reattached to a server an
    earlier window left recording in the background uses it, so it must not exit when
    those recordings end; it asks again when it leaves."""
    require_operator(request, "keep the server running")
    service = _service(request)
    service.exit_when_done = False
    if service.exit_task is not None:
        service.exit_task.cancel()
        service.exit_task = None
    active = sum(1 for s in service.sessions() if not s.finished)
    return {"ok": True, "activeRecordings": active}


async def _exit_when_done(service: RecordingService, shutdown: Callable[[], None]) -> None:
    while pending := [s for s in service.sessions() if not s.finished]:
        await asyncio.gather(*(s.wait_finished() for s in pending))
    shutdown()  # uvicorn's clean shutdown: recordings closed, connections drained


@admin.get("/status")
async def status(request: Request) -> dict[str, Any]:
    """The server's load, for status displays (extension): CPU, recordings, upload backlog,
    and whether its recorders keep up (the largest render lag of the active recordings,
    their dropped and late input frames); for the operator, each webhook endpoint's
    backlog and last error (a Basic customer gets an empty list: the endpoints are the
    server's)."""
    service = _service(request)
    deliverer: WebhookDeliverer | None = getattr(request.app.state, "webhooks", None)
    webhooks = []
    if deliverer is not None and caller(request) is OPERATOR:
        webhooks = await deliverer.status()
    sessions = service.sessions()
    times = os.times()
    recorders = [s.recorder for s in sessions if not s.settled and s.recorder is not None]
    return {
        "cpuSeconds": times.user + times.system,
        "monotonic": time.monotonic(),
        "activeRecordings": sum(1 for s in sessions if not s.settled),
        "uploadBacklog": sum(s.uploader.pending for s in sessions if s.uploader is not None),
        "renderLag": round(max((r.render_lag for r in recorders), default=0.0), 3),
        "droppedFrames": sum(r.dropped_frames for r in recorders),
        "lateFrames": sum(r.late_frames for r in recorders),
        "webhooks": webhooks,
    }
