"""Fire-and-forget tasks: kept until done, failures to the error dialog's hook."""

from __future__ import annotations

import sys
from types import TracebackType

import pytest
from PySide6.QtCore import QObject, Signal

from gui import tasks
from tests.helpers import wait_until


async def test_a_failing_task_reaches_the_excepthook(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[BaseException] = []

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        seen.append(exc)

    monkeypatch.setattr(sys, "excepthook", hook)

    async def fail() -> None:
        raise RuntimeError("lost")

    before = tasks.running()
    task = tasks.spawn(fail())
    assert tasks.running() == before + 1  # held until done
    await wait_until(task.done)
    await wait_until(lambda: bool(seen))
    assert isinstance(seen[0], RuntimeError) and str(seen[0]) == "lost"
    assert tasks.running() == before


class _Emitter(QObject):
    triggered = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    @tasks.async_slot()
    async def on_triggered(self) -> int:
        self.calls += 1
        return self.calls


async def test_an_async_slot_drops_signal_arguments_it_does_not_take() -> None:
    emitter = _Emitter()
    emitter.triggered.connect(emitter.on_triggered)
    emitter.triggered.emit(True)  # like QAction.triggered(checked)
    await wait_until(lambda: emitter.calls == 1)
    assert await emitter.on_triggered() == 2  # called directly it returns its task


async def test_a_question_whose_window_closes_ends_quietly() -> None:
    """``ask`` awaits a window-modal dialog; when the window shuts down while it asks, the
    dialog is deleted with it and the cancelled question ends without an error of its own
    (CI once saw "Signal source has been deleted" raised from the asking slot)."""
    import asyncio

    import shiboken6
    from PySide6.QtWidgets import QDialog, QWidget

    from gui.dialogs.ask import ask

    window = QWidget()
    dialog = QDialog(window)
    question = asyncio.ensure_future(ask(dialog))
    await wait_until(dialog.isVisible)
    shiboken6.delete(window)  # the window and its dialog go
    assert not shiboken6.isValid(dialog)
    question.cancel()
    with pytest.raises(asyncio.CancelledError):
        await question


async def test_a_question_is_answered_by_the_dialog() -> None:
    import asyncio

    from PySide6.QtWidgets import QDialog

    from gui.dialogs.ask import ask

    dialog = QDialog()
    question = asyncio.ensure_future(ask(dialog))
    await wait_until(dialog.isVisible)
    dialog.accept()
    assert await question == QDialog.DialogCode.Accepted
    assert not dialog.isVisible()
