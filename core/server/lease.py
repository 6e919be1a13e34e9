"""The lease of a server that a window started (``cloudrec server --lease SECONDS``).

A window's embedded server must not outlive the window when nothing records: a window
that is killed (SIGKILL, a crash, a session's timeout) never stops it. So the window
renews a lease (``POST /v1/cloudrec/lease``, with the server's token) on its health
timer, and :func:`watch` ends the server cleanly, as SIGTERM does (recordings closed,
uploads flushed, state closed), once no renewal came for ``SECONDS`` and no recording
is active or uploading. A recording the window left running in the background keeps
the server alive past the lease; it exits once every recording has finished. A window
that reattaches renews the lease again.

The lease starts when the server starts: a window that dies before its first renewal
is covered too. Without ``--lease`` the server runs until it is stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request

from core.server.recording_api import authorize, require_operator

log = logging.getLogger(__name__)

CHECK_INTERVAL = 0.5
"""At most this many seconds between two looks at the lease and the recordings."""


class Lease:
    """When the lease was last renewed, and whether it has lapsed."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if seconds <= 0:
            raise ValueError("a lease lasts a positive number of seconds")
        self.seconds = seconds
        self._clock = clock
        self.renewed_at = clock()

    def renew(self) -> None:
        self.renewed_at = self._clock()

    def remaining(self) -> float:
        """Seconds until the lease lapses (0 once it has)."""
        return max(0.0, self.renewed_at + self.seconds - self._clock())


router = APIRouter(prefix="/v1/cloudrec", dependencies=[Depends(authorize)], tags=["cloudrec"])


@router.post("/lease")
async def renew_lease(request: Request) -> dict[str, Any]:
    """Renew the lease of a server started with ``--lease`` (extension).

    Answers ``{"ok": true, "leaseSeconds": N}``; a server without a lease answers
    ``{"ok": true, "leaseSeconds": null}`` (nothing to renew: it runs until stopped)."""
    require_operator(request, "renew the server's lease")
    lease: Lease | None = getattr(request.app.state, "lease", None)
    if lease is None:
        return {"ok": True, "leaseSeconds": None}
    lease.renew()
    return {"ok": True, "leaseSeconds": lease.seconds}


def install(app: FastAPI, seconds: float | None) -> None:
    """Add the lease route; with ``seconds``, give the app a :class:`Lease`."""
    app.state.lease = Lease(seconds) if seconds else None
    app.include_router(router)


def busy(app: FastAPI) -> int:
    """How many recordings are active or uploading (not finished)."""
    return sum(1 for s in app.state.recordings.sessions() if not s.finished)


async def watch(app: FastAPI, shutdown: Callable[[], None]) -> None:
    """Call ``shutdown`` once the app's lease has lapsed and nothing records or uploads;
    returns at once for an app without a lease."""
    lease: Lease | None = getattr(app.state, "lease", None)
    if lease is None:
        return
    while True:
        remaining = lease.remaining()
        if remaining <= 0 and busy(app) == 0:
            log.warning(
                "no lease renewal for %.0f s and nothing recording: stopping", lease.seconds
            )
            shutdown()
            return
        await asyncio.sleep(min(CHECK_INTERVAL, remaining) if remaining > 0 else CHECK_INTERVAL)
