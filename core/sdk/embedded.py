"""Start a cloudrec server as a child process on 127.0.0.1 and find its address.

The window, ``cloudrec record``, ``cloudrec demo``, the self-test and the benches use
this when no remote server is named; it is the one place that launches a server.

The child runs ``cloudrec server --host 127.0.0.1 --port 0 --ready-file <tmp>``
(``python -m core.cli`` from a source tree, the bundle's own program when frozen). It
gets a fresh bearer token through its environment (:data:`TOKEN_ENV`, never on the
command line, where other users could read it) and writes ``{"url", "pid"}`` to the
ready file once it listens; :meth:`EmbeddedServer.start` waits for that file without
blocking the event loop. The server's stdout (which prints the token) goes nowhere;
its stderr goes to a log file when one is given, and the last lines of that log are in
the error when the server exits while starting. ``storage_roots`` and
``allowed_endpoints`` become ``--storage-root`` and ``--allow-endpoint``: the folders and
S3 hosts its user chose, which the server may then write to and call (besides its own
recordings folder and the vendors' region hosts; docs/security.md, "Confinement").
``lease`` becomes ``--lease``: the server then exits by itself once its client stopped
renewing the lease for that long and nothing records (the window renews it on its health
timer, so a killed window leaves no server behind; :mod:`core.server.lease`).

:meth:`EmbeddedServer.stop` ends it with SIGTERM (a clean uvicorn shutdown) and kills
it only if it does not exit in time. :meth:`EmbeddedServer.detach` leaves it running
when recordings continue in the background; with ``own_session`` it runs in its own
session, so closing the terminal that started the window does not end it.

Processes are started with :mod:`subprocess` and waited for in the loop's executor,
so this works on any event loop (the window's qasync loop has no child watcher).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import CloudRecordingError, ErrorCode

TOKEN_ENV = "CLOUDREC_SERVER_TOKEN"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


class EmbeddedServerError(CloudRecordingError):
    """The embedded server could not be started; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ErrorCode.CONNECT_ERROR)


def cloudrec_command() -> list[str]:
    """The command that runs ``cloudrec`` (add a subcommand) with this installation.

    In a frozen bundle (PyInstaller) ``sys.executable`` is the ``cloudrec`` program
    itself and takes no ``-m``; otherwise it is the Python interpreter.
    """
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "core.cli"]


def endpoint_host(endpoint: str) -> str:
    """``HOST:PORT`` of an endpoint URL, for ``--allow-endpoint`` (the scheme's port when
    it names none): how a client that starts its own server allows the endpoint its user
    typed and nothing else on that host."""
    parts = urlsplit(endpoint)
    host = parts.hostname
    if not host:
        raise ValueError(f"{endpoint!r} names no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def server_command() -> list[str]:
    """The command that runs ``cloudrec server`` with this installation."""
    return [*cloudrec_command(), "server"]


def bots_command(
    server_url: str,
    channel: str,
    users: int,
    *,
    uid_base: int | None = None,
    size: tuple[int, int] | None = None,
    fps: int | None = None,
    low_stream: bool = True,
) -> list[str]:
    """The command that runs ``cloudrec bots`` (synthetic participants) with this
    installation; options left ``None`` keep the command's defaults."""
    args = [*cloudrec_command(), "bots", "--server", server_url, "--channel", channel]
    args += ["--users", str(users)]
    if uid_base is not None:
        args += ["--uid-base", str(uid_base)]
    if size is not None:
        args += ["--size", f"{size[0]}x{size[1]}"]
    if fps is not None:
        args += ["--fps", str(fps)]
    if not low_stream:
        args.append("--no-low-stream")
    return args


class EmbeddedServer:
    """One ``cloudrec server`` child on 127.0.0.1: start, stop, or leave running."""

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        log_file: Path | None = None,
        extra_args: tuple[str, ...] = (),
        log_level: str | None = None,
        own_session: bool = False,
        start_timeout: float = START_TIMEOUT,
        storage_roots: Iterable[Path | str] = (),
        allowed_endpoints: Iterable[str] = (),
        lease: float | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.log_file = log_file
        self.extra_args = extra_args
        self.log_level = log_level
        self.own_session = own_session
        self.start_timeout = start_timeout
        self.storage_roots: tuple[Path, ...] = tuple(Path(root) for root in storage_roots)
        """Folders the server may record into besides its own (``--storage-root``)."""
        self.allowed_endpoints: tuple[str, ...] = tuple(allowed_endpoints)
        """Hosts an endpoint override may name besides the region hosts
        (``--allow-endpoint HOST[:PORT]``)."""
        self.lease = lease
        """``--lease SECONDS``: the server exits once its client stopped renewing for that
        long and nothing records (:mod:`core.server.lease`); None: it runs until stopped."""
        self.environment: dict[str, str] = dict(environment or {})
        """Variables added to the child's environment only: how secrets other than the
        token reach it (the window's ``CLOUDREC_WEBHOOKS``), never its command line."""
        self.url = ""
        """``http://127.0.0.1:<port>`` once started."""
        self.token = ""
        """The bearer token of this launch (a fresh one each time)."""
        self.process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:  # never the token
        return f"EmbeddedServer(url={self.url!r}, pid={self.pid})"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def exit_code(self) -> int | None:
        """The exit code once the process ended, else None (does not block)."""
        return self.process.poll() if self.process is not None else None

    async def start(self) -> str:
        """Start the server and return its URL once it accepts connections."""
        loop = asyncio.get_running_loop()
        self.token = secrets.token_urlsafe(32)
        folder = Path(await loop.run_in_executor(None, tempfile.mkdtemp, "", "cloudrec-"))
        ready_file = folder / "ready.json"
        try:
            self.process = await loop.run_in_executor(None, self._spawn, ready_file, self.token)
            deadline = time.monotonic() + self.start_timeout
            while True:
                url = await loop.run_in_executor(None, _read_url, ready_file)
                if url is not None:
                    self.url = url
                    return url
                code = self.process.poll()
                if code is not None:
                    tail = await loop.run_in_executor(None, self._log_tail)
                    raise EmbeddedServerError(
                        f"the embedded server exited with code {code} while starting"
                        + (f":\n{tail}" if tail else "")
                    )
                if time.monotonic() > deadline:
                    await self.stop()
                    raise EmbeddedServerError(
                        f"the embedded server did not start within {self.start_timeout:.0f} s"
                    )
                await asyncio.sleep(0.05)
        finally:
            await loop.run_in_executor(None, shutil.rmtree, folder, True)

    async def wait_exit(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` s for the server to exit by itself; its exit code, or
        ``None`` if it still runs."""
        if self.process is None:
            return None
        return await asyncio.get_running_loop().run_in_executor(None, _wait, self.process, timeout)

    def kill(self) -> None:
        """End the server at once (SIGKILL: no clean shutdown, as a crash would)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()

    async def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """End the server cleanly (SIGTERM), killing it after ``timeout``; its exit code."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            if await self.wait_exit(timeout) is None:
                self.kill()
                await self.wait_exit(timeout)
        self.process = None
        return process.returncode

    def detach(self) -> None:
        """Leave the server running (recordings continue) and forget the process."""
        if self.process is not None and self.process.poll() is None:
            # No longer ours: mark it so Popen does not warn about a running child.
            self.process.returncode = 0
        self.process = None

    def _spawn(self, ready_file: Path, token: str) -> subprocess.Popen[bytes]:
        args = [
            *server_command(),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-basic",  # its clients hold the bearer token
            *(("--lease", f"{self.lease:g}") if self.lease is not None else ()),
            "--ready-file",
            str(ready_file),
            *self.extra_args,
        ]
        for root in self.storage_roots:
            args += ["--storage-root", str(root)]
        for host in self.allowed_endpoints:
            args += ["--allow-endpoint", host]
        if self.log_level is not None:
            args += ["--log-level", self.log_level]
        if self.data_dir is not None:
            args += ["--data-dir", str(self.data_dir)]
        session: dict[str, object] = {}
        if self.own_session:
            if sys.platform == "win32":  # pragma: no cover
                session["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
            else:
                session["start_new_session"] = True
        with contextlib.ExitStack() as stack:
            stderr: object = None
            if self.log_file is not None:
                self.log_file.parent.mkdir(parents=True, exist_ok=True)
                stderr = stack.enter_context(self.log_file.open("ab"))
            return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
                args,
                env={**os.environ, **self.environment, TOKEN_ENV: token},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # it prints the token: never keep it
                stderr=stderr,
                cwd=None if getattr(sys, "frozen", False) else str(_SOURCE_ROOT),
                **session,
            )

    def _log_tail(self) -> str:
        if self.log_file is None:
            return ""
        try:
            lines = self.log_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-8:])


def _read_url(ready_file: Path) -> str | None:
    try:
        data = json.loads(ready_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = data.get("url") if isinstance(data, dict) else None
    return url if isinstance(url, str) else None


def _wait(process: subprocess.Popen[bytes], timeout: float) -> int | None:
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


async def start_embedded_server(
    data_dir: Path | None = None,
    *,
    extra_args: tuple[str, ...] = (),
    log_level: str = "warning",
    storage_roots: Iterable[Path | str] = (),
    allowed_endpoints: Iterable[str] = (),
) -> EmbeddedServer:
    """Start ``cloudrec server`` on 127.0.0.1 with a random port and a fresh token.

    ``storage_roots`` and ``allowed_endpoints`` are the folders and hosts, besides its own
    recordings folder and the vendors' region hosts, that its client may name: the ones
    the caller's user chose (docs/security.md, "Confinement")."""
    server = EmbeddedServer(
        data_dir,
        extra_args=extra_args,
        log_level=log_level,
        storage_roots=storage_roots,
        allowed_endpoints=allowed_endpoints,
    )
    await server.start()
    return server
