"""Fixtures of the channel's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiortc import RTCPeerConnection

from core.channel.ice import rtc_configuration
from core.participants.synthetic import SyntheticMedia, synthetic_media


@pytest.fixture
async def media() -> AsyncIterator[list[SyntheticMedia]]:
    """A list for the synthetic media a test makes; every one is stopped after the test."""
    made: list[SyntheticMedia] = []
    yield made
    for m in made:
        m.stop()


@pytest.fixture
async def offer() -> str:
    """An aiortc offer sending audio and video."""
    pc = RTCPeerConnection(rtc_configuration())
    media = synthetic_media(1, size=(160, 120), low_stream=False)
    try:
        pc.addTransceiver(media.audio, direction="sendonly")
        pc.addTransceiver(media.video, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)
    finally:
        media.stop()
        await pc.close()
