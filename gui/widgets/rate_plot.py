"""A small plot of a recording's last minutes: output rate and upload backlog.

Two lines over the same time axis, each scaled to its own largest value (written at
the top left in its colour): the output rate in kb/s (what the recorder writes) and
the upload backlog in slices (written, not yet stored). A backlog that keeps rising
is a storage that does not keep up; a rate that falls to 0 is a recorder that
stopped writing.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate

PLOT_SECONDS = 300.0
"""Seconds of history the plot spans (the newest at the right edge)."""
RATE_COLOUR = QColor(30, 110, 200)
BACKLOG_COLOUR = QColor(215, 120, 20)

Sample = tuple[float, float, int]
"""(monotonic seconds, output kb/s, backlog slices)."""


class RatePlot(QWidget):
    """Output rate and upload backlog over the last :data:`PLOT_SECONDS`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(70)
        self.samples: tuple[Sample, ...] = ()
        self.setToolTip(
            translate(
                "MainWindow",
                "The last minutes: output rate (kb/s, blue) and upload backlog "
                "(slices written, not yet stored, orange), each scaled to its largest value.",
            )
        )

    def set_samples(self, samples: Sequence[Sample]) -> None:
        self.samples = tuple(samples)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        painter.setPen(QPen(self.palette().mid().color()))
        painter.drawRect(area)
        if len(self.samples) < 2:
            return
        newest = self.samples[-1][0]
        top_rate = max(1.0, max(s[1] for s in self.samples))
        top_backlog = max(1, max(s[2] for s in self.samples))
        for colour, top, column in (
            (RATE_COLOUR, top_rate, 1),
            (BACKLOG_COLOUR, float(top_backlog), 2),
        ):
            points = QPolygonF(
                [
                    QPointF(
                        area.right() - (newest - s[0]) / PLOT_SECONDS * area.width(),
                        area.bottom() - float(s[column]) / top * (area.height() - 4),
                    )
                    for s in self.samples
                ]
            )
            painter.setPen(QPen(colour, 1.5))
            painter.drawPolyline(points)
        painter.setPen(RATE_COLOUR)
        text_at = area.adjusted(4, 2, -4, -2)
        painter.drawText(
            text_at,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            translate("MainWindow", "{0} kb/s").format(round(top_rate)),
        )
        painter.setPen(BACKLOG_COLOUR)
        painter.drawText(
            text_at,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
            translate("MainWindow", "backlog {0}").format(top_backlog),
        )
