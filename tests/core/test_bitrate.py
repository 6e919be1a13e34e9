"""recommended_bitrate: the seed's table exactly, documented interpolation elsewhere."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import ChannelType, recommended_bitrate
from core.bitrate import SEED_TABLE


@pytest.mark.parametrize(("width", "height", "fps", "kbps"), SEED_TABLE)
def test_every_row_of_the_seed_table_in_both_orientations(
    width: int, height: int, fps: int, kbps: int
) -> None:
    for w, h in ((width, height), (height, width)):
        assert recommended_bitrate(w, h, fps, ChannelType.COMMUNICATION) == kbps
        assert recommended_bitrate(w, h, fps, ChannelType.LIVE) == 2 * kbps


def test_the_seed_default_canvas() -> None:
    assert recommended_bitrate(360, 640, 15) == 400


@given(st.integers(16, 1920), st.integers(16, 1080), st.integers(1, 30))
def test_any_size_gets_a_positive_bitrate_doubled_for_live(w: int, h: int, fps: int) -> None:
    communication = recommended_bitrate(w, h, fps)
    assert communication > 0
    assert recommended_bitrate(w, h, fps, ChannelType.LIVE) == min(10_000, 2 * communication)


@given(st.integers(1, 4), st.integers(1, 30))
def test_beyond_the_table_more_pixels_get_more_bitrate(step: int, fps: int) -> None:
    # Above 1280x720@30 and below 120x120@15 the fitted power law extrapolates.
    width, height = 1280 + 160 * step, 720 + 90 * step
    assert recommended_bitrate(width, height, 30) > recommended_bitrate(
        width - 160, height - 90, 30
    )
    assert recommended_bitrate(1920, 1080, 30) > 1710
    assert recommended_bitrate(16, 16, fps) == 50  # never below what TranscodingConfig accepts


def test_between_rows_the_value_lies_between_its_neighbours() -> None:
    # 700x400@15 has a pixel rate between 640x360@15 (400) and 480x480@15 / 640x480@15.
    assert 400 < recommended_bitrate(700, 400, 15) < 500
    assert recommended_bitrate(1920, 1080, 30) > 1710


def test_rejects_non_positive_sizes() -> None:
    with pytest.raises(ValueError, match="positive"):
        recommended_bitrate(0, 360, 15)
