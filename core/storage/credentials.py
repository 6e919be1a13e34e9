"""Storage credentials of running recordings, kept where a restart finds them.

A recording's uploads must be able to resume after the server restarts, but secrets
never go into files in plain text: the server keeps each recording's access key and
secret key in the OS keyring (service ``cloudrec-server``, one entry per recording)
until its uploads are done. A server without a usable keyring (headless) keeps them in
its state database instead, sealed with its master key (:mod:`core.storage.master_key`).
With neither, :meth:`CredentialVault.durable` is False and the server refuses cloud
starts, naming the ways to give it a master key.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import keyring
from keyring.errors import KeyringError

from core.database import Database
from core.storage.master_key import MasterKey

logger = logging.getLogger(__name__)

SERVICE = "cloudrec-server"
_PROBE = "keyring-probe"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sealed_keys (
    sid TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    sealed BLOB NOT NULL
);
"""


class SealedKeys(Database):
    """Recording keys sealed with the master key, in the server's state database."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def put(self, sid: str, fingerprint: str, sealed: bytes) -> None:
        self.execute(
            "INSERT OR REPLACE INTO sealed_keys (sid, fingerprint, sealed) VALUES (?, ?, ?)",
            (sid, fingerprint, sealed),
        )

    def get(self, sid: str) -> tuple[str, bytes] | None:
        row = self.fetchone("SELECT fingerprint, sealed FROM sealed_keys WHERE sid = ?", (sid,))
        return (str(row[0]), bytes(row[1])) if row else None

    def delete(self, sid: str) -> None:
        self.execute("DELETE FROM sealed_keys WHERE sid = ?", (sid,))


class CredentialVault:
    """Recording id -> (access key, secret key): in the OS keyring when there is one,
    else sealed in ``sealed`` with ``master`` (see the module docstring)."""

    def __init__(self, sealed: SealedKeys | None = None, master: MasterKey | None = None) -> None:
        self._memory: dict[str, tuple[str, str]] = {}
        self._sealed = sealed
        self._master = master
        self._keyring_works: bool | None = None

    async def _keyring_usable(self) -> bool:
        """Whether the OS keyring takes and gives back an entry (asked once)."""
        if self._keyring_works is None:

            def probe() -> bool:
                keyring.set_password(SERVICE, _PROBE, "probe")
                works = keyring.get_password(SERVICE, _PROBE) == "probe"
                keyring.delete_password(SERVICE, _PROBE)
                return works

            try:
                self._keyring_works = await asyncio.to_thread(probe)
            except (KeyringError, RuntimeError):
                self._keyring_works = False
        return self._keyring_works

    async def durable(self) -> bool:
        """Whether keys kept now survive a restart: an OS keyring, or a master key."""
        return await self._keyring_usable() or (
            self._master is not None and self._sealed is not None
        )

    async def keep(self, sid: str, access_key: str, secret_key: str) -> bool:
        """Remember the keys; True when they survive a restart (the OS keyring, or
        sealed with the master key)."""
        self._memory[sid] = (access_key, secret_key)
        value = json.dumps([access_key, secret_key])
        if await self._keyring_usable():
            try:
                await asyncio.to_thread(keyring.set_password, SERVICE, sid, value)
                return True
            except (KeyringError, RuntimeError) as exc:
                logger.warning("the OS keyring refused recording %s's keys (%s)", sid,
                               type(exc).__name__)  # fmt: skip
        if self._master is not None and self._sealed is not None:
            self._sealed.put(sid, self._master.fingerprint, self._master.seal(sid, value.encode()))
            return True
        logger.warning("no OS keyring and no master key: recording %s cannot resume uploads "
                       "after a restart", sid)  # fmt: skip
        return False

    async def recall(self, sid: str) -> tuple[str, str] | None:
        """The keys of ``sid``, from memory, the keyring or the sealed store; None when
        lost (or sealed with another master key: logged)."""
        if sid in self._memory:
            return self._memory[sid]
        value: str | None = None
        try:
            value = await asyncio.to_thread(keyring.get_password, SERVICE, sid)
        except (KeyringError, RuntimeError):
            value = None
        if not value and self._sealed is not None:
            entry = self._sealed.get(sid)
            if entry is not None:
                fingerprint, sealed = entry
                opened = self._master.open(sid, sealed) if self._master is not None else None
                if opened is None:
                    logger.error("recording %s's keys were sealed with another master key "
                                 "(%s); its uploads cannot resume", sid, fingerprint)  # fmt: skip
                    return None
                value = opened.decode()
        if not value:
            return None
        access_key, secret_key = json.loads(value)
        self._memory[sid] = (str(access_key), str(secret_key))
        return self._memory[sid]

    async def forget(self, sid: str) -> None:
        """Drop the keys once the recording's uploads are done."""
        self._memory.pop(sid, None)
        try:
            await asyncio.to_thread(keyring.delete_password, SERVICE, sid)
        except (KeyringError, RuntimeError):
            pass
        if self._sealed is not None:
            self._sealed.delete(sid)
