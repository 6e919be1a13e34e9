"""The one door for fire-and-forget coroutines of the window.

asyncio holds only a weak reference to a running task, so a task that nobody keeps
may be collected before it ends, and an exception that nobody retrieves ends as a
log line at best. :func:`spawn` keeps every task until it is done and hands an
uncaught exception to ``sys.excepthook``: in the app that is the crash dialog
(``gui/dialogs/crash.py``), under pytest-qt a failed test. :func:`async_slot` makes
a coroutine method a Qt slot that spawns it, in place of qasync's ``asyncSlot``
(which neither keeps its task nor carries types for mypy).
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, ParamSpec, TypeVar, cast

from PySide6.QtCore import Slot

P = ParamSpec("P")
T = TypeVar("T")

_running: set[asyncio.Task[Any]] = set()


def spawn(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Run ``coro`` on the loop without awaiting it; its failure opens the error dialog."""
    task = asyncio.ensure_future(coro)
    _running.add(task)
    task.add_done_callback(_finished)
    return task


def _finished(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        sys.excepthook(type(exc), exc, exc.__traceback__)


def running() -> int:
    """How many spawned tasks have not finished yet."""
    return len(_running)


def async_slot(
    *types: type,
) -> Callable[[Callable[P, Coroutine[Any, Any, T]]], Callable[P, asyncio.Task[T]]]:
    """Decorate a coroutine function as a Qt slot of ``types`` that spawns it.

    The decorated function returns its task, so a caller (a test) may await it. Qt
    passes a signal's arguments even when the slot takes fewer (``triggered`` sends
    ``checked``): trailing ones the function cannot take are dropped, as qasync does.
    """

    def decorate(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, asyncio.Task[T]]:
        signature = inspect.signature(fn)
        call = cast(Callable[..., Coroutine[Any, Any, T]], fn)  # called with fewer arguments

        @wraps(fn)
        def slot(*args: P.args, **kwargs: P.kwargs) -> asyncio.Task[T]:
            given: list[Any] = list(args)
            while True:
                try:
                    signature.bind(*given, **kwargs)
                except TypeError:
                    if not given:
                        raise
                    given.pop()
                    continue
                return spawn(call(*given, **kwargs))

        qt_slot: Callable[P, asyncio.Task[T]] = Slot(*types)(slot)
        return qt_slot

    return decorate
