"""The master key (core/storage/master_key.py) and the credential vault without an OS
keyring: keys sealed in the state database, opened after a restart with the same key
only, never in a file in plain text."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from core.storage.credentials import CredentialVault, SealedKeys
from core.storage.master_key import (
    CREDENTIAL,
    ENV,
    MasterKey,
    MasterKeyError,
    load_master_key,
)

SECRET = b"s3cret-master-key-with-enough-bytes!"
ACCESS, SECRET_KEY = "AKIAEXAMPLEACCESS", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """keyring's fail backend: what keyring picks without a Secret Service."""
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(before)


def test_sealed_keys_open_for_their_recording_and_key_only() -> None:
    key = MasterKey(SECRET, "a test")
    sealed = key.seal("sid1", b"payload")
    assert b"payload" not in sealed
    assert key.open("sid1", sealed) == b"payload"
    assert key.open("sid2", sealed) is None  # the recording id is authenticated
    assert MasterKey(SECRET + b"x", "another").open("sid1", sealed) is None
    assert key.open("sid1", sealed[:-1] + bytes([sealed[-1] ^ 1])) is None  # damaged
    assert MasterKey(SECRET, "again").fingerprint == key.fingerprint
    assert SECRET.decode() not in key.fingerprint


def test_where_the_master_key_comes_from(tmp_path: Path) -> None:
    assert load_master_key(None, {}) is None
    from_env = load_master_key(None, {ENV: SECRET.decode()})
    assert from_env is not None and ENV in from_env.source
    credentials = tmp_path / "creds"
    credentials.mkdir()
    (credentials / CREDENTIAL).write_bytes(SECRET + b"\n")
    from_systemd = load_master_key(None, {"CREDENTIALS_DIRECTORY": str(credentials), ENV: "x"})
    assert from_systemd is not None and CREDENTIAL in from_systemd.source  # before the env
    key_file = tmp_path / "master.key"
    key_file.write_bytes(SECRET)
    os.chmod(key_file, 0o644)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        load_master_key(key_file, {})
    os.chmod(key_file, 0o600)
    from_file = load_master_key(key_file, {ENV: "ignored"})
    assert from_file is not None and from_file.fingerprint == from_systemd.fingerprint
    with pytest.raises(MasterKeyError, match="at least 32") as info:
        load_master_key(None, {ENV: "short"})
    assert "short" not in str(info.value)


async def test_without_a_keyring_the_vault_seals_keys_with_the_master_key(
    tmp_path: Path, no_keyring: None
) -> None:
    database = tmp_path / "state.sqlite3"
    bare = CredentialVault(SealedKeys(database))
    assert not await bare.durable()  # no keyring, no master key: a restart loses the keys
    assert not await bare.keep("sid0", ACCESS, SECRET_KEY)

    vault = CredentialVault(SealedKeys(database), MasterKey(SECRET, "a test"))
    assert await vault.durable()
    assert await vault.keep("sid1", ACCESS, SECRET_KEY)
    for file in tmp_path.iterdir():  # the database and its WAL hold no key in clear
        content = file.read_bytes()
        assert SECRET_KEY.encode() not in content and ACCESS.encode() not in content, file

    restarted = CredentialVault(SealedKeys(database), MasterKey(SECRET, "a test"))
    assert await restarted.recall("sid1") == (ACCESS, SECRET_KEY)
    other = CredentialVault(SealedKeys(database), MasterKey(SECRET + b"!", "another"))
    assert await other.recall("sid1") is None  # sealed with another key: not guessed
    await restarted.forget("sid1")
    assert (
        await CredentialVault(SealedKeys(database), MasterKey(SECRET, "t")).recall("sid1") is None
    )
