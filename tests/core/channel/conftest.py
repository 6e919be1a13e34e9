"""Fixtures of the channel's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.participants.synthetic import SyntheticMedia


@pytest.fixture
async def media() -> AsyncIterator[list[SyntheticMedia]]:
    """A list for the synthetic media a test makes; every one is stopped after the test."""
    made: list[SyntheticMedia] = []
    yield made
    for m in made:
        m.stop()
