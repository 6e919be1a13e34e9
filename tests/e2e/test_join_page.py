"""The join page in headless Chromium publishes into the channel over WHIP."""

from __future__ import annotations

import asyncio
import itertools
import time
from urllib.parse import urlencode

import pytest

from core.channel.accesstoken import build_rtc_token
from core.channel.roster import LeaveReason, UserJoined, UserLeft
from core.enums import SANDBOX_APP_ID, VideoStreamType
from tests.conftest import TEST_APP_CERTIFICATE, TEST_APP_ID
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, require_browser


@pytest.mark.browser
async def test_join_page_publishes_camera_and_microphone(channel_server) -> None:
    playwright_api = require_browser()
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "web")
    sub = channel.subscribe(9000)
    events = sub.events()
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=False, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            await page.goto(f"{channel_server.url}/join?channel=web&uid=77&low=1")
            await page.wait_for_function(
                "document.getElementById('camera').options.length > 1"
                " && document.getElementById('microphone').options.length > 1"
            )
            await page.click("#join")
            async with asyncio.timeout(15):
                joined = await anext(events)
            assert isinstance(joined, UserJoined) and joined.uid == 77
            (info,) = [p for p in channel.participants() if p.uid == 77]
            assert info.has_audio and info.has_video and info.has_low_video

            # The page shows the user from the roster endpoint.
            await page.wait_for_selector("#roster tr[data-uid='77']", timeout=5000)
            await page.wait_for_function(
                "document.getElementById('status').textContent.startsWith('Publishing')"
            )

            video, audio = sub.video(77), sub.audio(77)
            assert video is not None and audio is not None
            frames = []
            # 20 frames, read on until they come as they are captured: the first ones
            # come together once Chromium's first sender reports did (docs/channel.md,
            # "The first second"), all of them timed from the reports
            async with asyncio.timeout(15):
                async for rf in video:
                    frames.append(rf)
                    if len(frames) >= 20 and video.held_since is None:
                        break
            assert not any(rf.estimated for rf in frames)
            # 640x360 asked; Chromium scales down while its bandwidth estimate ramps up.
            last = frames[-1].frame
            assert last.width <= 640 and last.width * 9 == last.height * 16
            assert abs(frames[-1].time - time.monotonic()) < 1.0
            times = [rf.time for rf in frames]
            assert max(b - a for a, b in itertools.pairwise(times)) < 0.5

            sub.set_video_stream(77, VideoStreamType.LOW)
            async with asyncio.timeout(5):
                low = [await anext(video) for _ in range(10)]
            assert low[-1].frame.width <= 320
            async with asyncio.timeout(5):
                sound = await anext(audio)
            assert sound.frame.sample_rate == 48_000 and not sound.estimated

            await page.click("#leave")
            async with asyncio.timeout(10):
                left = await anext(events)
            assert isinstance(left, UserLeft) and left.reason is LeaveReason.QUIT
            await page.wait_for_selector("#roster tr[data-uid='77']", state="detached")
        finally:
            await browser.close()
            await sub.close()


@pytest.mark.browser
async def test_join_page_shows_a_certificate_apps_roster_with_its_token(channel_server) -> None:
    """docs/channel.md: a certificate app's roster needs the channel's token; the page
    sends the token it publishes with (before, it showed "nobody")."""
    playwright_api = require_browser()
    token = build_rtc_token(TEST_APP_ID, TEST_APP_CERTIFICATE, "secure", 78, "publisher", 600)
    channel = channel_server.registry.channel(TEST_APP_ID, "secure")
    events = (sub := channel.subscribe(9000)).events()
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=False, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            query = urlencode({"app": TEST_APP_ID, "channel": "secure", "uid": 78, "token": token})
            await page.goto(f"{channel_server.url}/join?{query}")
            await page.wait_for_function("document.getElementById('camera').options.length > 1")
            await page.click("#join")
            async with asyncio.timeout(15):
                joined = await anext(events)
            assert isinstance(joined, UserJoined) and joined.uid == 78
            await page.wait_for_selector("#roster tr[data-uid='78']", timeout=5000)
            await page.click("#leave")
        finally:
            await browser.close()
            await sub.close()
