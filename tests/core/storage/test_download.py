"""Downloading a finished recording from its bucket (the window's Download): a real S3
server that checks signatures, objects put there by the uploader's own destination."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import CloudStorageConfig, StorageVendor
from core.storage.destination import StorageError
from core.storage.download import download_recording
from core.storage.hls import Playlist, PlaylistEntry
from tests.core.storage.stores import s3_destination
from tests.s3server import S3Server

PREFIX = ("rec", "day1")
PLAYLIST = "sid9_lobby.m3u8"
SLICES = [f"sid9_lobby_2026120112000{i}000.ts" for i in range(3)]


def _storage(s3: S3Server, bucket: str, secret: str | None = None) -> CloudStorageConfig:
    return CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3,
        bucket=bucket,
        access_key=s3.access_key,
        secret_key=secret or s3.secret_key,
        endpoint=s3.endpoint,
        file_name_prefix=PREFIX,
    )


async def _recording_in(s3: S3Server, bucket: str, tmp_path: Path) -> dict[str, bytes]:
    """A playlist of three slices and an MP4 under the prefix, as the uploader stores them."""
    stored: dict[str, bytes] = {}
    destination = s3_destination(s3, s3.endpoint, bucket, key_prefix="/".join(PREFIX))
    try:
        for index, name in enumerate([*SLICES, "sid9_lobby_0.mp4"]):
            path = tmp_path / "up" / name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(bytes([index]) * (50_000 + index))
            await destination.put_file("/".join((*PREFIX, name)), path, "video/mp2t")
            stored[name] = path.read_bytes()
        playlist = Playlist(target_duration=4.0, ended=True)
        playlist.entries = [PlaylistEntry(name, 4.0) for name in SLICES]
        text = playlist.render().encode()
        await destination.put_bytes("/".join((*PREFIX, PLAYLIST)), text, "application/x-mpegURL")
        stored[PLAYLIST] = text
    finally:
        await destination.aclose()
    return stored


async def test_the_playlist_its_slices_and_the_mp4_arrive_byte_for_byte(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    stored = await _recording_in(s3_server, s3_bucket, tmp_path)
    told: list[tuple[int, int]] = []
    got = await download_recording(
        _storage(s3_server, s3_bucket),
        PLAYLIST,
        tmp_path / "down",
        extra=["sid9_lobby_0.mp4"],
        progress=lambda done, total: told.append((done, total)),
    )
    assert got.playlist == tmp_path / "down" / PLAYLIST
    assert [p.name for p in got.files] == [*SLICES, "sid9_lobby_0.mp4"]
    for name, data in stored.items():
        assert (tmp_path / "down" / name).read_bytes() == data, name
    assert got.bytes == sum(len(data) for data in stored.values())
    assert told == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert sorted(p.name for p in (tmp_path / "down").iterdir()) == sorted(stored)  # no leftovers


async def test_a_missing_slice_fails_naming_it_and_leaves_no_playlist(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    """A download that stops half-way leaves the slices it got but no playlist that
    would point at missing ones, and no partial file."""
    await _recording_in(s3_server, s3_bucket, tmp_path)
    s3_server.delete_object(s3_bucket, "/".join((*PREFIX, SLICES[1])))
    with pytest.raises(StorageError) as failed:
        await download_recording(_storage(s3_server, s3_bucket), PLAYLIST, tmp_path / "down")
    assert f"'rec/day1/{SLICES[1]}'" in failed.value.message
    assert sorted(p.name for p in (tmp_path / "down").iterdir()) == [SLICES[0]]


async def test_a_wrong_secret_is_refused_without_showing_it(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    await _recording_in(s3_server, s3_bucket, tmp_path)
    storage = _storage(s3_server, s3_bucket, secret="not-the-secret-at-all")
    with pytest.raises(StorageError) as failed:
        await download_recording(storage, PLAYLIST, tmp_path / "down")
    assert "the secret key does not match" in failed.value.message
    assert "not-the-secret-at-all" not in str(failed.value)
    assert list((tmp_path / "down").iterdir()) == []


def test_names_that_are_not_files_beside_the_playlist_are_refused(tmp_path: Path) -> None:
    import asyncio

    storage = CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3, bucket="records", access_key="a", secret_key="s"
    )
    for name in ("../x.m3u8", "a/b.m3u8", "/etc/passwd"):
        with pytest.raises((ValueError, StorageError)):
            asyncio.run(download_recording(storage, name, tmp_path))
    local = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(tmp_path))
    with pytest.raises(ValueError, match="on disk already"):
        asyncio.run(download_recording(local, PLAYLIST, tmp_path / "down"))
