"""A live preview of the mixed-video layout: ``compute_windows`` drawn to scale.

The preview draws exactly what the recorder's compositor will compose (both call
``core.layout.compute_windows``) for sample users with uids 1001, 1002, … (the uids
``cloudrec bots`` uses), each tile in a colour of its own with its uid written on
it, as a 16:9 camera's picture lands in it: filling the window (crop) or within it
with bars of the background colour (fit), at its window's alpha. The max-resolution
user (VERTICAL's large window) is outlined and starred.
:attr:`LayoutPreview.rects` holds the canvas rectangles of the last paint and
:attr:`LayoutPreview.widget_rects` where it drew them, in widget pixels (the tests
check those, and the pixels, against hand-computed numbers).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QPen, QRegion
from PySide6.QtWidgets import QSizePolicy, QWidget

from core.enums import MixedVideoLayout, RenderMode
from core.layout import Rect, Region, Window, compute_windows, picture_rect

FIRST_SAMPLE_UID = 1001
SAMPLE_PICTURE = (640, 360)
"""The sample users' picture size (a 16:9 camera, as ``cloudrec bots`` sends)."""


def sample_uids(count: int) -> list[int]:
    """The uids of ``count`` sample users, in join order."""
    return [FIRST_SAMPLE_UID + i for i in range(count)]


def tile_colour(uid: int) -> QColor:
    """A distinct, readable colour per uid (golden-angle hues)."""
    hue = (uid * 137) % 360
    return QColor.fromHsv(hue, 150, 200)


def big_window_uid(
    layout: MixedVideoLayout, uids: list[int], max_resolution_uid: int
) -> int | None:
    """The uid shown as the max-resolution user, or None when there is none."""
    if not uids:
        return None
    if max_resolution_uid in uids:
        return max_resolution_uid
    if layout is MixedVideoLayout.VERTICAL:
        return uids[0]
    return None


class LayoutPreview(QWidget):
    """Paints the layout of N sample users on the configured canvas."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layout_preview")
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.layout_kind = MixedVideoLayout.FLOAT
        self.canvas = (360, 640)
        self.max_resolution_uid = 0
        self.users = 4
        self.background = QColor("#000000")
        self.background_image: QImage | None = None
        """The canvas image, drawn cropped to cover the canvas as the recording does."""
        self.regions: tuple[Region, ...] = ()
        self.render_mode = RenderMode.CROP
        self.windows: dict[int, Window] = {}
        """How each uid's window is drawn (alpha, render mode) in the last paint."""
        self.rects: dict[int, Rect] = {}
        """Canvas rectangles per uid of the last paint, in drawing order."""
        self.widget_rects: dict[int, QRectF] = {}
        """The same rectangles scaled into this widget's coordinates."""
        self.marked_uid: int | None = None

    def sizeHint(self) -> QSize:
        return QSize(280, 320)

    def set_layout(
        self,
        layout: MixedVideoLayout,
        width: int,
        height: int,
        max_resolution_uid: int,
        background: str = "#000000",
        regions: tuple[Region, ...] = (),
        render_mode: RenderMode = RenderMode.CROP,
    ) -> None:
        self.layout_kind = MixedVideoLayout(layout)
        self.canvas = (width, height)
        self.max_resolution_uid = max_resolution_uid
        self.background = QColor(background)
        self.regions = tuple(regions)
        self.render_mode = RenderMode(render_mode)
        self._compute()
        self.update()

    def set_background_image(self, image: QImage | None) -> None:
        self.background_image = image
        self.update()

    def set_users(self, users: int) -> None:
        self.users = users
        self._compute()
        self.update()

    def _compute(self) -> None:
        uids = sample_uids(self.users)
        width, height = self.canvas
        self.windows = compute_windows(
            self.layout_kind,
            uids,
            width,
            height,
            self.max_resolution_uid,
            self.regions,
            self.render_mode,
        )
        self.rects = {uid: window.rect for uid, window in self.windows.items()}
        self.marked_uid = big_window_uid(self.layout_kind, uids, self.max_resolution_uid)

    def _canvas_rect(self) -> tuple[QRectF, float]:
        width, height = self.canvas
        margin = 8.0
        scale = min((self.width() - 2 * margin) / width, (self.height() - 2 * margin) / height)
        scale = max(scale, 0.01)
        w, h = width * scale, height * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h), scale

    def paintEvent(self, event: QPaintEvent) -> None:
        self._compute()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area, scale = self._canvas_rect()
        painter.fillRect(area, self.background)
        image = self.background_image
        if image is not None and not image.isNull():
            width, height = self.canvas
            cover = picture_rect(
                Rect(0, 0, width, height), (image.width(), image.height()), self.canvas
            )
            painter.save()
            painter.setClipRect(area)
            painter.drawImage(
                QRectF(
                    area.x() + cover.x * scale,
                    area.y() + cover.y * scale,
                    cover.width * scale,
                    cover.height * scale,
                ),
                image,
            )
            painter.restore()
        painter.setPen(QPen(self.palette().mid().color(), 1))
        painter.drawRect(area)
        self.widget_rects = {}
        font = QFont(self.font())
        for uid, rect in self.rects.items():
            box = QRectF(
                area.x() + rect.x * scale,
                area.y() + rect.y * scale,
                rect.width * scale,
                rect.height * scale,
            )
            self.widget_rects[uid] = box
            window = self.windows[uid]
            painter.setOpacity(window.alpha)
            placed = picture_rect(rect, SAMPLE_PICTURE, self.canvas, window.render_mode)
            picture = QRectF(
                area.x() + placed.x * scale,
                area.y() + placed.y * scale,
                placed.width * scale,
                placed.height * scale,
            ).intersected(box)
            if picture != box:  # the bars of a fitted picture, blended as the picture
                painter.save()
                painter.setClipRegion(QRegion(box.toRect()).subtracted(QRegion(picture.toRect())))
                painter.fillRect(box, self.background)
                painter.restore()
            painter.fillRect(picture, tile_colour(uid))
            marked = uid == self.marked_uid
            painter.setPen(
                QPen(QColor("#ffd400") if marked else QColor("#202020"), 3 if marked else 1)
            )
            painter.drawRect(box.adjusted(1, 1, -1, -1))
            # The uid must fit its tile: size the text by the tile's width and height.
            font.setPixelSize(
                max(
                    7,
                    min(18, int(box.height() / 4), int(box.width() / (0.62 * (len(str(uid)) + 2)))),
                )
            )
            font.setBold(marked)
            painter.setFont(font)
            painter.setPen(QColor("#101010"))
            label = f"★ {uid}" if marked else str(uid)
            # A full-canvas tile under floating windows carries its label at the top.
            flags = Qt.AlignmentFlag.AlignHCenter | (
                Qt.AlignmentFlag.AlignTop
                if box.height() > area.height() * 0.9
                else Qt.AlignmentFlag.AlignVCenter
            )
            painter.drawText(box.adjusted(2, 4, -2, -2), int(flags), label)
            painter.setOpacity(1.0)
        self.paint_overlay(painter, area, scale)
        painter.end()

    def paint_overlay(self, painter: QPainter, area: QRectF, scale: float) -> None:
        """Drawn over the tiles (the region editor's outlines); nothing here."""
