"""Secrets of the window in the OS keyring (Secret Service, Keychain, Credential Manager).

Service ``cloudrec``; one entry per thing: ``storage-profile:<name>`` holds a storage
profile's access key and secret key (as JSON), ``server-token:<url>`` a remote
server's token, ``embedded-server`` the running embedded server's token (so the
window can reattach to a server that kept recording in the background),
``webhook:<url>`` a webhook endpoint's signing secret and the user and password of its
URL, if any (as JSON; the settings keep the URL without them), ``stream-urls`` the live
stream URLs of the Recording tab (a JSON list: they hold the stream keys).

Every keyring call runs off the GUI thread (a daemon thread per call): Secret Service
talks D-Bus and may wait for an unlock prompt, which must never freeze the window nor
keep the process alive after it closed. When no usable
backend exists (keyring's fail backend, ``NoKeyringError``, or a backend that
errors), secrets are kept in memory for this session only and
:attr:`KeyringStore.persistent` is False, which the window shows as a banner.
Secret values are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail

SERVICE = "cloudrec"
EMBEDDED_SERVER_ENTRY = "embedded-server"
STREAM_URLS_ENTRY = "stream-urls"
_PROBE_ENTRY = "keyring-probe"

log = logging.getLogger(__name__)


def profile_entry(name: str) -> str:
    """The keyring user name of a storage profile's keys."""
    return f"storage-profile:{name}"


def server_entry(url: str) -> str:
    """The keyring user name of a remote server's token."""
    return f"server-token:{url.rstrip('/')}"


def webhook_entry(url: str) -> str:
    """The keyring user name of a webhook endpoint's secret (``url`` without userinfo)."""
    return f"webhook:{url}"


class KeyringStore:
    """Async get/set/delete of secrets, falling back to memory without a keyring."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._backend = backend
        self._session: dict[str, str] = {}
        self._persistent: bool | None = None
        self._listeners: list[Callable[[bool], None]] = []

    @property
    def persistent(self) -> bool | None:
        """True: secrets reach the OS keyring; False: session only; None: not probed yet."""
        return self._persistent

    def on_availability(self, listener: Callable[[bool], None]) -> None:
        """Call ``listener(persistent)`` whenever the keyring is found usable or not."""
        self._listeners.append(listener)

    def _set_persistent(self, value: bool) -> None:
        if value != self._persistent:
            self._persistent = value
            for listener in self._listeners:
                listener(value)

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a keyring call on a daemon thread of its own.

        Not the loop's executor: a backend may wait indefinitely for the operator to
        unlock the keyring, and a pool thread stuck in that wait would keep the
        process from exiting when the window closes.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def settle(result: Any, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def work() -> None:
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the awaiting coroutine
                with contextlib.suppress(RuntimeError):  # the loop may be closed already
                    loop.call_soon_threadsafe(settle, None, exc)
                return
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, result, None)

        threading.Thread(target=work, name="keyring", daemon=True).start()
        return await future

    def _get_backend(self) -> keyring.backend.KeyringBackend:
        if self._backend is None:
            self._backend = keyring.get_keyring()
        return self._backend

    def _probe_blocking(self) -> bool:
        backend = self._get_backend()
        if isinstance(backend, fail.Keyring):
            return False
        try:
            backend.get_password(SERVICE, _PROBE_ENTRY)
        except Exception as exc:  # any backend failure means "not usable", never a crash
            log.warning("keyring backend %s is not usable: %s", type(backend).__name__, exc)
            return False
        return True

    async def probe(self) -> bool:
        """Find out (off the GUI thread) whether the OS keyring can be used."""
        usable = bool(await self._run(self._probe_blocking))
        self._set_persistent(usable)
        return usable

    async def _ensure_probed(self) -> bool:
        if self._persistent is None:
            return await self.probe()
        return self._persistent

    async def get(self, entry: str) -> str | None:
        """The secret stored under ``entry``, or None."""
        if not await self._ensure_probed():
            return self._session.get(entry)
        try:
            value = await self._run(self._get_backend().get_password, SERVICE, entry)
        except keyring.errors.KeyringError as exc:
            log.warning("keyring read of %s failed: %s", entry, type(exc).__name__)
            self._set_persistent(False)
            return self._session.get(entry)
        return value if isinstance(value, str) else self._session.get(entry)

    async def set(self, entry: str, secret: str) -> None:
        """Store ``secret`` under ``entry`` (in memory when there is no keyring)."""
        if await self._ensure_probed():
            try:
                await self._run(self._get_backend().set_password, SERVICE, entry, secret)
                return
            except keyring.errors.KeyringError as exc:
                log.warning("keyring write of %s failed: %s", entry, type(exc).__name__)
                self._set_persistent(False)
        self._session[entry] = secret

    async def delete(self, entry: str) -> None:
        """Forget the secret under ``entry`` wherever it is."""
        self._session.pop(entry, None)
        if not await self._ensure_probed():
            return
        try:
            await self._run(self._get_backend().delete_password, SERVICE, entry)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing was stored
        except keyring.errors.KeyringError as exc:
            log.warning("keyring delete of %s failed: %s", entry, type(exc).__name__)

    async def profile_keys(self, profile: str) -> tuple[str, str]:
        """(access key, secret key) of a storage profile; empty strings when unknown."""
        raw = await self.get(profile_entry(profile))
        if not raw:
            return "", ""
        try:
            data = json.loads(raw)
            return str(data.get("access_key", "")), str(data.get("secret_key", ""))
        except (ValueError, AttributeError):
            return "", ""

    async def set_profile_keys(self, profile: str, access_key: str, secret_key: str) -> None:
        """Store a storage profile's keys as one keyring entry."""
        payload = json.dumps({"access_key": access_key, "secret_key": secret_key})
        await self.set(profile_entry(profile), payload)

    async def delete_profile_keys(self, profile: str) -> None:
        await self.delete(profile_entry(profile))

    async def stream_urls(self) -> list[str]:
        """The Recording tab's live stream URLs (empty when none are kept)."""
        raw = await self.get(STREAM_URLS_ENTRY)
        try:
            urls = json.loads(raw) if raw else []
        except ValueError:
            return []
        return [str(url) for url in urls] if isinstance(urls, list) else []

    async def set_stream_urls(self, urls: list[str]) -> None:
        """Keep the live stream URLs (none: the entry is deleted)."""
        if urls:
            await self.set(STREAM_URLS_ENTRY, json.dumps(urls))
        else:
            await self.delete(STREAM_URLS_ENTRY)

    async def webhook_secret(self, url: str) -> tuple[str, str]:
        """(secret, ``user:password`` of the URL or "") of the webhook endpoint at ``url``
        (its URL without userinfo); empty strings when unknown."""
        raw = await self.get(webhook_entry(url))
        if not raw:
            return "", ""
        try:
            data = json.loads(raw)
            return str(data.get("secret", "")), str(data.get("userinfo", ""))
        except (ValueError, AttributeError):
            return "", ""

    async def set_webhook_secret(self, url: str, secret: str, userinfo: str = "") -> None:
        """Store a webhook endpoint's secret and its URL's userinfo as one entry."""
        payload = {"secret": secret, **({"userinfo": userinfo} if userinfo else {})}
        await self.set(webhook_entry(url), json.dumps(payload))

    async def delete_webhook_secret(self, url: str) -> None:
        await self.delete(webhook_entry(url))
