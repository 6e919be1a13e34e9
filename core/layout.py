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

* CUSTOM: the operator's regions (Agora's ``layoutConfig``), each a fraction of the
  canvas given to a millionth (Agora: six decimals): ``x``, ``y`` of its top left
  corner, ``width``, ``height``. Its pixels are ``[floor(x*W), floor((x+width)*W))``,
  likewise in y, clipped to the canvas. A region that names a uid shows that user
  (when in the channel); the regions that name none are given, in their order, to
  the users no region names, in join order. Users without a region are not shown.
  Regions are drawn in their order, a later one over an earlier one.

At most 17 windows are shown. Users beyond that are left out in reverse join order:
the 17 who joined first are shown (in VERTICAL the max-resolution user is always
among them).

A window also says how it is drawn (:class:`Window`): its ``alpha`` (1 opaque, 0
transparent: CUSTOM regions only, the presets are opaque) and its
:class:`~core.enums.RenderMode` (crop to fill, or fit with bars). Where a picture
lands in its window is :func:`picture_rect`, used by the compositor and the preview
alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from core.enums import MixedVideoLayout, RenderMode

MAX_WINDOWS = 17
MAX_REGIONS = MAX_WINDOWS
"""Regions of a CUSTOM layout (Agora: at most 17)."""
MICRO = 1_000_000
"""A CUSTOM region's fractions are kept in millionths of the canvas."""

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


class Region(NamedTuple):
    """One region of a CUSTOM layout, in fractions of the canvas (0 to 1)."""

    x: float
    y: float
    width: float
    height: float
    uid: int | None = None
    """The user shown here; ``None``: the next user no region names, in join order."""
    alpha: float = 1.0
    render_mode: RenderMode = RenderMode.CROP

    def rect(self, width: int, height: int) -> Rect:
        """The region's pixels on a ``width`` x ``height`` canvas (clipped to it)."""
        x0, y0 = _micro(self.x), _micro(self.y)
        x1 = min(MICRO, x0 + _micro(self.width))
        y1 = min(MICRO, y0 + _micro(self.height))
        left, top = x0 * width // MICRO, y0 * height // MICRO
        return Rect(left, top, x1 * width // MICRO - left, y1 * height // MICRO - top)


def _micro(fraction: float) -> int:
    return round(fraction * MICRO)


class Window(NamedTuple):
    """Where and how one user is drawn."""

    rect: Rect
    alpha: float = 1.0
    render_mode: RenderMode = RenderMode.CROP


@dataclass(frozen=True)
class LayoutSpec:
    """Everything that decides the windows besides the users: what a recording's
    ``TranscodingConfig`` and each ``updateLayout`` set."""

    layout: MixedVideoLayout = MixedVideoLayout.FLOAT
    max_resolution_uid: int = 0
    regions: tuple[Region, ...] = ()
    render_mode: RenderMode = RenderMode.CROP
    active_speaker: bool = False
    """FLOAT and VERTICAL: the large window goes to the active speaker
    (``core.media.speaker``) unless ``max_resolution_uid`` is in the channel."""

    def windows(
        self, uids: Sequence[int], width: int, height: int, speaker: int | None = None
    ) -> dict[int, Window]:
        """:func:`compute_windows` for ``uids`` (join order) on a ``width`` x ``height``
        canvas; with :attr:`active_speaker`, ``speaker`` (when in ``uids``) gets the
        large window: FLOAT's whole canvas, VERTICAL's left one. A ``max_resolution_uid``
        in ``uids`` keeps it instead (a fixed override)."""
        big = self.max_resolution_uid
        order = list(uids)
        if self.active_speaker and self.layout in _LARGE_WINDOW:
            if big not in order and speaker in order:
                big = speaker
            if big in order and self.layout is MixedVideoLayout.FLOAT:
                order = [big, *(uid for uid in order if uid != big)]
        return compute_windows(
            self.layout, order, width, height, big, self.regions, self.render_mode
        )


_LARGE_WINDOW = (MixedVideoLayout.FLOAT, MixedVideoLayout.VERTICAL)
"""The layouts with one large window (the ones an active speaker applies to)."""


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
    regions: Sequence[Region] = (),
) -> dict[int, Rect]:
    """Map each shown uid to its window, in drawing order (what is drawn first first).

    ``uids`` are in join order; ``regions`` are the CUSTOM layout's (ignored by the
    presets). The result is a new dict; its iteration order is the drawing order, so
    small floating windows come after the full-canvas one.
    """
    windows = compute_windows(layout, uids, width, height, max_resolution_uid, regions)
    return {uid: window.rect for uid, window in windows.items()}


def compute_windows(
    layout: MixedVideoLayout,
    uids: Sequence[int],
    width: int,
    height: int,
    max_resolution_uid: int = 0,
    regions: Sequence[Region] = (),
    render_mode: RenderMode = RenderMode.CROP,
) -> dict[int, Window]:
    """:func:`compute_layout` with how each window is drawn: a preset's windows are
    opaque and drawn in ``render_mode``; a CUSTOM region's carry its own alpha and
    render mode."""
    if width <= 0 or height <= 0:
        raise ValueError(f"canvas must be positive, got {width}x{height}")
    layout = MixedVideoLayout(layout)
    if layout is MixedVideoLayout.CUSTOM:
        return _custom(list(dict.fromkeys(uids)), width, height, regions)
    users = shown_uids(layout, uids, max_resolution_uid)
    if not users:
        return {}
    if layout is MixedVideoLayout.FLOAT:
        rects = _float(users, width, height)
    elif layout is MixedVideoLayout.BEST_FIT:
        rects = _best_fit(users, width, height)
    else:
        rects = _vertical(users, width, height, max_resolution_uid)
    mode = RenderMode(render_mode)
    return {uid: Window(rect, 1.0, mode) for uid, rect in rects.items()}


def assign_regions(uids: Sequence[int], regions: Sequence[Region]) -> list[int | None]:
    """The user each region shows (``None``: nobody), for users in join order."""
    named = {r.uid for r in regions if r.uid is not None}
    unnamed = iter([uid for uid in dict.fromkeys(uids) if uid not in named])
    present = set(uids)
    return [
        (r.uid if r.uid in present else None) if r.uid is not None else next(unnamed, None)
        for r in regions[:MAX_REGIONS]
    ]


def _custom(users: list[int], w: int, h: int, regions: Sequence[Region]) -> dict[int, Window]:
    windows: dict[int, Window] = {}
    for region, uid in zip(regions, assign_regions(users, regions), strict=False):
        if uid is not None and uid not in windows:
            windows[uid] = Window(region.rect(w, h), region.alpha, RenderMode(region.render_mode))
    return windows


def even_window(window: Rect, canvas: tuple[int, int]) -> Rect:
    """``window`` clipped to the (even) canvas and widened to even bounds (4:2:0
    chroma: a 2x2 block of pixels shares one colour sample): widened, not shrunk, so a window covers every pixel of its own; an odd edge takes one
    pixel of its neighbour, which the window drawn later keeps. A window wholly off
    the canvas (a region at x 1.0) has no pixels: width or height 0."""
    x0 = _even_down(max(0, window.x))
    y0 = _even_down(max(0, window.y))
    x1 = _even_up(min(canvas[0], window.x + window.width))
    y1 = _even_up(min(canvas[1], window.y + window.height))
    return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def picture_rect(
    window: Rect,
    source_size: tuple[int, int],
    canvas: tuple[int, int],
    render_mode: RenderMode = RenderMode.CROP,
) -> Rect:
    """Where a ``source_size`` picture is drawn for ``window``, aspect ratio kept,
    centred, even: within the (even) window with FIT, covering it with CROP (the
    part outside the window is cut off). With FIT the result is at least 2x2 (for a
    window with pixels)."""
    box = even_window(window, canvas)
    sw, sh = source_size
    if sw <= 0 or sh <= 0 or box.width <= 0 or box.height <= 0:
        return box
    if RenderMode(render_mode) is RenderMode.CROP:
        scale = max(box.width / sw, box.height / sh)
        fw = max(box.width, _even_up(round(sw * scale)))
        fh = max(box.height, _even_up(round(sh * scale)))
    else:
        scale = min(box.width / sw, box.height / sh)
        fw = max(2, min(box.width, _even_down(round(sw * scale))))
        fh = max(2, min(box.height, _even_down(round(sh * scale))))
    return Rect(
        box.x + _even_down((box.width - fw) // 2),
        box.y + _even_down((box.height - fh) // 2),
        fw,
        fh,
    )


def _even_up(n: int) -> int:
    return n + (n & 1)


def _even_down(n: int) -> int:
    return n - (n & 1)


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
