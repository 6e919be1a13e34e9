"""``start``'s ``clientRequest.token`` is verified for apps with a certificate
(docs/rest-api.md, docs/security.md "Who may do what"): over real HTTP, with tokens
built by :func:`core.channel.accesstoken.build_rtc_token`.

A recorder of a certificate app must present an RTC token, valid now, for its channel
and uid, with the join privilege; anything else is 400 code 432 naming
``clientRequest.token`` and saying what is wrong, and the resource stays usable. The
sandbox app needs no token.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.channel.accesstoken import build_rtc_token
from core.enums import SANDBOX_APP_ID
from tests.conftest import TEST_APP_CERTIFICATE, TEST_APP_ID

SMALL = {"width": 160, "height": 120, "fps": 15, "bitrate": 100}
CNAME, UID = "guarded", 4242


def _reason(why: str, app_id: str = TEST_APP_ID) -> str:
    return (
        f"clientRequest.token: {why}; app {app_id} needs an RTC token (AccessToken2) "
        f"for channel {CNAME!r} and uid {UID}, unexpired, with the join privilege "
        "(cloudrec token)"
    )


@pytest.fixture
async def http(channel_server: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=channel_server.url,
        headers={"Authorization": f"Bearer {channel_server.settings.token}"},
        timeout=30,
    ) as client:
        yield client


async def _acquire(http: httpx.AsyncClient, app_id: str) -> str:
    response = await http.post(
        f"/v1/apps/{app_id}/cloud_recording/acquire", json={"cname": CNAME, "uid": str(UID)}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["resourceId"])


async def _start(
    http: httpx.AsyncClient, app_id: str, rid: str, folder: Path, token: str | None
) -> httpx.Response:
    storage = {"vendor": 100, "region": 0, "extensionParams": {"localFolder": str(folder)}}
    client_request: dict[str, Any] = {
        "recordingConfig": {"transcodingConfig": SMALL},
        "storageConfig": storage,
    }
    if token is not None:
        client_request["token"] = token
    body = {"cname": CNAME, "uid": str(UID), "clientRequest": client_request}
    return await http.post(
        f"/v1/apps/{app_id}/cloud_recording/resourceid/{rid}/mode/mix/start", json=body
    )


async def _stop(http: httpx.AsyncClient, app_id: str, rid: str, sid: str) -> None:
    response = await http.post(
        f"/v1/apps/{app_id}/cloud_recording/resourceid/{rid}/sid/{sid}/mode/mix/stop",
        json={"cname": CNAME, "uid": str(UID), "clientRequest": {}},
    )
    assert response.status_code == 206, response.text  # an empty channel: Agora's 206


def _token(channel: str = CNAME, uid: int = UID, **options: Any) -> str:
    certificate = options.pop("certificate", TEST_APP_CERTIFICATE)
    role = options.pop("role", "subscriber")
    expire = options.pop("token_expire", 600)
    return build_rtc_token(TEST_APP_ID, certificate, channel, uid, role, expire, **options)


async def test_a_recorder_of_a_certificate_app_needs_a_valid_token(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Every way a token can be wrong is refused, naming the field and the fault, before
    anything is made; then the same resource starts with a valid join-only token."""
    rid = await _acquire(http, TEST_APP_ID)
    folder = tmp_path / "rec"
    now = int(time.time())
    refused = {
        None: "missing; app 0123456789abcdef0123456789abcdef needs a token",
        "": "missing; app 0123456789abcdef0123456789abcdef needs a token",
        "abc": "not an AccessToken2: it must start with '007' (got 'abc')",
        _token(certificate="f" * 32): (
            "token signature is invalid (wrong app certificate or altered)"
        ),
        _token(channel="other"): "token is for channel 'other', not for channel 'guarded'",
        _token(uid=UID + 1): "token is for uid '4243', not for uid '4242'",
        # a token whose join privilege ran out 10 s ago, though the token runs an hour
        _token(token_expire=3600, privilege_expire=50, issue_ts=now - 60): (
            "its join privilege has expired"
        ),
    }
    for token, why in refused.items():
        answer = await _start(http, TEST_APP_ID, rid, folder, token)
        assert (answer.status_code, answer.json()) == (
            400,
            {"code": 432, "reason": _reason(why)},
        ), token

    # expired an hour and a minute after it was issued, a minute ago
    expired = _token(token_expire=3600, issue_ts=now - 3660)
    answer = await _start(http, TEST_APP_ID, rid, folder, expired)
    assert answer.status_code == 400, answer.text
    reason = answer.json()["reason"]
    assert answer.json()["code"] == 432
    prefix = f"clientRequest.token: token expired at {now - 60} (Unix time); it is now "
    assert reason.startswith(prefix), reason
    said_now = reason[len(prefix) :].split(";", 1)[0]
    assert now <= int(said_now) <= time.time()
    assert reason == _reason(f"token expired at {now - 60} (Unix time); it is now {said_now}")

    assert not folder.exists()  # nothing was made for a refused start
    assert channel_server.registry.get(TEST_APP_ID, CNAME) is None  # nobody joined

    answer = await _start(http, TEST_APP_ID, rid, folder, _token())
    assert answer.status_code == 200, answer.text
    sid = answer.json()["sid"]
    room = channel_server.registry.get(TEST_APP_ID, CNAME)
    assert room is not None and [p.uid for p in room.participants()] == [UID]
    await _stop(http, TEST_APP_ID, rid, sid)


async def test_a_token_for_any_uid_and_a_publisher_token_are_accepted(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A token issued for uid 0 (any uid) and a publisher's token also grant the join."""
    for token in (_token(uid=0), _token(role="publisher")):
        rid = await _acquire(http, TEST_APP_ID)
        answer = await _start(http, TEST_APP_ID, rid, tmp_path / "rec", token)
        assert answer.status_code == 200, answer.text
        await _stop(http, TEST_APP_ID, rid, answer.json()["sid"])


async def test_the_sandbox_app_needs_no_token(http: httpx.AsyncClient, tmp_path: Path) -> None:
    """No token, or any text in the field: the sandbox app has no certificate to check
    it against, as for its publishers."""
    for token in (None, "not-a-token"):
        rid = await _acquire(http, SANDBOX_APP_ID)
        answer = await _start(http, SANDBOX_APP_ID, rid, tmp_path / "rec", token)
        assert answer.status_code == 200, answer.text
        await _stop(http, SANDBOX_APP_ID, rid, answer.json()["sid"])
