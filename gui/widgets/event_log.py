"""The event log: every SDK callback, server and demo participants output, time-stamped."""

from __future__ import annotations

import html
import time

from PySide6.QtWidgets import QPlainTextEdit, QWidget

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

    def log(self, text: str, error: bool = False) -> None:
        """Append ``text`` with the time; ``error`` shows it in red."""
        line = html.escape(f"{time.strftime('%H:%M:%S')}  {text}")
        self.appendHtml(f'<span style="color:{ERROR_COLOUR}">{line}</span>' if error else line)
