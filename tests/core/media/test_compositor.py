"""The compositor: a window shows its user's picture or the background, never what is
drawn under it (docs/recorder.md: a joiner's window shows background until its first
frame); a picture keeps its aspect ratio, cropped to fill its window or fitted with
bars; a window with alpha is blended over what is under it."""

from __future__ import annotations

import av
import numpy as np

from core.enums import MixedVideoLayout, RenderMode
from core.layout import Region, compute_windows
from core.media.compositor import Backgrounds, Compositor

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
    windows = compute_windows(MixedVideoLayout.FLOAT, [1, 2], 640, 360)
    compositor.set_layout(windows)
    compositor.update(1, solid(RED, (640, 360)))  # user 2 has no picture yet
    image = render_rgb(compositor)
    small = windows[2].rect
    x, y = small.x + small.width // 2, small.y + small.height // 2
    assert close_to(image[y, x], (0x20, 0x40, 0x80)), image[y, x]
    # every pixel of the small window is background, and the big picture around it red
    region = image[small.y : small.y + small.height, small.x : small.x + small.width]
    assert np.abs(region - np.array((0x20, 0x40, 0x80))).max() <= 6
    assert close_to(image[small.y - 4, x], RED)


def test_a_letterboxed_small_picture_has_background_bands_over_the_big_one() -> None:
    compositor = Compositor(640, 360, BACKGROUND)
    windows = compute_windows(MixedVideoLayout.FLOAT, [1, 2], 640, 360, render_mode=RenderMode.FIT)
    compositor.set_layout(windows)
    compositor.update(1, solid(RED, (640, 360)))
    compositor.update(2, solid((0, 200, 0), (40, 160)))  # tall: bands left and right
    image = render_rgb(compositor)
    small = windows[2].rect
    cy = small.y + small.height // 2
    assert close_to(image[cy, small.x + small.width // 2], (0, 200, 0))
    assert close_to(image[cy, small.x + 2], (0x20, 0x40, 0x80))  # a band, not red
    assert close_to(image[cy, small.x + small.width - 3], (0x20, 0x40, 0x80))


def stripes(size: tuple[int, int], colours: list[tuple[int, int, int]]) -> av.VideoFrame:
    """A picture of vertical stripes of equal width, left to right."""
    width, height = size
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    for i, colour in enumerate(colours):
        rgb[:, i * width // len(colours) : (i + 1) * width // len(colours)] = colour
    return av.VideoFrame.from_ndarray(rgb, format="rgb24")


BLUE, GREEN = (0, 0, 220), (0, 200, 0)


def test_crop_fills_the_window_with_the_middle_of_the_picture() -> None:
    compositor = Compositor(640, 360, BACKGROUND)
    windows = compute_windows(MixedVideoLayout.BEST_FIT, [1, 2], 640, 360)  # two 320x360
    compositor.set_layout(windows)
    # a wide picture (16:9) in a tall window: cropped left and right, no bars
    compositor.update(1, stripes((640, 360), [BLUE, RED, RED, RED, RED, GREEN]))
    image = render_rgb(compositor)
    tile = windows[1].rect
    inner = image[tile.y + 2 : tile.y + tile.height - 2, tile.x + 2 : tile.x + tile.width - 2]
    # the middle 320/640.0*... of the picture: only the red stripes show, edge to edge
    assert np.abs(inner - np.array(RED)).max() <= 6, inner.reshape(-1, 3).min(axis=0)


def test_fit_shows_all_of_the_picture_with_bars() -> None:
    compositor = Compositor(640, 360, BACKGROUND)
    windows = compute_windows(
        MixedVideoLayout.BEST_FIT, [1, 2], 640, 360, render_mode=RenderMode.FIT
    )
    compositor.set_layout(windows)
    compositor.update(1, stripes((640, 360), [BLUE, RED, RED, RED, RED, GREEN]))
    image = render_rgb(compositor)
    # 640x360 fitted into 320x360: 320x180, centred: bars above (y < 90) and below
    assert close_to(image[40, 160], (0x20, 0x40, 0x80))
    assert close_to(image[320, 160], (0x20, 0x40, 0x80))
    assert close_to(image[180, 10], BLUE) and close_to(image[180, 310], GREEN)
    assert close_to(image[180, 160], RED)


def test_a_region_with_alpha_is_blended_over_the_one_under_it() -> None:
    compositor = Compositor(640, 360, BACKGROUND)
    regions = [Region(0, 0, 1, 1, uid=1), Region(0.25, 0.25, 0.5, 0.5, uid=2, alpha=0.5)]
    windows = compute_windows(MixedVideoLayout.CUSTOM, [1, 2], 640, 360, regions=regions)
    compositor.set_layout(windows)
    compositor.update(1, solid(RED, (640, 360)))
    compositor.update(2, solid(GREEN, (320, 180)))
    image = render_rgb(compositor)
    half = tuple((a + b) // 2 for a, b in zip(RED, GREEN, strict=True))
    assert close_to(image[180, 320], half), image[180, 320]  # the blend, inside region 2
    assert close_to(image[20, 20], RED)  # region 1 alone
    # the blended region's edges are its fractions of the canvas: 160..480 x 90..270
    assert close_to(image[180, 158], RED) and close_to(image[180, 162], half)
    assert close_to(image[180, 478], half) and close_to(image[180, 482], RED)
    # alpha 0: the region does not show at all
    regions[1] = regions[1]._replace(alpha=0.0)
    compositor.set_layout(
        compute_windows(MixedVideoLayout.CUSTOM, [1, 2], 640, 360, regions=regions)
    )
    assert close_to(render_rgb(compositor)[180, 320], RED)


def test_the_canvas_image_covers_the_canvas_and_a_users_image_fills_its_window() -> None:
    compositor = Compositor(640, 360, BACKGROUND)
    compositor.set_backgrounds(
        Backgrounds(
            canvas=stripes((100, 100), [RED, BLUE]),  # square: cropped top and bottom
            users={2: (solid(GREEN, (90, 160)), RenderMode.FIT)},  # tall: bars beside it
        )
    )
    regions = [Region(0.5, 0.5, 0.25, 0.5, uid=2)]
    windows = compute_windows(MixedVideoLayout.CUSTOM, [2], 640, 360, regions=regions)
    compositor.set_layout(windows)
    image = render_rgb(compositor)
    for y in (2, 180, 357):  # the whole height: left red, right blue
        assert close_to(image[y, 10], RED) and close_to(image[y, 630], BLUE)
    # user 2 has no picture: its own image, fitted (90x160 in 160x180: 100x180 centred)
    window = windows[2].rect
    assert window == (320, 180, 160, 180)
    assert close_to(image[270, 400], GREEN)
    assert close_to(image[270, 325], (0x20, 0x40, 0x80))  # a bar in the background colour
    assert compositor.has_user_background(2) and not compositor.has_user_background(1)
