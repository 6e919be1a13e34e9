"""A real S3 server for tests: moto with signature checking, plus an outage proxy.

``start_s3_server()`` runs ``moto_server`` in a subprocess on 127.0.0.1 with a random
port and ``INITIAL_NO_AUTH_ACTION_COUNT=3``: the first three requests are used to
create an IAM user, an access key and an allow-all policy; from then on every request
must be signed with that key (a wrong secret gets ``SignatureDoesNotMatch``). The
returned :class:`S3Server` holds the endpoint and key and can create buckets and
read objects back through boto3.

``TcpProxy`` forwards a local port to another one and can be paused (connections
refused, or accepted and left hanging) and resumed, to simulate an outage of the
store while it keeps its contents (moto's are lost when it restarts).

``S3Gate`` is an HTTP front for moto that answers as Amazon S3 does where moto does
not: it refuses a request signed more than 15 minutes away from its clock
(``RequestTimeTooSkewed``) or for another region than the bucket's
(``AuthorizationHeaderMalformed``), and can answer the next requests with a server
error (``500 InternalError``, ``503 SlowDown``); everything else goes on to moto,
which checks the signature. ``full_backlog_port()`` is a port that never completes a
connection (a black-holed host: the connect times out).

Both are plain threads and subprocesses, independent of any event loop, so
session-scoped fixtures and tests in any folder can share them.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import os
import selectors
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import boto3
from botocore.config import Config

_DUMMY = "testing"  # any key works for the unauthenticated first requests
_ALLOW_ALL = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def closed_port_url() -> str:
    """``http://127.0.0.1:<port>`` where nothing listens (connections are refused)."""
    return f"http://127.0.0.1:{free_port()}"


def _boto_client(service: str, endpoint: str, access_key: str, secret_key: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@dataclass
class S3Server:
    """A running signature-checking moto server and the one key it accepts."""

    endpoint: str
    access_key: str
    secret_key: str
    process: subprocess.Popen[bytes]
    _s3: Any = field(default=None, repr=False)

    @property
    def s3(self) -> Any:
        """A boto3 S3 client signed with the server's key (path style)."""
        if self._s3 is None:
            self._s3 = _boto_client("s3", self.endpoint, self.access_key, self.secret_key)
        return self._s3

    def create_bucket(self, name: str) -> str:
        """Create bucket ``name`` (at least 3 characters) and return the name."""
        self.s3.create_bucket(Bucket=name)
        return name

    def list_keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key in ``bucket`` starting with ``prefix``, sorted."""
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", ()))
        return sorted(keys)

    def get_object(self, bucket: str, key: str) -> bytes:
        """The bytes stored under ``key``."""
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"]
        with contextlib.closing(body):
            data: bytes = body.read()
        return data

    def delete_object(self, bucket: str, key: str) -> None:
        """Remove ``key`` (e.g. an object lost from the bucket)."""
        self.s3.delete_object(Bucket=bucket, Key=key)

    def head_object(self, bucket: str, key: str) -> dict[str, Any]:
        """``head_object`` of boto3: ContentType, ContentLength, ETag, ..."""
        head: dict[str, Any] = self.s3.head_object(Bucket=bucket, Key=key)
        return head

    def create_key(self, user: str, policy: str) -> tuple[str, str]:
        """A new IAM user whose only policy is ``policy`` (JSON); its (access key, secret key)."""
        iam = _boto_client("iam", self.endpoint, self.access_key, self.secret_key)
        with contextlib.closing(iam):
            iam.create_user(UserName=user)
            key = iam.create_access_key(UserName=user)["AccessKey"]
        self.set_policy(user, policy)
        return key["AccessKeyId"], key["SecretAccessKey"]

    def set_policy(self, user: str, policy: str) -> None:
        """Replace the policy of ``user`` (made by :meth:`create_key`) with ``policy``."""
        iam = _boto_client("iam", self.endpoint, self.access_key, self.secret_key)
        with contextlib.closing(iam):
            iam.put_user_policy(UserName=user, PolicyName=f"{user}-policy", PolicyDocument=policy)

    def stop(self) -> None:
        """Stop the server process."""
        if self._s3 is not None:
            self._s3.close()
            self._s3 = None
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def moto_server_command() -> Path:
    """The ``moto_server`` console script next to this interpreter."""
    script = Path(sys.executable).with_name("moto_server")
    if not script.exists():
        raise RuntimeError(f"moto_server not found next to {sys.executable}: install moto[server]")
    return script


def start_s3_server(timeout: float = 30.0) -> S3Server:
    """Start moto with signature checking and create its IAM user, key and policy."""
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    process = subprocess.Popen(
        [str(moto_server_command()), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_for_port(port, process, timeout)
        iam = _boto_client("iam", endpoint, _DUMMY, _DUMMY)
        with contextlib.closing(iam):
            iam.create_user(UserName="cloudrec-test")
            key = iam.create_access_key(UserName="cloudrec-test")["AccessKey"]
            iam.put_user_policy(
                UserName="cloudrec-test", PolicyName="allow-all", PolicyDocument=_ALLOW_ALL
            )
    except BaseException:
        process.kill()
        process.wait()
        raise
    return S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"], process)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with status {process.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"moto_server did not listen on port {port} within {timeout} s")


PauseMode = Literal["refuse", "hang"]


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target_port``; can simulate an outage.

    ``pause("refuse")`` drops every open connection and refuses new ones (the store is
    down); ``pause("hang")`` keeps accepting but forwards nothing, so clients time out
    (the network is black-holed). ``resume()`` restores forwarding on the same port;
    connections that hung are closed then, and what they carried is never delivered.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._mode: PauseMode | None = None
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._released = threading.Event()  # the accept loop saw that there is no listener
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def paused(self) -> bool:
        return self._mode is not None

    def start(self) -> TcpProxy:
        """Start listening and forwarding."""
        self._listen()
        thread = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def pause(self, mode: PauseMode = "refuse") -> None:
        """Start an outage (see the class docstring)."""
        with self._lock:
            self._mode = mode
            if mode == "hang":
                if self._listener is None:
                    self._listen()
                return
            conns, self._conns = self._conns, set()
            if self._listener is not None:
                self._listener.close()
                self._listener = None
                self._released.clear()
        for conn in conns:
            _close(conn)
        # The accept loop may still be waiting on the closed listener, which keeps the
        # port listening until that wait ends: only then are connections refused.
        if any(t.name == "tcp-proxy" and t.is_alive() for t in self._threads):
            self._released.wait(5)

    def held(self) -> int:
        """Bytes waiting unread in the proxy's connections (what a "hang" outage holds back)."""
        with self._lock:
            conns = list(self._conns)
        waiting = 0
        for conn in conns:
            with contextlib.suppress(OSError, ValueError):
                raw = fcntl.ioctl(conn.fileno(), termios.FIONREAD, b"\0\0\0\0")
                waiting += struct.unpack("i", raw)[0]
        return waiting

    def resume(self) -> None:
        """End the outage; new connections are forwarded again."""
        with self._lock:
            if self._mode == "hang":  # hung connections are dead: drop them unforwarded
                conns, self._conns = self._conns, set()
                for conn in conns:
                    _close(conn)
            if self._listener is None:
                self._listen()
            self._mode = None

    def close(self) -> None:
        """Stop the proxy and close every connection."""
        self._stop.set()
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            conns, self._conns = self._conns, set()
        for conn in conns:
            _close(conn)
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self._listener = listener

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            listener = self._listener
            if listener is None:
                self._released.set()
                time.sleep(0.05)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            client.settimeout(None)
            with self._lock:
                self._conns.add(client)
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            self._forget(client)
            return
        with self._lock:
            self._conns.add(upstream)
        peers = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                selector.register(sock, selectors.EVENT_READ)
            try:
                while not self._stop.is_set() and min(client.fileno(), upstream.fileno()) >= 0:
                    if self._mode == "hang":
                        time.sleep(0.05)
                        continue
                    for key, _ in selector.select(timeout=0.05):
                        if self._mode == "hang":  # paused while waiting: leave data unread
                            break
                        data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                        if not data:
                            return
                        peers[key.fileobj].sendall(data)  # type: ignore[index]
            except (OSError, ValueError):
                return
            finally:
                self._forget(client)
                self._forget(upstream)

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._conns.discard(sock)
        _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@contextlib.contextmanager
def full_backlog_port() -> Iterator[int]:
    """A port on 127.0.0.1 whose accept queue is full, for the time of the block.

    A listener that never accepts, with its one-place queue taken: the kernel drops
    further connection attempts, so a client neither connects nor is refused and its
    connect times out, as with a host whose packets are dropped by a firewall.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port: int = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=1)
    try:
        yield port
    finally:
        filler.close()
        listener.close()


MAX_SKEW_SECONDS = 15 * 60
"""How far a request's ``X-Amz-Date`` may be from Amazon S3's clock."""

_SLOW_DOWN = (503, "SlowDown", "Please reduce your request rate.")
_INTERNAL_ERROR = (500, "InternalError", "We encountered an internal error. Please try again.")


class S3Gate:
    """An HTTP front for moto that answers as Amazon S3 does where moto does not.

    Modelled on Amazon S3's documented behaviour for a bucket in ``region``:

    - a request whose ``X-Amz-Date`` is more than 15 minutes from this machine's clock
      gets ``403 RequestTimeTooSkewed`` (moto accepts any date);
    - a request signed for another region (the credential scope of its
      ``Authorization``) gets ``400 AuthorizationHeaderMalformed`` naming the region
      expected (moto accepts any region);
    - :meth:`fail` answers the next ``count`` requests (or all, until :meth:`heal`)
      with a server error (``500 InternalError`` or ``503 SlowDown``), as S3 does
      under load or trouble.

    Every other request is forwarded to moto unchanged (the ``Host`` header included,
    so moto checks the signature the client computed). ``answers`` lists the status
    of every request, in order.
    """

    INTERNAL_ERROR = _INTERNAL_ERROR
    SLOW_DOWN = _SLOW_DOWN

    def __init__(self, target: str, region: str = "us-east-1") -> None:
        parts = target.removeprefix("http://").split(":")
        self.target = (parts[0], int(parts[1]))
        self.region = region
        self.answers: list[tuple[str, str, int]] = []
        """(method, path, status) of every request answered."""
        self._lock = threading.Lock()
        self._failures: list[tuple[int, str, str]] = []
        self._huge: list[tuple[tuple[int, str, str] | None, int]] = []
        self.padded: list[int] = []
        """Bytes of padding written of each huge answer (:meth:`fail_huge`) before the
        client stopped reading."""
        self._failing: tuple[int, str, str] | None = None
        gate = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_PUT(self) -> None:
                gate._handle(self)

            do_GET = do_DELETE = do_HEAD = do_POST = do_PUT

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail(self, count: int | None, error: tuple[int, str, str] = _INTERNAL_ERROR) -> None:
        """Answer the next ``count`` requests (``None``: every one, until :meth:`heal`)
        with ``error`` (status, code, message)."""
        with self._lock:
            if count is None:
                self._failing = error
            else:
                self._failures.extend([error] * count)

    def fail_huge(self, error: tuple[int, str, str] | None, size: int) -> None:
        """Answer the next request with ``error`` (status, code, message) whose XML
        document goes on with ``size`` bytes of white space before it ends; with
        ``error`` None, ``502`` and ``size`` bytes that are not XML (a proxy's page). The
        body has a ``Content-Length`` and is generated while sent, 64 KiB at a time, so
        the gate holds none of it; :attr:`padded` notes how much the client took."""
        with self._lock:
            self._huge.append((error, size))

    def heal(self) -> None:
        """Stop answering with errors: requests go on to moto again."""
        with self._lock:
            self._failing = None
            self._failures.clear()

    def statuses(self, method: str = "PUT") -> list[int]:
        """The status of every ``method`` request answered so far, in order."""
        with self._lock:
            return [status for m, _, status in self.answers if m == method]

    def __enter__(self) -> S3Gate:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        with self._lock:
            huge = self._huge.pop(0) if self._huge else None
        if huge is not None:
            self._answer_huge(request, *huge)
            return
        status, headers, payload = self._refusal(request) or self._forward(request, body)
        with self._lock:
            self.answers.append((request.command, request.path, status))
        request.send_response(status)
        for name, value in headers:
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(payload)

    def _answer_huge(
        self, request: BaseHTTPRequestHandler, error: tuple[int, str, str] | None, size: int
    ) -> None:
        if error is None:
            status, start, piece, end = 502, b"<html>", b"x" * 65536, b"</html>"
        else:
            status, _, payload = _error(*error)
            start, end = payload.removesuffix(b"</Error>"), b"</Error>"
            piece = b" " * 65536
        with self._lock:
            self.answers.append((request.command, request.path, status))
        request.send_response(status)
        request.send_header("Content-Type", "application/xml" if error else "text/html")
        request.send_header("Content-Length", str(len(start) + size + len(end)))
        request.end_headers()
        written = 0
        try:
            request.wfile.write(start)
            while written < size:
                chunk = piece[: size - written]
                request.wfile.write(chunk)
                written += len(chunk)
            request.wfile.write(end)
        except OSError:  # the client stopped reading and closed the connection
            request.close_connection = True
        with self._lock:
            self.padded.append(written)

    def _refusal(self, request: BaseHTTPRequestHandler) -> tuple[int, list[Any], bytes] | None:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else self._failing
        if failure is not None:
            return _error(*failure)
        stamp = request.headers.get("X-Amz-Date", "")
        try:
            signed = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            signed = None
        now = datetime.now(UTC)
        if signed is not None and abs((signed - now).total_seconds()) > MAX_SKEW_SECONDS:
            return _error(
                403,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
                RequestTime=stamp,
                ServerTime=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                MaxAllowedSkewMilliseconds=str(MAX_SKEW_SECONDS * 1000),
            )
        auth = request.headers.get("Authorization", "")
        scope = auth.partition("Credential=")[2].split(",", 1)[0].split("/")
        if len(scope) == 5 and scope[2] != self.region:
            return _error(
                400,
                "AuthorizationHeaderMalformed",
                f"The authorization header is malformed; the region '{scope[2]}' is wrong; "
                f"expecting '{self.region}'",
                Region=self.region,
            )
        return None

    def _forward(
        self, request: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, list[Any], bytes]:
        conn = http.client.HTTPConnection(*self.target, timeout=30)
        try:
            conn.putrequest(
                request.command, request.path, skip_host=True, skip_accept_encoding=True
            )
            for name, value in request.headers.items():
                conn.putheader(name, value)
            conn.endheaders(body or None)
            response = conn.getresponse()
            payload = response.read()
            headers = [
                (name, value)
                for name, value in response.getheaders()
                if name.lower() not in ("content-length", "transfer-encoding", "connection")
            ]
            return response.status, headers, payload
        finally:
            conn.close()


def _error(status: int, code: str, message: str, **extra: str) -> tuple[int, list[Any], bytes]:
    """An S3 XML error answer."""
    fields = "".join(f"<{name}>{value}</{name}>" for name, value in extra.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{fields}"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    ).encode()
    return status, [("Content-Type", "application/xml")], body
