"""docs/storage.md's error table, cause by cause, against a real signature-checking store.

Each cause is made for real where moto can make it (a missing bucket, an unknown key,
a wrong secret, a key whose IAM policy may not write) and otherwise by what stands for
the fault: ``S3Gate`` in front of moto answers as Amazon S3 does to a skewed clock
(botocore's clock moved 20 minutes ahead), a request signed for the wrong region, and
a store in trouble (500 InternalError, 503 SlowDown); ``TcpProxy`` refuses connections
or swallows requests (a store that stops answering); ``full_backlog_port`` never
completes a connection. For each cause the tests check the exact message of
``S3Destination``, that no secret is in it or in any log record, what the durable
uploader does (it retries, reports the outage once, and uploads everything once the
cause is gone) and what a recording session reports (``UPLOADER_INIT`` at start,
``UPLOADER_FAILED`` while recording).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import botocore.auth
import httpx
import pytest

from core.errors import CloudRecordingError, ErrorCode
from core.media.slices import ClosedSlice
from core.notices import MODULE_UPLOADER
from core.server.session import CHECK_TIMEOUT
from core.storage.destination import PLAYLIST_CONTENT_TYPE, StorageError
from core.storage.hls import parse_playlist
from core.storage.ledger import SliceLedger
from core.storage.s3 import DEFAULT_TIMEOUT, S3Destination
from core.storage.uploader import (
    AllUploaded,
    BackedUp,
    UploadEvent,
    UploadFailed,
    UploadRecovered,
)
from tests.core.storage.sessions import PLAYLIST_KEY, SID, Harness, details, names
from tests.core.storage.stores import STORED, durable_uploader, note_uploads, s3_destination
from tests.core.storage.virtual_time import run_virtual
from tests.helpers import wait_until
from tests.s3server import S3Gate, S3Server, TcpProxy, full_backlog_port

FAKE_ACCESS = "AKIAFAKEACCESSKEY123"
FAKE_SECRET = "fake/secret+key/that/must/never/leak0"
READ_ONLY = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
    '"Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]}'
)
ALLOW_ALL = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
)
SHORT = httpx.Timeout(0.5, connect=0.5, pool=0.5)
"""Timeouts for the hanging causes (the documented 10 s and 60 s are checked on a
virtual clock below)."""


@dataclass
class Failing:
    """A store that fails one way: how to reach it, the reason expected, and the cure."""

    endpoint: str
    bucket: str
    reason: str
    """What the message ends with (docs/storage.md's table)."""
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    recover: Callable[[], None] | None = None
    """Removes the cause (None: only a new configuration does)."""

    def destination(self) -> S3Destination:
        return S3Destination(
            self.endpoint,
            self.bucket,
            region=self.region,
            access_key=self.access_key,
            secret_key=self.secret_key,
            timeout=self.timeout,
        )

    def message(self, key: str, verb: str = "upload") -> str:
        return (
            f"cannot {verb} '{key}' (S3 bucket '{self.bucket}' at {self.endpoint}): {self.reason}"
        )

    def secrets(self) -> list[str]:
        return [self.access_key, self.secret_key]


CAUSES = [
    "NoSuchBucket",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "RequestTimeTooSkewed",
    "wrong region",
    "connection refused",
    "no connection",
    "stopped answering",
    "HTTP 500",
    "HTTP 503 SlowDown",
]


@pytest.fixture(params=CAUSES)
def failing(
    request: pytest.FixtureRequest,
    s3_server: S3Server,
    s3_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Failing]:
    cause: str = request.param
    port = int(s3_server.endpoint.rsplit(":", 1)[1])
    keys = {"access_key": s3_server.access_key, "secret_key": s3_server.secret_key}
    with contextlib.ExitStack() as stack:
        if cause == "NoSuchBucket":
            missing = f"rec-{uuid.uuid4().hex[:12]}"
            at = s3_server.endpoint

            def make_bucket() -> None:
                s3_server.create_bucket(missing)

            yield Failing(
                at,
                missing,
                f"bucket '{missing}' does not exist at {at}",
                **keys,
                recover=make_bucket,
            )
        elif cause == "InvalidAccessKeyId":
            at = s3_server.endpoint
            yield Failing(
                at,
                s3_bucket,
                f"the access key is not known to {at}",
                access_key=FAKE_ACCESS,
                secret_key=FAKE_SECRET,
            )
        elif cause == "SignatureDoesNotMatch":
            at = s3_server.endpoint
            yield Failing(
                at,
                s3_bucket,
                f"the secret key does not match the access key ({at} rejected the request "
                "signature)",
                access_key=s3_server.access_key,
                secret_key=FAKE_SECRET,
            )
        elif cause == "AccessDenied":
            user = f"reader-{uuid.uuid4().hex[:8]}"
            access, secret = s3_server.create_key(user, READ_ONLY)
            at = s3_server.endpoint

            def allow() -> None:
                s3_server.set_policy(user, ALLOW_ALL)

            yield Failing(
                at,
                s3_bucket,
                f"access denied: the access key may not write to or delete from bucket "
                f"'{s3_bucket}' at {at}; check the key's permissions",
                access_key=access,
                secret_key=secret,
                recover=allow,
            )
        elif cause == "RequestTimeTooSkewed":
            gate = stack.enter_context(S3Gate(s3_server.endpoint))
            right = botocore.auth.get_current_datetime
            ahead = datetime.timedelta(minutes=20)  # this computer's clock is wrong
            monkeypatch.setattr(
                botocore.auth, "get_current_datetime", lambda *a, **k: right(*a, **k) + ahead
            )
            yield Failing(
                gate.url,
                s3_bucket,
                f"this computer's clock differs too much from {gate.url}'s; set the clock right",
                **keys,
                recover=lambda: monkeypatch.setattr(botocore.auth, "get_current_datetime", right),
            )
        elif cause == "wrong region":
            gate = stack.enter_context(S3Gate(s3_server.endpoint, region="us-east-1"))
            yield Failing(
                gate.url,
                s3_bucket,
                f"bucket '{s3_bucket}' is not in region eu-west-1 at {gate.url}; choose the "
                "bucket's region (AuthorizationHeaderMalformed: The authorization header is "
                "malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1')",
                **keys,
                region="eu-west-1",
            )
        elif cause == "connection refused":
            proxy = stack.enter_context(TcpProxy(port))
            proxy.pause("refuse")
            yield Failing(
                proxy.url,
                s3_bucket,
                f"{proxy.url} is unreachable (Connection refused)",
                **keys,
                recover=proxy.resume,
            )
        elif cause == "no connection":
            black_hole = stack.enter_context(full_backlog_port())
            at = f"http://127.0.0.1:{black_hole}"
            yield Failing(
                at,
                s3_bucket,
                f"{at} is unreachable (no connection within 0.5 s)",
                **keys,
                timeout=SHORT,
            )
        elif cause == "stopped answering":
            proxy = stack.enter_context(TcpProxy(port))
            proxy.pause("hang")
            # No cure here: with timeouts this short, a slow answer after the cure would
            # time out too. The uploader outlasting a store that stopped answering is
            # test_an_upload_that_is_never_answered_is_retried_after_each_60_s_timeout.
            yield Failing(
                proxy.url,
                s3_bucket,
                f"{proxy.url} stopped answering (timed out); the network or the store is down",
                **keys,
                timeout=SHORT,
            )
        elif cause == "HTTP 500":
            gate = stack.enter_context(S3Gate(s3_server.endpoint))
            gate.fail(None, S3Gate.INTERNAL_ERROR)
            yield Failing(
                gate.url,
                s3_bucket,
                f"{gate.url} answered HTTP 500 Internal Server Error (InternalError: We "
                "encountered an internal error. Please try again.)",
                **keys,
                recover=gate.heal,
            )
        elif cause == "HTTP 503 SlowDown":
            gate = stack.enter_context(S3Gate(s3_server.endpoint))
            gate.fail(None, S3Gate.SLOW_DOWN)
            yield Failing(
                gate.url,
                s3_bucket,
                f"{gate.url} answered HTTP 503 Service Unavailable (SlowDown: Please reduce "
                "your request rate.)",
                **keys,
                recover=gate.heal,
            )
        else:  # pragma: no cover
            raise AssertionError(cause)


def assert_no_secrets(messages: list[str], logs: list[str], failing: Failing, s3: S3Server) -> None:
    """Neither key in any message or log record; no Authorization header in a message,
    nor its credential in a log record (botocore logs the string it signs at DEBUG)."""
    secrets = {*failing.secrets(), s3.access_key, s3.secret_key}
    for text in [*messages, *logs]:
        assert not [s for s in secrets if s in text], text
        assert "Credential=" not in text and "Signature=" not in text, text
    for text in messages:
        assert "AWS4-HMAC-SHA256" not in text, text


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every log record of cloudrec and the libraries it uses (httpx, httpcore, botocore's
    signer), formatted with its traceback; the test's own boto3 client is left out."""
    handler = logging.Formatter()
    return [handler.format(r) for r in caplog.records if not _boto3_client(r.name)]


def _boto3_client(logger: str) -> bool:
    """Loggers of the boto3 client the tests read the bucket with (cloudrec uses only
    botocore's signer, ``botocore.auth``)."""
    return logger.startswith(("boto3", "urllib3")) or (
        logger.startswith("botocore.") and logger != "botocore.auth"
    )


async def test_each_cause_has_its_message_and_no_secret(
    failing: Failing, s3_server: S3Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dest = failing.destination()
    with pytest.raises(StorageError) as info:
        await dest.put_bytes("rec/list.m3u8", b"#EXTM3U\n", PLAYLIST_CONTENT_TYPE)
    await dest.aclose()
    error = info.value
    assert error.code is ErrorCode.UPLOADER_FAILED
    assert error.message == failing.message("rec/list.m3u8")
    # no chained httpx exception: its request holds the Authorization header
    assert error.__cause__ is None and error.__context__ is None
    assert caplog.records  # botocore and httpx log at DEBUG: there is something to search
    assert_no_secrets(
        [str(error), repr(error), *map(str, error.args)], logged(caplog), failing, s3_server
    )


async def test_the_uploader_retries_every_cause_and_uploads_once_it_is_gone(
    failing: Failing, s3_server: S3Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The uploader gives up on nothing: it reports the outage once and retries; what
    # can be cured while it runs (the store back, the clock set right, the key allowed,
    # the bucket made) ends in every slice stored and the playlist ended.
    caplog.set_level(logging.DEBUG)
    ledger = SliceLedger(tmp_path / "state.sqlite3")
    target = failing.destination()
    tried: list[str] = []
    note_uploads(target, tried.append)
    events: list[UploadEvent] = []
    uploader = durable_uploader(
        target,
        ledger,
        SID,
        PLAYLIST_KEY,
        tmp_path / "backup",
        listener=events.append,
        retry_delays=(0.05,),
    )
    work = tmp_path / "work"
    work.mkdir()
    slices = []
    for index in range(2):
        path = work / f"{SID}_chan_{index:017d}.ts"
        path.write_bytes(bytes([71]) * (2000 + index))
        slices.append(ClosedSlice(index, path.name, path, 2.0 * index, 2.0, 2000 + index))
        await uploader.add_slice(slices[-1])
    await uploader.end()
    try:
        await wait_until(lambda: len(tried) >= 3, 20)
        first = failing.message(f"rec/{slices[0].name}")
        assert set(tried) == {first}  # the first slice, again and again, nothing skipped
        assert events == [UploadFailed(first), BackedUp(pending=2)]
        assert uploader.pending == 2
        assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == [s.name for s in slices]
        if failing.recover is None:
            assert ledger.unfinished()[0].sid == SID
            return
        failing.recover()
        assert await uploader.wait_done(20)
        assert events[2:] == [UploadRecovered(), AllUploaded()]
        assert tried.count(STORED) == 2
        keys = s3_server.list_keys(failing.bucket)
        assert keys == sorted([PLAYLIST_KEY, *(f"rec/{s.name}" for s in slices)])
        playlist = parse_playlist(s3_server.get_object(failing.bucket, PLAYLIST_KEY).decode())
        assert playlist.ended and [e.name for e in playlist.entries] == [s.name for s in slices]
    finally:
        await uploader.aclose()
        ledger.close()
        assert_no_secrets(
            [*tried, *(getattr(e, "message", "") for e in events)],
            logged(caplog),
            failing,
            s3_server,
        )


async def test_a_failing_check_fails_the_start_with_uploader_init(
    failing: Failing, s3_server: S3Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness = Harness(tmp_path, failing.destination())
    try:
        error, notices = await harness.start_fails()
        # The probe object has a random name under the prefix (none here).
        probe = re.fullmatch(r"cannot upload '(\.cloudrec-check-[0-9a-f]{32})' .*", error.message)
        assert probe is not None, error.message
        assert error.message == failing.message(probe.group(1))
        assert details(notices, "cloud_recording_error") == [
            {
                "msgName": "cloud_recording_error",
                "module": MODULE_UPLOADER,
                "errorLevel": 5,  # fatal
                "errorCode": int(ErrorCode.UPLOADER_INIT),
                "stat": 1,
                "errorMsg": error.message,
            }
        ]
        assert [d["status"] for d in details(notices, "cloud_recording_status_update")] == [1, 20]
        assert harness.row().exit_reason == error.message
        assert_no_secrets([json.dumps(notices), str(error)], logged(caplog), failing, s3_server)
    finally:
        await harness.close()


async def test_an_outage_while_recording_is_one_uploader_failure_then_uploads_work_again(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    with S3Gate(s3_server.endpoint) as gate:
        destination = s3_destination(s3_server, gate.url, s3_bucket)
        harness = Harness(tmp_path, destination, retry_delays=(0.05,))
        try:
            session = harness.session
            await session.start()
            first = await harness.fake.record_slice()
            # Down once the first slice and its playlist are up (the uploader is idle).
            await wait_until(
                lambda: (u := harness.ledger.upload(SID)) is not None and u.playlist_uploaded
            )
            gate.fail(None, S3Gate.SLOW_DOWN)
            second = await harness.fake.record_slice()
            third = await harness.fake.record_slice()
            await wait_until(lambda: gate.statuses().count(503) >= 3)
            gate.heal()
            await wait_until(lambda: harness.uploader.pending == 0)
            await session.stop()
            await session.wait_finished()
            notices = await harness.notices()
        finally:
            await harness.close()
    reason = (
        f"{gate.url} answered HTTP 503 Service Unavailable (SlowDown: Please reduce your "
        "request rate.)"
    )
    assert details(notices, "cloud_recording_error") == [
        {
            "msgName": "cloud_recording_error",
            "module": MODULE_UPLOADER,
            "errorLevel": 3,
            "errorCode": int(ErrorCode.UPLOADER_FAILED),
            "stat": 0,
            "errorMsg": f"cannot upload 'rec/{second}' (S3 bucket '{s3_bucket}' at {gate.url}): "
            f"{reason}; slices are kept in the local backup and retried",
        }
    ]
    assert details(notices, "cloud_recording_warning") == [
        {"msgName": "cloud_recording_warning", "module": 1, "warnCode": 1001,
         "warnMsg": "uploads work again"}
    ]  # fmt: skip
    order = names(notices)
    assert order.index("cloud_recording_error") < order.index("cloud_recording_warning")
    assert order.index("cloud_recording_warning") < order.index("uploaded")
    assert "backuped" not in order  # everything was up before the end
    assert details(notices, "uploaded")[-1]["fileList"][0]["fileName"] == (
        harness.session.row.playlist
    )
    playlist = parse_playlist(s3_server.get_object(s3_bucket, PLAYLIST_KEY).decode())
    assert playlist.ended and [e.name for e in playlist.entries] == [first, second, third]


# --- the documented timeouts, on a virtual clock ----------------------------------------


def test_the_documented_timeouts() -> None:
    # docs/storage.md: 10 s to connect, 60 s for any read or write.
    assert (DEFAULT_TIMEOUT.connect, DEFAULT_TIMEOUT.read, DEFAULT_TIMEOUT.write) == (
        10.0,
        60.0,
        60.0,
    )
    assert CHECK_TIMEOUT == 5.0


def test_a_put_that_never_connects_fails_after_10_s_and_one_that_is_never_answered_after_60_s(
    s3_server: S3Server, s3_bucket: str
) -> None:
    port = int(s3_server.endpoint.rsplit(":", 1)[1])

    async def attempt(endpoint: str) -> tuple[float, str]:
        dest = s3_destination(s3_server, endpoint, s3_bucket)
        loop = asyncio.get_running_loop()
        began = loop.time()
        with pytest.raises(StorageError) as info:
            await dest.put_bytes("rec/a.m3u8", b"#EXTM3U\n", PLAYLIST_CONTENT_TYPE)
        await dest.aclose()
        return loop.time() - began, info.value.message

    with full_backlog_port() as black_hole:
        took, message = run_virtual(attempt(f"http://127.0.0.1:{black_hole}"))
    at = f"http://127.0.0.1:{black_hole}"
    assert took == pytest.approx(10.0, abs=1e-6)
    assert message == (
        f"cannot upload 'rec/a.m3u8' (S3 bucket '{s3_bucket}' at {at}): "
        f"{at} is unreachable (no connection within 10.0 s)"
    )
    with TcpProxy(port) as proxy:
        proxy.pause("hang")
        took, message = run_virtual(attempt(proxy.url))
    assert took == pytest.approx(60.0, abs=1e-6)
    assert message == (
        f"cannot upload 'rec/a.m3u8' (S3 bucket '{s3_bucket}' at {proxy.url}): "
        f"{proxy.url} stopped answering (timed out); the network or the store is down"
    )


def test_a_store_that_never_answers_the_check_fails_the_start_after_5_s(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    port = int(s3_server.endpoint.rsplit(":", 1)[1])

    async def main(proxy: TcpProxy) -> tuple[float, CloudRecordingError, list[dict[str, object]]]:
        harness = Harness(tmp_path, s3_destination(s3_server, proxy.url, s3_bucket))
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            with pytest.raises(CloudRecordingError) as info:
                await harness.session.start()
            took = loop.time() - began
            return took, info.value, details(await harness.notices(), "cloud_recording_error")
        finally:
            await harness.close()

    with TcpProxy(port) as proxy:
        proxy.pause("hang")
        took, error, errors = run_virtual(main(proxy))
    message = f"S3 bucket '{s3_bucket}' at {proxy.url} did not answer within 5 s"
    assert took == pytest.approx(CHECK_TIMEOUT, abs=1e-6)
    assert (error.code, error.message) == (ErrorCode.UPLOADER_INIT, message)
    assert [(e["errorCode"], e["errorMsg"], e["errorLevel"]) for e in errors] == [
        (int(ErrorCode.UPLOADER_INIT), message, 5)  # fatal
    ]


def test_an_upload_that_is_never_answered_is_retried_after_each_60_s_timeout(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    # The durable uploader has no timeout of its own: the store's 60 s read timeout
    # ends each hung attempt, then the backoff applies (attempts at 0, 61, 123, 185).
    port = int(s3_server.endpoint.rsplit(":", 1)[1])

    async def main(proxy: TcpProxy) -> tuple[list[tuple[float, str]], list[UploadEvent]]:
        target = s3_destination(s3_server, proxy.url, s3_bucket)
        loop = asyncio.get_running_loop()
        ends: list[tuple[float, str]] = []

        def timed(outcome: str) -> None:
            ends.append((loop.time(), outcome))
            if outcome != STORED and len(ends) == 3:
                proxy.resume()

        note_uploads(target, timed)
        ledger = SliceLedger(tmp_path / "state.sqlite3")
        events: list[UploadEvent] = []
        uploader = durable_uploader(
            target, ledger, SID, PLAYLIST_KEY, tmp_path / "backup", listener=events.append
        )
        path = tmp_path / "slice.ts"
        path.write_bytes(b"\x47" * 1880)
        await uploader.add_slice(ClosedSlice(0, path.name, path, 0.0, 2.0, 1880))
        await uploader.end()
        try:
            assert await uploader.wait_done()
        finally:
            await uploader.aclose()
            ledger.close()
        return ends, events

    with TcpProxy(port) as proxy:
        proxy.pause("hang")
        ends, events = run_virtual(main(proxy))
    hung = (
        f"cannot upload 'rec/slice.ts' (S3 bucket '{s3_bucket}' at {proxy.url}): {proxy.url} "
        "stopped answering (timed out); the network or the store is down"
    )
    assert [(round(t, 6), m) for t, m in ends] == [
        (60.0, hung),
        (121.0, hung),
        (183.0, hung),
        (187.0, STORED),
    ]
    assert events == [UploadFailed(hung), BackedUp(pending=1), UploadRecovered(), AllUploaded()]
    assert s3_server.list_keys(s3_bucket) == sorted([PLAYLIST_KEY, "rec/slice.ts"])
