"""Playlist entries are relative URI references (RFC 3986), the files keep Agora's names.

A channel name may hold ``#``, ``?``, ``%``, ``&``, spaces and more (``core/validation.py``),
and a slice is named ``<sid>_<cname>_<utc>.ts``. Each slice's line in the playlist must be
that name percent-encoded, so that a player resolving it against the playlist's URL
fetches exactly that object or file: a raw ``#`` would start a fragment, ``?`` a query,
``%41`` would read as ``A``. These tests pin the encoding character by character against
a table written by hand from RFC 3986, resolve the entries as a player does, and read
playlists the writers produced back through every reader in the product.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import pytest

from core.commands import selftest
from core.config import CloudStorageConfig
from core.enums import StorageVendor
from core.errors import InvalidParameterError
from core.media.playlist import playlist_name
from core.media.slices import ClosedSlice
from core.participants.analysis import playlist_slices
from core.storage.hls import Playlist, parse_playlist
from core.storage.ledger import SliceLedger
from core.storage.local import LocalFolderDestination
from core.storage.locations import playlist_location
from core.storage.playlist_writer import PlaylistWriter
from core.storage.uploader import AllUploaded, DurableUploader, UploadEvent
from core.validation import check_channel_name
from tests.helpers import _playlist_entries, wait_until
from tests.ts_slices import write_ts_slice

SID = "0123456789abcdef0123456789abcdef"
STAMP = "20260102030405678"

ENCODED = {
    # RFC 3986 section 2.3, unreserved: kept.
    "-": "-",
    ".": ".",
    "_": "_",
    "~": "~",
    # Sub-delimiters (2.2) and "@": allowed in a path segment (3.3), kept ...
    "!": "!",
    "$": "$",
    "&": "&",
    "(": "(",
    ")": ")",
    ",": ",",
    "=": "=",
    "@": "@",
    # ... except "+" (a space in Amazon S3's object URLs), ";" (path parameters to
    # some servers) and ":" (a first segment holding one would read as a scheme, 4.2).
    "+": "%2B",
    ";": "%3B",
    ":": "%3A",
    # Gen-delims and "%" (2.1, 2.2): encoded.
    "#": "%23",
    "?": "%3F",
    "[": "%5B",
    "]": "%5D",
    "%": "%25",
    # Not allowed in a URI at all: encoded.
    " ": "%20",
    "<": "%3C",
    ">": "%3E",
    "^": "%5E",
    "{": "%7B",
    "}": "%7D",
    "|": "%7C",
}
"""Every character besides letters and digits that a channel name may hold (checked by
the first test), as a slice's URI must write it."""

NON_ASCII = {"é": "%C3%A9", "频道": "%E9%A2%91%E9%81%93", "😀": "%F0%9F%98%80"}
"""Non-ASCII as UTF-8 (RFC 3986 section 2.5). Channel names are ASCII today; a file name
prefix or a future rule could bring such characters into a name."""

PATH_NOSCHEME_SEGMENT = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=@]|%[0-9A-F]{2})+")
"""RFC 3986 ``segment-nz-nc``: the first (here the only) segment of a relative-path
reference: unreserved, percent-encoded, sub-delims or "@", and no ":"."""


def slice_name(cname: str) -> str:
    return f"{SID}_{cname}_{STAMP}.ts"


def rendered_uris(names: list[str]) -> list[str]:
    playlist = Playlist(target_duration=2.0)
    for name in names:
        playlist.add(name, 2.0)
    playlist.end()
    return [line for line in playlist.render().splitlines() if not line.startswith("#")]


def test_the_table_holds_every_character_a_channel_name_may_hold() -> None:
    allowed = set()
    for char in map(chr, range(0x20, 0x7F)):
        if char.isalnum():
            continue
        try:
            check_channel_name(char)
        except InvalidParameterError:
            continue
        allowed.add(char)
    assert allowed == set(ENCODED)
    # The channel of the end-to-end test is allowed: it holds '&', ' ', '#' and '?'.
    assert check_channel_name("q&a #1?") == "q&a #1?"


@pytest.mark.parametrize("char", sorted(ENCODED) + sorted(NON_ASCII))
def test_each_character_is_written_as_rfc_3986_says_and_read_back(char: str) -> None:
    name = slice_name(f"a{char}b")
    expected = slice_name(f"a{(ENCODED | NON_ASCII)[char]}b")
    text_line = rendered_uris([name])
    assert text_line == [expected]
    assert PATH_NOSCHEME_SEGMENT.fullmatch(expected)
    text = f"#EXTM3U\n#EXTINF:2.000,\n{expected}\n#EXT-X-ENDLIST\n"
    assert [e.name for e in parse_playlist(text).entries] == [name]
    assert [e.uri for e in parse_playlist(text).entries] == [expected]


def test_a_name_with_every_special_character_at_once() -> None:
    cname = "".join(ENCODED) + "%41%zz"  # "%41" must stay "%41", not become "A"
    name = slice_name(cname)
    (uri,) = rendered_uris([name])
    assert uri == slice_name("".join(ENCODED.values()) + "%2541%25zz")
    assert PATH_NOSCHEME_SEGMENT.fullmatch(uri)
    assert [e.name for e in parse_playlist(f"#EXTINF:1.000,\n{uri}\n").entries] == [name]


@pytest.mark.parametrize(
    ("endpoint", "bucket_path"),
    [("", ""), ("http://127.0.0.1:9000", "/rec")],
    ids=["virtual-hosted", "path-style"],
)
@pytest.mark.parametrize("cname", ["q&a #1?", "100% a+b;c:d", "".join(ENCODED)])
def test_a_player_resolving_each_entry_against_the_playlist_url_gets_the_slice_key(
    cname: str, endpoint: str, bucket_path: str
) -> None:
    storage = CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3,
        region=0,
        bucket="rec",
        access_key="AKIAEXAMPLE",
        secret_key="secret",
        endpoint=endpoint,
        file_name_prefix=("recordings", "2026"),
    )
    playlist_url = playlist_location(storage, playlist_name(SID, cname))
    names = [slice_name(cname), f"{SID}_{cname}_20260102030407678.ts"]
    for name, uri in zip(names, rendered_uris(names), strict=True):
        resolved = urlsplit(urljoin(playlist_url, uri))
        assert (resolved.scheme, resolved.netloc) == urlsplit(playlist_url)[:2]
        assert (resolved.query, resolved.fragment) == ("", "")
        assert unquote(resolved.path) == f"{bucket_path}/recordings/2026/{name}"


def test_a_player_resolving_entries_against_a_local_playlist_gets_the_files(
    tmp_path: Path,
) -> None:
    cname = "q&a #1? 100%"
    playlist = tmp_path / "rec" / playlist_name(SID, cname)
    names = [slice_name(cname), slice_name(cname + "é")]
    for name, uri in zip(names, rendered_uris(names), strict=True):
        resolved = urlsplit(urljoin(playlist.as_uri(), uri))
        assert (resolved.scheme, resolved.query, resolved.fragment) == ("file", "", "")
        assert Path(url2pathname(resolved.path)) == tmp_path / "rec" / name


# --- what the writers write, read back by every reader in the product ----------------

CNAME = "q&a #1? %41"
"""A channel name whose slices' names a reader that did not decode (``%2541``), or
decoded twice (``A``), would not find."""


@pytest.fixture
def slices(tmp_path: Path) -> list[ClosedSlice]:
    work = tmp_path / "work"
    work.mkdir()
    out = []
    for index, stamp in enumerate(("20260102030405678", "20260102030407678")):
        path = work / f"{SID}_{CNAME}_{stamp}.ts"
        write_ts_slice(path, seconds=2.0)
        out.append(ClosedSlice(index, path.name, path, 2.0 * index, 2.0, path.stat().st_size))
    return out


def check_readers(playlist: Path, slices: list[ClosedSlice]) -> None:
    """The playlist lists the slices encoded; every reader finds the files by name."""
    names = [s.name for s in slices]
    text = playlist.read_text()
    uris = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert uris == [f"{SID}_q&a%20%231%3F%20%2541_{n.rsplit('_', 1)[1]}" for n in names]
    assert sorted(p.name for p in playlist.parent.glob("*.ts")) == names  # Agora's names
    assert [e.name for e in parse_playlist(text).entries] == names
    assert playlist_slices(playlist) == [(playlist.parent / n, 2.0) for n in names]
    assert _playlist_entries(text) == [(n, 2.0) for n in names]
    # The self-test decodes every slice it lists (a name it could not open fails it).
    result = selftest.check_recording(playlist)
    assert (result.slices, result.width, result.height) == (2, selftest.WIDTH, selftest.HEIGHT)


async def test_the_playlist_writer_lists_encoded_uris_of_the_files_it_stores(
    tmp_path: Path, slices: list[ClosedSlice]
) -> None:
    folder = LocalFolderDestination(tmp_path / "out")
    writer = PlaylistWriter(folder, f"rec/{playlist_name(SID, CNAME)}", target_duration=2.0)
    keys = [await writer.add_slice(s) for s in slices]
    await writer.end()
    assert keys == [f"rec/{s.name}" for s in slices]
    check_readers(tmp_path / "out" / "rec" / playlist_name(SID, CNAME), slices)


async def test_the_durable_uploader_lists_encoded_uris_of_the_files_it_uploads(
    tmp_path: Path, slices: list[ClosedSlice]
) -> None:
    ledger = SliceLedger(tmp_path / "state.sqlite3")
    events: list[UploadEvent] = []
    uploader = DurableUploader(
        LocalFolderDestination(tmp_path / "out"),
        ledger,
        SID,
        f"rec/{playlist_name(SID, CNAME)}",
        tmp_path / "backup",
        target_duration=2.0,
        listener=events.append,
    )
    try:
        for s in slices:
            await uploader.add_slice(s)
        await uploader.end()
        await wait_until(lambda: AllUploaded() in events, 10)
    finally:
        await uploader.aclose()
        ledger.close()
    check_readers(tmp_path / "out" / "rec" / playlist_name(SID, CNAME), slices)
