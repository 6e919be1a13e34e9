"""The window's recording server: which one, whether it is up, and the one client to it.

The server is a remote one from the settings, an embedded one left recording in the
background by an earlier window (reattached), or a fresh embedded one. Every 5 s the
health timer checks it (process alive, TCP connect), renews an embedded server's lease
(so it exits by itself once the window is gone and nothing records; docs/gui.md) and
reads its status report for the status bar. The embedded server is started with the
webhook endpoints of the settings (their secrets from the keyring, in its environment
only; ``gui/webhooks.py``). All requests of the window itself go through one
:class:`RestClient`, made when the server is known and closed once in
:meth:`ServerConnection.aclose`; recorders talk to the server through their own SDK
clients.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from core.config import CloudStorageConfig
from core.errors import CloudRecordingError, ErrorCode
from core.sdk.client import Credentials, RestClient, Snapshot
from core.sdk.embedded import endpoint_host
from gui.embedded_server import (
    EmbeddedServer,
    EmbeddedServerError,
    ServerState,
    process_alive,
    reachable,
)
from gui.forms.storage_profiles import StorageCheckUnavailable
from gui.keyring_store import EMBEDDED_SERVER_ENTRY, KeyringStore, server_entry
from gui.settings import AppSettings
from gui.tasks import async_slot, spawn
from gui.webhooks import server_environment

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate

HEALTH_INTERVAL_MS = 5000

_UP = (ServerState.RUNNING, ServerState.DETACHED)
"""States of a server that answers."""


def cpu_share(before: Mapping[str, Any], after: Mapping[str, Any]) -> float | None:
    """The server's CPU use between two of its status reports (``cpuSeconds`` over its
    ``monotonic`` clock; 1.0 is one core), None when they are not in that order."""
    clock = float(after["monotonic"]) - float(before["monotonic"])
    if clock <= 0:
        return None
    return (float(after["cpuSeconds"]) - float(before["cpuSeconds"])) / clock


def user_grants(settings: AppSettings) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    """The storage roots and endpoint hosts the window's embedded server gets.

    The server runs as the window's user and only the window holds its token, so it may
    write where that user chose and call the hosts that user typed: the user's home
    folder, the local folder of every storage profile and of the Storage tab's last
    draft, and the ``HOST:PORT`` of their endpoints, as they are when the server starts
    (docs/security.md, "Confinement")."""
    folders: list[str] = [str(Path.home())]
    endpoints: list[str] = []
    storage = settings.draft("storage")
    sources = [(str(storage.get("local_folder") or ""), str(storage.get("endpoint") or ""))]
    sources += [(p.local_folder, p.endpoint) for p in settings.profiles()]
    for folder, endpoint in sources:
        folder = os.path.expanduser(folder.strip()) if folder.strip() else ""
        if folder and os.path.isabs(folder) and folder not in folders:
            folders.append(folder)
        try:
            host = endpoint_host(endpoint.strip()) if endpoint.strip() else ""
        except ValueError:  # not a URL the server would take anyway
            host = ""
        if host and host not in endpoints:
            endpoints.append(host)
    return tuple(Path(f) for f in folders), tuple(endpoints)


class ServerConnection(QObject):
    """The recording server of the window, its state, and the window's client to it."""

    state_changed = Signal(object)
    """The new :class:`ServerState` (also when only the server's URL changed)."""
    status_received = Signal(dict)
    """The server's status report (``GET /v1/cloudrec/status``) of a health check."""
    message = Signal(str, bool)
    """(text, is an error) for the event log."""

    def __init__(
        self,
        settings: AppSettings,
        keyring_store: KeyringStore,
        server: EmbeddedServer | None,
        *,
        remote_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.keyring = keyring_store
        self._server = server
        """The embedded server process (started or not); None for a connection to one of
        the further remote servers."""
        self.remote_url = remote_url.rstrip("/") if remote_url else None
        """Set for a connection to one of the further remote servers of the settings
        (``AppSettings.other_servers``): it talks to that one, whatever the server choice."""
        self.cpu_share: float | None = None
        """The server's CPU use between its last two status reports (1.0: one core)."""
        self._transport = transport  # tests pass httpx.MockTransport
        self._url: str | None = None
        self._token: str | None = None
        self._owns_server = False
        self._reattached = False  # an earlier window's embedded server, taken back from exiting
        self._client: RestClient | None = None
        self._closed = False  # after aclose() no new client is made
        self._state = ServerState.STOPPED
        self._webhooks: tuple[str, ...] = ()  # the endpoint URLs this window started it with
        self._last_status: dict[str, Any] | None = None
        self._checking = asyncio.Lock()  # one health check at a time; aclose waits for it
        self.health = QTimer(self)
        """Checks the server every 5 s once it is known; stopped on quit."""
        self.health.setInterval(HEALTH_INTERVAL_MS)
        self.health.timeout.connect(self._on_health_tick)

    # ------------------------------------------------------------------ what is known
    @property
    def server(self) -> EmbeddedServer:
        """The embedded server process this connection may start (not for a further
        remote server's connection)."""
        assert self._server is not None, "a further remote server has no embedded server"
        return self._server

    @property
    def url(self) -> str | None:
        """The server's base URL, None while there is none."""
        return self._url

    @property
    def token(self) -> str | None:
        """The server's bearer token (never logged)."""
        return self._token

    @property
    def state(self) -> ServerState:
        return self._state

    @property
    def owns_server(self) -> bool:
        """True when this window started the server (it stops or detaches it on quit)."""
        return self._owns_server

    @property
    def embedded(self) -> bool:
        """True for an embedded server (this window's or a reattached one), else remote."""
        if self.remote_url is not None:
            return False
        return self._owns_server or not self.settings.server().remote

    @property
    def load(self) -> tuple[int, float] | None:
        """(recordings it runs, CPU share) from its last status report; None while it is
        not reachable or sent none (an older server)."""
        if self._last_status is None or self._state not in _UP:
            return None
        return int(self._last_status.get("activeRecordings", 0)), self.cpu_share or 0.0

    @property
    def webhooks_started(self) -> tuple[str, ...]:
        """The webhook endpoint URLs (without userinfo) this window started its server
        with, in the server's order; empty for a server it did not start."""
        return self._webhooks if self._owns_server else ()

    @property
    def last_status(self) -> dict[str, Any] | None:
        """The server's last status report, None before the first one."""
        return self._last_status

    @property
    def client(self) -> RestClient | None:
        """The window's one client to the server, None while there is no server."""
        if self._client is None and self._url is not None and not self._closed:
            credentials = Credentials(bearer=self._token)
            self._client = RestClient(self._url, credentials, transport=self._transport)
        return self._client

    def use(self, url: str | None, token: str | None, *, owned: bool) -> None:
        """Talk to the server at ``url`` from now on (None: there is no server).

        ``owned``: this window started it. A client to a previous server is closed.
        """
        old, self._client = self._client, None
        if old is not None:
            spawn(old.aclose())
        self._url = url.rstrip("/") if url else None
        self._token = token
        self._last_status = None
        self.cpu_share = None
        self._owns_server = owned
        self._reattached = False
        self._closed = False
        self._set_state(self._state)

    def _set_state(self, state: ServerState) -> None:
        self._state = state
        self.state_changed.emit(state)

    def _log(self, text: str, error: bool = False) -> None:
        self.message.emit(text, error)

    # ------------------------------------------------------------------ connecting
    async def connect_server(self) -> bool:
        """Use the remote server of the settings, reattach, or start the embedded one.

        True when the server may already hold recordings to show (remote, reattached).
        """
        if self.remote_url is not None:
            await self.connect_remote(self.remote_url)
            return True
        choice = self.settings.server()
        if choice.remote and choice.url:
            await self.connect_remote(choice.url.rstrip("/"))
            return True
        left = self.settings.embedded_server()
        if left is not None:
            url, pid = left
            token = await self.keyring.get(EMBEDDED_SERVER_ENTRY)
            if token and process_alive(pid) and await reachable(url):
                self.use(url, token, owned=False)
                await self.renew_lease()
                # the earlier window asked it to exit once its recordings are done; this
                # window uses it now, and asks again when it leaves
                self._reattached = await self._keep_running()
                self._set_state(ServerState.DETACHED)
                self._log(
                    translate(
                        "MainWindow",
                        "Reattached to the embedded server {0} left recording in the background",
                    ).format(url)
                )
                self.health.start()
                return True
            self.settings.set_embedded_server(None)
        await self.start_embedded()
        return False

    async def connect_remote(self, url: str) -> None:
        """Talk to the remote server at ``url`` (its token from the keyring) and watch it."""
        self.use(url, await self.keyring.get(server_entry(url)), owned=False)
        self._set_state(ServerState.STARTING)
        self._log(translate("MainWindow", "Using the remote server {0}").format(url))
        await self.check_health()
        self.health.start()

    async def start_embedded(self) -> None:
        """Start this window's embedded server and watch it."""
        self._set_state(ServerState.STARTING)
        self._log(translate("MainWindow", "Starting the embedded server…"))
        roots, endpoints = user_grants(self.settings)
        webhooks, urls, problems = await server_environment(self.settings, self.keyring)
        for problem in problems:
            self._log(
                translate("MainWindow", "Webhook endpoint left out: {0}").format(problem),
                error=True,
            )
        try:
            url = await self.server.start(
                storage_roots=roots, allowed_endpoints=endpoints, webhooks=webhooks
            )
        except EmbeddedServerError as exc:
            self._set_state(ServerState.FAILED)
            self._log(
                translate("MainWindow", "The embedded server did not start: {0}").format(exc),
                error=True,
            )
            return
        self.use(url, self.server.token, owned=True)
        self._webhooks = urls
        await self.renew_lease()
        self._set_state(ServerState.RUNNING)
        self._log(translate("MainWindow", "Embedded server running at {0}").format(url))
        self.health.start()

    # ------------------------------------------------------------------ health
    @async_slot()
    async def _on_health_tick(self) -> None:
        if not self._checking.locked():  # a check that outlasts the interval is not doubled
            await self.check_health()

    async def check_health(self) -> None:
        """Whether the server runs and answers; its status report goes to the bar.

        A check already in flight is waited for, then this one runs: a caller always
        gets a fresh answer (the timer's tick skips instead, see ``_on_health_tick``).
        """
        async with self._checking:
            if self._url is not None:
                await self._check(self._url)

    async def _check(self, url: str) -> None:
        if self._owns_server and self.server.exit_code() is not None:
            code = self.server.exit_code()
            self._set_state(ServerState.FAILED)
            self._log(
                translate("MainWindow", "The embedded server exited (code {0})").format(code),
                error=True,
            )
            self.health.stop()
            return
        ok = await reachable(url)
        if ok:
            if self.embedded:
                await self.renew_lease()
            await self._read_status()
        if ok and self._state is ServerState.DETACHED:
            return
        self._set_state(ServerState.RUNNING if ok else ServerState.UNREACHABLE)

    async def _read_status(self) -> None:
        client = self.client
        if client is None:
            return  # closed while the check waited for the TCP connect
        try:
            status = await client.status()
        except CloudRecordingError:
            return  # an older server or Agora's service: the bar keeps the window's counts
        last = self._last_status
        if last is not None and "cpuSeconds" in status and "cpuSeconds" in last:
            share = cpu_share(last, status)
            if share is not None:
                self.cpu_share = max(0.0, share)
        self._last_status = status
        self.status_received.emit(status)

    async def renew_lease(self) -> bool:
        """Renew the embedded server's lease (``POST /v1/cloudrec/lease``): the server
        exits once no renewal came for its lease and nothing records. False when the
        server did not take it (an older server without leases; it runs until stopped)."""
        client = self.client
        if client is None:
            return False
        try:
            await client.request("POST", "/v1/cloudrec/lease")
        except CloudRecordingError:
            return False  # the health check reports an unreachable server
        return True

    # ------------------------------------------------------------------ requests
    async def check_storage(self, storage: CloudStorageConfig) -> None:
        """Ask the recording server to check ``storage`` (a small write and delete).

        Raises ``CloudRecordingError`` (UPLOADER_INIT) naming what is wrong, and
        :class:`StorageCheckUnavailable` when there is no server or it has no such
        check (Agora's hosted service).
        """
        client = self.client
        if client is None:
            raise StorageCheckUnavailable("")
        try:
            ok, reason = await client.check_storage(storage)
        except CloudRecordingError as exc:
            if "HTTP 404" in exc.message:
                raise StorageCheckUnavailable(client.base_url) from None
            raise
        if not ok:
            raise CloudRecordingError(reason, ErrorCode.UPLOADER_INIT)

    async def roster(self, app_id: str, channel: str, token: str | None) -> list[dict[str, Any]]:
        """Who is in ``channel`` now, as the server's roster tells; raises
        ``CloudRecordingError`` naming why it cannot be read (no server, refused)."""
        client = self.client
        if client is None:
            raise CloudRecordingError(
                translate("MainWindow", "no recording server is available"),
                ErrorCode.CONNECT_ERROR,
            )
        return await client.roster(app_id, channel, token)

    async def webhook_status(self) -> list[dict[str, Any]] | None:
        """The server's webhook endpoints as its status lists them now (``webhooks``),
        None when there is no server or it sends no report (then the last one's)."""
        client = self.client
        if client is None:
            return None
        try:
            self._last_status = await client.status()
        except CloudRecordingError:
            pass  # the last report, if any, is the best known
        if self._last_status is None:
            return None
        return list(self._last_status.get("webhooks") or [])

    async def send_webhook_test(self, index: int) -> dict[str, Any]:
        """Have the server send a test notice to its webhook endpoint ``index`` now;
        its answer (``delivered``, ``error``, ``elapsedMs``). Raises
        ``CloudRecordingError`` when there is no server or it refuses."""
        client = self.client
        if client is None:
            raise CloudRecordingError(
                translate("MainWindow", "no recording server is available"),
                ErrorCode.CONNECT_ERROR,
            )
        return await client.send_webhook_test(index)

    async def recordings(self) -> list[dict[str, Any]]:
        """Every recording the server knows (empty without a server); may raise
        ``CloudRecordingError``."""
        client = self.client
        return [] if client is None else await client.recordings()

    async def recording(self, sid: str) -> dict[str, Any] | None:
        """Recording ``sid`` as the server lists it, with ``serverResponse`` as ``query``
        answers (None without a server); may raise ``CloudRecordingError``."""
        client = self.client
        return None if client is None else await client.recording(sid)

    async def preview(self, sid: str, etag: str | None) -> Snapshot | None:
        """The newest composed picture of recording ``sid`` while it records, if it is not
        the one ``etag`` names (None: no server, or no newer one); raises
        ``CloudRecordingError`` (a 404 while it has none)."""
        client = self.client
        return None if client is None else await client.preview(sid, etag)

    async def snapshot(self, sid: str, etag: str | None) -> Snapshot | None:
        """The newest snapshot of recording ``sid`` if it is not the one ``etag`` names
        (None: no server, or no newer one); raises ``CloudRecordingError`` (a 404 while
        it has none)."""
        client = self.client
        return None if client is None else await client.snapshot(sid, etag)

    # ------------------------------------------------------------------ leaving
    async def leave(self, *, keep_recording: bool) -> None:
        """End the window's use of the server on quit, then close the client.

        An embedded server this window started is stopped, or, when ``keep_recording``
        (a recording was released to run on), left running: its URL and pid go to the
        settings and its token to the keyring so the next window reattaches, and it is
        asked to exit once its recordings are uploaded.
        """
        self.health.stop()
        if self._owns_server:
            if keep_recording:
                assert self._url is not None and self._token is not None
                await self.keyring.set(EMBEDDED_SERVER_ENTRY, self._token)
                self.settings.set_embedded_server(self._url, self.server.pid or 0)
                await self._exit_when_done()
                self.server.detach()
                self._log(
                    translate(
                        "MainWindow", "The embedded server keeps recording in the background."
                    )
                )
            else:
                await self.server.stop()
                self.settings.set_embedded_server(None)
        elif self._reattached:  # an earlier window's embedded server, which this one used
            await self._exit_when_done()  # it exits at once, or when the recordings end
            if not keep_recording:
                self.settings.set_embedded_server(None)
                await self.keyring.delete(EMBEDDED_SERVER_ENTRY)
        await self.aclose()

    async def _keep_running(self) -> bool:
        client = self.client
        assert client is not None
        try:
            await client.keep_running()
        except CloudRecordingError as exc:
            self._log(
                translate("MainWindow", "The server may exit when its recordings end: {0}").format(
                    exc
                ),
                error=True,
            )
            return False
        return True

    async def _exit_when_done(self) -> None:
        client = self.client
        assert client is not None
        try:
            await client.exit_when_done()
        except CloudRecordingError as exc:
            self._log(
                translate("MainWindow", "The server cannot stop by itself: {0}").format(exc),
                error=True,
            )

    async def aclose(self) -> None:
        """Close the window's client to the server; no request is made after this."""
        async with self._checking:  # a health check in flight ends with the client it uses
            self._closed = True
            client, self._client = self._client, None
            if client is not None:
                await client.aclose()
