"""Who may read a channel's roster (docs/channel.md, "Roster and liveness";
docs/security.md, "Who may do what"): the sandbox app's rosters are public; the roster
of an app with a certificate needs an RTC token for the channel (any uid) or the
server's admin token. Real HTTP against the ``channel_server`` fixture, with a real
WHIP publisher in the channel.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from core.channel.accesstoken import build_rtc_token
from core.enums import SANDBOX_APP_ID
from core.participants.synthetic import SyntheticMedia, synthetic_media
from core.participants.whip_client import publish
from tests.conftest import TEST_APP_CERTIFICATE, TEST_APP_ID, TEST_CUSTOMER

CHANNEL = "listed"
NEEDS = (
    f"the roster of app {TEST_APP_ID} needs a token: send 'Authorization: Bearer <token>' "
    "with an RTC token for this channel (or the server's admin token)"
)


def _token(channel: str = CHANNEL, uid: int = 7, **options: Any) -> str:
    certificate = options.pop("certificate", TEST_APP_CERTIFICATE)
    return build_rtc_token(
        TEST_APP_ID, certificate, channel, uid, "subscriber", options.pop("expire", 600), **options
    )


async def test_the_roster_of_a_certificate_app_needs_a_token(
    channel_server: Any, media: list[SyntheticMedia]
) -> None:
    m = synthetic_media(31, size=(160, 120), low_stream=False)
    media.append(m)
    publisher_token = build_rtc_token(
        TEST_APP_ID, TEST_APP_CERTIFICATE, CHANNEL, 31, "publisher", 600
    )
    url = channel_server.whip_url(CHANNEL, 31, TEST_APP_ID)
    now = int(time.time())
    admin_prefix = channel_server.settings.token[:3]
    refused = {
        None: NEEDS,
        f"Basic {TEST_CUSTOMER[0]}:{TEST_CUSTOMER[1]}": NEEDS,  # no bearer token at all
        "Bearer abc": "token rejected: not an AccessToken2: it must start with '007' (got 'abc')",
        f"Bearer {_token(channel='other')}": (
            "token rejected: token is for channel 'other', not for channel 'listed'"
        ),
        f"Bearer {_token(certificate='f' * 32)}": (
            "token rejected: token signature is invalid (wrong app certificate or altered)"
        ),
        f"Bearer {_token(expire=3600, privilege_expire=50, issue_ts=now - 60)}": (
            "token rejected: its join privilege has expired"
        ),
        f"Bearer {channel_server.settings.token}x": (
            # the first three characters are echoed only when letters and digits: the
            # random admin token starts with '-' or '_' in about 1 run of 11
            "token rejected: not an AccessToken2: it must start with '007' (got "
            f"{admin_prefix if admin_prefix.isalnum() else '?'!r})"
        ),
    }
    async with (
        await publish(url, token=publisher_token, audio=m.audio, video=m.video),
        httpx.AsyncClient(base_url=channel_server.url, timeout=10) as http,
    ):
        path = f"/channels/{TEST_APP_ID}/{CHANNEL}"
        for header, error in refused.items():
            headers = {"Authorization": header} if header else {}
            answer = await http.get(path, headers=headers)
            assert (answer.status_code, answer.json()) == (401, {"error": error}), header

        for header in (
            f"Bearer {_token()}",  # a subscriber's token of another uid
            f"Bearer {_token(uid=0)}",  # a token for any uid
            f"Bearer {publisher_token}",
            f"Bearer {channel_server.settings.token}",  # the server's admin token
        ):
            answer = await http.get(path, headers={"Authorization": header})
            assert answer.status_code == 200, (header, answer.text)
            body = answer.json()
            assert (body["app_id"], body["channel"], body["channel_type"]) == (
                TEST_APP_ID,
                CHANNEL,
                "communication",
            )
            assert [(u["uid"], u["role"]) for u in body["users"]] == [(31, "host")]


async def test_the_sandbox_apps_roster_is_public(channel_server: Any) -> None:
    async with httpx.AsyncClient(base_url=channel_server.url, timeout=10) as http:
        for headers in ({}, {"Authorization": "Bearer abc"}):
            answer = await http.get(f"/channels/{SANDBOX_APP_ID}/open", headers=headers)
            assert (answer.status_code, answer.json()) == (
                200,
                {"app_id": SANDBOX_APP_ID, "channel": "open", "channel_type": None, "users": []},
            )
