"""The mixed-video layouts of the seed, as one pure function.

``compute_layout`` is the single source of truth for where each user is drawn:
the recorder's compositor and the window's preview both call it.

Geometry (fractions of the canvas; positions are floored to whole pixels and all
windows of one kind share one floored size, so equal windows are exactly equal and
neighbours never overlap):

* FLOAT: the first user fills the canvas. Every other user gets a small window of
  0.235 x 0.235 of the canvas, 0.012 apart and from the edges, four to a row, rows
  filled from the bottom left upwards, at most four rows (Agora's floating layout:
  4 x 0.235 + 5 x 0.012 = 1).
* BEST_FIT: equal tiles on a grid chosen by the number of users: 1 -> 1x1,
  2 -> 2x1, 3-4 -> 2x2, 5-9 -> 3x3, 10-16 -> 4x4; an incomplete last row is
  centred. 17 users: tiles of 0.2 x 0.2, four rows of four between margins of 0.1,
  and the 17th centred on a fifth row (Agora's best-fit layout).
* VERTICAL: the ``max_resolution_uid`` user (the first user if that uid is absent)
  large on the left; the others in small windows of 1/8 of the canvas height on the
  right, top to bottom: one column 0.2 wide (big window 0.8 wide) for up to 8 of
  them, two columns (big window 0.6 wide) for 9 to 16.

At most 17 windows are shown. Users beyond that are left out in reverse join order:
the 17 who joined first are shown (in VERTICAL the max-resolution user is always
among them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from core.enums import MixedVideoLayout

MAX_WINDOWS = 17

# Fractions in thousandths, so every position is exact integer arithmetic.
_FLOAT_SIZE = 235
_FLOAT_GAP = 12
_FLOAT_PER_ROW = 4


class Rect(NamedTuple):
    """A window on the canvas in integer pixels; covers [x, x+width) x [y, y+height)."""

    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[int, int]:
        """The pixel at the middle of the rectangle."""
        return self.x + self.width // 2, self.y + self.height // 2

    def intersects(self, other: Rect) -> bool:
        """True when the two rectangles share at least one pixel."""
        return (
            self.x < other.x + other.width
            and other.x < self.x + self.width
            and self.y < other.y + other.height
            and other.y < self.y + self.height
        )


def shown_uids(
    layout: MixedVideoLayout, uids: Sequence[int], max_resolution_uid: int = 0
) -> list[int]:
    """The uids that get a window, in join order (duplicates removed)."""
    ordered = list(dict.fromkeys(uids))
    if len(ordered) <= MAX_WINDOWS:
        return ordered
    kept = ordered[:MAX_WINDOWS]
    if (
        layout is MixedVideoLayout.VERTICAL
        and max_resolution_uid in ordered
        and max_resolution_uid not in kept
    ):
        kept = [*kept[: MAX_WINDOWS - 1], max_resolution_uid]
    return kept


def compute_layout(
    layout: MixedVideoLayout,
    uids: Sequence[int],
    width: int,
    height: int,
    max_resolution_uid: int = 0,
) -> dict[int, Rect]:
    """Map each shown uid to its window, in drawing order (what is drawn first first).

    ``uids`` are in join order. The result is a new dict; its iteration order is the
    drawing order, so small floating windows come after the full-canvas one.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"canvas must be positive, got {width}x{height}")
    users = shown_uids(MixedVideoLayout(layout), uids, max_resolution_uid)
    if not users:
        return {}
    layout = MixedVideoLayout(layout)
    if layout is MixedVideoLayout.FLOAT:
        return _float(users, width, height)
    if layout is MixedVideoLayout.BEST_FIT:
        return _best_fit(users, width, height)
    return _vertical(users, width, height, max_resolution_uid)


def _float(users: list[int], w: int, h: int) -> dict[int, Rect]:
    rects = {users[0]: Rect(0, 0, w, h)}
    sw, sh = _FLOAT_SIZE * w // 1000, _FLOAT_SIZE * h // 1000
    step = _FLOAT_SIZE + _FLOAT_GAP
    for i, uid in enumerate(users[1:]):
        row, col = divmod(i, _FLOAT_PER_ROW)
        top = 1000 - _FLOAT_GAP - row * step - _FLOAT_SIZE  # thousandths of the height
        rects[uid] = Rect((_FLOAT_GAP + col * step) * w // 1000, top * h // 1000, sw, sh)
    return rects


def best_fit_grid(count: int) -> tuple[int, int]:
    """Columns and rows of the BEST_FIT grid for ``count`` users (1..16)."""
    if count <= 1:
        return 1, 1
    if count == 2:
        return 2, 1
    side = math.ceil(math.sqrt(count))
    return side, side


def _best_fit(users: list[int], w: int, h: int) -> dict[int, Rect]:
    n = len(users)
    if n == MAX_WINDOWS:
        # tiles of 0.2 x 0.2 between margins of 0.1; positions in tenths
        tw, th = w // 5, h // 5
        rects = {}
        for i, uid in enumerate(users[:16]):
            row, col = divmod(i, 4)
            rects[uid] = Rect((1 + 2 * col) * w // 10, row * h // 5, tw, th)
        rects[users[16]] = Rect(4 * w // 10, 4 * h // 5, tw, th)
        return rects
    cols, rows = best_fit_grid(n)
    tw, th = w // cols, h // rows
    rects = {}
    for i, uid in enumerate(users):
        row, col = divmod(i, cols)
        in_row = min(cols, n - row * cols)
        # an incomplete last row is shifted right by half of its missing tiles
        x = ((cols - in_row) + 2 * col) * w // (2 * cols)
        rects[uid] = Rect(x, row * h // rows, tw, th)
    return rects


def _vertical(users: list[int], w: int, h: int, max_resolution_uid: int) -> dict[int, Rect]:
    big = max_resolution_uid if max_resolution_uid in users else users[0]
    others = [u for u in users if u != big]
    columns = 0 if not others else (1 if len(others) <= 8 else 2)
    big_fifths = 5 - columns  # the big window's width in fifths of the canvas
    rects = {big: Rect(0, 0, big_fifths * w // 5, h)}
    sw, sh = w // 5, h // 8
    for i, uid in enumerate(others):
        col, row = divmod(i, 8)
        rects[uid] = Rect((big_fifths + col) * w // 5, row * h // 8, sw, sh)
    return rects
