"""Asks which channel the demo participants (``cloudrec bots``) join, and how many."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)


class DemoDialog(QDialog):
    """Channel name and number of synthetic participants."""

    def __init__(self, channel: str, users: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("demo_dialog")
        self.setWindowTitle(self.tr("Start demo participants"))
        form = QFormLayout(self)
        self.channel = QLineEdit(channel)
        self.users = QSpinBox()
        self.users.setRange(1, 16)
        self.users.setValue(users)
        form.addRow(self.tr("Channel"), self.channel)
        form.addRow(self.tr("Participants"), self.users)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
