"""Uncaught exceptions end in an error dialog, never in a silent log line.

:func:`install` replaces ``sys.excepthook`` (which ``gui.tasks`` calls for a failed
slot coroutine or spawned task) and the loop's exception handler (for other tasks). The
dialog is opened without blocking; the full traceback is in its details.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)


def show_exception(parent: QWidget | None, exc: BaseException) -> QMessageBox:
    """Open (non-blocking) a dialog describing ``exc``; returns the dialog."""
    box = QMessageBox(parent)
    box.setObjectName("crash_dialog")
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(QCoreApplication.translate("crash", "Unexpected error"))
    box.setText(
        QCoreApplication.translate("crash", "Something went wrong: {0}").format(
            str(exc) or type(exc).__name__
        )
    )
    box.setDetailedText("".join(traceback.format_exception(exc)))
    box.open()
    return box


def install(parent: Callable[[], QWidget | None], loop: asyncio.AbstractEventLoop) -> None:
    """Route uncaught exceptions of the GUI thread and of loop tasks to a dialog."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("uncaught exception", exc_info=(kind, exc, tb))
        if isinstance(exc, KeyboardInterrupt):
            QCoreApplication.quit()
            return
        show_exception(parent(), exc)

    def loop_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if exc is None:
            loop.default_exception_handler(context)
            return
        hook(type(exc), exc, exc.__traceback__)

    sys.excepthook = hook
    loop.set_exception_handler(loop_handler)
