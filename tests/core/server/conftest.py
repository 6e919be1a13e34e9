"""Fixtures of the server's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.enums import SANDBOX_APP_ID


@pytest.fixture
async def http(channel_server: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``channel_server``'s recording API (Agora's paths of the sandbox app)
    with its bearer token. A module may define its own ``http`` instead."""
    async with httpx.AsyncClient(
        base_url=f"{channel_server.url}/v1/apps/{SANDBOX_APP_ID}/cloud_recording",
        headers={"Authorization": f"Bearer {channel_server.settings.token}"},
        timeout=30,
    ) as client:
        yield client
