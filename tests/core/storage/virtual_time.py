"""An event loop on a clock the test controls: waits of seconds or minutes take no time.

:func:`run_virtual` runs a coroutine on a :class:`VirtualClockLoop`, whose ``time()`` is
a virtual clock that starts at 0 and moves only when the loop has nothing to do but
wait for its next timer: then it jumps straight to that timer. Work still runs for
real (files, SQLite, sockets, worker threads); it just takes no virtual time. So a
retry schedule of 1, 2, 4 ... 30 s, a 5 s grace period or a 60 s socket timeout is
measured exactly, in virtual seconds, in a few milliseconds of real time.

The clock never jumps while real work is pending: while a worker thread of the loop
(``asyncio.to_thread``) runs, the loop waits for it for real, and while sockets are
open it first gives them :data:`REAL_GRACE` real seconds to become ready. What it models: a fast
machine on which every wait is exactly as long as the code asked for.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

REAL_GRACE = 1.0
"""Real seconds the loop gives open sockets to become ready before jumping to its next
timer (a local store answers in milliseconds; a wait that long means it never will)."""

STUCK_AFTER = 30.0
"""Real seconds with no timer and no I/O after which the run fails (it would hang)."""


class _JumpingSelector(selectors.BaseSelector):
    """The default selector, except that an idle wait for a timer moves the clock instead."""

    def __init__(self, loop: VirtualClockLoop) -> None:
        self._inner = selectors.DefaultSelector()
        self._loop = loop

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._inner.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None or self._loop.threads_busy:
            # No timer, or a worker thread still runs: wait for real (the thread's end
            # wakes the loop through its self-pipe).
            ready = self._inner.select(STUCK_AFTER)
            if not ready and timeout is None:
                raise RuntimeError(f"nothing happened for {STUCK_AFTER} s and no timer is due")
            return ready
        if len(self._inner.get_map()) > 1:  # sockets besides the loop's own wake-up pipe
            ready = self._inner.select(min(timeout, REAL_GRACE))
        if not ready:
            self._loop.advance(timeout)
        return ready


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose ``time()`` is virtual (see the module docstring)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.threads_busy = 0
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def run_in_executor(self, executor: Any, func: Callable[..., T], *args: Any) -> Any:
        future = super().run_in_executor(executor, func, *args)
        self.threads_busy += 1
        future.add_done_callback(self._thread_done)
        return future

    def _thread_done(self, _: object) -> None:
        self.threads_busy -= 1


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a fresh :class:`VirtualClockLoop`, then close it."""
    loop = VirtualClockLoop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
