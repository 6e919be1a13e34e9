"""The yellow banner that says secrets are kept for this session only."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel, QWidget

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate

BANNER_STYLE = "background: #fff4ce; color: #3b2f00; padding: 6px; border: 1px solid #e0c36a;"


class KeyringBanner(QLabel):
    """Hidden until the keyring is found unusable (see ``KeyringStore.on_availability``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            translate(
                "MainWindow",
                "No usable OS keyring was found: storage secrets are kept for this session "
                "only and must be entered again next time.",
            ),
            parent,
        )
        self.setObjectName("keyring_banner")
        self.setStyleSheet(BANNER_STYLE)
        self.setWordWrap(True)
        self.setVisible(False)

    def show_availability(self, persistent: bool) -> None:
        """Show the banner when secrets cannot reach an OS keyring."""
        self.setVisible(not persistent)
