"""Storage credentials of running recordings, kept in the OS keyring of the server.

A recording's uploads must be able to resume after the server restarts, but secrets
never go into files: the server keeps each recording's access key and secret key in
the OS keyring (service ``cloudrec-server``, one entry per recording) until its
uploads are done. Without a usable keyring backend the credentials live in memory
only, and a restart leaves that recording's slices in the local backup with a clear
uploader failure.
"""

from __future__ import annotations

import asyncio
import json
import logging

import keyring
from keyring.errors import KeyringError

logger = logging.getLogger(__name__)

SERVICE = "cloudrec-server"


class CredentialVault:
    """Recording id -> (access key, secret key), in the keyring when there is one."""

    def __init__(self) -> None:
        self._memory: dict[str, tuple[str, str]] = {}

    async def keep(self, sid: str, access_key: str, secret_key: str) -> bool:
        """Remember the keys; True when they are in the OS keyring (survive a restart)."""
        self._memory[sid] = (access_key, secret_key)
        value = json.dumps([access_key, secret_key])
        try:
            await asyncio.to_thread(keyring.set_password, SERVICE, sid, value)
        except (KeyringError, RuntimeError) as exc:
            logger.warning(
                "no OS keyring (%s): recording %s cannot resume uploads after a restart",
                type(exc).__name__,
                sid,
            )
            return False
        return True

    async def recall(self, sid: str) -> tuple[str, str] | None:
        """The keys of ``sid``, from memory or the keyring; None when lost."""
        if sid in self._memory:
            return self._memory[sid]
        try:
            value = await asyncio.to_thread(keyring.get_password, SERVICE, sid)
        except (KeyringError, RuntimeError):
            return None
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
