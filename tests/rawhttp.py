"""HTTP/1.1 spoken over a plain socket, for what an HTTP client library will not send:
a ``Content-Length`` with no body behind it, a body that never ends, headers sent a
byte at a time. Blocking code: run it with ``asyncio.to_thread`` while the server
runs in the test's event loop."""

from __future__ import annotations

import json
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Answer:
    """What the server sent back, and what the client managed to send before it."""

    status: int
    headers: dict[str, str]
    body: bytes
    sent: int
    """Bytes of the request (head and body) the socket took before the answer."""
    closed: bool
    """Whether the server closed the connection after its answer."""
    seconds: float
    """From the first byte sent to the whole answer."""

    def json(self) -> Any:
        return json.loads(self.body)


def exchange(
    url: str,
    head: bytes,
    body: Iterable[bytes] = (),
    *,
    pause: float = 0.0,
    timeout: float = 20.0,
) -> Answer:
    """Send ``head`` (request line and headers, as given), then the pieces of ``body``
    (``pause`` seconds between them) until the server answers or stops taking them;
    read the answer meanwhile, on another thread, so it is read as soon as it comes."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    received = bytearray()
    done = threading.Event()

    def read() -> None:
        try:
            while chunk := sock.recv(65536):
                received.extend(chunk)
                if _complete(received):
                    break
        except OSError:
            pass
        finally:
            done.set()

    started = time.monotonic()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sent = 0
    try:
        for piece in _chain(head, body):
            if done.is_set() or received:
                break
            sock.sendall(piece)
            sent += len(piece)
            if pause:
                time.sleep(pause)  # the slow client is the thing tested
    except OSError:  # the server answered and closed: it took no more
        pass
    done.wait(timeout)
    seconds = time.monotonic() - started
    closed = _closed_after(sock, received)
    sock.close()
    return _parse(bytes(received), sent, closed, seconds)


def traced_exchange(url: str, head: bytes, body: Iterable[bytes]) -> tuple[Answer, int]:
    """:func:`exchange`, and the peak of the memory Python allocated meanwhile (in this
    process: the server under test runs in it), by ``tracemalloc``."""
    tracemalloc.start()
    try:
        answer = exchange(url, head, body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return answer, peak


def _chain(head: bytes, body: Iterable[bytes]) -> Iterable[bytes]:
    yield head
    yield from body


def _complete(data: bytearray) -> bool:
    head, sep, rest = bytes(data).partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(rest) >= int(value)
    return False


def _closed_after(sock: socket.socket, received: bytearray) -> bool:
    """Whether the connection ends after the answer (EOF or reset within 5 s)."""
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def _parse(data: bytes, sent: int, closed: bool, seconds: float) -> Answer:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0]:
        return Answer(0, {}, b"", sent, closed, seconds)
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(status, headers, body, sent, closed, seconds)


def request_head(
    method: str, url: str, headers: dict[str, str] | None = None, *, end: bool = True
) -> bytes:
    """The request line and headers of ``method url`` (``Host`` first), ended by the blank
    line unless ``end`` is false."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n" + ("\r\n" if end else "")).encode("latin-1")


def chunked(piece: bytes, total: int) -> Iterable[bytes]:
    """``total`` bytes as chunks of ``piece`` (chunked transfer coding, never ended):
    generated as sent, so the client holds one piece however many it sends."""
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    for _ in range(total // len(piece)):
        yield frame


def repeated(piece: bytes, total: int) -> Iterable[bytes]:
    """``total`` bytes of ``piece`` after ``piece``, generated as sent."""
    for _ in range(total // len(piece)):
        yield piece
