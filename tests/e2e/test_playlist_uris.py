"""A channel named ``q&a #1?`` recorded and played back as a player would, end to end.

Bots publish into the channel on the real server, the SDK records it into the
signature-checking S3 server (moto) or a local folder, and the test then plays the
recording back the way a player does: it fetches the playlist at its URL, resolves each
entry against that URL (RFC 3986, ``urljoin``) and fetches what the result names. The
stored objects and files keep Agora's names (``<sid>_q&a #1?_<utc>.ts``); only the
playlist's lines are percent-encoded (``docs/storage.md``). A raw ``#`` or ``?`` would
cut every entry short at ``<sid>_q&a `` and the player would fetch nothing.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit
from urllib.request import url2pathname

import pytest

from core import (
    CloudStorageConfig,
    RecordingConfig,
    StorageVendor,
    TranscodingConfig,
    create_cloud_recorder,
)
from core.enums import SANDBOX_APP_ID
from core.media.playlist import playlist_name
from core.participants.bots import run_bots
from core.storage.locations import playlist_location
from tests.helpers import CallbackLog, DecodedMedia, check_recording, wait_until
from tests.s3server import S3Server

pytestmark = pytest.mark.slow

CHANNEL = "q&a #1?"
"""Allowed by the channel-name rules (``core/validation.py``), as every character of
``ENCODED`` in ``tests/core/storage/test_playlist_uris.py`` is."""
FPS = 15
SLICE_SECONDS = 2

Fetch = Callable[[str], tuple[str, bytes]]
"""A player's fetch: URL -> (where it read it: object key or file path, the bytes)."""


def _config() -> RecordingConfig:
    return RecordingConfig(
        progress_interval=2,
        slice_duration=SLICE_SECONDS,
        transcoding_config=TranscodingConfig(width=320, height=240, fps=FPS, bitrate=300),
    )


async def _record(channel_server: Any, storage: CloudStorageConfig, uid: int) -> str:
    """Record two bots in ``CHANNEL`` until two slices are stored, then stop; the sid."""
    log = CallbackLog()
    store = channel_server.app.state.recordings.store
    async with run_bots(
        channel_server.url, channel=CHANNEL, uids=[uid + 1, uid + 2], size=(160, 120)
    ):
        recorder = create_cloud_recorder(
            log, server=channel_server.url, token=channel_server.settings.token
        )
        await recorder.start(SANDBOX_APP_ID, CHANNEL, None, uid, _config(), storage)
        sid = recorder.sid
        assert sid is not None

        def stored() -> int:
            return sum(
                n["payload"]["details"]["msgName"] == "cloudrec_slice_stored"
                for n in store.notices(sid)
            )

        await wait_until(lambda: stored() >= 2, 30)
        await recorder.stop()
        await recorder.wait_finished(30)
        await recorder.release()
    # The callbacks name the playlist as Agora does: the file name, not a URI.
    assert ("on_recording_uploaded", (playlist_name(sid, CHANNEL),)) in log.without_id()
    failures = {"on_recorder_failure", "on_uploader_failure", "on_recording_fatal_error"}
    assert not failures & set(log.names())
    return sid


def _play_back(playlist_url: str, fetch: Fetch, copy: Path) -> tuple[list[str], DecodedMedia]:
    """Play the recording at ``playlist_url`` as a player does, into the folder ``copy``.

    Each entry is resolved against the playlist's URL and fetched; the bytes are kept
    under the name the fetch read them from (the key's last part), then decoded and
    counted by :func:`check_recording`, whose slice-by-slice pass reads the playlist
    through ``tests.helpers`` (which decodes the entries). Its second pass is FFmpeg's
    HLS demuxer, which opens a local playlist's entries as literal paths (it does not
    percent-decode them, unlike a URL), so each slice is also linked under its entry's
    text: that pass must then count exactly the frames of the slices. Returns where each
    slice was read from.
    """
    copy.mkdir(parents=True)
    where, data = fetch(playlist_url)
    text = data.decode()
    local = copy / where.rsplit("/", 1)[-1]
    local.write_text(text)
    sources = []
    uris = [line for line in text.splitlines() if line and not line.startswith("#")]
    for uri in uris:
        resolved = urljoin(playlist_url, uri)
        assert (urlsplit(resolved).query, urlsplit(resolved).fragment) == ("", ""), resolved
        source, data = fetch(resolved)
        sources.append(source)
        name = copy / source.rsplit("/", 1)[-1]
        name.write_bytes(data)
        os.link(name, copy / uri)
    media = check_recording(local, fps=FPS)
    assert [s.path.name for s in media.slices] == [s.rsplit("/", 1)[-1] for s in sources]
    durations = [s.listed_seconds for s in media.slices]
    *whole, last = durations
    assert whole == [float(SLICE_SECONDS)] * len(whole), text
    assert last is not None and 0 < last <= SLICE_SECONDS, text
    assert len(uris) == math.ceil(media.video_frames / (SLICE_SECONDS * FPS)) >= 2
    return sources, media


def _slice_pattern(sid: str, folder: str) -> re.Pattern[str]:
    """Agora's slice name ``<sid>_<cname>_<UTC yyyyMMddHHmmssSSS>.ts`` under ``folder``."""
    return re.compile(rf"{re.escape(folder)}{sid}_{re.escape(CHANNEL)}_\d{{17}}\.ts")


async def test_a_channel_named_q_and_a_1_plays_back_from_the_bucket(
    channel_server: Any, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    storage = CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3,
        region=0,
        bucket=s3_bucket,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        endpoint=s3_server.endpoint,
        file_name_prefix=("recordings",),
    )
    sid = await _record(channel_server, storage, 980)
    # The object URL the window shows and copies (path style at an endpoint override).
    playlist_url = playlist_location(storage, playlist_name(sid, CHANNEL))
    bucket_url = f"{s3_server.endpoint}/{s3_bucket}/"
    assert playlist_url == f"{bucket_url}recordings/{sid}_q%26a%20%231%3F.m3u8"

    def fetch(url: str) -> tuple[str, bytes]:
        # A public bucket's GET: S3 percent-decodes the path to the key. (moto answers
        # anonymous GETs with an error, so the test signs the GET of that key.)
        assert url.startswith(bucket_url), url
        key = unquote(urlsplit(url).path)[len(urlsplit(bucket_url).path) :]
        return key, s3_server.get_object(s3_bucket, key)

    keys, _ = _play_back(playlist_url, fetch, tmp_path / "down")
    pattern = _slice_pattern(sid, "recordings/")
    assert all(pattern.fullmatch(k) for k in keys), keys
    # Every object in the bucket under Agora's names, each slice listed once, in order.
    assert s3_server.list_keys(s3_bucket, "recordings/") == sorted(
        [f"recordings/{playlist_name(sid, CHANNEL)}", *keys]
    )
    assert keys == sorted(keys)


@contextmanager
def _static_http(folder: Path) -> Iterator[str]:
    """A static file server for ``folder`` on 127.0.0.1 (as a web server publishes a
    recordings folder: it percent-decodes the path to the file); its base URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, name="static-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _ffmpeg_counts(url: str) -> tuple[int, int]:
    """(video frames, audio frames) FFmpeg's HLS demuxer decodes from ``url``."""
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", url]
    command += ["-map", "0", "-fps_mode", "passthrough", "-f", "framemd5", "-"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    kinds: dict[str, str] = {}
    counts = {"video": 0, "audio": 0}
    for line in result.stdout.splitlines():
        if line.startswith("#media_type "):
            index, kind = line[len("#media_type ") :].split(": ")
            kinds[index] = kind
        elif line and not line.startswith("#"):
            counts[kinds[line.split(",", 1)[0].strip()]] += 1
    return counts["video"], counts["audio"]


async def test_a_channel_named_q_and_a_1_plays_back_from_a_local_folder(
    channel_server: Any, tmp_path: Path
) -> None:
    # inside the server's recordings folder, a storage root (docs/security.md,
    # "Confinement"; the rest of its data folder is never a destination)
    folder = channel_server.settings.data_dir / "recordings" / "local"
    storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(folder))
    sid = await _record(channel_server, storage, 990)
    location = Path(playlist_location(storage, playlist_name(sid, CHANNEL)))
    assert location == folder / f"{sid}_{CHANNEL}.m3u8"

    def fetch(url: str) -> tuple[str, bytes]:
        # A player opening the playlist from disk: its file URL, the entries resolved
        # against it, each file URL percent-decoded to a path.
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("file", ""), url
        path = Path(url2pathname(parts.path))
        return str(path), path.read_bytes()

    paths, media = _play_back(location.as_uri(), fetch, tmp_path / "copy")
    pattern = _slice_pattern(sid, f"{folder}/")
    assert all(pattern.fullmatch(p) for p in paths), paths
    assert sorted(str(p) for p in folder.glob("*.ts")) == paths
    assert sorted(os.listdir(folder)) == sorted([location.name, *(Path(p).name for p in paths)])
    # FFmpeg plays the folder as a web server publishes it, every frame of every slice.
    with _static_http(folder) as base:
        counts = _ffmpeg_counts(urljoin(base, quote(location.name)))
    assert counts == (media.video_frames, media.audio_frames)
