"""The cloudrec server's ASGI application.

:func:`create_app` builds one FastAPI app from :class:`ServerSettings`. Each part of
the server contributes a router from its own module (the channel's WHIP and web
routers today; the recording API adds its router here), and shares state through
``app.state``:

* ``app.state.settings``: the :class:`ServerSettings`;
* ``app.state.channels``: the process's :class:`~core.channel.registry.ChannelRegistry`
  (the recorder subscribes through it);
* ``app.state.apps``: the :class:`~core.channel.apps.AppRegistry` (apps and certificates);
* ``app.state.webhooks``: the :class:`~core.server.webhooks.WebhookDeliverer`.

On shutdown every publisher leaves and every peer connection is closed.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request

from core.channel import ice, web, whip
from core.channel.apps import AppRegistry
from core.channel.registry import ChannelRegistry
from core.channel.whip_limits import (
    DEFAULT_BURST,
    DEFAULT_MAX_SESSIONS,
    DEFAULT_RATE,
    WhipLimits,
)
from core.server import api_docs, lease, memory, metrics, recording_api, webhooks_api
from core.server.cors import OriginPolicy
from core.server.customers import MadeCustomer
from core.server.datalock import DataFolderLock
from core.server.limits import DEFAULT_REQUEST_TIMEOUT, RequestLimits
from core.server.service import LOW_DISK_WARNING, MIN_FREE_SPACE
from core.server.webhook_config import Endpoint
from core.server.webhooks import MAX_AGE, RETRY_CAP, WebhookDeliverer
from core.storage.master_key import MasterKey

DEFAULT_HOST = "127.0.0.1"


def new_token() -> str:
    """A fresh bearer token for the admin API."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class ServerSettings:
    """Everything a server process is configured with."""

    host: str = DEFAULT_HOST
    port: int = 0
    """TCP port; 0 picks a free one."""
    token: str = field(default_factory=new_token, repr=False)
    """Bearer token of the admin API."""
    token_source: str = ""
    """Where ``token`` came from (e.g. ``CLOUDREC_SERVER_TOKEN``); empty when the server
    generated it, the only case in which the server prints it."""
    apps: Mapping[str, str] = field(default_factory=dict, repr=False)
    """App ID -> app certificate of apps that need tokens (the sandbox app needs none)."""
    ice_addresses: tuple[str, ...] | None = ice.LOOPBACK_ONLY
    """Host candidate addresses WebRTC offers (None: every address of the machine)."""
    data_dir: Path = Path("cloudrec-data")
    """Where the server keeps its state and recordings."""
    customers: Mapping[str, str] = field(default_factory=dict, repr=False)
    own_customer: MadeCustomer | None = field(default=None, repr=False)
    """The customer the server made for itself (Basic auth by default, as Agora's;
    :mod:`core.server.customers`): accepted besides ``customers``; None with
    ``--customers-from-env`` or ``--no-basic``."""
    """Customer ID -> customer secret accepted with Basic auth by the recording API."""
    storage_roots: tuple[Path, ...] = ()
    """Folders a LOCAL destination (``localFolder``) may lie in, besides the data folder's
    ``recordings`` folder, which always is one (``--storage-root``; see
    :mod:`core.server.confinement`)."""
    allowed_endpoints: tuple[str, ...] = ()
    """``HOST[:PORT]`` an endpoint override may name, besides the vendors' region hosts
    (``--allow-endpoint``; without a port, any port of the host). Loopback only if listed."""
    lease: float | None = None
    """Seconds the server runs on without a renewal (``POST /v1/cloudrec/lease``) once
    nothing records (``--lease``; :mod:`core.server.lease`); None: until stopped."""
    min_free_space: int = MIN_FREE_SPACE
    """Bytes that must be free in the data folder for a recording to start
    (``--min-free-space``, in MiB); :mod:`core.server.service`."""
    low_disk_warning: int = LOW_DISK_WARNING
    """Free bytes in the data folder below which recordings get a warning notice
    (``--low-disk-warning``, in MiB)."""
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    """Seconds a client has to send a request's headers, and as much again for its body
    (``--request-timeout``; :mod:`core.server.limits`)."""
    allowed_origins: tuple[str, ...] = ()
    """Origins of web pages that may call WHIP and the rosters, besides the server's own
    (``--allow-origin``; ``*``: any; :mod:`core.server.cors`)."""
    whip_max_sessions: int = DEFAULT_MAX_SESSIONS
    """WHIP sessions an app may have at once (``--whip-max-sessions``)."""
    whip_rate: float = DEFAULT_RATE
    """New WHIP sessions per second an app may open (``--whip-rate``)."""
    whip_burst: int = DEFAULT_BURST
    """New WHIP sessions an app may open at once (``--whip-burst``;
    :mod:`core.channel.whip_limits`)."""
    webhooks: tuple[Endpoint, ...] = field(default=(), repr=False)
    """Where every recording's notices are pushed, signed with each endpoint's secret
    (``--webhooks-from-env``; :mod:`core.server.webhooks`, docs/webhooks.md)."""
    webhook_max_age: float = MAX_AGE
    """Seconds after its event a notice is still sent (``--webhook-max-age``, in hours)."""
    webhook_retry_cap: float = RETRY_CAP
    master_key: MasterKey | None = field(default=None, repr=False)
    """Seals recordings' storage keys in the state database when there is no OS
    keyring (core.storage.master_key); None: the OS keyring only."""
    """Seconds between two attempts to send a notice at most (``--webhook-retry-cap``)."""


def create_app(settings: ServerSettings) -> FastAPI:
    """The server application for ``settings``."""
    ice.configure_host_addresses(settings.ice_addresses)
    channels = ChannelRegistry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lock = DataFolderLock(settings.data_dir)  # one server per data folder
        lock.acquire()
        try:
            await webhooks.start()  # before resume, whose notices it then sends
            await recordings.resume()
            trimming = asyncio.create_task(memory.trim_periodically())
            try:
                yield
            finally:
                trimming.cancel()
                await recordings.close()
                await webhooks.close()  # what it was sending is sent again after a restart
                await channels.close()
                recordings.store.close()
        finally:
            lock.release()

    # /docs without a network: Swagger UI from the swagger-ui-bundle package's files,
    # not FastAPI's default CDN (whose page stays blank offline)
    app = FastAPI(title="cloudrec server", lifespan=lifespan, docs_url=None)
    api_docs.install(app)
    app.state.settings = settings
    app.state.channels = channels
    app.state.apps = AppRegistry(settings.apps)
    app.include_router(whip.router)
    app.include_router(web.router)
    recordings = recording_api.install(app)
    webhooks = WebhookDeliverer(
        settings.webhooks,
        recordings.store.path,
        max_age=settings.webhook_max_age,
        retry_cap=settings.webhook_retry_cap,
    )
    recordings.store.notice_stored = webhooks.notify
    app.state.webhooks = webhooks
    webhooks_api.install(app)
    app.include_router(metrics.router)
    lease.install(app, settings.lease)
    app.state.whip_limits = WhipLimits(
        settings.whip_max_sessions, settings.whip_rate, settings.whip_burst
    )
    # The last added runs first: foreign origins are refused before a body is read.
    app.add_middleware(
        RequestLimits, request_timeout=settings.request_timeout, authenticate=_authenticate
    )
    app.add_middleware(OriginPolicy, allowed=settings.allowed_origins)
    return app


def _authenticate(request: Request) -> None:
    """The recording API's credentials check, run before a body of it is read."""
    recording_api.authorize(request, request.headers.get("authorization"))
