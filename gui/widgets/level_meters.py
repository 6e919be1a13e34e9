"""Audio meters of the recorded users, one row each: uid, a bar, the level in dB.

The bar is drawn as a mixing desk's or OBS Studio's: -60 dBFS (``METER_FLOOR``) empty,
0 dBFS full, green up to -18 dBFS, yellow up to -6 dBFS, red above, over an unlit track
in the same zones. The rows' text (:func:`level_line`) is the
widget's :meth:`text` and accessible description, so a screen reader (and a test) reads
what the bars show.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontDatabase, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

METER_FLOOR = -60.0
"""dBFS at which a user's meter shows nothing; 0 dBFS fills it."""
ZONES = ((-18.0, QColor(46, 160, 67)), (-6.0, QColor(227, 179, 65)), (0.0, QColor(218, 54, 51)))
"""(upper dBFS, colour) of the meter's zones, from the floor up."""
ROW_HEIGHT = 16
METER_CELLS = 20
"""Cells of a meter in its text form (:func:`level_line`)."""


def fill_fraction(db: float) -> float:
    """How much of the bar ``db`` dBFS fills (0 at the floor and below, 1 at 0 dBFS)."""
    return min(1.0, max(0.0, (db - METER_FLOOR) / -METER_FLOOR))


def level_text(db: float) -> str:
    """The level as the meter writes it beside the bar: ``-12 dB``, ``–`` for silence."""
    return "–" if db <= METER_FLOOR else f"{db:.0f} dB"


def level_line(uid: int, db: float) -> str:
    """One user's meter as text, e.g. ``1001  ██████████░░░░░░░░░░  -30 dB``."""
    filled = round(METER_CELLS * fill_fraction(db))
    bar = "\u2588" * filled + "\u2591" * (METER_CELLS - filled)
    return f"{uid:>10}  {bar}  {level_text(db)}"


class LevelMeters(QWidget):
    """The meters of one recording's users, in the server's order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("live_levels")
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._levels: list[tuple[int, float]] = []

    def set_levels(self, levels: dict[int, float]) -> None:
        """Show ``levels`` (uid → dBFS now)."""
        self._levels = list(levels.items())
        self.setAccessibleDescription(self.text())
        self.updateGeometry()
        self.update()

    def text(self) -> str:
        """One line per user, as the bars show them (``1001 ██████░░░░ -30 dB``)."""
        return "\n".join(level_line(uid, db) for uid, db in self._levels)

    def sizeHint(self) -> QSize:
        return QSize(320, ROW_HEIGHT * len(self._levels) + 2)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, ROW_HEIGHT * len(self._levels) + 2)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        label_width = metrics.horizontalAdvance("0000000000")
        value_width = metrics.horizontalAdvance("-60 dB ")
        left = label_width + 8
        width = max(20, self.width() - left - value_width - 8)
        for row, (uid, db) in enumerate(self._levels):
            top = row * ROW_HEIGHT + 1
            align = Qt.AlignmentFlag.AlignVCenter
            painter.drawText(
                QRectF(0, top, label_width, ROW_HEIGHT - 2), align | Qt.AlignmentFlag.AlignRight,
                str(uid),
            )  # fmt: skip
            lit = width * fill_fraction(db)
            start = METER_FLOOR
            for upper, colour in ZONES:
                x0 = left + width * fill_fraction(start)
                x1 = left + width * fill_fraction(upper)
                bar = QRectF(x0, top + 3, x1 - x0, ROW_HEIGHT - 8)
                painter.fillRect(bar, colour.darker(300))  # the unlit track
                shown = min(x1, left + lit) - x0
                if shown > 0:
                    painter.fillRect(QRectF(x0, top + 3, shown, ROW_HEIGHT - 8), colour)
                start = upper
            painter.drawText(
                QRectF(left + width + 8, top, value_width, ROW_HEIGHT - 2), align,
                level_text(db),
            )  # fmt: skip
        painter.end()
