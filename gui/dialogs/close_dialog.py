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

    def __init__(
        self, active: int, parent: QWidget | None = None, *, demo_running: bool = False
    ) -> None:
        super().__init__(parent)
        self.setObjectName("close_dialog")
        self.setIcon(QMessageBox.Icon.Question)
        self.setWindowTitle(self.tr("Recordings are running"))
        # whole sentences for one and for more (issue 28, item 14: "1 recording(s)")
        self.setText(
            self.tr("A recording is still running.")
            if active == 1
            else self.tr("{0} recordings are still running.").format(active)
        )
        question = (
            self.tr(
                "Stop it now, or keep it recording and uploading in the background "
                "(the window reattaches to it next time)?"
            )
            if active == 1
            else self.tr(
                "Stop them now, or keep them recording and uploading in the background "
                "(the window reattaches to them next time)?"
            )
        )
        if demo_running:  # the bots are the window's child process: they go with it
            question += " " + self.tr(
                "The demo participants stop when the window closes, either way."
            )
        self.setInformativeText(question)
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
