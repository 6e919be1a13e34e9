"""Storage that never loses a slice, against a real signature-checking S3 server on 127.0.0.1.

Each test records real bots through the real server into moto (started with
signature checking on), and checks what the bucket holds by reading it back.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from core import (
    CloudRecordingError,
    CloudStorageConfig,
    ErrorCode,
    RecordingConfig,
    StorageVendor,
    TranscodingConfig,
    create_cloud_recorder,
)
from core.enums import SANDBOX_APP_ID
from core.participants.bots import run_bots
from core.sdk.embedded import start_embedded_server
from core.storage.hls import parse_playlist
from core.storage.ledger import SliceLedger
from tests.helpers import CallbackLog, DecodedMedia, check_recording, require_secret_service
from tests.s3server import S3Server, TcpProxy

pytestmark = pytest.mark.slow


def _storage(
    s3: S3Server, bucket: str, *, endpoint: str | None = None, secret: str | None = None
) -> CloudStorageConfig:
    return CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3, region=0, bucket=bucket, access_key=s3.access_key,
        secret_key=secret or s3.secret_key, endpoint=endpoint or s3.endpoint,
        file_name_prefix=("recordings",),
    )  # fmt: skip


FPS = 15


def _config() -> RecordingConfig:
    return RecordingConfig(
        progress_interval=2, slice_duration=2,
        transcoding_config=TranscodingConfig(width=320, height=240, fps=FPS, bitrate=300),
    )  # fmt: skip


def _download_and_decode(
    s3: S3Server, bucket: str, playlist_key: str, folder: Path
) -> tuple[list[str], DecodedMedia]:
    """Fetch the playlist and its slices from the bucket; decode and count them."""
    folder.mkdir(parents=True, exist_ok=True)
    text = s3.get_object(bucket, playlist_key).decode()
    playlist = parse_playlist(text)
    assert playlist.ended, text
    prefix = playlist_key.rsplit("/", 1)[0]
    for entry in playlist.entries:
        key = f"{prefix}/{entry.uri}"
        assert s3.head_object(bucket, key)["ContentType"] == "video/mp2t"
        (folder / entry.uri).write_bytes(s3.get_object(bucket, key))
    local = folder / playlist_key.rsplit("/", 1)[1]
    local.write_text(text)
    assert s3.head_object(bucket, playlist_key)["ContentType"] == "application/vnd.apple.mpegurl"
    return [e.uri for e in playlist.entries], check_recording(local, fps=FPS)


async def test_a_wrong_secret_or_a_missing_bucket_fails_start_fast_with_uploader_init(
    channel_server: Any, s3_server: S3Server, s3_bucket: str
) -> None:
    async with run_bots(channel_server.url, channel="s3bad", uids=[51], size=(160, 120)):
        for storage, cause in (
            (
                _storage(s3_server, s3_bucket, secret="not-the-secret-key"),
                "secret key does not match",
            ),
            (_storage(s3_server, "no-such-bucket"), "no-such-bucket"),
        ):
            recorder = create_cloud_recorder(
                CallbackLog(), server=channel_server.url, token=channel_server.settings.token
            )
            began = time.monotonic()
            with pytest.raises(CloudRecordingError) as info:
                await recorder.start(SANDBOX_APP_ID, "s3bad", None, 950, _config(), storage)
            assert time.monotonic() - began < 5
            assert info.value.code is ErrorCode.UPLOADER_INIT
            assert cause in str(info.value)
            assert "not-the-secret-key" not in str(info.value) and s3_server.secret_key not in str(
                info.value
            )
            await recorder.release()


async def test_a_60_s_recording_uploads_while_recording(
    channel_server: Any, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    log = CallbackLog()
    async with run_bots(channel_server.url, channel="s3live", uids=[61, 62, 63], size=(160, 120)):
        recorder = create_cloud_recorder(
            log, server=channel_server.url, token=channel_server.settings.token
        )
        await recorder.start(
            SANDBOX_APP_ID, "s3live", None, 960, _config(), _storage(s3_server, s3_bucket)
        )
        await asyncio.sleep(30)
        during = [k for k in s3_server.list_keys(s3_bucket, "recordings/") if k.endswith(".ts")]
        assert len(during) >= 10  # uploaded as they close, not at the end
        await asyncio.sleep(30)
        await recorder.stop()
        await recorder.wait_finished(30)
        await recorder.release()
    playlist_key = f"recordings/{recorder.sid}_s3live.m3u8"
    slices, media = _download_and_decode(s3_server, s3_bucket, playlist_key, tmp_path / "down")
    assert abs(media.video_frames / FPS - 60) <= 2.5
    assert sorted(f"recordings/{s}" for s in slices) == [
        k for k in s3_server.list_keys(s3_bucket, "recordings/") if k.endswith(".ts")
    ]
    names = log.names()
    assert "on_recording_uploaded" in names and "on_uploader_failure" not in names
    progress = [args[1] for n, args in log.calls if n == "on_recording_uploading_progress"]
    assert progress[-1] == 100


async def test_an_s3_outage_of_30_s_loses_no_slice(
    channel_server: Any, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    port = int(s3_server.endpoint.rsplit(":", 1)[1])
    log = CallbackLog()
    with TcpProxy(port) as proxy:
        async with run_bots(channel_server.url, channel="s3out", uids=[71, 72], size=(160, 120)):
            recorder = create_cloud_recorder(
                log, server=channel_server.url, token=channel_server.settings.token
            )
            storage = _storage(s3_server, s3_bucket, endpoint=proxy.url)
            await recorder.start(SANDBOX_APP_ID, "s3out", None, 970, _config(), storage)
            await asyncio.sleep(6)
            proxy.pause("refuse")
            await asyncio.sleep(30)  # recording goes on into the backup
            proxy.resume()
            await asyncio.sleep(6)
            await recorder.stop()
            await asyncio.wait_for(_uploaded(log), 60)
            await recorder.release()
    names = log.names()
    assert names.index("on_uploader_failure") < names.index("on_recording_uploaded")
    failure = next(args for n, args in log.calls if n == "on_uploader_failure")
    assert failure[1] is ErrorCode.UPLOADER_FAILED and s3_server.secret_key not in failure[2]
    ledger = SliceLedger(channel_server.settings.data_dir / "state.sqlite3")
    recorded = [r.name for r in ledger.slices(recorder.sid)]
    ledger.close()
    slices, media = _download_and_decode(
        s3_server, s3_bucket, f"recordings/{recorder.sid}_s3out.m3u8", tmp_path / "down"
    )
    assert slices == recorded and len(recorded) >= 20  # every slice, the outage's included
    assert media.video_frames / FPS > 40


async def _uploaded(log: CallbackLog) -> None:
    while "on_recording_uploaded" not in log.names():
        await asyncio.sleep(0.2)


async def test_a_killed_server_uploads_every_finished_slice_after_restart(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    require_secret_service()  # the restarted server reads the upload keys from the keyring
    data = tmp_path / "server"
    first = await start_embedded_server(data)
    log = CallbackLog()
    try:
        async with run_bots(first.url, channel="s3kill", uids=[81, 82], size=(160, 120)):
            recorder = create_cloud_recorder(log, server=first.url, token=first.token)
            await recorder.start(
                SANDBOX_APP_ID, "s3kill", None, 980, _config(), _storage(s3_server, s3_bucket)
            )
            rid, sid = recorder.resource_id, recorder.sid
            await asyncio.sleep(9)
            first.kill()
            assert await first.wait_exit(10) == -signal.SIGKILL
            await recorder.release()
    finally:
        await first.stop()
    ledger = SliceLedger(data / "state.sqlite3")
    finished = [r.name for r in ledger.slices(sid)]
    ledger.close()
    assert len(finished) >= 3
    second = await start_embedded_server(data)
    try:
        playlist_key = f"recordings/{sid}_s3kill.m3u8"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            keys = s3_server.list_keys(s3_bucket, "recordings/")
            if (
                playlist_key in keys
                and parse_playlist(s3_server.get_object(s3_bucket, playlist_key).decode()).ended
            ):
                break
            await asyncio.sleep(0.5)
        slices, _ = _download_and_decode(s3_server, s3_bucket, playlist_key, tmp_path / "down")
        assert slices == finished
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {second.token}"}) as http:
            query = await http.get(
                f"{second.url}/v1/apps/{SANDBOX_APP_ID}/cloud_recording/resourceid/{rid}/sid/{sid}/mode/mix/query"
            )
        assert query.status_code == 200, query.text
        assert query.json()["serverResponse"]["status"] in (7, 20)  # final, not "recording"
    finally:
        await second.stop()


async def test_the_storage_check_names_what_is_wrong(
    channel_server: Any, s3_server: S3Server, s3_bucket: str
) -> None:
    from core.sdk.client import Credentials, RestClient

    client = RestClient(channel_server.url, Credentials(bearer=channel_server.settings.token))
    try:
        assert await client.check_storage(_storage(s3_server, s3_bucket)) == (
            True,
            f"S3-compatible store bucket '{s3_bucket}' at {s3_server.endpoint}",
        )
        ok, reason = await client.check_storage(
            _storage(s3_server, s3_bucket, secret="wrong-secret-key")
        )
        assert not ok and "secret key does not match" in reason and "wrong-secret-key" not in reason
        ok, reason = await client.check_storage(_storage(s3_server, "missing-bucket"))
        assert not ok and "missing-bucket" in reason
    finally:
        await client.aclose()
