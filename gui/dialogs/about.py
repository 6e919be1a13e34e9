"""The About box: what cloudrec is, its version, where its settings are, and where the
recording server's API reference is (its ``/docs`` page, served offline)."""

from __future__ import annotations

import html
from importlib.metadata import PackageNotFoundError, version

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate


def cloudrec_version() -> str:
    """The installed distribution's version (the packages carry its metadata too)."""
    try:
        return version("cloudrec")
    except PackageNotFoundError:
        return translate("MainWindow", "unknown")


def show_about(parent: QWidget, settings_file: str, server_url: str | None = None) -> QMessageBox:
    """Open the About box without blocking; returns it."""
    box = QMessageBox(parent)
    box.setObjectName("about_box")
    box.setWindowTitle(translate("MainWindow", "About cloudrec"))
    box.setTextFormat(Qt.TextFormat.RichText)
    text = translate(
        "MainWindow",
        "<b>cloudrec {0}</b><br>Cloud recording of real-time audio/video channels.<br>"
        "Settings: {1}",
    ).format(html.escape(cloudrec_version()), html.escape(settings_file))
    if server_url:
        docs = html.escape(f"{server_url.rstrip('/')}/docs")
        text += "<br>" + translate(
            "MainWindow", 'The recording server\'s API reference: <a href="{0}">{0}</a>'
        ).format(docs)
    box.setText(text)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    box.open()
    return box
