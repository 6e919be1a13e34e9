"""Guards against a broken Qt binding: PySide6 6.12.0's ``SignalInstance.emit`` returned
``True`` without a new reference, so every emit from Python dropped one reference to
``True`` and long sessions crashed the interpreter ("bool_dealloc"). pyproject excludes
that release; this test fails on any binding with the same fault."""

from __future__ import annotations

import gc
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    changed = Signal(int)


def test_emitting_signals_keeps_the_reference_count_of_true(qapp: Any) -> None:
    emitter = _Emitter()
    received: list[int] = []
    emitter.changed.connect(received.append)
    gc.collect()
    before = sys.getrefcount(True)
    for i in range(200):
        emitter.changed.emit(i)
    gc.collect()
    assert len(received) == 200
    assert sys.getrefcount(True) >= before - 5  # a little noise from other objects, never 200
