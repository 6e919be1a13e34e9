"""Draws a recording's upload progress as a progress bar in the recordings table."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

from gui.models.recordings import PROGRESS_ROLE


def bar_text(index: QModelIndex | QPersistentModelIndex) -> str:
    """The text on a cell's bar: the cell's own (stored/written slices once the server's
    figures came: a percentage alone rounds 5 of 6 slices to 83 %), else the percentage."""
    shown = index.data()
    return str(shown) if shown else f"{int(index.data(PROGRESS_ROLE))}%"


class ProgressBarDelegate(QStyledItemDelegate):
    """Paints the ``PROGRESS_ROLE`` percentage of a cell as the style's progress bar."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        progress = index.data(PROGRESS_ROLE)
        if progress is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = int(progress)
        bar.text = bar_text(index)
        bar.textVisible = True
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)
