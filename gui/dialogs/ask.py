"""Open a dialog and await its answer without a nested event loop.

``QDialog.exec()`` inside a coroutine would spin a second event loop under the
running asyncio task; instead the dialog is opened window-modal and its ``finished``
signal resolves a future.
"""

from __future__ import annotations

import asyncio

import shiboken6
from PySide6.QtWidgets import QDialog


async def ask(dialog: QDialog) -> int:
    """Show ``dialog`` and return its result code once it is closed."""
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def done(result: int) -> None:
        if not future.done():
            future.set_result(result)

    dialog.finished.connect(done)
    dialog.open()
    try:
        return await future
    finally:
        # A dialog closed with its parent window (the window shut down while asking)
        # is already deleted, and its signal with it.
        if shiboken6.isValid(dialog):
            dialog.finished.disconnect(done)
