"""The event log: every SDK callback, server and demo participants output, time-stamped.

Its context menu adds Clear log and Save log as… (plain text, UTF-8) to the standard
Copy and Select All.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction, QContextMenuEvent
from PySide6.QtWidgets import QFileDialog, QPlainTextEdit, QWidget

from gui.dialogs.ask import ask
from gui.tasks import async_slot

ERROR_COLOUR = "#b3261e"
MAX_LINES = 5000
"""Lines kept: a day of events without the log growing without bound."""


class EventLog(QPlainTextEdit):
    """A read-only log; failures in red."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("event_log")
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.clear_action = QAction(self.tr("Clear log"), self)
        self.clear_action.triggered.connect(self.clear)
        self.save_action = QAction(self.tr("Save log as…"), self)
        self.save_action.triggered.connect(self.on_save)

    def log(self, text: str, error: bool = False) -> None:
        """Append ``text`` with the time; ``error`` shows it in red."""
        line = html.escape(f"{time.strftime('%H:%M:%S')}  {text}")
        self.appendHtml(f'<span style="color:{ERROR_COLOUR}">{line}</span>' if error else line)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.createStandardContextMenu()
        menu.addSeparator()
        menu.addAction(self.clear_action)
        menu.addAction(self.save_action)
        menu.popup(event.globalPos())

    def save_to(self, path: Path) -> None:
        """Write the log's lines to ``path`` (UTF-8, one event a line)."""
        path.write_text(self.toPlainText() + "\n", encoding="utf-8")

    @async_slot()
    async def on_save(self) -> None:
        """Ask where, then save; a failure is logged as one."""
        path = await choose_log_file(self)
        if path is None:
            return
        try:
            self.save_to(path)
        except OSError as exc:
            self.log(self.tr("Could not save the event log to {0}: {1}").format(path, exc), True)
        else:
            self.log(self.tr("Event log saved to {0}").format(path))


async def choose_log_file(parent: QWidget) -> Path | None:
    """The file the operator chose to save the log to, None when cancelled."""
    dialog = QFileDialog(parent, QCoreApplication.translate("EventLog", "Save the event log"))
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setNameFilter(QCoreApplication.translate("EventLog", "Text files (*.txt)"))
    dialog.setDefaultSuffix("txt")
    dialog.selectFile(time.strftime("cloudrec-events-%Y%m%d-%H%M%S.txt"))
    if await ask(dialog) != QFileDialog.DialogCode.Accepted or not dialog.selectedFiles():
        return None
    return Path(dialog.selectedFiles()[0])
