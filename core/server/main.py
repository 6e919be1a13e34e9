"""The server process: listen, serve until SIGINT/SIGTERM, then stop cleanly.

:func:`serve` prints ``cloudrec server listening on http://HOST:PORT`` once it
accepts connections, then ``admin token: TOKEN`` when it generated the token (one
given to it, e.g. in ``CLOUDREC_SERVER_TOKEN``, is never printed: ``admin token: (from
CLOUDREC_SERVER_TOKEN, not shown)``), and with ``ready_file`` also writes ``{"url":
..., "pid": ...}`` (never the token) there, so a parent that asked for a random port
(port 0) can find it. ``cloudrec server`` (:mod:`core.commands.server`)
parses the options into :class:`~core.server.app.ServerSettings` and calls it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import uvicorn

from core.server import datalock, lease
from core.server.app import ServerSettings, create_app
from core.server.limits import http_protocol


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/cloudrec`` (``~/.local/share/cloudrec``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cloudrec"


def serve(settings: ServerSettings, *, ready_file: Path | None, log_level: str) -> int:
    """Run the server until SIGINT/SIGTERM; 0 on a clean stop, 1 when it cannot listen."""
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        datalock.check_free(settings.data_dir)
    except (datalock.DataFolderInUse, OSError) as exc:
        print(f"cloudrec server: {exc}", file=sys.stderr)
        return 1
    try:
        sock = _bind(settings.host, settings.port)
    except OSError as exc:
        where = f"{settings.host}:{settings.port}"
        print(f"cloudrec server: cannot listen on {where}: {exc}", file=sys.stderr)
        return 1
    try:
        return asyncio.run(_serve(settings, sock, ready_file, log_level))
    finally:
        if ready_file is not None:
            ready_file.unlink(missing_ok=True)


class _Server(uvicorn.Server):
    """uvicorn's server, stopping on SIGINT/SIGTERM without re-raising the signal
    afterwards (uvicorn's default), so ``run`` returns 0 after a clean shutdown."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            self.ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def stop(signum: int, frame: FrameType | None) -> None:
            if self.should_exit and signum == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def _serve(
    settings: ServerSettings, sock: socket.socket, ready_file: Path | None, log_level: str
) -> int:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="on",
        timeout_graceful_shutdown=5,
        http=http_protocol(settings.request_timeout),  # a deadline on each request's headers
    )
    server = _Server(config)
    app.state.request_shutdown = lambda: setattr(server, "should_exit", True)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    ready = asyncio.create_task(server.ready.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    watching: asyncio.Task[None] | None = None
    if server.ready.is_set():
        watching = asyncio.create_task(lease.watch(app, app.state.request_shutdown))
        url = _url(sock)
        print(f"cloudrec server listening on {url}", flush=True)
        print(f"admin token: {_shown_token(settings)}", flush=True)
        if settings.own_customer is not None:
            print(f"REST customer (Basic auth): {_shown_customer(settings)}", flush=True)
        if ready_file is not None:
            await asyncio.to_thread(_write_ready_file, ready_file, url)
    try:
        await task
    finally:
        if watching is not None:
            watching.cancel()
        sock.close()
    return 0 if server.ready.is_set() else 1


def _shown_token(settings: ServerSettings) -> str:
    """The token itself when the server generated it (nobody else knows it); otherwise
    only where it came from: whoever gave it knows it, and output is often logged."""
    if settings.token_source:
        return f"(from {settings.token_source}, not shown)"
    return settings.token


def _shown_customer(settings: ServerSettings) -> str:
    """The server's own customer: ID and secret the one time it was just made (nobody
    else knows the secret, and only its hash is kept); the ID alone after that."""
    made = settings.own_customer
    assert made is not None
    if made.new_secret is not None:
        return (
            f"{made.customer_id}:{made.new_secret} (customer ID:secret, shown this once; "
            "the server keeps only a hash of the secret)"
        )
    return f"{made.customer_id} (its secret was shown when it was made)"


def _write_ready_file(path: Path, url: str) -> None:
    """Write atomically, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    tmp.replace(path)
