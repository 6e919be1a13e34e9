"""LocalFolderDestination: atomic, durable writes under a folder."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.errors import ErrorCode
from core.storage.destination import Destination, StorageError
from core.storage.local import LocalFolderDestination


def test_is_a_destination(tmp_path: Path) -> None:
    dest = LocalFolderDestination(tmp_path)
    assert isinstance(dest, Destination)
    assert str(tmp_path) in dest.description


async def test_put_bytes_and_file_round_trip(tmp_path: Path) -> None:
    dest = LocalFolderDestination(tmp_path / "out")
    await dest.check()
    await dest.put_bytes("a/b/list.m3u8", b"#EXTM3U\n", "application/vnd.apple.mpegurl")
    src = tmp_path / "slice.ts"
    src.write_bytes(bytes(range(256)) * 5000)
    await dest.put_file("a/b/slice.ts", src, "video/mp2t")
    assert (tmp_path / "out/a/b/list.m3u8").read_bytes() == b"#EXTM3U\n"
    assert (tmp_path / "out/a/b/slice.ts").read_bytes() == src.read_bytes()
    # replacing keeps one file and leaves no temporary files behind
    await dest.put_bytes("a/b/list.m3u8", b"#EXTM3U\n#EXT-X-ENDLIST\n", "x")
    assert sorted(p.name for p in (tmp_path / "out/a/b").iterdir()) == ["list.m3u8", "slice.ts"]
    await dest.delete("a/b/slice.ts")
    await dest.delete("a/b/slice.ts")  # deleting a missing object is fine
    assert not (tmp_path / "out/a/b/slice.ts").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a"]  # check() cleaned up
    await dest.aclose()


@pytest.mark.parametrize("key", ["", "/abs.ts", "../up.ts", "a/../../b.ts", "a\\b.ts"])
async def test_rejects_escaping_keys(tmp_path: Path, key: str) -> None:
    with pytest.raises(StorageError):
        await LocalFolderDestination(tmp_path).put_bytes(key, b"x", "x")


async def test_unwritable_root_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    dest = LocalFolderDestination(blocker / "sub")
    with pytest.raises(StorageError) as info:
        await dest.check()
    assert info.value.code is ErrorCode.UPLOADER_FAILED
    assert "sub" in info.value.message


async def test_missing_source_file_is_a_storage_error(tmp_path: Path) -> None:
    dest = LocalFolderDestination(tmp_path)
    with pytest.raises(StorageError):
        await dest.put_file("x.ts", tmp_path / "missing.ts", "video/mp2t")
    assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []
