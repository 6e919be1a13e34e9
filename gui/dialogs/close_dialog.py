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
        self,
        active: int,
        parent: QWidget | None = None,
        *,
        demo_running: bool = False,
        can_keep: bool = True,
    ) -> None:
        """``can_keep``: whether the next window can reattach to recordings kept running
        (it needs the server's token from the OS keyring); without, only Stop and
        Cancel are offered and the dialog says why (issue 28, item 2)."""
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
        if not can_keep:
            question = self.tr(
                "Closing the window stops the recordings. Keeping them recording in the "
                "background needs an OS keyring, where the next window finds the "
                "recording server's key, and this computer has none."
            )
        elif active == 1:
            question = self.tr(
                "Stop it now, or keep it recording and uploading in the background "
                "(the window reattaches to it next time)?"
            )
        else:
            question = self.tr(
                "Stop them now, or keep them recording and uploading in the background "
                "(the window reattaches to them next time)?"
            )
        if demo_running:  # the bots are the window's child process: they go with it
            question += " " + self.tr(
                "The demo participants stop when the window closes, either way."
            )
        self.setInformativeText(question)
        self.choice = CloseChoice.CANCEL
        stop = self.addButton(self.tr("Stop recordings"), QMessageBox.ButtonRole.DestructiveRole)
        stop.setObjectName("close_stop")
        stop.clicked.connect(lambda: self._set(CloseChoice.STOP))
        cancel = self.addButton(QMessageBox.StandardButton.Cancel)
        cancel.clicked.connect(lambda: self._set(CloseChoice.CANCEL))
        self.setDefaultButton(cancel)
        if can_keep:
            keep = self.addButton(
                self.tr("Keep recording in background"), QMessageBox.ButtonRole.AcceptRole
            )
            keep.setObjectName("close_background")
            keep.clicked.connect(lambda: self._set(CloseChoice.BACKGROUND))
            self.setDefaultButton(keep)

    def _set(self, choice: CloseChoice) -> None:
        self.choice = choice
