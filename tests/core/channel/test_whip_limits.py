"""WHIP's limits (docs/security.md, "Limits"; audit findings 10 and 13): the offer's
size, enforced while it streams in; sessions per app, at once (503) and per second
(429), each with ``Retry-After``; and CORS only for the join page's origin and the
origins the operator lists.

Offers are real (aiortc's); a 201 is a real session, left with DELETE.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.channel.accesstoken import build_rtc_token
from core.channel.errors import BusyError
from core.channel.whip_limits import WhipLimits
from core.enums import SANDBOX_APP_ID
from core.server.cors import parse_origin
from tests.conftest import TEST_APP_CERTIFICATE, TEST_APP_ID, serve_channel_server
from tests.rawhttp import chunked, exchange, request_head, traced_exchange

MiB = 1024 * 1024
SDP = {"Content-Type": "application/sdp"}
TOO_LARGE = (
    "request body larger than 262144 bytes (256 KiB), the limit of WHIP (an SDP offer or a "
    "trickled fragment); send a smaller body\n"
)
EVIL = "http://evil.example"


def foreign(origin: str) -> str:
    return (
        f"origin {origin!r} may not call this server from a web page: it answers pages of "
        "its own origin (its join page) and the origins its operator allows (cloudrec "
        "server --allow-origin)"
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


def whip(server: Any, uid: int, app_id: str = SANDBOX_APP_ID, channel: str = "limits") -> str:
    return f"{server.url}/whip/{app_id}/{channel}/{uid}"


def token_for(uid: int, channel: str = "limits") -> dict[str, str]:
    token = build_rtc_token(TEST_APP_ID, TEST_APP_CERTIFICATE, channel, uid, "publisher", 600)
    return {**SDP, "Authorization": f"Bearer {token}"}


async def post(
    http: httpx.AsyncClient, server: Any, offer: str, uid: int, **kw: Any
) -> httpx.Response:
    app_id = kw.pop("app_id", SANDBOX_APP_ID)
    headers = kw.pop("headers", token_for(uid) if app_id == TEST_APP_ID else SDP)
    return await http.post(whip(server, uid, app_id), content=offer, headers=headers, **kw)


async def leave(http: httpx.AsyncClient, server: Any, answer: httpx.Response) -> None:
    assert (await http.delete(server.url + answer.headers["location"])).status_code == 200


# -- the offer's size -------------------------------------------------------------------


async def test_an_offer_declared_over_256_kib_is_413_before_it_is_read(
    channel_server: Any,
) -> None:
    url = whip(channel_server, 5)
    for length in (256 * 1024 + 1, 200 * MiB):
        head = request_head("POST", url, {**SDP, "Content-Length": str(length)})
        answer = await asyncio.to_thread(exchange, url, head)
        assert (answer.status, answer.body.decode()) == (413, TOO_LARGE)
        assert answer.headers["content-type"].startswith("text/plain")
        assert answer.sent == len(head) and answer.closed


async def test_a_streamed_offer_is_cut_off_at_256_kib_and_memory_does_not_grow(
    channel_server: Any,
) -> None:
    """Finding 10: WHIP read the whole offer, then checked its 256 KiB limit."""
    url = whip(channel_server, 5)
    head = request_head("POST", url, {**SDP, "Transfer-Encoding": "chunked"})
    body = chunked(b"a" * 65536, 200 * MiB)
    answer, peak = await asyncio.to_thread(traced_exchange, url, head, body)
    assert (answer.status, answer.body.decode()) == (413, TOO_LARGE)
    assert answer.closed
    assert answer.sent < 32 * MiB, answer.sent
    assert peak < 4 * MiB, f"peak {peak / MiB:.1f} MiB"


# -- sessions per app -------------------------------------------------------------------


async def test_an_app_has_at_most_whip_max_sessions(
    tmp_path: Path, http: httpx.AsyncClient, offer: str
) -> None:
    """With ``whip_max_sessions=2`` a third session of the app is 503 with Retry-After,
    while another app still takes one; once one leaves, the third gets in."""
    full = (
        f"app {SANDBOX_APP_ID} has 2 WHIP sessions, the most this server allows at once "
        "(2; cloudrec server --whip-max-sessions); try again when someone has left\n"
    )
    async with serve_channel_server(tmp_path, whip_max_sessions=2) as server:
        first, second = [await post(http, server, offer, uid) for uid in (1, 2)]
        assert (first.status_code, second.status_code) == (201, 201), first.text
        third = await post(http, server, offer, 3)
        assert (third.status_code, third.text) == (503, full)
        assert third.headers["retry-after"] == "10"
        other = await post(http, server, offer, 3, app_id=TEST_APP_ID)
        assert other.status_code == 201, other.text  # the limit is per app
        await leave(http, server, first)
        again = await post(http, server, offer, 3)
        assert again.status_code == 201, again.text
        for answer in (second, other, again):
            await leave(http, server, answer)


async def test_new_sessions_of_an_app_are_rate_limited(
    tmp_path: Path, http: httpx.AsyncClient, offer: str
) -> None:
    """``whip_rate=0.25``, ``whip_burst=2``: two sessions at once, then 429 with the
    whole seconds until the next token (up to 4); after that wait one more gets in."""
    async with serve_channel_server(tmp_path, whip_rate=0.25, whip_burst=2) as server:
        burst = [await post(http, server, offer, uid) for uid in (1, 2)]
        assert [r.status_code for r in burst] == [201, 201], burst[-1].text
        refused = await post(http, server, offer, 3)
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= 4
        assert refused.text == (
            f"too many new WHIP sessions for app {SANDBOX_APP_ID}: at most 0.25 a second "
            f"(bursts of 2; cloudrec server --whip-rate, --whip-burst); try again in {wait} s\n"
        )
        other = await post(http, server, offer, 3, app_id=TEST_APP_ID)
        assert other.status_code == 201, other.text  # another app has its own bucket
        await asyncio.sleep(wait)  # the refill is the thing tested
        later = await post(http, server, offer, 3)
        assert later.status_code == 201, later.text
        for answer in (*burst, other, later):
            await leave(http, server, answer)


def test_the_token_bucket() -> None:
    """The bucket's arithmetic on a clock the test moves: ``burst`` at once, then
    ``rate`` a second; a refusal takes no token; a full app takes none either."""
    now = [100.0]
    limits = WhipLimits(max_sessions=5, rate=2.0, burst=3, clock=lambda: now[0])
    for _ in range(3):
        limits.admit("a", 0)
    with pytest.raises(BusyError) as refused:
        limits.admit("a", 0)
    assert (refused.value.status, refused.value.retry_after) == (429, 1)
    now[0] += 0.5  # one token back (2 a second)
    limits.admit("a", 0)
    with pytest.raises(BusyError):
        limits.admit("a", 0)
    limits.admit("b", 0)  # per app
    now[0] += 10.0  # refilled, up to the burst only
    with pytest.raises(BusyError) as full:
        limits.admit("a", 5)
    assert (full.value.status, full.value.retry_after) == (503, 10)
    for _ in range(3):
        limits.admit("a", 0)
    with pytest.raises(BusyError):
        limits.admit("a", 0)


# -- CORS -------------------------------------------------------------------------------


async def test_a_foreign_origin_is_refused_and_gets_no_allow_header(
    channel_server: Any, http: httpx.AsyncClient, offer: str
) -> None:
    """Finding 13: WHIP answered ``Access-Control-Allow-Origin: *``, so any web page
    could make its visitors' browsers publish into a server on their machine."""
    server = channel_server
    port = server.url.rsplit(":", 1)[1]
    # localhost reaches the same socket, but is another origin than the one the page
    # was loaded from (127.0.0.1): only the exact own origin is the join page's
    for origin in (EVIL, f"http://localhost:{port}", f"https://127.0.0.1:{port}", "null"):
        posted = await post(http, server, offer, 5, headers={**SDP, "Origin": origin})
        assert (posted.status_code, posted.text) == (403, foreign(origin) + "\n")
        assert "access-control-allow-origin" not in posted.headers
        preflight = await http.options(
            whip(server, 5),
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, authorization",
            },
        )
        assert preflight.status_code == 403
        assert "access-control-allow-origin" not in preflight.headers
        roster = await http.get(f"{server.url}/channels/{SANDBOX_APP_ID}/limits")
        assert roster.json()["users"] == []  # nothing was made
        read = await http.get(
            f"{server.url}/channels/{SANDBOX_APP_ID}/limits", headers={"Origin": origin}
        )
        assert (read.status_code, read.json()) == (403, {"error": foreign(origin)})
        assert "access-control-allow-origin" not in read.headers


async def test_the_join_pages_own_origin_and_listed_origins_are_allowed(
    tmp_path: Path, http: httpx.AsyncClient, offer: str
) -> None:
    studio = "https://studio.example"
    async with serve_channel_server(tmp_path, allowed_origins=(studio,)) as server:
        for origin in (server.url, studio):
            preflight = await http.options(
                whip(server, 5),
                headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            )
            assert preflight.status_code == 204
            assert preflight.headers["access-control-allow-origin"] == origin
            assert "POST" in preflight.headers["access-control-allow-methods"]
            assert "Authorization" in preflight.headers["access-control-allow-headers"]
            assert preflight.headers["vary"] == "Origin"
            posted = await post(http, server, offer, 5, headers={**SDP, "Origin": origin})
            assert posted.status_code == 201, posted.text
            assert posted.headers["access-control-allow-origin"] == origin
            assert "Location" in posted.headers["access-control-expose-headers"]
            roster = await http.get(
                f"{server.url}/channels/{SANDBOX_APP_ID}/limits", headers={"Origin": origin}
            )
            assert roster.headers["access-control-allow-origin"] == origin
            assert [u["uid"] for u in roster.json()["users"]] == [5]
            await leave(http, server, posted)
        # clients that are not browsers send no Origin, and get no CORS headers
        plain = await post(http, server, offer, 6)
        assert plain.status_code == 201, plain.text
        assert "access-control-allow-origin" not in plain.headers
        await leave(http, server, plain)


def test_origins_as_browsers_send_them() -> None:
    assert parse_origin("HTTPS://Studio.Example:443/") == "https://studio.example"
    assert parse_origin("http://studio.example:80") == "http://studio.example"
    assert parse_origin("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert parse_origin("http://[::1]:8080") == "http://[::1]:8080"
    assert parse_origin("*") == "*"
    for bad in ("studio.example", "ftp://x", "https://x/join", "https://u@x", "http://x:99999"):
        with pytest.raises(ValueError):
            parse_origin(bad)
