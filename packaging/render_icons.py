"""Render cloudrec's application icon as PNGs in the freedesktop hicolor sizes.

    python packaging/render_icons.py OUTPUT_DIR

writes ``OUTPUT_DIR/<n>x<n>/apps/cloudrec.png`` for each size and, when the project
has an SVG icon, ``OUTPUT_DIR/scalable/apps/cloudrec.svg``. The source is the first
of ``resources/icons/cloudrec.svg`` or ``resources/icons/cloudrec.png``; when neither
exists yet, a simple icon (a cloud with a record dot) is drawn. Qt renders offscreen,
so no display and no Pillow are needed. Build-time only; not part of the bundle.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPainterPath
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
NAME = "cloudrec"


def draw_fallback(painter: QPainter, size: int) -> None:
    """A blue cloud with a white-ringed red record dot, on a 64-unit grid."""
    painter.scale(size / 64, size / 64)
    cloud = QPainterPath()
    cloud.setFillRule(Qt.FillRule.WindingFill)  # overlapping circles, no holes
    for x, y, r in ((22, 36, 12), (34, 28, 15), (47, 35, 11)):
        cloud.addEllipse(QPointF(x, y), r, r)
    cloud.addRect(QRectF(18, 34, 30, 12))
    painter.fillPath(cloud.simplified(), QColor("#3b7dd8"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#ffffff"))
    painter.drawEllipse(QPointF(33, 34), 8, 8)
    painter.setBrush(QColor("#d93025"))
    painter.drawEllipse(QPointF(33, 34), 5, 5)


def render(size: int, svg: QSvgRenderer | None, png: QImage | None) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    if svg is not None:
        svg.render(painter, QRectF(0, 0, size, size))
    elif png is not None:
        painter.drawImage(QRectF(0, 0, size, size), png)
    else:
        draw_fallback(painter, size)
    painter.end()
    return image


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[1])
    _app = QGuiApplication([argv[0]])
    svg_path, png_path = ICONS / f"{NAME}.svg", ICONS / f"{NAME}.png"
    svg = QSvgRenderer(str(svg_path)) if svg_path.is_file() else None
    if svg is not None and not svg.isValid():
        print(f"{svg_path} is not a valid SVG", file=sys.stderr)
        return 1
    png = QImage(str(png_path)) if svg is None and png_path.is_file() else None
    for size in SIZES:
        target = out / f"{size}x{size}" / "apps" / f"{NAME}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not render(size, svg, png).save(str(target)):
            print(f"could not write {target}", file=sys.stderr)
            return 1
    if svg is not None:
        scalable = out / "scalable" / "apps"
        scalable.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(svg_path, scalable / f"{NAME}.svg")
    source = svg_path.name if svg else png_path.name if png else "a drawn fallback"
    print(f"icons: {len(SIZES)} PNG sizes from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
