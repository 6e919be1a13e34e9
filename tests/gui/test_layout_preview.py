"""The layout preview shows each sample user's window where the layout puts it, to scale.

Every expectation here is written out by hand from the geometry ``core/layout.py``
documents (fractions of the canvas, positions and sizes floored to whole pixels, at most
17 windows) and from how the preview fits the canvas into itself: an 8 px margin, the
canvas scaled by ``min((W - 16) / width, (H - 16) / height)`` and centred, so a canvas of
another aspect than the widget's is letterboxed. The widget sizes are chosen so that the
scale is a power-of-two fraction (5/16, 15/64) and every number is exact in floating
point. Each case then checks the rectangles the widget paints with (``widget_rects``)
against those numbers, and the painted pixels: each tile's colour inside its corners,
the window's colour in the letterbox, the canvas background where no tile is, and the
max-resolution user's yellow outline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pytest
from PySide6.QtGui import QColor, QImage

from core.enums import MixedVideoLayout
from gui.widgets.layout_preview import LayoutPreview, tile_colour

FLOAT, BEST_FIT, VERTICAL = (
    MixedVideoLayout.FLOAT,
    MixedVideoLayout.BEST_FIT,
    MixedVideoLayout.VERTICAL,
)
MARK_COLOUR = "#ffd400"

Box = tuple[float, float, float, float]
"""x, y, width, height in widget pixels."""

# Landscape canvas 1280x720 in a 416x317 widget: 400x301 inside the margins, so the
# scale is min(400/1280, 301/720) = 0.3125 and the canvas is 400x225 at (8, 46):
# bands of the window's colour above and below.
LANDSCAPE = ((1280, 720), (416, 317), (8.0, 46.0, 400.0, 225.0))
# Portrait canvas 720x1280 in a 417x316 widget: 401x300 inside the margins, so the
# scale is min(401/720, 300/1280) = 0.234375 (15/64) and the canvas is 168.75x300 at
# ((417 - 168.75) / 2, 8) = (124.125, 8): bands left and right.
PORTRAIT = ((720, 1280), (417, 316), (124.125, 8.0, 168.75, 300.0))


@dataclass(frozen=True)
class Case:
    """One layout drawn for some sample users; ``tiles`` in drawing order."""

    layout: MixedVideoLayout
    users: int
    geometry: tuple[tuple[int, int], tuple[int, int], Box]
    tiles: tuple[tuple[int, Box], ...]
    max_resolution_uid: int = 0
    marked: int | None = None
    background: str = "#000000"
    empty: tuple[tuple[int, int], ...] = ()
    """Widget pixels inside the canvas that no tile covers (background colour)."""
    hidden: frozenset[int] = field(default_factory=frozenset)
    """Tiles covered everywhere by later ones (no pixel of their own to sample)."""


def _grid(xs: tuple[float, ...], ys: tuple[float, ...], w: float, h: float) -> list[Box]:
    """Boxes row by row (ys), left to right (xs)."""
    return [(x, y, w, h) for y in ys for x in xs]


def _numbered(first: int, boxes: list[Box]) -> tuple[tuple[int, Box], ...]:
    return tuple((first + i, box) for i, box in enumerate(boxes))


# FLOAT on the portrait canvas: small windows 0.235 of the canvas, floored: 169x300 px
# (x 39.609375, y 70.3125 widget px); columns at 0.012 + k x 0.247 of 720 = 8, 186,
# 364, 542 px (widget 126, 167.71875, 209.4375, 251.15625); rows from the bottom at
# 0.753, 0.506, 0.259, 0.012 of 1280 = 963, 647, 331, 15 px (widget 233.703125,
# 159.640625, 85.578125, 11.515625).
_FLOAT_PORTRAIT_SMALL = _grid(
    (126.0, 167.71875, 209.4375, 251.15625),
    (233.703125, 159.640625, 85.578125, 11.515625),
    39.609375,
    70.3125,
)
# VERTICAL, 17 users on the portrait canvas: 16 small windows, so two columns 0.2 wide
# at 0.6 and 0.8 of 720 (432, 576 px: widget 225.375, 259.125), each 144x160 px
# (33.75 x 37.5 widget px), eight to a column from the top.
_VERTICAL_17_SMALL = [
    (x, 8.0 + 37.5 * row, 33.75, 37.5) for x in (225.375, 259.125) for row in range(8)
]

CASES = {
    "float-1": Case(FLOAT, 1, LANDSCAPE, ((1001, (8.0, 46.0, 400.0, 225.0)),)),
    "float-2-portrait": Case(
        FLOAT,
        2,
        PORTRAIT,
        ((1001, (124.125, 8.0, 168.75, 300.0)), (1002, _FLOAT_PORTRAIT_SMALL[0])),
    ),
    # 1280x720: small windows 300x169 px (93.75 x 52.8125), the first row at 0.753 of
    # 720 = 542 px (215.375); columns at 15, 331, 647, 963 px.
    "float-5": Case(
        FLOAT,
        5,
        LANDSCAPE,
        (
            (1001, (8.0, 46.0, 400.0, 225.0)),
            *_numbered(
                1002,
                _grid((12.6875, 111.4375, 210.1875, 308.9375), (215.375,), 93.75, 52.8125),
            ),
        ),
    ),
    "float-17-portrait": Case(
        FLOAT,
        17,
        PORTRAIT,
        ((1001, (124.125, 8.0, 168.75, 300.0)), *_numbered(1002, _FLOAT_PORTRAIT_SMALL)),
        hidden=frozenset({1001}),
    ),
    # 20 users: the 17 who joined first are shown, the same picture as 17.
    "float-20-portrait": Case(
        FLOAT,
        20,
        PORTRAIT,
        ((1001, (124.125, 8.0, 168.75, 300.0)), *_numbered(1002, _FLOAT_PORTRAIT_SMALL)),
        hidden=frozenset({1001}),
    ),
    "best-fit-1-portrait": Case(BEST_FIT, 1, PORTRAIT, ((1001, (124.125, 8.0, 168.75, 300.0)),)),
    # 2 users: a 2x1 grid of 640x720 px tiles.
    "best-fit-2": Case(
        BEST_FIT,
        2,
        LANDSCAPE,
        ((1001, (8.0, 46.0, 200.0, 225.0)), (1002, (208.0, 46.0, 200.0, 225.0))),
    ),
    # 5 users: a 3x3 grid of 426x240 px tiles (133.125 x 75) at x 0, 426, 853 px; the
    # second row's two tiles centred: at 1280/6 = 213 px and 213 + 426.67 = 640 px; the
    # third row empty, in the background colour.
    "best-fit-5": Case(
        BEST_FIT,
        5,
        LANDSCAPE,
        (
            (1001, (8.0, 46.0, 133.125, 75.0)),
            (1002, (141.125, 46.0, 133.125, 75.0)),
            (1003, (274.5625, 46.0, 133.125, 75.0)),
            (1004, (74.5625, 121.0, 133.125, 75.0)),
            (1005, (208.0, 121.0, 133.125, 75.0)),
        ),
        background="#336699",
        empty=((40, 150), (380, 150), (100, 230), (300, 260)),
    ),
    # 17 users: 144x256 px tiles (33.75 x 60) at 0.1, 0.3, 0.5, 0.7 of 720 = 72, 216,
    # 360, 504 px (141, 174.75, 208.5, 242.25), rows at 0, 256, 512, 768 px; the 17th
    # centred on a fifth row at (288, 1024) px = (191.625, 248).
    "best-fit-17-portrait": Case(
        BEST_FIT,
        17,
        PORTRAIT,
        (
            *_numbered(
                1001, _grid((141.0, 174.75, 208.5, 242.25), (8.0, 68.0, 128.0, 188.0), 33.75, 60)
            ),
            (1017, (191.625, 248.0, 33.75, 60.0)),
        ),
        empty=((130, 150), (285, 150), (150, 290), (280, 290)),
    ),
    # 1 user: the big window alone fills the canvas, marked.
    "vertical-1": Case(VERTICAL, 1, LANDSCAPE, ((1001, (8.0, 46.0, 400.0, 225.0)),), marked=1001),
    # 2 users, 1002 the max-resolution user: big 0.8 x 1280 = 1024 px wide on the left,
    # 1001 in a 256x90 px window (80 x 28.125) at x = 1024 px, top.
    "vertical-2": Case(
        VERTICAL,
        2,
        LANDSCAPE,
        ((1002, (8.0, 46.0, 320.0, 225.0)), (1001, (328.0, 46.0, 80.0, 28.125))),
        max_resolution_uid=1002,
        marked=1002,
        empty=((360, 150), (400, 260)),
    ),
    # 5 users, 1003 big: 576 px of 720 (135); the others at x = 576 px (259.125) in
    # 144x160 px windows (33.75 x 37.5), top to bottom.
    "vertical-5-portrait": Case(
        VERTICAL,
        5,
        PORTRAIT,
        (
            (1003, (124.125, 8.0, 135.0, 300.0)),
            (1001, (259.125, 8.0, 33.75, 37.5)),
            (1002, (259.125, 45.5, 33.75, 37.5)),
            (1004, (259.125, 83.0, 33.75, 37.5)),
            (1005, (259.125, 120.5, 33.75, 37.5)),
        ),
        max_resolution_uid=1003,
        marked=1003,
        empty=((275, 200), (275, 290)),
    ),
    # 17 users, max-resolution uid 0 (absent): the first user is big, 0.6 x 720 = 432 px.
    "vertical-17-portrait": Case(
        VERTICAL,
        17,
        PORTRAIT,
        ((1001, (124.125, 8.0, 101.25, 300.0)), *_numbered(1002, _VERTICAL_17_SMALL)),
        marked=1001,
    ),
    # 20 users, 1019 the max-resolution user: shown among the 17 in place of 1017; big
    # 0.6 x 1280 = 768 px (240), the 16 others in two columns at 768 and 1024 px.
    "vertical-20-max-uid-beyond-17": Case(
        VERTICAL,
        20,
        LANDSCAPE,
        (
            (1019, (8.0, 46.0, 240.0, 225.0)),
            *_numbered(
                1001,
                [
                    (x, 46.0 + 28.125 * row, 80.0, 28.125)
                    for x in (248.0, 328.0)
                    for row in range(8)
                ],
            ),
        ),
        max_resolution_uid=1019,
        marked=1019,
    ),
}

INSET = 4
"""Pixels sampled this far inside a tile's edges: clear of its outline (1 px, or 3 px
for the marked user, drawn 1 px inside the edge) and of antialiased edges."""


def _paint(qtbot: Any, case: Case) -> tuple[LayoutPreview, QImage]:
    (width, height), (widget_w, widget_h), _ = case.geometry
    preview = LayoutPreview()
    qtbot.addWidget(preview)
    preview.resize(widget_w, widget_h)
    preview.set_layout(case.layout, width, height, case.max_resolution_uid, case.background)
    preview.set_users(case.users)
    image = preview.grab().toImage()  # paints
    assert (image.width(), image.height()) == (widget_w, widget_h)
    return preview, image


def _pixel(image: QImage, x: int, y: int) -> str:
    return QColor(image.pixel(x, y)).name()


def _inside(box: Box, x: int, y: int, margin: float) -> bool:
    """Whether the pixel (x, y) lies in ``box`` shrunk by ``margin`` on every side."""
    bx, by, bw, bh = box
    return (
        bx + margin <= x
        and x + 1 <= bx + bw - margin
        and by + margin <= y
        and y + 1 <= by + bh - margin
    )


def _near(box: Box, x: int, y: int, margin: float) -> bool:
    """Whether the pixel (x, y) touches ``box`` grown by ``margin`` on every side."""
    bx, by, bw, bh = box
    return (
        bx - margin < x + 1
        and x < bx + bw + margin
        and by - margin < y + 1
        and y < by + bh + margin
    )


def _owner(tiles: tuple[tuple[int, Box], ...], x: int, y: int) -> int | None:
    """The tile whose colour (x, y) must show: the last drawn tile it lies well inside,
    or None when a later tile's edge is too near to say."""
    owner = None
    for i, (_uid, box) in enumerate(tiles):
        if _inside(box, x, y, INSET - 1):
            owner = i
    if owner is None:
        return None
    if any(_near(box, x, y, INSET - 1) for _, box in tiles[owner + 1 :]):
        return None
    return tiles[owner][0]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_preview_draws_each_window_where_the_layout_puts_it(qtbot: Any, case: Case) -> None:
    preview, image = _paint(qtbot, case)
    _, _, (area_x, area_y, area_w, area_h) = case.geometry

    # The rectangles it paints with, in widget pixels and drawing order.
    painted = [
        (uid, (r.x(), r.y(), r.width(), r.height())) for uid, r in preview.widget_rects.items()
    ]
    assert painted == list(case.tiles)
    assert preview.marked_uid == case.marked

    # Each tile's colour just inside its corners (where no later tile covers it).
    sampled: dict[int, int] = {}
    for _, (x, y, w, h) in case.tiles:
        for px, py in (
            (math.floor(x + INSET), math.floor(y + INSET)),
            (math.floor(x + w - INSET - 1), math.floor(y + INSET)),
            (math.floor(x + INSET), math.floor(y + h - INSET - 1)),
            (math.floor(x + w - INSET - 1), math.floor(y + h - INSET - 1)),
        ):
            owner = _owner(case.tiles, px, py)
            if owner is None:
                continue
            assert _pixel(image, px, py) == tile_colour(owner).name(), (owner, px, py)
            sampled[owner] = sampled.get(owner, 0) + 1
    assert set(sampled) == {uid for uid, _ in case.tiles} - case.hidden

    # The max-resolution user is outlined in yellow: the outline, 3 px wide and drawn
    # 1 px inside the tile, covers the second pixel column of its left edge.
    if case.marked is not None:
        x, y, _, h = dict(case.tiles)[case.marked]
        assert _pixel(image, math.floor(x) + 1, math.floor(y + h / 2)) == MARK_COLOUR

    # Where no tile is: the canvas background; outside the canvas: the window's colour.
    for px, py in case.empty:
        assert all(not _near(box, px, py, INSET) for _, box in case.tiles), (px, py)
        assert _pixel(image, px, py) == case.background
    window = preview.palette().window().color().name()
    assert window not in (case.background, *(tile_colour(uid).name() for uid, _ in case.tiles))
    widget_w, widget_h = case.geometry[1]
    letterbox = [
        (widget_w // 2, math.floor(area_y) - 3),  # above the canvas
        (widget_w // 2, math.ceil(area_y + area_h) + 2),  # below
        (math.floor(area_x) - 3, widget_h // 2),  # left of it
        (math.ceil(area_x + area_w) + 2, widget_h // 2),  # right of it
        (2, 2),  # a corner
    ]
    for px, py in letterbox:
        assert _pixel(image, px, py) == window, (px, py)


def test_no_users_draws_the_empty_canvas(qtbot: Any) -> None:
    case = Case(FLOAT, 0, LANDSCAPE, ())
    preview, image = _paint(qtbot, case)
    assert preview.widget_rects == {} and preview.marked_uid is None
    assert _pixel(image, 208, 158) == "#000000"  # the middle of the canvas
    assert _pixel(image, 208, 20) == preview.palette().window().color().name()


def test_window_preview_follows_the_transcoding_form(window: Any) -> None:
    form = window.panel.transcoding_form
    form.widget("layout").setCurrentIndex(
        form.widget("layout").findData(int(MixedVideoLayout.BEST_FIT))
    )
    form.widget("width").setValue(640)
    form.widget("height").setValue(480)
    form.widget("background_color").setText("#336699")
    window.preview_panel.users.setValue(7)
    preview = window.preview_panel.preview
    assert (preview.layout_kind, preview.canvas, preview.users) == (BEST_FIT, (640, 480), 7)
    assert preview.background.name() == "#336699"
    preview.grab()
    # 7 users: a 3x3 grid of 213x160 px tiles on 640x480 at x 0, 213, 426 px; the
    # third row's one tile centred at (640 - 213.33) / 2 = 213 px.
    assert preview.rects == {
        1001: (0, 0, 213, 160),
        1002: (213, 0, 213, 160),
        1003: (426, 0, 213, 160),
        1004: (0, 160, 213, 160),
        1005: (213, 160, 213, 160),
        1006: (426, 160, 213, 160),
        1007: (213, 320, 213, 160),
    }
