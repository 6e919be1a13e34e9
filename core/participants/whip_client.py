"""A WHIP (RFC 9725) publishing client on aiortc.

:func:`publish` offers send-only audio and video (and optionally a second, low
resolution video m-line for the dual stream), waits for ICE gathering to complete,
POSTs the whole offer, and applies the answer. No trickle: on loopback and with
host candidates only, gathering finishes at once. The returned :class:`WhipSession`
leaves with DELETE on :meth:`WhipSession.close`.

Order of the m-lines: high video, audio, low video. The first video section is the
high stream and the second the low one, as the channel expects; audio sits between
them because of how aiortc (1.16) applies BUNDLE: with its default "balanced" policy
an answerer puts a second video section on the first video section's transport, then
moves only the first one onto the bundle's transport when the bundle starts with
audio, and the second video section never receives a packet. Starting the bundle
with the high video keeps both video sections on the bundle transport with any
policy. (An aiortc answerer with ``bundlePolicy=MAX_BUNDLE`` takes any order.)
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from types import TracebackType

import httpx
from aiortc import (
    RTCBundlePolicy,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack

from core.channel.e2ee import E2eeKeys
from core.channel.ice import rtc_configuration
from core.errors import CloudRecordingError, ErrorCode, InvalidParameterError
from core.participants.e2ee_sender import encrypt_sender

VIDEO_CODECS = ("VP8", "H264")
"""Video codecs :func:`publish` can prefer."""

_DEFAULT_TIMEOUT = httpx.Timeout(10.0)


class WhipError(CloudRecordingError):
    """The WHIP server refused or could not be reached (code ``CONNECT_ERROR``).

    ``status`` is the HTTP status (0 when no response arrived); ``body`` is the
    server's response text (or the connection error), meant to be shown to a person.
    """

    def __init__(self, status: int, body: str, url: str = "") -> None:
        self.status = status
        self.body = body
        self.url = url
        where = f" to {url}" if url else ""
        if status:
            message = f"WHIP publish{where} refused: HTTP {status}: {body.strip() or '(no body)'}"
        else:
            message = f"WHIP publish{where} failed: {body}"
        super().__init__(message, ErrorCode.CONNECT_ERROR)


class WhipSession:
    """A published WHIP session: the peer connection and the resource to DELETE."""

    def __init__(
        self,
        pc: RTCPeerConnection,
        location: str,
        answer: str,
        client: httpx.AsyncClient,
        *,
        owns_client: bool,
        headers: dict[str, str],
    ) -> None:
        self.pc = pc
        self.location = location
        """Absolute URL of the session resource (from the 201's Location)."""
        self.answer = answer
        """The server's SDP answer."""
        self._client = client
        self._owns_client = owns_client
        self._headers = headers
        self._closed = False
        self._connected = asyncio.Event()
        self._failed = asyncio.Event()
        pc.on("connectionstatechange", self._on_state)
        self._on_state()

    def _on_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected":
            self._connected.set()
        elif state in ("failed", "closed"):
            self._failed.set()

    @property
    def connection_state(self) -> str:
        """The peer connection's state: new, connecting, connected, failed or closed."""
        return str(self.pc.connectionState)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._closed

    async def wait_connected(self) -> None:
        """Wait until media flows (ICE and DTLS done); raise ``WhipError`` if that fails.

        Bound the wait with ``asyncio.timeout``; on loopback it takes well under a second.
        """
        connected = asyncio.ensure_future(self._connected.wait())
        failed = asyncio.ensure_future(self._failed.wait())
        try:
            await asyncio.wait({connected, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            connected.cancel()
            failed.cancel()
        if not self._connected.is_set():
            raise WhipError(0, f"connection {self.connection_state}", self.location)

    async def close(self) -> None:
        """Leave: DELETE the session resource (a server that is gone is ignored), close the PC."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._client.delete(self.location, headers=self._headers)
        except httpx.HTTPError:
            pass  # the server is gone: nothing to leave
        finally:
            await self.pc.close()
            if self._owns_client:
                await self._client.aclose()

    async def __aenter__(self) -> WhipSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def _prefer_codec(transceiver: RTCRtpTransceiver, codec: str) -> None:
    capabilities = RTCRtpSender.getCapabilities("video").codecs
    wanted = f"video/{codec}".lower()
    preferred = [c for c in capabilities if c.mimeType.lower() == wanted]
    others = [c for c in capabilities if c.mimeType.lower() != wanted]
    transceiver.setCodecPreferences(preferred + others)


async def publish(
    url: str,
    *,
    token: str | None = None,
    audio: MediaStreamTrack | None,
    video: MediaStreamTrack | None,
    low_video: MediaStreamTrack | None = None,
    video_codec: str = "VP8",
    client: httpx.AsyncClient | None = None,
    encryption: E2eeKeys | None = None,
    answer_filter: Callable[[str], str] | None = None,
) -> WhipSession:
    """Publish the given tracks to the WHIP endpoint ``url``; return the session.

    Transceivers are send-only, in the order video, audio, low video (the second
    video m-line is the dual stream's low stream; the module docstring says why
    audio is not first), all on one transport (max-bundle). ``video_codec`` ("VP8" or "H264")
    is offered first, the other codecs after it. ``token`` goes in an
    ``Authorization: Bearer`` header. ``client`` is used for the POST and the later
    DELETE; without one, the session owns a client of its own. With ``encryption``
    every frame is encrypted end to end (``docs/encryption.md``); announce the mode on
    ``url`` (``?encryption=aes_128_xts``) so the channel forwards it undecoded.

    ``answer_filter`` rewrites the server's answer before it is applied (a test's
    network impairment relay puts itself in its candidates:
    :meth:`core.participants.netem.UdpRelay.rewrite_answer`).

    Raises :class:`WhipError` when the server answers anything but 201 (carrying the
    status and the server's body) or cannot be reached.
    """
    if video_codec.upper() not in VIDEO_CODECS:
        raise InvalidParameterError("video_codec", video_codec, "one of VP8, H264")
    if low_video is not None and video is None:
        raise ValueError("a low video stream needs a (high) video stream")
    if audio is None and video is None:
        raise ValueError("nothing to publish: no audio and no video track")
    codec = "H264" if video_codec.upper() == "H264" else "VP8"

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    owns_client = client is None
    http = client if client is not None else httpx.AsyncClient(timeout=_DEFAULT_TIMEOUT)
    configuration = dataclasses.replace(
        rtc_configuration(), bundlePolicy=RTCBundlePolicy.MAX_BUNDLE
    )
    pc = RTCPeerConnection(configuration)
    try:
        for track in (video, audio, low_video):
            if track is None:
                continue
            transceiver = pc.addTransceiver(track, direction="sendonly")
            if encryption is not None:
                encrypt_sender(transceiver.sender, encryption)
            if track.kind == "video":
                _prefer_codec(transceiver, codec)
        # aiortc gathers every candidate inside setLocalDescription.
        await pc.setLocalDescription(await pc.createOffer())
        try:
            response = await http.post(
                url,
                content=pc.localDescription.sdp.encode(),
                headers={**headers, "Content-Type": "application/sdp"},
            )
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise WhipError(0, f"cannot reach the server: {reason}", url) from exc
        if response.status_code != 201:
            raise WhipError(response.status_code, response.text, url)
        location = response.headers.get("Location")
        if not location:
            raise WhipError(response.status_code, "201 without a Location header", url)
        answer = response.text if answer_filter is None else answer_filter(response.text)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    except BaseException:
        await pc.close()
        if owns_client:
            await http.aclose()
        raise
    return WhipSession(
        pc,
        str(response.url.join(location)),
        response.text,
        http,
        owns_client=owns_client,
        headers=headers,
    )
