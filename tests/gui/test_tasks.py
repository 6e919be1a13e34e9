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
