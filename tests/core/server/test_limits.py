"""The recording API's request limits (docs/security.md, "Limits"; audit finding 10).

Each test speaks to a real server on 127.0.0.1 (``channel_server``, in this process, so
``tracemalloc`` sees its memory), over a plain socket where an HTTP library would not
send what is tested (``tests/rawhttp.py``): a ``Content-Length`` of 200 MiB with no body
behind it, a chunked body that never ends, headers or a body a byte at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.commands.server import add_arguments, settings_from_args
from core.enums import SANDBOX_APP_ID
from core.errors import CloudRecordingError
from core.server.app import ServerSettings
from core.server.limits import MAX_API_BODY
from tests.conftest import serve_channel_server
from tests.helpers import BAD_CREDENTIALS, UNAUTHORIZED, bearer_client
from tests.rawhttp import chunked, exchange, repeated, request_head, traced_exchange

MiB = 1024 * 1024
TOO_LARGE = (
    "request body larger than 1048576 bytes (1 MiB), the limit of the recording API; "
    "send a smaller body"
)


def acquire_url(server: Any) -> str:
    return f"{server.url}/v1/apps/{SANDBOX_APP_ID}/cloud_recording/acquire"


def auth(server: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.settings.token}", "Content-Type": "application/json"}


async def test_a_declared_length_over_the_cap_is_413_before_any_byte_of_the_body(
    channel_server: Any,
) -> None:
    url = acquire_url(channel_server)
    for length in (MAX_API_BODY + 1, 200 * MiB):
        head = request_head("POST", url, {**auth(channel_server), "Content-Length": str(length)})
        answer = await asyncio.to_thread(exchange, url, head)  # the body is never sent
        assert (answer.status, answer.json()) == (413, {"code": 413, "reason": TOO_LARGE})
        assert answer.sent == len(head)
        assert answer.closed  # the unread body is not taken as a next request


async def test_a_streamed_body_is_cut_off_at_the_cap_and_memory_does_not_grow_with_it(
    channel_server: Any,
) -> None:
    """Finding 10: a body was read whole before anything looked at it. A chunked body of
    200 MiB (no length declared) is refused once 1 MiB has come, and the server's peak
    of traced memory during the request stays a few times the cap, not the body."""
    url = acquire_url(channel_server)
    head = request_head("POST", url, {**auth(channel_server), "Transfer-Encoding": "chunked"})
    body = chunked(b" " * 65536, 200 * MiB)
    answer, peak = await asyncio.to_thread(traced_exchange, url, head, body)
    assert (answer.status, answer.json()) == (413, {"code": 413, "reason": TOO_LARGE})
    assert answer.closed
    assert answer.sent < 32 * MiB, answer.sent  # the server stopped taking it at the cap
    assert peak < 4 * MiB, f"peak {peak / MiB:.1f} MiB"


async def test_credentials_are_checked_before_a_body_is_read(channel_server: Any) -> None:
    """Finding 10: bodies were parsed before authentication (100 MB unauthenticated
    took 180 MB). Without credentials nothing of the body is kept or parsed: a body over
    the cap or of unknown length is not read at all (401 at once), one of a declared
    length within the cap is read and dropped before the 401 (a close on unread data
    makes the kernel reset the connection: schemathesis once saw a reset instead of the
    answer; it could not be made to happen on demand on loopback)."""
    url = acquire_url(channel_server)
    for extra in ({"Content-Length": str(100 * MiB)}, {"Transfer-Encoding": "chunked"}):
        head = request_head("POST", url, {"Content-Type": "application/json", **extra})
        answer = await asyncio.to_thread(exchange, url, head)
        assert (answer.status, answer.json()) == (401, UNAUTHORIZED)
        assert answer.sent == len(head) and answer.closed
    async with httpx.AsyncClient(timeout=10) as client:
        basic = httpx.BasicAuth("customer", "wrong")
        for body, who in ((b"{not json", None), (b"[" * 100_000, basic)):
            response = await client.post(url, content=body, auth=who)
            assert response.status_code == 401, response.text  # not a parse error: 400
            expected = BAD_CREDENTIALS if who else UNAUTHORIZED
            assert response.json() == expected


async def test_a_body_of_exactly_the_cap_is_read_and_one_byte_more_is_not(
    channel_server: Any,
) -> None:
    url = acquire_url(channel_server)
    body = json.dumps({"cname": "limits", "uid": "7", "clientRequest": {}}).encode()
    body += b" " * (MAX_API_BODY - len(body))  # JSON may end in white space
    async with bearer_client(channel_server) as client:
        ok = await client.post(url, content=body, headers={"Content-Type": "application/json"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["cname"] == "limits"
        over = await client.post(url, content=body + b" ")
        assert over.status_code == 413
        assert over.json() == {"code": 413, "reason": TOO_LARGE}


async def test_a_body_sent_byte_by_byte_is_cut_off_with_408(tmp_path: Path) -> None:
    """Slowloris on the body: 100 bytes, one every 0.1 s (10 s in all), against a server
    with ``request_timeout=0.5``: 408 once 0.5 s have passed since the headers."""
    async with serve_channel_server(tmp_path, request_timeout=0.5) as server:
        url = acquire_url(server)
        head = request_head("POST", url, {**auth(server), "Content-Length": "100"})
        answer = await asyncio.to_thread(exchange, url, head, repeated(b" ", 100), pause=0.1)
    assert answer.status == 408
    assert answer.json() == {
        "code": 408,
        "reason": "request timeout: the body did not arrive within 0.5 s of the headers",
    }
    assert answer.closed
    assert 0.5 <= answer.seconds < 5, answer.seconds  # the whole body would take 10 s


async def test_headers_that_never_end_are_cut_off_with_408(tmp_path: Path) -> None:
    """Slowloris on the headers: a header line every 0.1 s, never the blank line that
    ends them; and a connection that sends nothing at all."""
    text = b"request timeout: no whole request line and headers within 0.5 s\n"
    async with serve_channel_server(tmp_path, request_timeout=0.5) as server:
        url = f"{server.url}/channels/{SANDBOX_APP_ID}/slow"
        head = request_head("GET", url, end=False)
        dribble = repeated(b"X-Slow: 1\r\n", 100 * len(b"X-Slow: 1\r\n"))
        slow = await asyncio.to_thread(exchange, url, head, dribble, pause=0.1)
        silent = await asyncio.to_thread(exchange, url, b"")
        # a kept-alive connection idle for longer than the deadline is not cut off by it:
        # the deadline runs from the first byte of each request
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            first = await client.get(f"/channels/{SANDBOX_APP_ID}/slow")
            await asyncio.sleep(0.8)  # idle past request_timeout, within keep-alive (5 s)
            second = await client.get(f"/channels/{SANDBOX_APP_ID}/slow")
    for answer in (slow, silent):
        assert (answer.status, answer.body) == (408, text)
        assert answer.headers["connection"] == "close" and answer.closed
        assert 0.5 <= answer.seconds < 5, answer.seconds
    assert (first.status_code, second.status_code) == (200, 200)


def test_the_limits_are_server_options(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLOUDREC_APPS", "CLOUDREC_SERVER_TOKEN", "CLOUDREC_CUSTOMERS"):
        monkeypatch.delenv(name, raising=False)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    defaults = settings_from_args(parser.parse_args([]))
    documented = (30.0, (), 100, 10.0, 64)  # docs/security.md, "Limits"
    fields = ("request_timeout", "allowed_origins", "whip_max_sessions", "whip_rate", "whip_burst")
    assert tuple(getattr(defaults, f) for f in fields) == documented
    assert tuple(getattr(ServerSettings(), f) for f in fields) == documented
    given = settings_from_args(
        parser.parse_args(
            [
                "--request-timeout=0.5",
                "--allow-origin=HTTPS://Studio.Example:443/",
                "--allow-origin=http://[::1]:8080",
                "--whip-max-sessions=3",
                "--whip-rate=0.25",
                "--whip-burst=4",
            ]
        )
    )
    assert tuple(getattr(given, f) for f in fields) == (
        0.5,
        ("https://studio.example", "http://[::1]:8080"),
        3,
        0.25,
        4,
    )
    for bad in ("ftp://studio.example", "https://studio.example/join", "studio.example"):
        with pytest.raises(CloudRecordingError) as refused:
            settings_from_args(parser.parse_args([f"--allow-origin={bad}"]))
        assert refused.value.message.startswith(f"--allow-origin: {bad!r} is not an origin")
    for option in ("--request-timeout=0", "--whip-max-sessions=0", "--whip-rate=-1"):
        with pytest.raises(SystemExit) as stopped:
            parser.parse_args([option])
        assert stopped.value.code == 2
