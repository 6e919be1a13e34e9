"""The About box: what cloudrec is and where its settings are."""

from __future__ import annotations

import html

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate


def show_about(parent: QWidget, settings_file: str) -> QMessageBox:
    """Open the About box without blocking; returns it."""
    box = QMessageBox(parent)
    box.setWindowTitle(translate("MainWindow", "About cloudrec"))
    box.setText(
        translate(
            "MainWindow",
            "<b>cloudrec</b><br>Cloud recording of real-time audio/video channels.<br>"
            "Settings: {0}",
        ).format(html.escape(settings_file))
    )
    box.open()
    return box
