"""The compositor: a window shows its user's picture or the background, never what is
drawn under it (docs/recorder.md: a joiner's window shows background until its first
frame; a picture keeps its aspect ratio on the background)."""

from __future__ import annotations

import av
import numpy as np

from core.enums import MixedVideoLayout
from core.layout import compute_layout
from core.media.compositor import Compositor

RED = (220, 0, 0)
BACKGROUND = "#204080"


def solid(colour: tuple[int, int, int], size: tuple[int, int]) -> av.VideoFrame:
    rgb = np.full((size[1], size[0], 3), colour, dtype=np.uint8)
    return av.VideoFrame.from_ndarray(rgb, format="rgb24")


def render_rgb(compositor: Compositor) -> np.ndarray:
    return np.asarray(compositor.render().to_ndarray(format="rgb24"), dtype=np.int32)


def close_to(pixel: np.ndarray, colour: tuple[int, int, int]) -> bool:
    return bool(np.abs(pixel - np.array(colour)).max() <= 6)


def test_a_small_window_without_a_picture_shows_background_over_the_big_one() -> None:
    compositor = Compositor(640, 360, BACKGROUND)
    windows = compute_layout(MixedVideoLayout.FLOAT, [1, 2], 640, 360)
    compositor.set_layout(windows)
    compositor.update(1, solid(RED, (640, 360)))  # user 2 has no picture yet
    image = render_rgb(compositor)
    small = windows[2]
    x, y = small.x + small.width // 2, small.y + small.height // 2
    assert close_to(image[y, x], (0x20, 0x40, 0x80)), image[y, x]
    # every pixel of the small window is background, and the big picture around it red
    region = image[small.y : small.y + small.height, small.x : small.x + small.width]
    assert np.abs(region - np.array((0x20, 0x40, 0x80))).max() <= 6
    assert close_to(image[small.y - 4, x], RED)


def test_a_letterboxed_small_picture_has_background_bands_over_the_big_one() -> None:
    compositor = Compositor(640, 360, BACKGROUND)
    windows = compute_layout(MixedVideoLayout.FLOAT, [1, 2], 640, 360)
    compositor.set_layout(windows)
    compositor.update(1, solid(RED, (640, 360)))
    compositor.update(2, solid((0, 200, 0), (40, 160)))  # tall: bands left and right
    image = render_rgb(compositor)
    small = windows[2]
    cy = small.y + small.height // 2
    assert close_to(image[cy, small.x + small.width // 2], (0, 200, 0))
    assert close_to(image[cy, small.x + 2], (0x20, 0x40, 0x80))  # a band, not red
    assert close_to(image[cy, small.x + small.width - 3], (0x20, 0x40, 0x80))
