"""Odd inputs to WHIP answer 4xx in WHIP's documented shape (readable plain text with
CORS headers, docs/channel.md), never 500: uids that are digits only to ``str.isdigit``
or have thousands of digits, Authorization headers that are not ASCII, trickled
candidates with numbers out of their RFC ranges. After each group an ordinary
publish still gets its 201.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from core.enums import SANDBOX_APP_ID
from tests.conftest import TEST_APP_ID

SDP = {"Content-Type": "application/sdp"}
TRICKLE = {"Content-Type": "application/trickle-ice-sdpfrag"}
UID_ALLOWED = "is not allowed; a decimal number from 1 to 4294967295"


@pytest.fixture
async def http(channel_server: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client sending the ``Origin`` of the server's join page, as a browser there does."""
    async with httpx.AsyncClient(timeout=30, headers={"Origin": channel_server.url}) as client:
        yield client


def url(server: Any, path_uid: str, app_id: str = SANDBOX_APP_ID) -> str:
    """The WHIP URL with ``path_uid`` exactly as given (already URL-encoded)."""
    return f"{server.url}/whip/{app_id}/odd/{path_uid}"


def text_error(response: httpx.Response) -> tuple[int, str, str]:
    """Status, text, and whether the answer allows the join page's origin (``"*"``
    standing for it: the origin the ``http`` client sends)."""
    allowed = response.headers.get("access-control-allow-origin", "")
    origin = response.request.headers.get("origin")
    return (response.status_code, response.text, "*" if allowed and allowed == origin else allowed)


async def publishes(server: Any, http: httpx.AsyncClient, offer: str, uid: int) -> None:
    """An ordinary publish gets its 201, and leaves again."""
    response = await http.post(url(server, str(uid)), content=offer, headers=SDP)
    assert response.status_code == 201, response.text
    left = await http.delete(server.url + response.headers["location"])
    assert left.status_code == 200


async def test_odd_uids_in_the_path_are_400(
    channel_server: Any, http: httpx.AsyncClient, offer: str
) -> None:
    cases = {
        quote("²"): f"uid: '²' {UID_ALLOWED}",  # '²'.isdigit() is true
        quote("١"): f"uid: '١' {UID_ALLOWED}",  # an Arabic-Indic 1: int() reads it as 1
        "%201": f"uid: ' 1' {UID_ALLOWED}",
        "1%20": f"uid: '1 ' {UID_ALLOWED}",
        "1.0": f"uid: '1.0' {UID_ALLOWED}",
        "+1": f"uid: '+1' {UID_ALLOWED}",
        "-1": f"uid: '-1' {UID_ALLOWED}",
        "0x10": f"uid: '0x10' {UID_ALLOWED}",
        "1_000": f"uid: '1_000' {UID_ALLOWED}",
        "42949672950": f"uid: '42949672950' {UID_ALLOWED}",  # 11 digits
        "9" * 5000: f"uid: '{'9' * 24}'... (5000 characters) {UID_ALLOWED}",
        "4294967296": "uid: 4294967296 is not allowed; an integer from 1 to 4294967295 "
        "(0 is reserved)",
        "0": "uid: 0 is not allowed; an integer from 1 to 4294967295 (0 is reserved)",
    }
    for path_uid, message in cases.items():
        response = await http.post(url(channel_server, path_uid), content=offer, headers=SDP)
        assert text_error(response) == (400, message + "\n", "*"), path_uid[:20]
    await publishes(channel_server, http, offer, 4294967295)


async def test_non_ascii_authorization_headers_are_401_for_apps_with_certificates(
    channel_server: Any, http: httpx.AsyncClient, offer: str
) -> None:
    not_ascii = (
        "token rejected: the Authorization header is not ASCII; send 'Authorization: "
        "Bearer <AccessToken2>' (ASCII text starting with '007')\n"
    )
    needs_token = f"app {TEST_APP_ID} needs a token: send 'Authorization: Bearer <token>'\n"
    cases = {
        "Bearer é".encode(): not_ascii,
        b"Bearer \xff": not_ascii,
        "Bearer 007é".encode(): not_ascii,
        "Bearer ²".encode(): not_ascii,
        "Basic é".encode(): needs_token,
        b"Basic " + base64.b64encode("é:é".encode()): needs_token,
    }
    for header, message in cases.items():
        response = await http.post(
            url(channel_server, "7", TEST_APP_ID),
            content=offer,
            headers=[(b"Content-Type", b"application/sdp"), (b"Authorization", header)],
        )
        assert text_error(response) == (401, message, "*"), header
        # the sandbox app needs no token, and ignores whatever header comes
        sandbox = await http.post(
            url(channel_server, "7"),
            content=offer,
            headers=[(b"Content-Type", b"application/sdp"), (b"Authorization", header)],
        )
        assert sandbox.status_code == 201, sandbox.text
        assert (
            await http.delete(channel_server.url + sandbox.headers["location"])
        ).status_code == 200


async def test_trickled_candidates_with_numbers_out_of_range_are_400(
    channel_server: Any, http: httpx.AsyncClient, offer: str
) -> None:
    posted = await http.post(url(channel_server, "8"), content=offer, headers=SDP)
    assert posted.status_code == 201, posted.text
    session = channel_server.url + posted.headers["location"]
    layout = (
        "bad candidate: expected 'a=candidate:FOUNDATION COMPONENT TRANSPORT PRIORITY "
        "ADDRESS PORT typ TYPE'\n"
    )
    cases = {
        "1 1 udp 2130706431 127.0.0.1 99999999 typ host": "port '99999999' is not allowed; "
        "an integer from 0 to 65535",
        "1 1 udp 2130706431 127.0.0.1 65536 typ host": "port '65536' is not allowed; "
        "an integer from 0 to 65535",
        "1 1 udp 2130706431 127.0.0.1 -5 typ host": "port '-5' is not allowed; "
        "an integer from 0 to 65535",
        "1 1 udp 2130706431 127.0.0.1 ² typ host": "port '²' is not allowed; "
        "an integer from 0 to 65535",
        f"1 1 udp {'9' * 30} 127.0.0.1 9 typ host": f"priority '{'9' * 24}' is not allowed; "
        "an integer from 1 to 2147483647",
        "1 1 udp 2147483648 127.0.0.1 9 typ host": "priority '2147483648' is not allowed; "
        "an integer from 1 to 2147483647",
        "1 1 udp 0 127.0.0.1 9 typ host": "priority '0' is not allowed; "
        "an integer from 1 to 2147483647",
        "1 257 udp 2130706431 127.0.0.1 9 typ host": "component '257' is not allowed; "
        "an integer from 1 to 256",
        "1 x udp 2130706431 127.0.0.1 9 typ host": "component 'x' is not allowed; "
        "an integer from 1 to 256",
    }
    for candidate, reason in cases.items():
        fragment = f"a=mid:0\r\na=candidate:{candidate}\r\n"
        response = await http.patch(session, content=fragment, headers=TRICKLE)
        assert text_error(response) == (400, f"bad candidate: {reason}\n", "*"), candidate
    for candidate in ("1 1 udp 2130706431 127.0.0.1 9 typ", "1 1 udp 1 127.0.0.1 9 host x"):
        response = await http.patch(
            session, content=f"a=candidate:{candidate}\r\n", headers=TRICKLE
        )
        assert text_error(response) == (400, layout, "*"), candidate
    # candidates at the edges of the ranges are taken
    edges = "a=mid:0\r\na=candidate:1 256 udp 2147483647 127.0.0.1 65535 typ host\r\n"
    assert (await http.patch(session, content=edges, headers=TRICKLE)).status_code == 204
    assert (await http.delete(session)).status_code == 200
    await publishes(channel_server, http, offer, 9)


async def test_offers_the_peer_connection_could_not_answer_are_400(
    channel_server: Any, http: httpx.AsyncClient, offer: str
) -> None:
    """Found by the SDP fuzz (test_whip_sdp_fuzz.py): aiortc failed answering these
    offers (500): a BUNDLE group naming a mid no media section has (also what dropping an
    m-line leaves), sections without a mid, with two, or sharing one, a section of a
    kind it answers as a data channel; and a port '²' ('²'.isdigit() is true) reached
    int()."""
    lines = offer.split("\r\n")
    audio = next(i for i, line in enumerate(lines) if line.startswith("m=audio"))
    video = next(line for line in lines if line.startswith("m=video"))
    port = video.split()[1]
    odd_port, far_port = video.replace(port, "\u00b2", 1), video.replace(port, "65536", 1)
    assert "a=group:BUNDLE 0 1" in lines and "a=mid:0" in lines and "a=mid:1" in lines
    one_mid = "needs exactly one non-empty a=mid line"
    cases = {
        offer.replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 7"): "a=group:BUNDLE names "
        "mid '7', which no media section has (their mids: '0', '1')",
        "\r\n".join(lines[:audio] + lines[audio + 1 :]): "a=group:BUNDLE names mid '0', "
        "which no media section has (their mids: '1')",
        offer.replace("a=mid:1\r\n", "a=mid:0\r\n"): "media section 2 ('video') has mid '0' "
        "(a=mid), as media section 1 does; each media section needs a mid of its own",
        offer.replace("a=mid:0\r\n", "").replace("a=mid:1\r\n", ""): "media section 1 "
        f"('audio') {one_mid} (found none)",
        offer.replace("a=mid:0\r\n", "a=mid:0\r\na=mid:x\r\n"): "media section 1 ('audio') "
        f"{one_mid} (found 2: '0', 'x')",
        offer.replace("a=mid:1\r\n", "a=mid:\r\n"): f"media section 2 ('video') {one_mid} "
        "(found 1: '')",
        offer.replace("m=video ", "m=text ", 1): "media section 2 is 'text', a kind this "
        "server cannot answer; it takes audio, video and application (data channel) sections",
        offer.replace(video, odd_port): f"malformed media line {odd_port!r}",
        offer.replace(video, far_port): f"media line {far_port!r}: port '65536' is not "
        "allowed; an integer from 0 to 65535",
    }
    for uid, (body, message) in enumerate(cases.items(), 20):
        response = await http.post(url(channel_server, str(uid)), content=body, headers=SDP)
        assert text_error(response) == (400, message + "\n", "*"), message
    await publishes(channel_server, http, offer, 30)


async def test_media_sections_without_a_direction_take_the_sessions_or_sendrecv(
    channel_server: Any, http: httpx.AsyncClient, offer: str
) -> None:
    """RFC 8866 6.7: a media section without a direction attribute has the session's, or
    sendrecv. aiortc took none for no direction and failed answering (500, found by the
    SDP fuzz)."""
    assert offer.count("a=sendonly\r\n") == 2
    undirected = offer.replace("a=sendonly\r\n", "")
    response = await http.post(url(channel_server, "40"), content=undirected, headers=SDP)
    assert response.status_code == 201, response.text
    sections = response.text.split("m=")[1:]  # sendrecv offered: the channel receives
    assert [s.split()[0] for s in sections] == ["audio", "video"], response.text
    assert all("a=recvonly\r\n" in s for s in sections), response.text
    roster = (await http.get(f"{channel_server.url}/channels/{SANDBOX_APP_ID}/odd")).json()
    assert [user["uid"] for user in roster["users"]] == [40], roster
    assert (await http.delete(channel_server.url + response.headers["location"])).status_code == 200
    # the session's direction is the sections' default: inactive sends nothing
    inactive = undirected.replace("a=msid-semantic", "a=inactive\r\na=msid-semantic", 1)
    response = await http.post(url(channel_server, "41"), content=inactive, headers=SDP)
    message = "the offer sends no audio or video (no sendonly/sendrecv m-line)\n"
    assert text_error(response) == (400, message, "*")
    await publishes(channel_server, http, offer, 42)


async def test_candidates_in_offers_are_checked_as_trickled_ones(
    channel_server: Any, http: httpx.AsyncClient, offer: str
) -> None:
    """aiortc took a port of 99999 in an offer's candidate (the SDP fuzz) and every
    connectivity check to it failed ("Fatal write error on datagram transport", logged
    for each); numbers that are no numbers reached int() with a message naming none."""
    line = next(line for line in offer.split("\r\n") if line.startswith("a=candidate:"))
    bits = line.split()
    cases = {
        5: ("99999", "port '99999' is not allowed; an integer from 0 to 65535"),
        3: ("\u00b2", "priority '\u00b2' is not allowed; an integer from 1 to 2147483647"),
        1: ("0", "component '0' is not allowed; an integer from 1 to 256"),
    }
    for uid, (index, (value, reason)) in enumerate(cases.items(), 50):
        odd = " ".join([*bits[:index], value, *bits[index + 1 :]])
        body = offer.replace(line, odd)
        response = await http.post(url(channel_server, str(uid)), content=body, headers=SDP)
        message = f"bad candidate {odd[2:]!r}: {reason}\n"
        assert text_error(response) == (400, message, "*"), reason
    await publishes(channel_server, http, offer, 60)
