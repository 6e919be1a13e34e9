"""REST client for the Agora-compatible Cloud Recording API (ours or Agora's hosted one).

One ``httpx.AsyncClient`` per service; pass ``transport`` to inject a test transport.
Every failure becomes a :class:`CloudRecordingError` with the seed's code: nothing
answering is CONNECT_ERROR naming the address, a dropped connection is DISCONNECTED,
rejected parameters are INVALID_PARAMETER, and so on. Secrets travel in request
bodies only and never appear in errors.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from core.config import CloudStorageConfig, RecordingConfig
from core.enums import MixedVideoLayout, RecordingMode
from core.errors import CloudRecordingError, ErrorCode
from core.wire import start_request, to_wire

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@dataclass(frozen=True)
class Credentials:
    """How the client authenticates: a bearer token, or Agora's customer ID and secret."""

    bearer: str | None = None
    customer_id: str | None = None
    customer_secret: str | None = None

    def header(self) -> dict[str, str]:
        if self.bearer:
            return {"Authorization": f"Bearer {self.bearer}"}
        if self.customer_id is not None and self.customer_secret is not None:
            raw = f"{self.customer_id}:{self.customer_secret}".encode()
            return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}
        return {}


AGORA_CODES: dict[int, ErrorCode] = {
    2: ErrorCode.INVALID_PARAMETER,  # invalid parameter (malformed, unknown field)
    7: ErrorCode.INVALID_OPERATION,  # start repeated with the same resource
    49: ErrorCode.INVALID_OPERATION,  # stop while already exiting
    53: ErrorCode.INVALID_OPERATION,  # task conflict: the cname and uid already record
    62: ErrorCode.GENERAL_ERROR,  # request timeout: retry
    65: ErrorCode.GENERAL_ERROR,  # request not completed: retry
    401: ErrorCode.INVALID_PARAMETER,  # acquire: invalid_channel_name (an HTTP 400)
    404: ErrorCode.INVALID_OPERATION,  # failed to find worker: the recording ended
    432: ErrorCode.INVALID_PARAMETER,  # a parameter is incorrect
    433: ErrorCode.INVALID_OPERATION,  # the resource expired
    435: ErrorCode.NO_RECORDED_DATA,  # no recorded data
}
"""Agora's REST ``code`` (its "Response status codes" and "Common errors" pages) -> the
seed's error code the SDK reports. Codes of cloudrec's own (436 RECORDER_INIT, 438
UPLOADER_INIT, ...) are the seed's already."""


@dataclass(frozen=True)
class Snapshot:
    """A recording's newest snapshot as the server sends it."""

    etag: str
    """Its ``ETag``: the file name in quotes (send it back to hear only of a newer one)."""
    data: bytes = field(repr=False)
    """The JPEG."""

    @property
    def name(self) -> str:
        """The file name, ``<sid>_<cname>_<UTC yyyyMMddHHmmssSSS>.jpg``."""
        return self.etag.strip('"')


class RestError(CloudRecordingError):
    """An error answer of the REST API: the seed's code, plus the HTTP ``status`` and
    Agora's ``rest_code`` (None when the body had none)."""

    def __init__(self, message: str, code: ErrorCode, status: int, rest_code: int | None) -> None:
        super().__init__(message, code)
        self.status, self.rest_code = status, rest_code


def _http_error_code(status: int) -> ErrorCode:
    if status in (400, 422):
        return ErrorCode.INVALID_PARAMETER
    if status in (401, 403):
        return ErrorCode.CONNECT_ERROR  # the seed: check network and the App ID's permissions
    if status in (404, 409):
        return ErrorCode.INVALID_OPERATION
    return ErrorCode.GENERAL_ERROR


class RestClient:
    """Calls ``/v1/apps/{appid}/cloud_recording/...`` of one recording service."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        extensions: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.extensions = extensions
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=credentials.header(),
            timeout=DEFAULT_TIMEOUT,
            transport=transport,
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """The one HTTP client of this service (the event stream reader shares it)."""
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        accept: tuple[int, ...] = (),
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON or raise CloudRecordingError (a
        :class:`RestError`). Agora answers some errors with a 2xx status and a ``code``
        (201 code 7, 206 code 65 or 435): those raise too, unless ``code`` is in
        ``accept``."""
        response = await self._send(method, path, body, headers)
        if response.is_success:
            data = response.json()
            code = data.get("code") if isinstance(data, dict) else None
            if response.status_code == 200 or not isinstance(code, int) or code in accept:
                return data
        raise self._error(response)

    async def _send(
        self, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str] | None
    ) -> httpx.Response:
        """One request; a failure to get an answer raises CONNECT_ERROR or DISCONNECTED."""
        try:
            return await self._http.request(method, path, json=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise CloudRecordingError(
                f"cannot connect to the recording server at {self.base_url}: {exc.__class__.__name__}",
                ErrorCode.CONNECT_ERROR,
            ) from None
        except httpx.TransportError as exc:
            raise CloudRecordingError(
                f"connection to the recording server at {self.base_url} was lost: "
                f"{exc.__class__.__name__}",
                ErrorCode.DISCONNECTED,
            ) from None

    def _error(self, response: httpx.Response) -> CloudRecordingError:
        reason = response.reason_phrase
        code: Any = None
        try:
            body = response.json()
            if isinstance(body, dict):
                reason = str(
                    body.get("reason")
                    or body.get("message")
                    or body.get("detail")
                    or body.get("error")  # the channel's roster
                    or reason
                )
                code = body.get("errorCode", body.get("code"))
        except ValueError:
            reason = response.text[:200] or reason
        status = response.status_code
        rest_code = code if isinstance(code, int) else None
        if status in (401, 403) or rest_code is None:
            seed_code = _http_error_code(status)
        elif rest_code in AGORA_CODES:
            seed_code = AGORA_CODES[rest_code]
        elif rest_code in ErrorCode._value2member_map_:
            seed_code = ErrorCode(rest_code)
        else:
            seed_code = _http_error_code(status)
        return RestError(f"HTTP {status}: {reason}", seed_code, status, rest_code)

    def _base(self, app_id: str) -> str:
        return f"/v1/apps/{app_id}/cloud_recording"

    async def acquire(self, app_id: str, cname: str, uid: int) -> str:
        body = {"cname": cname, "uid": str(uid), "clientRequest": {"scene": 0}}
        data = await self.request("POST", f"{self._base(app_id)}/acquire", body)
        return str(data["resourceId"])

    async def start(
        self,
        app_id: str,
        resource_id: str,
        cname: str,
        uid: int,
        token: str | None,
        recording: RecordingConfig,
        storage: CloudStorageConfig,
    ) -> str:
        client_request = start_request(recording, storage, extensions=self.extensions)
        if token:
            client_request["token"] = token
        body = {"cname": cname, "uid": str(uid), "clientRequest": client_request}
        mode = recording.recording_mode.path  # mix or individual: in the path, as Agora's
        path = f"{self._base(app_id)}/resourceid/{resource_id}/mode/{mode}/start"
        data = await self.request("POST", path, body)
        return str(data["sid"])

    def _sid_path(
        self, app_id: str, resource_id: str, sid: str, verb: str, mode: RecordingMode
    ) -> str:
        base = f"{self._base(app_id)}/resourceid/{resource_id}/sid/{sid}"
        return f"{base}/mode/{mode.path}/{verb}"

    async def query(
        self, app_id: str, resource_id: str, sid: str, mode: RecordingMode = RecordingMode.MIX
    ) -> dict[str, Any]:
        path = self._sid_path(app_id, resource_id, sid, "query", mode)
        return dict(await self.request("GET", path))

    async def stop(
        self,
        app_id: str,
        resource_id: str,
        sid: str,
        cname: str,
        uid: int,
        mode: RecordingMode = RecordingMode.MIX,
    ) -> dict[str, Any]:
        """``stop``; a 206 with code 435 (nothing was recorded) is an answer, not an error."""
        body = {"cname": cname, "uid": str(uid), "clientRequest": {}}
        path = self._sid_path(app_id, resource_id, sid, "stop", mode)
        return dict(await self.request("POST", path, body, accept=(435,)))

    async def update_layout(
        self,
        app_id: str,
        resource_id: str,
        sid: str,
        cname: str,
        uid: int,
        layout: MixedVideoLayout,
        max_resolution_uid: int = 0,
        background_color: str = "#000000",
        layout_config: Sequence[dict[str, Any]] = (),
        render_mode: int = 0,
        active_speaker: bool = False,
        images: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``updateLayout``: the mixed layout from now on. Agora's call replaces every layout
        setting, so ``maxResolutionUid`` (a string, never 0 on Agora's wire) is sent only
        when set, the background colour always, ``layoutConfig`` (the CUSTOM layout's
        regions, as wire objects) when there are regions, and ``renderMode`` and
        ``activeSpeaker`` (cloudrec extensions) only when they are not the defaults."""
        client_request: dict[str, Any] = {
            "mixedVideoLayout": int(layout),
            "backgroundColor": background_color,
        }
        if max_resolution_uid:
            client_request["maxResolutionUid"] = str(max_resolution_uid)
        if layout_config:
            client_request["layoutConfig"] = list(layout_config)
        if render_mode:
            client_request["renderMode"] = int(render_mode)
        if active_speaker:
            client_request["activeSpeaker"] = True
        client_request.update(images or {})  # backgroundImage and the like, as wire values
        body = {"cname": cname, "uid": str(uid), "clientRequest": client_request}
        path = self._sid_path(app_id, resource_id, sid, "updateLayout", RecordingMode.MIX)
        return dict(await self.request("POST", path, body))

    async def update_subscription(
        self,
        app_id: str,
        resource_id: str,
        sid: str,
        cname: str,
        uid: int,
        *,
        subscribe_audio_uids: Sequence[str] | None = None,
        unsubscribe_audio_uids: Sequence[str] | None = None,
        subscribe_video_uids: Sequence[str] | None = None,
        unsubscribe_video_uids: Sequence[str] | None = None,
        mode: RecordingMode = RecordingMode.MIX,
    ) -> dict[str, Any]:
        """``update``: the subscription lists from now on, as Agora's
        ``clientRequest.streamSubscribe`` (``audioUidList`` / ``videoUidList``); a list
        that is None is not sent."""
        audio: dict[str, list[str]] = {}
        video: dict[str, list[str]] = {}
        for target, wire, value in (
            (audio, "subscribeAudioUids", subscribe_audio_uids),
            (audio, "unSubscribeAudioUids", unsubscribe_audio_uids),
            (video, "subscribeVideoUids", subscribe_video_uids),
            (video, "unSubscribeVideoUids", unsubscribe_video_uids),
        ):
            if value is not None:
                target[wire] = list(value)
        stream_subscribe: dict[str, Any] = {}
        if audio:
            stream_subscribe["audioUidList"] = audio
        if video:
            stream_subscribe["videoUidList"] = video
        body = {
            "cname": cname,
            "uid": str(uid),
            "clientRequest": {"streamSubscribe": stream_subscribe},
        }
        path = self._sid_path(app_id, resource_id, sid, "update", mode)
        return dict(await self.request("POST", path, body))

    async def update_streams(
        self, app_id: str, resource_id: str, sid: str, cname: str, uid: int, urls: Sequence[str]
    ) -> dict[str, Any]:
        """``update`` with ``rtmpPublishConfig``: the recording's live streams from now on
        (the whole list; secrets included: send, never log)."""
        outputs = [{"rtmpUrl": url} for url in urls]
        client_request = {"rtmpPublishConfig": {"outputs": outputs}}
        body = {"cname": cname, "uid": str(uid), "clientRequest": client_request}
        path = self._sid_path(app_id, resource_id, sid, "update", RecordingMode.MIX)
        return dict(await self.request("POST", path, body))

    async def check_storage(self, storage: CloudStorageConfig) -> tuple[bool, str]:
        """Ask the server to test ``storage`` (cloudrec extension): (ok, what it found)."""
        body = {"storageConfig": to_wire(storage)}
        data = await self.request("POST", "/v1/cloudrec/storage/check", body)
        return bool(data.get("ok")), str(data.get("destination") or data.get("reason") or "")

    async def recording(self, sid: str) -> dict[str, Any]:
        """One recording the server knows, running or ended (cloudrec extension; Agora's
        ``query`` answers 404 once a recording ended): its listing and ``serverResponse``."""
        return dict(await self.request("GET", f"/v1/cloudrec/recordings/{sid}"))

    async def snapshot(self, sid: str, etag: str | None = None) -> Snapshot | None:
        """The newest snapshot of recording ``sid`` (cloudrec extension: ``GET
        /v1/cloudrec/recordings/{sid}/snapshot``), or None while it is still the one
        whose :attr:`Snapshot.etag` is ``etag``. A recording without a snapshot yet (and
        an unknown one) raises :class:`RestError` with status 404."""
        return await self._jpeg(f"/v1/cloudrec/recordings/{sid}/snapshot", etag)

    async def preview(self, sid: str, etag: str | None = None) -> Snapshot | None:
        """The newest composed picture of recording ``sid`` while it records (cloudrec
        extension: ``GET /v1/cloudrec/recordings/{sid}/preview``; its ``etag`` is the
        picture's output time in ms), or None while it is still the one ``etag`` names.
        A recording with no picture now (audio only, not composing yet, ended) and an
        unknown one raise :class:`RestError` with status 404."""
        return await self._jpeg(f"/v1/cloudrec/recordings/{sid}/preview", etag)

    async def _jpeg(self, path: str, etag: str | None) -> Snapshot | None:
        headers = {"If-None-Match": etag} if etag else None
        response = await self._send("GET", path, None, headers)
        if response.status_code == 304:
            return None
        if response.status_code != 200 or response.headers.get("content-type") != "image/jpeg":
            raise self._error(response)
        return Snapshot(response.headers.get("etag", ""), response.content)

    async def recordings(self) -> list[dict[str, Any]]:
        """Every recording the server knows (cloudrec extension), for reattaching."""
        data = await self.request("GET", "/v1/cloudrec/recordings")
        return list(data.get("recordings", []))

    async def roster(
        self, app_id: str, channel: str, token: str | None = None
    ) -> list[dict[str, Any]]:
        """The users in ``channel`` now (cloudrec's channel server: ``GET
        /channels/{app_id}/{channel}``): ``{uid, role, joined_at, tracks}`` each, in join
        order. The sandbox app's rosters are public; for an app with a certificate the
        server's bearer token reads any, or ``token`` (an RTC token for the channel)."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        path = f"/channels/{quote(app_id, safe='')}/{quote(channel, safe='')}"
        data = await self.request("GET", path, headers=headers)
        return list(data.get("users", []))

    async def exit_when_done(self) -> int:
        """Ask the server to shut down once its recordings are uploaded; active count."""
        data = await self.request("POST", "/v1/cloudrec/exit-when-done")
        return int(data.get("activeRecordings", 0))

    async def keep_running(self) -> int:
        """Take back :meth:`exit_when_done` (extension); active count."""
        data = await self.request("DELETE", "/v1/cloudrec/exit-when-done")
        return int(data.get("activeRecordings", 0))

    async def status(self) -> dict[str, Any]:
        """The server's CPU seconds, active recordings and upload backlog (extension)."""
        return dict(await self.request("GET", "/v1/cloudrec/status"))

    async def send_webhook_test(self, endpoint: int) -> dict[str, Any]:
        """Send one signed test notice to the server's webhook endpoint ``endpoint`` (its
        place in the status's ``webhooks``) now (extension; docs/webhooks.md): ``{endpoint,
        eventType, noticeId, delivered, error, elapsedMs}``. A 404 names no such endpoint."""
        body = {"endpoint": endpoint}
        return dict(await self.request("POST", "/v1/cloudrec/webhooks/test", body))
