"""Storage that never loses a slice, end to end: bots, the real server, the SDK, moto.

Each test records real bots through the real server into a signature-checking S3
server (moto) on 127.0.0.1 and reads the bucket back, decoding every slice. Only what
needs the whole system is here: the error table, the retry schedule, the listing order
and the ledger's restart are proved by the focused tests in ``tests/core/storage``.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

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
from core.sdk.embedded import EmbeddedServer
from core.storage.hls import parse_playlist
from core.storage.ledger import SliceLedger, SliceRow
from tests.helpers import (
    CallbackLog,
    DecodedMedia,
    check_recording,
    require_secret_service,
    wait_until,
)
from tests.s3server import S3Server, TcpProxy

pytestmark = pytest.mark.slow

FPS = 15
SLICE_SECONDS = 2
"""The recordings' slice length; also the documented bound from a slice closing to its
being in the bucket (docs/performance.md, target 4: one slice)."""
LOOPBACK = ("127.0.0.1",)
"""The S3 server's host, which an embedded server calls only when told to."""


def _storage(
    s3: S3Server, bucket: str, *, endpoint: str | None = None, secret: str | None = None
) -> CloudStorageConfig:
    return CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3,
        region=0,
        bucket=bucket,
        access_key=s3.access_key,
        secret_key=secret or s3.secret_key,
        endpoint=endpoint or s3.endpoint,
        file_name_prefix=("recordings",),
    )


def _config() -> RecordingConfig:
    return RecordingConfig(
        progress_interval=2,
        slice_duration=SLICE_SECONDS,
        transcoding_config=TranscodingConfig(width=320, height=240, fps=FPS, bitrate=300),
    )


def _download_and_decode(
    s3: S3Server, bucket: str, playlist_key: str, folder: Path
) -> tuple[list[str], DecodedMedia]:
    """Fetch the playlist and its slices from the bucket; decode and count every frame.

    Slices are whole GOPs of ``SLICE_SECONDS`` (docs/recorder.md): every slice but the
    last lists exactly that, the last at most that.
    """
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
    media = check_recording(local, fps=FPS)
    *whole, last = [e.duration for e in playlist.entries]
    assert whole == [float(SLICE_SECONDS)] * len(whole), text
    assert 0 < last <= SLICE_SECONDS, text
    # As many slices as the recorded frames make: SLICE_SECONDS x FPS frames each.
    assert len(playlist.entries) == math.ceil(media.video_frames / (SLICE_SECONDS * FPS))
    return [e.uri for e in playlist.entries], media


def _slices(ledger_path: Path, sid: str) -> list[SliceRow]:
    """The server's ledger of ``sid`` (read while it runs: SQLite in WAL mode)."""
    ledger = SliceLedger(ledger_path)
    try:
        return ledger.slices(sid)
    finally:
        ledger.close()


def _ts_keys(s3: S3Server, bucket: str) -> list[str]:
    return [k for k in s3.list_keys(bucket, "recordings/") if k.endswith(".ts")]


async def _notices(url: str, token: str, rid: str, sid: str) -> list[dict[str, Any]]:
    """Every notice of a finished recording, read from its event stream."""
    path = f"/v1/cloudrec/recordings/{sid}/events"
    notices: list[dict[str, Any]] = []
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        async with asyncio.timeout(20):
            async with aconnect_sse(http, "GET", path, params={"after": "-1"}) as source:
                source.response.raise_for_status()
                async for event in source.aiter_sse():
                    if event.event == "notice":
                        notices.append(json.loads(event.data))
    return notices


def _details(notices: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [n["payload"]["details"] for n in notices if n["payload"]["details"]["msgName"] == name]


@contextmanager
def _watch_bucket(s3: S3Server, bucket: str) -> Iterator[dict[str, float]]:
    """Key -> the wall time it was first listed in the bucket, polled every 0.1 s.

    A listing takes a while on a busy machine, so a key stored just before the block ends can
    miss the last poll: one more listing on leaving gives every key a time, which is never
    earlier than its arrival (a lag computed from it can only be overstated). A listing that
    fails is raised on leaving rather than silently ending the watch.
    """
    seen: dict[str, float] = {}
    failed: list[BaseException] = []
    stop = threading.Event()

    def look() -> None:
        now = time.time()
        for key in s3.list_keys(bucket, "recordings/"):
            seen.setdefault(key, now)

    def poll() -> None:
        try:
            while not stop.is_set():
                look()
                stop.wait(0.1)
        except BaseException as exc:  # handed to the test below
            failed.append(exc)

    thread = threading.Thread(target=poll, name="bucket-watch", daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the bucket listing did not return within 30 s"
        if failed:
            raise failed[0]
        look()


async def test_a_failing_storage_check_fails_start_with_uploader_init_over_rest(
    channel_server: Any, s3_server: S3Server, s3_bucket: str
) -> None:
    from core.sdk.client import Credentials, RestClient

    at = s3_server.endpoint
    wrong = _storage(s3_server, s3_bucket, secret="not-the-secret-key")
    reason = f"the secret key does not match the access key ({at} rejected the request signature)"
    client = RestClient(channel_server.url, Credentials(bearer=channel_server.settings.token))
    try:
        assert await client.check_storage(_storage(s3_server, s3_bucket)) == (
            True,
            f"S3-compatible store bucket '{s3_bucket}' at {at}",
        )
        ok, said = await client.check_storage(wrong)
        assert not ok and said.endswith(f"): {reason}"), said
        ok, said = await client.check_storage(_storage(s3_server, "missing-bucket"))
        assert not ok and said.endswith(f"): bucket 'missing-bucket' does not exist at {at}"), said
    finally:
        await client.aclose()

    async with run_bots(channel_server.url, channel="s3bad", uids=[51], size=(160, 120)):
        recorder = create_cloud_recorder(
            CallbackLog(), server=channel_server.url, token=channel_server.settings.token
        )
        with pytest.raises(CloudRecordingError) as info:
            await recorder.start(SANDBOX_APP_ID, "s3bad", None, 950, _config(), wrong)
        await recorder.release()
    assert info.value.code is ErrorCode.UPLOADER_INIT  # docs/rest-api.md: 400 with 438
    assert re.fullmatch(
        rf"HTTP 400: cannot upload 'recordings/\.cloudrec-check-[0-9a-f]{{32}}' \(S3-compatible store "
        rf"bucket '{s3_bucket}' at {re.escape(at)}\): {re.escape(reason)}",
        info.value.message,
    ), info.value.message
    assert "not-the-secret-key" not in str(info.value) and s3_server.secret_key not in str(
        info.value
    )


async def test_each_slice_is_in_the_bucket_within_one_slice_of_closing(
    channel_server: Any, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    log = CallbackLog()
    async with run_bots(channel_server.url, channel="s3live", uids=[61, 62, 63], size=(160, 120)):
        recorder = create_cloud_recorder(
            log, server=channel_server.url, token=channel_server.settings.token
        )
        # The watch ends as soon as every upload is done, so that its closing listing
        # (for a key stored after the last poll) is taken right after the last upload.
        with _watch_bucket(s3_server, s3_bucket) as first_seen:
            await recorder.start(
                SANDBOX_APP_ID, "s3live", None, 960, _config(), _storage(s3_server, s3_bucket)
            )
            # 8 slices, uploaded while recording
            await wait_until(lambda: len([k for k in first_seen if k.endswith(".ts")]) >= 8, 60)
            await recorder.stop()
            await recorder.wait_finished(30)
        await recorder.release()
    assert recorder.resource_id is not None and recorder.sid is not None
    notices = await _notices(
        channel_server.url, channel_server.settings.token, recorder.resource_id, recorder.sid
    )
    playlist = f"{recorder.sid}_s3live.m3u8"
    slices, media = _download_and_decode(
        s3_server, s3_bucket, f"recordings/{playlist}", tmp_path / "down"
    )
    assert [f"recordings/{s}" for s in slices] == _ts_keys(s3_server, s3_bucket)
    # Each slice is in the bucket within one slice length of being closed and kept
    # (its cloudrec_slice_stored notice, written once it is in the backup and the ledger).
    stored = _details(notices, "cloudrec_slice_stored")
    assert [d["fileName"] for d in stored] == slices
    closed = {
        n["payload"]["details"]["fileName"]: n["notifyMs"] / 1000
        for n in notices
        if n["payload"]["details"]["msgName"] == "cloudrec_slice_stored"
    }
    lags = {name: first_seen[f"recordings/{name}"] - closed[name] for name in slices}
    assert max(lags.values()) <= SLICE_SECONDS, lags
    (leave,) = _details(notices, "recorder_leave")
    # Agora's leaveCode bit 16: the recorder left on request
    assert (leave["leaveCode"], leave["reason"], leave["slices"]) == (16, "requested", len(slices))
    assert abs(leave["duration"] - media.listed_seconds) <= 0.0005 * len(slices)
    assert log.names().count("on_recording_uploaded") == 1
    assert ("on_recording_uploaded", (recorder.recording_id, playlist)) in log.calls
    assert "on_uploader_failure" not in log.names()
    assert "on_recording_backed_up" not in log.names()
    progress = [args[1] for n, args in log.calls if n == "on_recording_uploading_progress"]
    assert progress[-1] == 100
    (uploaded,) = _details(notices, "uploaded")
    assert (uploaded["status"], [f["fileName"] for f in uploaded["fileList"]]) == (0, [playlist])


async def test_an_outage_over_the_end_backs_up_then_uploads_every_slice(
    channel_server: Any, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    # The store goes down while recording and comes back only after the recording
    # stopped: OnUploaderFailure once, OnRecordingBackedUp after the stop, then
    # OnRecordingUploaded, and the bucket ends up with every slice the server recorded.
    port = int(s3_server.endpoint.rsplit(":", 1)[1])
    ledger = channel_server.settings.data_dir / "state.sqlite3"
    log = CallbackLog()
    with TcpProxy(port) as proxy:
        async with run_bots(channel_server.url, channel="s3out", uids=[71, 72], size=(160, 120)):
            recorder = create_cloud_recorder(
                log, server=channel_server.url, token=channel_server.settings.token
            )
            storage = _storage(s3_server, s3_bucket, endpoint=proxy.url)
            await recorder.start(SANDBOX_APP_ID, "s3out", None, 970, _config(), storage)
            sid = recorder.sid
            assert sid is not None

            def uploaded_and_listed(count: int) -> bool:
                rows = _slices(ledger, sid)
                if len(rows) < count or not all(r.uploaded for r in rows):
                    return False
                key = f"recordings/{sid}_s3out.m3u8"
                listed = parse_playlist(s3_server.get_object(s3_bucket, key).decode()).entries
                return len(listed) == len(rows)

            # Down between two slices, the uploader idle: the next slice is refused.
            await wait_until(lambda: uploaded_and_listed(2), 30)
            proxy.pause("refuse")
            before = len(_slices(ledger, sid))
            await wait_until(lambda: len(_slices(ledger, sid)) >= before + 1, 30)
            await recorder.stop()
            await wait_until(lambda: "on_recording_backed_up" in log.names(), 30)
            proxy.resume()
            # The retry comes after the backoff reached by then (up to 15 s).
            await wait_until(lambda: "on_recording_uploaded" in log.names(), 60)
            await recorder.release()
    rows = _slices(ledger, sid)
    playlist = f"{sid}_s3out.m3u8"
    slices, _ = _download_and_decode(
        s3_server, s3_bucket, f"recordings/{playlist}", tmp_path / "down"
    )
    assert slices == [r.name for r in rows] and all(r.uploaded for r in rows)
    assert [f"recordings/{s}" for s in slices] == _ts_keys(s3_server, s3_bucket)
    names = [n for n in log.names() if n != "on_recording_uploading_progress"]
    assert names == [
        "on_recording_connecting",
        "on_recording_started",
        "on_uploader_failure",
        "on_recording_stopped",
        "on_recording_backed_up",
        "on_recording_uploaded",
    ]
    failure = next(args for n, args in log.calls if n == "on_uploader_failure")
    first_refused = rows[before].name
    assert failure == (
        recorder.recording_id,
        ErrorCode.UPLOADER_FAILED,
        f"cannot upload 'recordings/{first_refused}' (S3-compatible store bucket "
        f"'{s3_bucket}' at {proxy.url}): {proxy.url} is unreachable (Connection refused); "
        "slices are kept in the local backup and retried",
    )
    assert ("on_recording_backed_up", (recorder.recording_id, playlist)) in log.calls
    assert ("on_recording_uploaded", (recorder.recording_id, playlist)) in log.calls
    assert list((channel_server.settings.data_dir / "backup" / sid).iterdir()) == []


async def test_a_killed_server_uploads_every_finished_slice_after_restart(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    require_secret_service()  # the restarted server reads the upload keys from the keyring
    data = tmp_path / "server"
    first = EmbeddedServer(data, log_level="warning", allowed_endpoints=LOOPBACK)
    await first.start()
    log = CallbackLog()
    try:
        async with run_bots(first.url, channel="s3kill", uids=[81, 82], size=(160, 120)):
            recorder = create_cloud_recorder(log, server=first.url, token=first.token)
            await recorder.start(
                SANDBOX_APP_ID, "s3kill", None, 980, _config(), _storage(s3_server, s3_bucket)
            )
            rid, sid = recorder.resource_id, recorder.sid
            assert rid is not None and sid is not None
            await wait_until(lambda: len(_slices(data / "state.sqlite3", sid)) >= 3, 30)
            first.kill()
            assert await first.wait_exit(10) == -signal.SIGKILL
            await recorder.release()
    finally:
        await first.stop()
    finished = [r.name for r in _slices(data / "state.sqlite3", sid)]
    # At most the slice being written is lost: the only one in the work folder and not
    # in the ledger.
    lost = {p.name for p in (data / "work" / sid).glob("*.ts")} - set(finished)
    assert len(lost) <= 1, lost

    second = EmbeddedServer(data, log_level="warning", allowed_endpoints=LOOPBACK)
    await second.start()
    after = CallbackLog()
    again = create_cloud_recorder(after, server=second.url, token=second.token)
    try:
        await again.attach(SANDBOX_APP_ID, rid, sid, "s3kill", 980)
        await again.wait_finished(60)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {second.token}"}) as http:
            query = await http.get(
                f"{second.url}/v1/cloudrec/recordings/{sid}"  # ended: Agora's query is 404
            )
        notices = await _notices(second.url, second.token, rid, sid)
    finally:
        await again.release()
        await second.stop()
    playlist = f"{sid}_s3kill.m3u8"
    slices, _ = _download_and_decode(
        s3_server, s3_bucket, f"recordings/{playlist}", tmp_path / "down"
    )
    assert slices == finished
    assert [f"recordings/{s}" for s in slices] == _ts_keys(s3_server, s3_bucket)
    assert query.status_code == 200, query.text
    assert query.json()["serverResponse"]["status"] == 20  # exited abnormally
    leaves = _details(notices, "recorder_leave")
    assert leaves == [
        {
            "msgName": "recorder_leave",
            "leaveCode": 2,  # Agora's bit 2: the service ended the recorder
            "reason": "the server restarted while recording",
        }
    ]
    assert _details(notices, "uploaded")[-1]["fileList"][0]["fileName"] == playlist
    # Replayed and live through a new SDK instance: the end, then the upload.
    names = [n for n in after.names() if n != "on_recording_uploading_progress"]
    assert names == ["on_recording_started", "on_recording_stopped", "on_recording_uploaded"]
    assert after.calls[-1] == ("on_recording_uploaded", (again.recording_id, playlist))
    assert list((data / "backup" / sid).iterdir()) == []


async def test_without_a_keyring_a_cloud_start_needs_a_master_key(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keyring's "fail" backend (what keyring picks when no Secret Service runs) and no
    master key: a cloud start is refused, naming the three ways to give the server one,
    and nothing is recorded (core/storage/master_key.py)."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("CLOUDREC_MASTER_KEY", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    server = EmbeddedServer(tmp_path / "server", log_level="warning", allowed_endpoints=LOOPBACK)
    await server.start()
    try:
        recorder = create_cloud_recorder(CallbackLog(), server=server.url, token=server.token)
        with pytest.raises(CloudRecordingError) as info:
            await recorder.start(
                SANDBOX_APP_ID, "s3nokey", None, 986, _config(), _storage(s3_server, s3_bucket)
            )
        await recorder.release()
    finally:
        await server.stop()
    assert info.value.code is ErrorCode.UPLOADER_INIT
    message = info.value.message
    for way in ("cloudrec-master-key", "CLOUDREC_MASTER_KEY", "--master-key-file"):
        assert way in message, message
    assert s3_server.list_keys(s3_bucket, "recordings/") == []


async def test_without_a_keyring_a_master_key_lets_a_killed_server_upload_every_slice(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Secret Service, a master key in the environment: the keys are sealed in the
    state database (no file holds them in plain text); SIGKILL mid-recording with slices
    only in the backup (the store refusing), a restart with the same master key uploads
    every finished slice and ends the playlist."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("CLOUDREC_MASTER_KEY", "0123456789abcdef" * 4)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    port = int(s3_server.endpoint.rsplit(":", 1)[1])
    data = tmp_path / "server"
    first = EmbeddedServer(data, log_level="warning", allowed_endpoints=LOOPBACK)
    await first.start()
    with TcpProxy(port) as proxy:
        try:
            async with run_bots(first.url, channel="s3seal", uids=[85], size=(160, 120)):
                recorder = create_cloud_recorder(CallbackLog(), server=first.url, token=first.token)
                storage = _storage(s3_server, s3_bucket, endpoint=proxy.url)
                await recorder.start(SANDBOX_APP_ID, "s3seal", None, 985, _config(), storage)
                rid, sid = recorder.resource_id, recorder.sid
                assert rid is not None and sid is not None
                await wait_until(
                    lambda: any(r.uploaded for r in _slices(data / "state.sqlite3", sid)), 30
                )
                proxy.pause("refuse")  # what follows stays in the backup
                await wait_until(
                    lambda: sum(not r.uploaded for r in _slices(data / "state.sqlite3", sid)) >= 2,
                    30,
                )
                first.kill()
                assert await first.wait_exit(10) == -signal.SIGKILL
                await recorder.release()
        finally:
            await first.stop()
        # the keys are in the state database, sealed: no file holds them in plain text
        for file in (p for p in data.rglob("*") if p.is_file()):
            content = file.read_bytes()
            assert s3_server.secret_key.encode() not in content, file
            assert s3_server.access_key.encode() not in content, file
        finished = [r.name for r in _slices(data / "state.sqlite3", sid)]
        proxy.resume()

        second = EmbeddedServer(data, log_level="warning", allowed_endpoints=LOOPBACK)
        await second.start()
        after = CallbackLog()
        again = create_cloud_recorder(after, server=second.url, token=second.token)
        try:
            await again.attach(SANDBOX_APP_ID, rid, sid, "s3seal", 985)
            await again.wait_finished(60)
        finally:
            await again.release()
            await second.stop()
    playlist = f"{sid}_s3seal.m3u8"
    slices, _ = _download_and_decode(
        s3_server, s3_bucket, f"recordings/{playlist}", tmp_path / "down"
    )
    assert slices == finished
    assert not _restart_failures(after)
    assert after.calls[-1] == ("on_recording_uploaded", (again.recording_id, playlist))
    assert list((data / "backup" / sid).iterdir()) == []


def _restart_failures(log: CallbackLog) -> list[str]:
    """Messages of the UPLOADER_FAILED reports of a restarted server that cannot resume."""
    return [
        args[2]
        for name, args in log.calls
        if name == "on_uploader_failure"
        and args[1] is ErrorCode.UPLOADER_FAILED
        and args[2].startswith("after the restart the uploads cannot resume (")
    ]
