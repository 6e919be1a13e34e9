"""The REST customer a server makes for itself: Basic auth by default, as Agora's.

Agora's RESTful API takes HTTP Basic credentials, a customer ID and a customer secret
made in its console and shown once. A ``cloudrec server`` that is given no customers
(``--customers-from-env``) makes one such pair the first time it starts on a data
folder and prints it once; it keeps only a salted SHA-256 of the secret, in
``<data folder>/customers.json`` (mode 0600), never the secret itself. The secret is 32
random bytes (256 bits): a single salted hash of it cannot be searched, so no slow hash
is needed. Later starts print the customer ID only.

A server whose clients all hold its bearer token (the window's embedded server, the
SDK's) starts with ``--no-basic`` and makes none.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "customers.json"


@dataclass(frozen=True)
class HashedSecret:
    """A customer secret as kept: its salt and the SHA-256 of salt + secret (hex)."""

    salt: str
    digest: str

    @classmethod
    def of(cls, secret: str) -> HashedSecret:
        salt = secrets.token_hex(16)
        return cls(salt, _digest(salt, secret.encode("utf-8")))

    def matches(self, secret: bytes) -> bool:
        """Whether ``secret`` (as sent, bytes) is the one this was made of."""
        return secrets.compare_digest(_digest(self.salt, secret), self.digest)


def _digest(salt: str, secret: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret).hexdigest()


@dataclass(frozen=True)
class MadeCustomer:
    """The server's own customer: its ID, and its secret when it was just made (the
    only time it is known)."""

    customer_id: str
    hashed: HashedSecret
    new_secret: str | None


def own_customer(data_dir: Path) -> MadeCustomer:
    """The customer of the server on ``data_dir``: read from its file, or made (and the
    file written, 0600) the first time. Raises OSError or ValueError for a file that
    cannot be read or written or is not one this module wrote."""
    path = data_dir / FILE_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        customer_id = secrets.token_hex(16)
        secret = secrets.token_urlsafe(32)
        hashed = HashedSecret.of(secret)
        _write(path, customer_id, hashed)
        return MadeCustomer(customer_id, hashed, secret)
    body = json.loads(text)
    entry = body["customer"]
    return MadeCustomer(
        str(entry["id"]), HashedSecret(str(entry["salt"]), str(entry["sha256"])), None
    )


def _write(path: Path, customer_id: str, hashed: HashedSecret) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"customer": {"id": customer_id, "salt": hashed.salt, "sha256": hashed.digest}}
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(body, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
