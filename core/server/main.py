"""``cloudrec server``: run the server in this process until SIGINT/SIGTERM.

Prints ``cloudrec server listening on http://HOST:PORT`` and ``admin token: TOKEN``
once it accepts connections, and with ``--ready-file PATH`` also writes
``{"url": ..., "pid": ...}`` (never the token) there, so a parent that asked for a
random port (``--port 0``) can find it.
"""

from __future__ import annotations

import argparse
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

from core.channel.apps import parse_app_specs
from core.errors import CloudRecordingError
from core.server.app import DEFAULT_HOST, ServerSettings, create_app, new_token

TOKEN_ENV = "CLOUDREC_SERVER_TOKEN"
APPS_ENV = "CLOUDREC_APPS"
CUSTOMERS_ENV = "CLOUDREC_CUSTOMERS"


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/cloudrec`` (``~/.local/share/cloudrec``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cloudrec"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cloudrec server`` to ``parser``."""
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: a free one)")
    parser.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="APPID:CERTIFICATE",
        help=f"an app that needs tokens (repeatable; or env {APPS_ENV}, comma separated)",
    )
    parser.add_argument(
        "--ice-address",
        action="append",
        default=None,
        metavar="ADDRESS",
        help="host ICE candidate address (repeatable; default 127.0.0.1; 'all': every one)",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="state and recordings")
    parser.add_argument(
        "--customers-from-env",
        action="store_true",
        help=f"accept Basic auth with the customer ID:secret pairs of env {CUSTOMERS_ENV} "
        "(comma separated), as Agora's REST API does",
    )
    parser.add_argument(
        "--ready-file", type=Path, default=None, help='write {"url", "pid"} here once listening'
    )
    parser.add_argument(
        "--log-level", default="warning", choices=("debug", "info", "warning", "error")
    )


def settings_from_args(args: argparse.Namespace) -> ServerSettings:
    """Settings from the parsed options and the environment."""
    apps = parse_app_specs([os.environ.get(APPS_ENV, ""), *args.app])
    addresses: tuple[str, ...] | None = ("127.0.0.1",)
    if args.ice_address:
        addresses = None if "all" in args.ice_address else tuple(args.ice_address)
    return ServerSettings(
        host=args.host,
        port=args.port,
        token=os.environ.get(TOKEN_ENV) or new_token(),
        apps=apps,
        ice_addresses=addresses,
        data_dir=args.data_dir or default_data_dir(),
        customers=parse_customers(os.environ.get(CUSTOMERS_ENV, ""))
        if args.customers_from_env
        else {},
    )


def parse_customers(text: str) -> dict[str, str]:
    """``"id:secret,id2:secret2"`` -> {id: secret}; secrets come only from the environment."""
    customers = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        customer, sep, secret = item.partition(":")
        if not sep or not customer or not secret:
            raise CloudRecordingError(f"{CUSTOMERS_ENV}: each entry must be ID:SECRET")
        customers[customer] = secret
    return customers


def run(args: argparse.Namespace) -> int:
    """Run the server until SIGINT/SIGTERM; 0 on a clean stop, 2 on bad options."""
    try:
        settings = settings_from_args(args)
    except CloudRecordingError as exc:
        print(f"cloudrec server: {exc.message}", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        sock = _bind(settings.host, settings.port)
    except OSError as exc:
        where = f"{settings.host}:{settings.port}"
        print(f"cloudrec server: cannot listen on {where}: {exc}", file=sys.stderr)
        return 1
    try:
        return asyncio.run(_serve(settings, sock, args.ready_file, args.log_level))
    finally:
        if args.ready_file is not None:
            args.ready_file.unlink(missing_ok=True)


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
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", timeout_graceful_shutdown=5)
    server = _Server(config)
    app.state.request_shutdown = lambda: setattr(server, "should_exit", True)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    ready = asyncio.create_task(server.ready.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    if server.ready.is_set():
        url = _url(sock)
        print(f"cloudrec server listening on {url}", flush=True)
        print(f"admin token: {settings.token}", flush=True)
        if ready_file is not None:
            await asyncio.to_thread(_write_ready_file, ready_file, url)
    try:
        await task
    finally:
        sock.close()
    return 0 if server.ready.is_set() else 1


def _write_ready_file(path: Path, url: str) -> None:
    """Write atomically, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m core.server.main``: the same as ``cloudrec server``."""
    parser = argparse.ArgumentParser(prog="cloudrec server", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
