"""The embedded local server: ``cloudrec server`` as a child process of the window.

Started as ``cloudrec server --port 0 --ready-file <tmp>`` (``python -m core.cli`` from
a source tree, the bundle's own program when frozen) with a fresh
random bearer token per launch passed in the environment (``CLOUDREC_SERVER_TOKEN``),
never on the command line where other users could read it. The server writes
``{"url", "pid"}`` to the ready file once it listens; :meth:`EmbeddedServer.start`
waits for that file without blocking the loop. The server's stdout (which prints
the token) goes nowhere; its stderr goes to a log file for diagnosis.

:meth:`EmbeddedServer.stop` ends it with SIGTERM (a clean uvicorn shutdown) and kills
it only if it does not exit in time. :meth:`EmbeddedServer.detach` leaves it running
when recordings continue in the background; it runs in its own session, so closing
the terminal that started the window does not end it.
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
import tempfile
import time
from enum import Enum
from pathlib import Path
from urllib.parse import urlsplit

from core.server.embedded import server_command

TOKEN_ENV = "CLOUDREC_SERVER_TOKEN"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


class ServerState(Enum):
    """What the window knows about its server."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    UNREACHABLE = "unreachable"
    FAILED = "failed"
    DETACHED = "detached"


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started; the message says why."""


class EmbeddedServer:
    """One embedded server process: start, stop, or leave running."""

    def __init__(
        self,
        log_file: Path,
        *,
        extra_args: tuple[str, ...] = (),
        ready_timeout: float = READY_TIMEOUT,
    ) -> None:
        self._extra_args = extra_args
        self._log_file = log_file
        self._ready_timeout = ready_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self.url: str | None = None
        self.token: str | None = None
        self.state = ServerState.STOPPED

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def exit_code(self) -> int | None:
        """The exit code once the process ended, else None (non-blocking)."""
        return self._process.poll() if self._process is not None else None

    def _spawn(self, ready_file: Path, token: str) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env[TOKEN_ENV] = token
        command = [
            *server_command(),
            "--port",
            "0",
            "--ready-file",
            str(ready_file),
            *self._extra_args,
        ]
        self._log_file.parent.mkdir(parents=True, exist_ok=True)
        with self._log_file.open("ab") as log:
            kwargs: dict[str, object] = {}
            if os.name == "posix":
                kwargs["start_new_session"] = True
            else:  # pragma: no cover - Windows
                kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
            return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # it prints the token: never keep it
                stderr=log,
                cwd=str(Path(__file__).resolve().parent.parent),
                **kwargs,
            )

    @staticmethod
    def _read_ready(path: Path) -> dict[str, object] | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _log_tail(self) -> str:
        try:
            lines = self._log_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-8:])

    async def start(self) -> str:
        """Start the server and return its URL once it accepts connections."""
        loop = asyncio.get_running_loop()
        self.state = ServerState.STARTING
        self.token = secrets.token_urlsafe(32)
        folder = Path(await loop.run_in_executor(None, tempfile.mkdtemp, "", "cloudrec-"))
        ready_file = folder / "ready.json"
        try:
            self._process = await loop.run_in_executor(None, self._spawn, ready_file, self.token)
            deadline = time.monotonic() + self._ready_timeout
            while True:
                data = await loop.run_in_executor(None, self._read_ready, ready_file)
                if data is not None and isinstance(data.get("url"), str):
                    self.url = str(data["url"])
                    self.state = ServerState.RUNNING
                    return self.url
                code = self._process.poll()
                if code is not None:
                    tail = await loop.run_in_executor(None, self._log_tail)
                    raise EmbeddedServerError(
                        f"the server exited with code {code} while starting"
                        + (f":\n{tail}" if tail else "")
                    )
                if time.monotonic() > deadline:
                    await self.stop()
                    raise EmbeddedServerError(
                        f"the server did not start within {self._ready_timeout:.0f} s"
                    )
                await asyncio.sleep(0.05)
        except BaseException:
            if self.state is not ServerState.STOPPED:
                self.state = ServerState.FAILED
            raise
        finally:
            await loop.run_in_executor(None, shutil.rmtree, folder, True)

    def _wait(self, timeout: float) -> int | None:
        assert self._process is not None
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    async def stop(self) -> None:
        """End the server cleanly (SIGTERM), killing it if it does not exit in time."""
        process = self._process
        if process is None:
            self.state = ServerState.STOPPED
            return
        loop = asyncio.get_running_loop()
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            if await loop.run_in_executor(None, self._wait, STOP_TIMEOUT) is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await loop.run_in_executor(None, self._wait, STOP_TIMEOUT)
        self._process = None
        self.state = ServerState.STOPPED

    def detach(self) -> None:
        """Leave the server running (recordings continue) and forget the process."""
        if self._process is not None and self._process.poll() is None:
            # We no longer own it: mark it so Popen does not warn about a running child.
            self._process.returncode = 0
        self._process = None
        self.state = ServerState.DETACHED


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
