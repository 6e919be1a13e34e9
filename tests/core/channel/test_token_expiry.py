"""Token privileges are enforced for as long as a publisher is in the channel
(docs/channel.md, "Roster and liveness"; docs/security.md, "Who may do what").

A publisher of a certificate app whose token stops allowing what it does (its join
privilege, or the privilege to publish a kind it sends) leaves the channel with reason
``token_expired``, no earlier than that moment and within a second of it (the watchdog
checks every 0.5 s). Real WHIP publishers with synthetic media; the leave is observed as
the recorder observes it, through an in-process subscription.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from core.channel.accesstoken import RtcPrivilege, RtcService, build_rtc_token, build_token
from core.channel.roster import LeaveReason, UserLeft
from core.participants.synthetic import SyntheticMedia, synthetic_media
from core.participants.whip_client import publish
from tests.conftest import TEST_APP_CERTIFICATE, TEST_APP_ID

SIZE = (160, 120)


async def _left_after(
    server: Any, media: list[SyntheticMedia], channel: str, uid: int, token: str, **query: str
) -> tuple[UserLeft, str]:
    """Publish ``uid`` with ``token``; wait (at most 10 s) for it to leave; return the
    leave event and the WHIP session's URL."""
    sub = server.registry.channel(TEST_APP_ID, channel).subscribe(900, audio=False, video=False)
    try:
        m = synthetic_media(uid, size=SIZE, low_stream=False)
        media.append(m)
        url = server.whip_url(channel, uid, TEST_APP_ID, **query)
        session = await publish(url, token=token, audio=m.audio, video=m.video)
        try:
            async with asyncio.timeout(10):
                async for event in sub.events():
                    if isinstance(event, UserLeft) and event.uid == uid:
                        return event, session.location
        finally:
            await session.close()
    finally:
        await sub.close()
    raise AssertionError("the subscription ended before the publisher left")


def _check_left_at_end(event: UserLeft, end: int) -> None:
    assert event.reason is LeaveReason.TOKEN_EXPIRED
    assert end <= event.wall_time < end + 1.0, (event.wall_time, end)


async def test_a_publisher_leaves_when_its_tokens_privileges_expire(
    channel_server: Any, media: list[SyntheticMedia]
) -> None:
    """A publisher's token whose privileges (join and publish) last 3 s: the publisher
    is in the channel until then and leaves at that moment, reason ``token_expired``;
    its WHIP session is gone."""
    issued = int(time.time())
    token = build_rtc_token(
        TEST_APP_ID, TEST_APP_CERTIFICATE, "expiring", 31, "publisher", 3600, 3, issue_ts=issued
    )
    event, url = await _left_after(channel_server, media, "expiring", 31, token)
    _check_left_at_end(event, issued + 3)
    async with httpx.AsyncClient(timeout=10) as http:
        gone = await http.delete(url)
    assert gone.status_code == 404, gone.text
    assert channel_server.registry.get(TEST_APP_ID, "expiring") is None


async def test_a_live_host_leaves_when_its_publish_privilege_expires(
    channel_server: Any, media: list[SyntheticMedia]
) -> None:
    """A LIVE host whose token lets it join for an hour but publish audio and video for
    3 s only: it leaves when the publish privilege ends, not the join privilege."""
    issued = int(time.time())
    service = RtcService(
        {
            int(RtcPrivilege.JOIN_CHANNEL): 3600,
            int(RtcPrivilege.PUBLISH_AUDIO_STREAM): 3,
            int(RtcPrivilege.PUBLISH_VIDEO_STREAM): 3,
        },
        "live-expiring",
        "32",
    )
    token = build_token(TEST_APP_ID, TEST_APP_CERTIFICATE, [service], 3600, issue_ts=issued)
    event, _ = await _left_after(
        channel_server, media, "live-expiring", 32, token, channel_type="live"
    )
    _check_left_at_end(event, issued + 3)
