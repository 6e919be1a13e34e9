"""Asked when the window closes with active recordings."""

from __future__ import annotations

from enum import Enum

from PySide6.QtWidgets import QMessageBox, QWidget


class CloseChoice(Enum):
    STOP = "stop"  # stop every recording, then quit
    BACKGROUND = "background"  # release(cancel=False): keep recording, server keeps running
    CANCEL = "cancel"  # do not close


class CloseDialog(QMessageBox):
    """Stop the recordings, keep them recording in the background, or cancel."""

    def __init__(self, active: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("close_dialog")
        self.setIcon(QMessageBox.Icon.Question)
        self.setWindowTitle(self.tr("Recordings are running"))
        self.setText(self.tr("%n recording(s) are still running.", "", active))
        self.setInformativeText(
            self.tr(
                "Stop them now, or keep them recording and uploading in the background "
                "(the window reattaches to them next time)?"
            )
        )
        self.choice = CloseChoice.CANCEL
        stop = self.addButton(self.tr("Stop recordings"), QMessageBox.ButtonRole.DestructiveRole)
        keep = self.addButton(
            self.tr("Keep recording in background"), QMessageBox.ButtonRole.AcceptRole
        )
        cancel = self.addButton(QMessageBox.StandardButton.Cancel)
        stop.setObjectName("close_stop")
        keep.setObjectName("close_background")
        stop.clicked.connect(lambda: self._set(CloseChoice.STOP))
        keep.clicked.connect(lambda: self._set(CloseChoice.BACKGROUND))
        cancel.clicked.connect(lambda: self._set(CloseChoice.CANCEL))
        self.setDefaultButton(keep)

    def _set(self, choice: CloseChoice) -> None:
        self.choice = choice
