"""The window's embedded local server: :class:`core.sdk.embedded.EmbeddedServer`
with the state the status bar shows, a log file, and its own session.

The process handling (token in the environment, ready file, SIGTERM then kill,
detach) is core's; this adds :class:`ServerState` and keeps the server's stderr in a
log file for diagnosis. It runs in its own session, so closing the terminal that
started the window does not end a server left recording in the background. The window
starts it with the folders and S3 hosts its user chose as the server's storage roots
and allowed endpoints (docs/security.md, "Confinement"), and with a lease
(:data:`LEASE_SECONDS`) that the window renews on its health timer: once the window is
gone and nothing records, the server exits by itself (docs/gui.md). The webhook
endpoints of the settings reach it through its environment, as its token does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from core.sdk.embedded import TOKEN_ENV, EmbeddedServerError
from core.sdk.embedded import EmbeddedServer as _ServerProcess
from core.server.webhook_config import WEBHOOKS_ENV

__all__ = [
    "TOKEN_ENV",
    "EmbeddedServer",
    "EmbeddedServerError",
    "ServerState",
    "process_alive",
    "reachable",
]

_T = TypeVar("_T")

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
LEASE_SECONDS = 60.0
"""The window's server exits this long after the window's last lease renewal once
nothing records (``cloudrec server --lease``): a killed window leaves no server behind."""


class ServerState(Enum):
    """What the window knows about its server."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    UNREACHABLE = "unreachable"
    FAILED = "failed"
    DETACHED = "detached"


class EmbeddedServer(_ServerProcess):
    """The window's server process: start, stop, or leave running, with its state."""

    def __init__(
        self,
        log_file: Path,
        *,
        extra_args: tuple[str, ...] = (),
        ready_timeout: float = READY_TIMEOUT,
        storage_roots: Iterable[Path | str] = (),
        allowed_endpoints: Iterable[str] = (),
        lease: float = LEASE_SECONDS,
    ) -> None:
        super().__init__(
            log_file=log_file,
            lease=lease,
            extra_args=extra_args,
            own_session=True,
            start_timeout=ready_timeout,
            storage_roots=storage_roots,
            allowed_endpoints=allowed_endpoints,
        )
        self.state = ServerState.STOPPED

    async def start(
        self,
        *,
        storage_roots: Iterable[Path | str] = (),
        allowed_endpoints: Iterable[str] = (),
        webhooks: str | None = None,
    ) -> str:
        """Start the server and return its URL once it accepts connections.

        ``storage_roots`` and ``allowed_endpoints`` are added, for this launch, to those
        given at construction: the folders and hosts the window's user chose
        (:func:`gui.server_connection.user_grants`). ``webhooks``: the endpoints with
        their secrets (``CLOUDREC_WEBHOOKS``, :func:`gui.webhooks.server_environment`),
        put in the child's environment only, with ``--webhooks-from-env``."""
        base_roots, base_endpoints = self.storage_roots, self.allowed_endpoints
        base_args, base_env = self.extra_args, self.environment
        self.storage_roots = _unique((*base_roots, *(Path(r) for r in storage_roots)))
        self.allowed_endpoints = _unique((*base_endpoints, *allowed_endpoints))
        if webhooks is not None:
            self.extra_args = (*base_args, "--webhooks-from-env")
            self.environment = {**base_env, WEBHOOKS_ENV: webhooks}
        self.state = ServerState.STARTING
        try:
            url = await super().start()
        except BaseException:
            if self.state is not ServerState.STOPPED:
                self.state = ServerState.FAILED
            raise
        finally:
            self.storage_roots, self.allowed_endpoints = base_roots, base_endpoints
            self.extra_args, self.environment = base_args, base_env
        self.state = ServerState.RUNNING
        return url

    async def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """End the server cleanly (SIGTERM), killing it if it does not exit in time."""
        code = await super().stop(timeout)
        self.state = ServerState.STOPPED
        return code

    def detach(self) -> None:
        """Leave the server running (recordings continue) and forget the process."""
        super().detach()
        self.state = ServerState.DETACHED


def _unique(items: tuple[_T, ...]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys(items))


async def reachable(url: str, wait: float = 2.0) -> bool:
    """True when something accepts TCP connections at ``url``'s host and port."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(wait):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def process_alive(pid: int) -> bool:
    """True when a process with ``pid`` exists (used to reattach to a background server)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
