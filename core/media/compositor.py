"""Composes users' pictures into one frame with the windows of :func:`core.layout.compute_windows`.

The canvas is a yuv420p image (one contiguous array: the Y plane, then U, then V),
the encoder's input format, so no colour conversion happens per output frame. Each
user's picture is turned once per new source frame into an image of its whole
window (:func:`core.layout.picture_rect`: CROP scales it to cover the window and
cuts the overflow off evenly, FIT scales it to lie within the window and puts bars
of the background colour beside it), by FFmpeg's swscale through PyAV; composing is
then a few numpy slice copies, or, for a window with an alpha below 1, a blend of
its image over what is under it. Positions and sizes are kept even, as 4:2:0 chroma
requires.

A user in the layout without a picture (no video, or none received yet) is drawn as
its background image (:class:`Backgrounds`: its own, or the default one), or else as
the canvas background (blended, with its window's alpha). The canvas background is a
colour, or an image cropped to cover the canvas (Agora's ``backgroundImage``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import VideoReformatter

from core.enums import RenderMode
from core.layout import Rect, Window, even_window, picture_rect

U8Array = npt.NDArray[np.uint8]
Planes = tuple[U8Array, U8Array, U8Array]
"""Y, U and V of one image (U and V at half the size each way)."""


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


@dataclass(frozen=True)
class Backgrounds:
    """Images of the layout, decoded (``core.server.images`` fetches them)."""

    canvas: av.VideoFrame | None = None
    """Under every window, cropped to cover the canvas (else the background colour)."""
    default_user: av.VideoFrame | None = None
    """In the window of a user without video, unless :attr:`users` has one for it."""
    users: Mapping[int, tuple[av.VideoFrame, RenderMode]] = field(default_factory=dict)
    """Per uid: its image and how it fills the window."""

    def of_user(self, uid: int, mode: RenderMode) -> tuple[av.VideoFrame, RenderMode] | None:
        """``uid``'s image and render mode (``mode``, its window's, for the default)."""
        if uid in self.users:
            return self.users[uid]
        return None if self.default_user is None else (self.default_user, mode)


@dataclass
class _Tile:
    window: Window
    frame: av.VideoFrame | None = None
    image: Planes | None = None  # the whole (even) window, picture and bars
    backdrop: Planes | None = None  # the user's background image in the window
    # One scaler per tile: swscale's context is set up once and reused while the
    # source format and the scaled size stay the same. (``VideoFrame.reformat``
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
        self._backgrounds = Backgrounds()
        self._background = self._blank()
        self._canvas = self._background.copy()
        self._planes = _planes(self._canvas, width, height)
        self._tiles: dict[int, _Tile] = {}
        self.scale_count = 0  # swscale calls, for tests and benchmarks
        self._errors: list[tuple[int, str]] = []

    def _blank(self) -> U8Array:
        w, h = self.width, self.height
        canvas = np.empty((h * 3 // 2, w), dtype=np.uint8)
        image = self._backgrounds.canvas
        if image is not None:
            whole = Window(Rect(0, 0, w, h), 1.0, RenderMode.CROP)
            y, u, v = self._fill_image(image, whole, VideoReformatter(), (0, 0, 0))
            for plane, source in zip(_planes(canvas, w, h), (y, u, v), strict=True):
                plane[...] = source
            return canvas
        for plane, value in zip(_planes(canvas, w, h), self._bg_yuv, strict=True):
            plane[...] = value
        return canvas

    def set_background(self, colour: str) -> None:
        """Paint windowless areas (and users' bars) in ``colour`` (``#RRGGBB``) from the
        next render on (under a canvas image, only the bars)."""
        self._bg_yuv = rgb_to_yuv(parse_colour(colour))
        self._background = self._blank()
        for tile in self._tiles.values():
            tile.image = tile.backdrop = None  # bars are drawn in the background colour

    def set_backgrounds(self, backgrounds: Backgrounds) -> None:
        """Use these images from the next render on."""
        self._backgrounds = backgrounds
        self._background = self._blank()
        for tile in self._tiles.values():
            tile.backdrop = None

    def has_user_background(self, uid: int) -> bool:
        """Whether ``uid``'s window shows an image while it has no picture."""
        tile = self._tiles.get(uid)
        mode = tile.window.render_mode if tile is not None else RenderMode.CROP
        return self._backgrounds.of_user(uid, mode) is not None

    def set_layout(self, windows: Mapping[int, Window]) -> None:
        """Replace the windows (drawing order = the mapping's order); keeps users' pictures."""
        old = self._tiles
        self._tiles = {}
        for uid, window in windows.items():
            tile = old.get(uid) or _Tile(window)
            if tile.window != window:
                tile.window = window
                tile.image = tile.backdrop = None  # re-scale to the new window
            self._tiles[uid] = tile

    @property
    def layout(self) -> dict[int, Window]:
        """The current windows."""
        return {uid: t.window for uid, t in self._tiles.items()}

    def update(self, uid: int, frame: av.VideoFrame) -> None:
        """Set ``uid``'s current picture (ignored while ``uid`` has no window)."""
        tile = self._tiles.get(uid)
        if tile is not None and tile.frame is not frame:
            tile.frame = frame
            tile.image = None

    def clear(self, uid: int) -> None:
        """Forget ``uid``'s picture: its window shows background until the next one."""
        tile = self._tiles.get(uid)
        if tile is not None:
            tile.frame = tile.image = None

    def render(self) -> av.VideoFrame:
        """The composed frame (yuv420p)."""
        np.copyto(self._canvas, self._background)
        painted = False
        for uid, tile in self._tiles.items():
            alpha = tile.window.alpha
            if alpha <= 0:
                continue
            box = even_window(tile.window.rect, (self.width, self.height))
            if box.width <= 0 or box.height <= 0:
                continue  # off the canvas
            if tile.frame is not None and tile.image is None:
                try:
                    tile.image = self._window_image(tile)
                except (av.FFmpegError, ValueError) as exc:
                    # a picture swscale cannot convert: show background, report the user
                    self._errors.append((uid, f"video frame cannot be converted: {exc}"))
                    tile.frame = None
            if tile.image is None:
                backdrop = self._backdrop(uid, tile)
                if backdrop is not None:
                    self._draw(box, backdrop, alpha)
                    painted = True
                elif painted:  # a window shows background, not what lies under it
                    self._draw(box, self._background_in(box), alpha)
                continue
            self._draw(box, tile.image, alpha)
            painted = True
        return av.VideoFrame.from_ndarray(self._canvas, format="yuv420p")

    def take_errors(self) -> list[tuple[int, str]]:
        """(uid, message) of pictures dropped since the last call."""
        errors, self._errors = self._errors, []
        return errors

    def _window_image(self, tile: _Tile) -> Planes:
        """The tile's picture drawn into its whole window: cropped, or fitted with bars."""
        assert tile.frame is not None
        return self._fill_image(tile.frame, tile.window, tile.scaler, self._bg_yuv)

    def _backdrop(self, uid: int, tile: _Tile) -> Planes | None:
        """The user's background image in its window, scaled once per window."""
        chosen = self._backgrounds.of_user(uid, tile.window.render_mode)
        if chosen is None:
            return None
        if tile.backdrop is None:
            image, mode = chosen
            window = tile.window._replace(render_mode=mode)
            try:
                tile.backdrop = self._fill_image(image, window, VideoReformatter(), self._bg_yuv)
            except (av.FFmpegError, ValueError) as exc:
                self._errors.append((uid, f"background image cannot be converted: {exc}"))
                return None
        return tile.backdrop

    def _background_in(self, box: Rect) -> Planes:
        """The canvas background (colour or image) within ``box``."""
        return _within(_planes(self._background, self.width, self.height), box)

    def _fill_image(
        self,
        frame: av.VideoFrame,
        window: Window,
        scaler: VideoReformatter,
        bars: tuple[int, int, int],
    ) -> Planes:
        """``frame`` drawn into the whole of ``window`` (even bounds): cropped to cover
        it, or fitted with bars of the colour ``bars`` (Y, U, V)."""
        box = even_window(window.rect, (self.width, self.height))
        placed = picture_rect(
            window.rect, (frame.width, frame.height), (self.width, self.height), window.render_mode
        )
        self.scale_count += 1
        scaled = scaler.reformat(frame, width=placed.width, height=placed.height, format="yuv420p")
        picture = _planes(
            np.asarray(scaled.to_ndarray(), dtype=np.uint8), placed.width, placed.height
        )
        dx, dy = placed.x - box.x, placed.y - box.y  # even
        if window.render_mode is RenderMode.CROP:
            # the picture covers the window: cut out the window's part
            return _within(picture, Rect(-dx, -dy, box.width, box.height))
        image: list[U8Array] = []
        for p, s, value in zip(picture, (1, 2, 2), bars, strict=True):
            plane = np.full((box.height // s, box.width // s), value, dtype=np.uint8)
            plane[dy // s : dy // s + p.shape[0], dx // s : dx // s + p.shape[1]] = p
            image.append(plane)
        return image[0], image[1], image[2]

    def _draw(self, box: Rect, image: Planes | tuple[int, int, int], alpha: float) -> None:
        """Copy ``image`` (or a flat colour) into ``box``, or blend it over the canvas with
        ``alpha`` < 1."""
        weight = round(min(1.0, alpha) * 256)
        sources: tuple[U8Array | int, ...] = image
        for dst, source in zip(_within(self._planes, box), sources, strict=True):
            if weight >= 256:
                dst[...] = source
            else:
                # (a*src + (256-a)*dst + 128) / 256 stays below 2^16
                mixed = np.multiply(dst, 256 - weight, dtype=np.uint16)
                mixed += np.multiply(source, weight, dtype=np.uint16)
                mixed += 128
                dst[...] = mixed >> 8


def _within(planes: Planes, box: Rect) -> Planes:
    """Views of ``planes`` within ``box`` (even bounds; U and V at half the size)."""
    y, u, v = (
        p[box.y // s : (box.y + box.height) // s, box.x // s : (box.x + box.width) // s]
        for p, s in zip(planes, (1, 2, 2), strict=True)
    )
    return y, u, v


def _planes(image: U8Array, width: int, height: int) -> Planes:
    """Views of the Y, U and V planes of a contiguous yuv420p ``image``."""
    flat = image.reshape(-1)
    luma, quarter = width * height, (width // 2) * (height // 2)
    return (
        flat[:luma].reshape(height, width),
        flat[luma : luma + quarter].reshape(height // 2, width // 2),
        flat[luma + quarter : luma + 2 * quarter].reshape(height // 2, width // 2),
    )
