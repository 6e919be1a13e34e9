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

Both are plain threads and subprocesses, independent of any event loop, so
session-scoped fixtures and tests in any folder can share them.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
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

    def head_object(self, bucket: str, key: str) -> dict[str, Any]:
        """``head_object`` of boto3: ContentType, ContentLength, ETag, ..."""
        head: dict[str, Any] = self.s3.head_object(Bucket=bucket, Key=key)
        return head

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
        for conn in conns:
            _close(conn)

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
