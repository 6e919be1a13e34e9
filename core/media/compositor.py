"""Composes users' pictures into one frame with the layout of :func:`core.layout.compute_layout`.

The canvas is a yuv420p image (one contiguous array: the Y plane, then U, then V),
the encoder's input format, so no colour conversion happens per output frame. Each
user's picture is scaled once per new source frame, straight into the size it
occupies in its window (its aspect ratio kept, centred, the background colour
around it), by FFmpeg's swscale through PyAV; composing is then a few numpy slice
copies. Positions and sizes are kept even, as 4:2:0 chroma requires.

A user in the layout without a picture (no video, or none received yet) is drawn as
background.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import VideoReformatter

from core.layout import Rect

U8Array = npt.NDArray[np.uint8]


def parse_colour(colour: str) -> tuple[int, int, int]:
    """``"#RRGGBB"`` -> (r, g, b)."""
    text = colour.strip().lstrip("#")
    if len(text) != 6:
        raise ValueError(f"colour must be #RRGGBB, not {colour!r}")
    value = int(text, 16)
    return (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF


def rgb_to_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """BT.601 limited-range Y, U, V of an RGB colour (what swscale produces by default)."""
    r, g, b = (float(c) for c in rgb)
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    return (round(y), round(u), round(v))


def fit_rect(window: Rect, source_size: tuple[int, int], canvas: tuple[int, int]) -> Rect:
    """Where a ``source_size`` picture goes inside ``window``: aspect kept, centred, even.

    The result lies within the window and the canvas (up to the rounding to even
    pixels) and is at least 2x2.
    """
    sw, sh = source_size
    # clip the window to the canvas, then shrink it to even bounds
    x0 = _even_up(max(0, window.x))
    y0 = _even_up(max(0, window.y))
    x1 = _even_down(min(canvas[0], window.x + window.width))
    y1 = _even_down(min(canvas[1], window.y + window.height))
    ww, wh = max(2, x1 - x0), max(2, y1 - y0)
    if sw <= 0 or sh <= 0:
        return Rect(x0, y0, ww, wh)
    scale = min(ww / sw, wh / sh)
    fw = max(2, min(ww, _even_down(round(sw * scale))))
    fh = max(2, min(wh, _even_down(round(sh * scale))))
    return Rect(x0 + _even_down((ww - fw) // 2), y0 + _even_down((wh - fh) // 2), fw, fh)


def _even_up(n: int) -> int:
    return n + (n & 1)


def _even_down(n: int) -> int:
    return n - (n & 1)


@dataclass
class _Tile:
    window: Rect
    frame: av.VideoFrame | None = None
    scaled: U8Array | None = None  # yuv420p of the picture at ``placed`` size
    placed: Rect | None = None
    # One scaler per tile: swscale's context is set up once and reused while the
    # source format and the placed size stay the same. (``VideoFrame.reformat``
    # would set one up, and free it, for every frame: 5x the cost of the scaling.)
    scaler: VideoReformatter = field(default_factory=VideoReformatter)


class Compositor:
    """Draws users' latest pictures into their windows on a ``width`` x ``height`` canvas."""

    def __init__(self, width: int, height: int, background: str = "#000000") -> None:
        if width % 2 or height % 2:
            raise ValueError(f"canvas size must be even, got {width}x{height}")
        self.width = width
        self.height = height
        self._bg_yuv = rgb_to_yuv(parse_colour(background))
        self._background = self._blank()
        self._canvas = self._background.copy()
        self._tiles: dict[int, _Tile] = {}
        self.scale_count = 0  # swscale calls, for tests and benchmarks
        self._errors: list[tuple[int, str]] = []

    def _blank(self) -> U8Array:
        w, h = self.width, self.height
        canvas = np.empty((h * 3 // 2, w), dtype=np.uint8)
        y, u, v = self._bg_yuv
        canvas[:h] = y
        chroma = canvas[h:].reshape(-1)  # U then V, each (h/2) x (w/2)
        quarter = (h // 2) * (w // 2)
        chroma[:quarter] = u
        chroma[quarter:] = v
        return canvas

    def set_background(self, colour: str) -> None:
        """Paint windowless areas (and users' bars) in ``colour`` (``#RRGGBB``) from the
        next render on."""
        self._bg_yuv = rgb_to_yuv(parse_colour(colour))
        self._background = self._blank()
        for tile in self._tiles.values():
            tile.scaled = None  # letterbox bars are drawn in the background colour

    def set_layout(self, windows: dict[int, Rect]) -> None:
        """Replace the windows (drawing order = the dict's order); keeps users' pictures."""
        old = self._tiles
        self._tiles = {}
        for uid, window in windows.items():
            tile = old.get(uid) or _Tile(window)
            if tile.window != window:
                tile.window = window
                tile.scaled = None  # re-scale to the new window on the next render
            self._tiles[uid] = tile

    @property
    def layout(self) -> dict[int, Rect]:
        """The current windows."""
        return {uid: t.window for uid, t in self._tiles.items()}

    def update(self, uid: int, frame: av.VideoFrame) -> None:
        """Set ``uid``'s current picture (ignored while ``uid`` has no window)."""
        tile = self._tiles.get(uid)
        if tile is not None and tile.frame is not frame:
            tile.frame = frame
            tile.scaled = None

    def clear(self, uid: int) -> None:
        """Forget ``uid``'s picture: its window shows background until the next one."""
        tile = self._tiles.get(uid)
        if tile is not None:
            tile.frame = tile.scaled = None

    def render(self) -> av.VideoFrame:
        """The composed frame (yuv420p)."""
        canvas = self._canvas
        np.copyto(canvas, self._background)
        painted = False
        for uid, tile in self._tiles.items():
            if painted:  # a window shows background, not what lies under it
                self._fill(tile.window)
            if tile.frame is None:
                continue
            if tile.scaled is None:
                tile.placed = fit_rect(
                    tile.window, (tile.frame.width, tile.frame.height), (self.width, self.height)
                )
                try:
                    tile.scaled = self._scale(tile.scaler, tile.frame, tile.placed)
                except (av.FFmpegError, ValueError) as exc:
                    # a picture swscale cannot convert: show background, report the user
                    self._errors.append((uid, f"video frame cannot be converted: {exc}"))
                    tile.frame = None
                    continue
            assert tile.placed is not None
            self._blit(tile.scaled, tile.placed)
            painted = True
        return av.VideoFrame.from_ndarray(canvas, format="yuv420p")

    def _fill(self, window: Rect) -> None:
        """Paint ``window`` (clipped to the canvas) in the background colour."""
        w, h = self.width, self.height
        x0, y0 = max(0, window.x), max(0, window.y)
        x1, y1 = min(w, window.x + window.width), min(h, window.y + window.height)
        if x1 <= x0 or y1 <= y0:
            return
        y, u, v = self._bg_yuv
        canvas = self._canvas
        canvas[y0:y1, x0:x1] = y
        chroma = canvas[h:].reshape(2, h // 2, w // 2)  # U then V
        cy, cx = slice(y0 // 2, (y1 + 1) // 2), slice(x0 // 2, (x1 + 1) // 2)
        chroma[0, cy, cx] = u
        chroma[1, cy, cx] = v

    def take_errors(self) -> list[tuple[int, str]]:
        """(uid, message) of pictures dropped since the last call."""
        errors, self._errors = self._errors, []
        return errors

    def _scale(self, scaler: VideoReformatter, frame: av.VideoFrame, rect: Rect) -> U8Array:
        self.scale_count += 1
        scaled = scaler.reformat(frame, width=rect.width, height=rect.height, format="yuv420p")
        return np.asarray(scaled.to_ndarray(), dtype=np.uint8)

    def _blit(self, src: U8Array, rect: Rect) -> None:
        w, h = self.width, self.height
        x, y, fw, fh = rect
        canvas = self._canvas
        canvas[y : y + fh, x : x + fw] = src[:fh]
        # chroma planes follow the luma plane, each (height/2) x (width/2), row-major
        cq, sq = (h // 2) * (w // 2), (fh // 2) * (fw // 2)
        flat_c, flat_s = canvas.reshape(-1)[w * h :], src.reshape(-1)[fw * fh :]
        for plane in range(2):
            dst = flat_c[plane * cq : (plane + 1) * cq].reshape(h // 2, w // 2)
            part = flat_s[plane * sq : (plane + 1) * sq].reshape(fh // 2, fw // 2)
            dst[y // 2 : (y + fh) // 2, x // 2 : (x + fw) // 2] = part
