"""The WHIP endpoint's answers: success, every refusal, trickle, CORS, roster."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from aiortc import RTCPeerConnection

from core.channel.accesstoken import build_rtc_token
from core.channel.ice import rtc_configuration
from core.enums import SANDBOX_APP_ID, ChannelType
from core.participants.synthetic import SyntheticMedia, synthetic_media
from core.participants.whip_client import WhipError, WhipSession, publish

SIZE = (160, 120)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def app_of(channel_server) -> tuple[str, str]:
    (app,) = channel_server.settings.apps.items()
    return app


async def join(server, media: list[SyntheticMedia], channel: str, uid: int, **kw) -> WhipSession:
    """Publish ``uid`` (token= passed through; other keywords go in the query)."""
    token = kw.pop("token", None)
    app_id = kw.pop("app_id", SANDBOX_APP_ID)
    m = synthetic_media(uid, size=SIZE, low_stream=False)
    media.append(m)
    url = server.whip_url(channel, uid, app_id, **kw)
    return await publish(url, token=token, audio=m.audio, video=m.video)


async def refusal(server, media, channel: str, uid: int, **kw) -> WhipError:
    with pytest.raises(WhipError) as info:
        session = await join(server, media, channel, uid, **kw)
        await session.close()
    return info.value


async def offer_sdp(audio_codec: str | None = None) -> str:
    """An offer from aiortc (optionally with only ``audio_codec`` for audio, no video)."""
    pc = RTCPeerConnection(rtc_configuration())
    m = synthetic_media(1, size=SIZE, low_stream=False)
    try:
        if audio_codec is None:
            pc.addTransceiver(m.audio, direction="sendonly")
            pc.addTransceiver(m.video, direction="sendonly")
        else:
            transceiver = pc.addTransceiver(m.audio, direction="sendonly")
            caps = [c for c in transceiver.sender.getCapabilities("audio").codecs]
            transceiver.setCodecPreferences([c for c in caps if c.mimeType == audio_codec])
        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)
    finally:
        m.stop()
        await pc.close()


async def test_publish_answers_201_with_location_etag_and_cors(channel_server, http) -> None:
    offer = await offer_sdp()
    response = await http.post(
        channel_server.whip_url("ok", 5),
        content=offer,
        headers={"Content-Type": "application/sdp", "Origin": channel_server.url},
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/sdp")
    assert response.text.startswith("v=0")
    assert "a=candidate:" in response.text and "127.0.0.1" in response.text
    location = response.headers["location"]
    assert location.startswith("/whip/session/")
    assert response.headers["etag"]
    # the join page's own origin (core.server.cors; foreign ones: test_whip_limits.py)
    assert response.headers["access-control-allow-origin"] == channel_server.url
    assert "Location" in response.headers["access-control-expose-headers"]

    roster = (await http.get(f"{channel_server.url}/channels/{SANDBOX_APP_ID}/ok")).json()
    assert roster["channel_type"] == "communication"
    assert [(u["uid"], u["role"], u["tracks"]) for u in roster["users"]] == [
        (5, "host", ["audio", "video"])
    ]
    assert abs(roster["users"][0]["joined_at"] - time.time()) < 10

    fragment = (
        "a=ice-ufrag:x\r\na=ice-pwd:y\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
        "a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n"
    )
    session_url = channel_server.url + location
    patch = await http.patch(
        session_url,
        content=fragment,
        headers={"Content-Type": "application/trickle-ice-sdpfrag", "If-Match": "*"},
    )
    assert patch.status_code == 204, patch.text
    wrong = await http.patch(session_url, content=fragment, headers={"Content-Type": "text/x"})
    assert wrong.status_code == 415
    stale = await http.patch(
        session_url,
        content=fragment,
        headers={"Content-Type": "application/trickle-ice-sdpfrag", "If-Match": '"nope"'},
    )
    assert stale.status_code == 412

    preflight = await http.options(
        session_url,
        headers={"Origin": channel_server.url, "Access-Control-Request-Method": "DELETE"},
    )
    assert preflight.status_code == 204
    assert "DELETE" in preflight.headers["access-control-allow-methods"]
    assert (await http.delete(session_url)).status_code == 200
    assert (await http.delete(session_url)).status_code == 404
    roster = (await http.get(f"{channel_server.url}/channels/{SANDBOX_APP_ID}/ok")).json()
    assert roster["users"] == [] and roster["channel_type"] is None


async def test_token_errors(channel_server, media) -> None:
    app_id, certificate = app_of(channel_server)
    missing = await refusal(channel_server, media, "secure", 7, app_id=app_id)
    assert missing.status == 401 and "token" in missing.body

    bad = await refusal(channel_server, media, "secure", 7, app_id=app_id, token="007garbage")
    assert bad.status == 401

    other_channel = build_rtc_token(app_id, certificate, "elsewhere", 7, "publisher", 600)
    wrong = await refusal(channel_server, media, "secure", 7, app_id=app_id, token=other_channel)
    assert wrong.status == 401 and "elsewhere" in wrong.body

    old = build_rtc_token(
        app_id, certificate, "secure", 7, "publisher", 60, issue_ts=int(time.time()) - 3600
    )
    expired = await refusal(channel_server, media, "secure", 7, app_id=app_id, token=old)
    assert expired.status == 401 and "expired" in expired.body

    good = build_rtc_token(app_id, certificate, "secure", 7, "publisher", 600)
    session = await join(channel_server, media, "secure", 7, app_id=app_id, token=good)
    await session.close()

    unknown = await refusal(channel_server, media, "secure", 7, app_id="ab" * 16)
    assert unknown.status == 404 and "unknown app" in unknown.body


async def test_roles_in_live_channels(channel_server, media) -> None:
    app_id, certificate = app_of(channel_server)
    audience = await refusal(channel_server, media, "show", 8, role="audience", channel_type="live")
    assert audience.status == 403 and "audience" in audience.body

    subscriber = build_rtc_token(app_id, certificate, "show", 9, "subscriber", 600)
    no_rights = await refusal(
        channel_server, media, "show", 9, app_id=app_id, token=subscriber, channel_type="live"
    )
    assert no_rights.status == 403

    host = await join(channel_server, media, "show", 10, role="host", channel_type="live")
    channel = channel_server.registry.get(SANDBOX_APP_ID, "show")
    assert channel is not None and channel.channel_type is ChannelType.LIVE
    # The first joiner set LIVE: an audience member asking for no type is refused too,
    mismatch = await refusal(channel_server, media, "show", 11, channel_type="communication")
    assert mismatch.status == 409 and "LIVE" in mismatch.body
    joiner = await refusal(channel_server, media, "show", 12, role="audience")
    assert joiner.status == 403
    await host.close()

    # ... while in a COMMUNICATION channel everyone publishes, whatever the role.
    talker = await join(channel_server, media, "talk", 13, role="audience")
    await talker.close()


async def test_duplicate_uid(channel_server, media) -> None:
    first = await join(channel_server, media, "dup", 21)
    second = await refusal(channel_server, media, "dup", 21)
    assert second.status == 409 and "21" in second.body
    recorder = channel_server.registry.channel(SANDBOX_APP_ID, "dup").subscribe(22)
    third = await refusal(channel_server, media, "dup", 22)
    assert third.status == 409
    await recorder.close()
    await first.close()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        ("hello", "application/sdp", 400, "not an SDP"),
        ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", "application/sdp", 400, "no audio"),
        ("v=0", "text/plain", 415, "application/sdp"),
        ("v=0", "", 415, "application/sdp"),
    ],
)
async def test_bad_requests(channel_server, http, body, content_type, status, words) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    headers["Origin"] = channel_server.url  # errors carry CORS headers for the join page
    response = await http.post(channel_server.whip_url("bad", 5), content=body, headers=headers)
    assert response.status_code == status
    assert words in response.text
    assert response.headers["access-control-allow-origin"] == channel_server.url


async def test_no_common_codec(channel_server, http) -> None:
    offer = await offer_sdp(audio_codec="audio/PCMU")
    response = await http.post(
        channel_server.whip_url("bad", 5),
        content=offer,
        headers={"Content-Type": "application/sdp"},
    )
    assert response.status_code == 400
    assert "no common audio codec" in response.text and "opus" in response.text


@pytest.mark.parametrize(
    ("channel", "uid", "words"),
    [
        ("a" * 65, "5", "64 bytes"),
        ("bad*name", "5", "'*'"),
        ("ok", "0", "uid: 0"),
        ("ok", "x", "x"),
    ],
)
async def test_bad_names(channel_server, http, channel, uid, words) -> None:
    response = await http.post(
        channel_server.whip_url(channel, uid),
        content=await offer_sdp(),
        headers={"Content-Type": "application/sdp"},
    )
    assert response.status_code == 400
    assert words in response.text


async def test_channel_names_with_agora_punctuation(channel_server, media, http) -> None:
    name = "Room 1!#$%&()+-:;<=.>?@[]^_{}|~,"
    session = await join(channel_server, media, name, 3)
    try:
        assert channel_server.registry.get(SANDBOX_APP_ID, name) is not None
        path = f"/channels/{SANDBOX_APP_ID}/{quote(name, safe='')}"
        roster = await http.get(channel_server.url + path)
        assert roster.status_code == 200, roster.text
        assert [u["uid"] for u in roster.json()["users"]] == [3]
    finally:
        await session.close()
