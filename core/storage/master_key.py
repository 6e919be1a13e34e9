"""The server's master key: recording keys kept encrypted when there is no OS keyring.

A headless server (a VM, a container, a systemd service) has no Secret Service, yet a
crash must not strand the slices it backed up: their upload keys must survive a
restart without ever being written in plain text. The server then keeps each
recording's keys in its state database, encrypted with AES-256-GCM under a key
derived (HKDF-SHA256) from a master secret it does not store beside them
(``docs/deploy.md``), taken from, in this order:

1. a key file named by ``--master-key-file``, readable by its owner only (mode 0600);
2. a systemd credential ``cloudrec-master-key`` (``LoadCredential=`` puts it in
   ``$CREDENTIALS_DIRECTORY``);
3. the environment variable ``CLOUDREC_MASTER_KEY``.

The secret must be at least :data:`MIN_SECRET_BYTES` bytes (e.g. ``openssl rand -hex
32``). Each sealed entry names the key that sealed it by a fingerprint, so a server
started with another master key says which recordings it cannot open instead of
uploading garbage.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ENV = "CLOUDREC_MASTER_KEY"
CREDENTIAL = "cloudrec-master-key"
MIN_SECRET_BYTES = 32

WAYS = (
    f"a systemd credential {CREDENTIAL} (LoadCredential=), the environment variable "
    f"{ENV}, or a key file of mode 0600 named by --master-key-file"
)
"""The three ways to give the server a master key, as its errors name them."""


class MasterKeyError(ValueError):
    """A master key that cannot be used (the message says why; never the key)."""


class MasterKey:
    """Seals and opens recording keys (AES-256-GCM, the recording id authenticated)."""

    def __init__(self, secret: bytes, source: str) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise MasterKeyError(
                f"the master key from {source} has {len(secret)} bytes; at least "
                f"{MIN_SECRET_BYTES} (e.g. openssl rand -hex 32)"
            )
        self.source = source
        """Where it came from (for the log; never the key)."""
        self._key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"cloudrec recording keys v1"
        ).derive(secret)
        self.fingerprint = hmac.new(self._key, b"fingerprint", hashlib.sha256).hexdigest()[:16]
        """Names this key in each sealed entry (not the key: a keyed hash of it)."""

    def seal(self, sid: str, plaintext: bytes) -> bytes:
        """``plaintext`` encrypted for recording ``sid``: nonce + ciphertext + tag."""
        nonce = os.urandom(12)
        return nonce + AESGCM(self._key).encrypt(nonce, plaintext, sid.encode())

    def open(self, sid: str, sealed: bytes) -> bytes | None:
        """What :meth:`seal` sealed for ``sid``, or None if it does not open (another
        key, another recording, or damaged)."""
        try:
            return AESGCM(self._key).decrypt(sealed[:12], sealed[12:], sid.encode())
        except (InvalidTag, ValueError):
            return None


def load_master_key(
    key_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> MasterKey | None:
    """The master key from the first of the three places that has one (None: none
    does); MasterKeyError for a key file others may read, or a key that is too short."""
    environ = os.environ if environ is None else environ
    if key_file is not None:
        info = key_file.stat()
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise MasterKeyError(
                f"the master key file {key_file} may be read by others (mode "
                f"{stat.S_IMODE(info.st_mode):o}); chmod 600 it"
            )
        return MasterKey(key_file.read_bytes().strip(), f"the key file {key_file}")
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if credentials:
        path = Path(credentials) / CREDENTIAL
        if path.is_file():
            return MasterKey(path.read_bytes().strip(), f"the systemd credential {CREDENTIAL}")
    value = environ.get(ENV)
    if value:
        return MasterKey(value.strip().encode(), f"the environment variable {ENV}")
    return None
