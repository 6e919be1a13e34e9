"""Webhooks of real recordings: a real server (in this process, or ``cloudrec server`` as
a child process) pushes every notice to a receiver on 127.0.0.1 that verifies both of
Agora's signatures the documented way (tests.webhook_receiver).

The recordings are of empty channels (the recorder renders the background): what is
tested is the notices, not the media. The deliverer's own cases (resends, the age
limit, filters) are in test_webhook_delivery.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.enums import SANDBOX_APP_ID
from core.notices import EventType
from core.server.service import RecordingService
from core.server.state import StateStore
from core.server.webhook_config import Endpoint
from tests.conftest import TEST_CUSTOMER, serve_channel_server
from tests.core.server.test_notice_shapes import check_notice
from tests.helpers import wait_until
from tests.server_process import REPO, refused_server, server_command, server_process
from tests.webhook_receiver import WebhookReceiver, webhook_receiver

SECRET = "whsec-Rk8vL3-of-this-test"
BASE = f"/v1/apps/{SANDBOX_APP_ID}/cloud_recording"
SMALL = {"width": 160, "height": 120, "fps": 15, "bitrate": 100}


async def start_recording(
    http: httpx.AsyncClient, cname: str, folder: Path, **recording: Any
) -> tuple[str, str]:
    """Start recording the (empty) channel ``cname`` into ``folder``: (resourceId, sid)."""
    identity = {"cname": cname, "uid": "77"}
    acquired = await http.post(f"{BASE}/acquire", json=identity)
    assert acquired.status_code == 200, acquired.text
    rid = acquired.json()["resourceId"]
    storage = {"vendor": 100, "extensionParams": {"localFolder": str(folder)}}
    config = {"transcodingConfig": SMALL, **recording}
    body = {**identity, "clientRequest": {"recordingConfig": config, "storageConfig": storage}}
    started = await http.post(f"{BASE}/resourceid/{rid}/mode/mix/start", json=body)
    assert started.status_code == 200, started.text
    return rid, started.json()["sid"]


async def stop_recording(http: httpx.AsyncClient, rid: str, sid: str, cname: str) -> None:
    body = {"cname": cname, "uid": "77", "clientRequest": {}}
    stopped = await http.post(f"{BASE}/resourceid/{rid}/sid/{sid}/mode/mix/stop", json=body)
    assert stopped.status_code == 206, stopped.text  # nobody sent a stream: Agora's 206


async def finished(http: httpx.AsyncClient, sid: str) -> bool:
    answer = await http.get(f"/v1/cloudrec/recordings/{sid}")
    return bool(answer.json()["finished"])


async def wait_finished(http: httpx.AsyncClient, sid: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await finished(http, sid):
        assert time.monotonic() < deadline, "the recording did not finish in time"
        await asyncio.sleep(0.1)


def assert_received_as_stored(
    receiver: WebhookReceiver, sid: str, stored: list[dict[str, Any]]
) -> None:
    """Every stored notice of ``sid`` arrived, first arrivals in sequence order from 0,
    each the stored notice with only ``notifyMs`` renewed, in the shape Agora documents
    for its event type (checked field by field against the documentation's fixture)."""
    got = receiver.of(sid)
    assert [n["payload"]["sequence"] for n in got] == list(range(len(stored)))
    for sent, kept in zip(got, stored, strict=True):
        assert sent == {**kept, "notifyMs": sent["notifyMs"]}
        assert sent["notifyMs"] >= kept["notifyMs"]
        check_notice(sent)
    assert receiver.forged == 0


@asynccontextmanager
async def in_process_server(
    tmp_path: Path, *endpoints: Endpoint, retry_cap: float = 0.5
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    async with serve_channel_server(
        tmp_path, webhooks=endpoints, webhook_retry_cap=retry_cap
    ) as server:
        headers = {"Authorization": f"Bearer {server.settings.token}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
            yield server, http


def stored_notices(server: Any, sid: str) -> list[dict[str, Any]]:
    service: RecordingService = server.app.state.recordings
    return service.store.notices(sid, -1)


async def test_a_recordings_notices_arrive_in_order_signed_and_the_status_shows_it(
    tmp_path: Path,
) -> None:
    async with (
        webhook_receiver(SECRET) as receiver,
        in_process_server(
            tmp_path, Endpoint(receiver.url + "?key=q-Tok3n", SECRET)
        ) as (server, http),
    ):  # fmt: skip
        rid, sid = await start_recording(
            http, "hooked", tmp_path / "rec", sliceDuration=1, progressInterval=1
        )
        await wait_until(lambda: len(receiver.of(sid)) >= 3)  # arriving while it records
        await asyncio.sleep(2.5)  # recording: slices and progress notices meanwhile
        await stop_recording(http, rid, sid, "hooked")
        await wait_finished(http, sid)
        stored = stored_notices(server, sid)
        await wait_until(lambda: len(receiver.of(sid)) == len(stored))
        status = (await http.get("/v1/cloudrec/status")).json()["webhooks"]
        customer = (await http.get("/v1/cloudrec/status", auth=TEST_CUSTOMER)).json()
    assert_received_as_stored(receiver, sid, stored)
    assert len(receiver.arrivals) == len(stored)  # nothing twice with a receiver always up
    kinds = [n["eventType"] for n in receiver.of(sid)]
    for kind in (EventType.RECORDER_STARTED, EventType.RECORDER_LEAVE, EventType.UPLOADED):
        assert kind in kinds, kinds
    assert EventType.SLICE_STORED in kinds
    assert EventType.SESSION_EXIT in kinds and EventType.UPLOADING_PROGRESS in kinds
    [entry] = status
    assert entry["endpoint"] == receiver.url  # without the query and its token
    assert (entry["backlog"], entry["retrying"], entry["lastError"]) == (0, 0, None)
    assert entry["lastDeliveryMs"] >= receiver.of(sid)[-1]["notifyMs"]
    assert customer["webhooks"] == []  # the endpoints are the operator's


async def test_a_hanging_receiver_does_not_delay_slices_or_uploads(tmp_path: Path) -> None:
    """The receiver takes each request and never answers (the deliverer gives up after
    10 s and tries again): slices are still stored once a second, uploaded, and stop
    answers at once; when the receiver answers again, every notice arrives."""
    async with (
        webhook_receiver(SECRET) as receiver,
        in_process_server(tmp_path, Endpoint(receiver.url, SECRET)) as (server, http),
    ):
        receiver.set_mode("hang")
        rid, sid = await start_recording(http, "hang", tmp_path / "rec", sliceDuration=1)
        await wait_until(lambda: receiver.hanging == 1)  # its first notice: no answer
        await asyncio.sleep(6)  # six slices' time, all of it with a receiver hanging
        began = time.monotonic()
        await stop_recording(http, rid, sid, "hang")
        stop_took = time.monotonic() - began
        await wait_finished(http, sid)
        assert not receiver.arrivals and receiver.hanging >= 1
        status = (await http.get("/v1/cloudrec/status")).json()
        stored = stored_notices(server, sid)
        receiver.set_mode("ok")
        await wait_until(lambda: len(receiver.of(sid)) == len(stored), timeout=20)
    slices = [n for n in stored if n["eventType"] == EventType.SLICE_STORED]
    assert len(slices) >= 5, len(slices)
    times = [n["payload"]["sendts"] / 1000 for n in slices]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # a slice a second, give or take the cut on a keyframe: never a receiver's 10 s
    assert max(gaps) < 2.5, gaps
    assert stop_took < 5, stop_took
    uploaded = [n for n in stored if n["eventType"] == EventType.UPLOADED]
    assert uploaded and uploaded[0]["payload"]["details"]["status"] == 0
    assert status["uploadBacklog"] == 0  # every slice uploaded meanwhile
    assert status["webhooks"][0]["backlog"] == len(stored)
    assert status["webhooks"][0]["lastError"] in (None, "no answer within 10 s")
    assert_received_as_stored(receiver, sid, stored)


@pytest.mark.slow
async def test_a_receiver_down_for_a_minute_mid_recording_gets_every_notice_in_order(
    tmp_path: Path,
) -> None:
    async with (
        webhook_receiver(SECRET) as receiver,
        in_process_server(tmp_path, Endpoint(receiver.url, SECRET), retry_cap=5) as (
            server,
            http,
        ),
    ):
        rid, sid = await start_recording(
            http, "outage", tmp_path / "rec", sliceDuration=2, progressInterval=5,
            maxIdleTime=300,  # nobody is in the channel: keep recording past the outage
        )  # fmt: skip
        await wait_until(lambda: len(receiver.of(sid)) >= 3)
        await receiver.stop()  # connections refused from now on
        down = len(stored_notices(server, sid))
        await asyncio.sleep(60)  # the outage: the recording goes on without its receiver
        during = len(stored_notices(server, sid)) - down
        await receiver.start()
        await asyncio.sleep(2)  # recording on after the receiver came back
        await stop_recording(http, rid, sid, "outage")
        await wait_finished(http, sid)
        stored = stored_notices(server, sid)
        await wait_until(lambda: len(receiver.of(sid)) == len(stored), timeout=30)
        status = (await http.get("/v1/cloudrec/status")).json()["webhooks"][0]
    assert during >= 30, during  # slices and progress were stored while it was down
    assert_received_as_stored(receiver, sid, stored)
    assert status["backlog"] == 0 and status["lastError"].startswith("ConnectError")


async def test_notices_pending_when_the_server_is_killed_arrive_after_its_restart(
    tmp_path: Path,
) -> None:
    receiver = WebhookReceiver(SECRET)
    url = f"http://hook:pw-Zz91@127.0.0.1:{receiver.port}/hook?token=q-Tok3n-77"
    env = {
        **os.environ,
        "CLOUDREC_SERVER_TOKEN": "bearer-of-the-webhook-test",
        "CLOUDREC_WEBHOOKS": json.dumps([{"url": url, "secret": SECRET}]),
    }
    flags = ("--webhooks-from-env", "--webhook-retry-cap", "0.5", "--no-basic")
    flags += ("--storage-root", str(tmp_path / "rec"))
    headers = {"Authorization": "Bearer bearer-of-the-webhook-test"}
    await receiver.start()
    out = tmp_path / "killed-out.txt"
    with out.open("wb") as stdout:
        process = await asyncio.to_thread(
            subprocess.Popen, server_command(tmp_path, *flags), env=env, cwd=REPO,
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        await wait_until(lambda: "listening on" in out.read_text(), timeout=60)
        base = out.read_text().split("listening on ", 1)[1].split()[0]
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            rid, sid = await start_recording(http, "killed", tmp_path / "rec", sliceDuration=1)
            await wait_until(lambda: len(receiver.of(sid)) >= 2)
            await receiver.stop()  # from now on notices wait in the outbox
            await asyncio.sleep(2)  # recording: slices stored meanwhile
            await stop_recording(http, rid, sid, "killed")
            await wait_finished(http, sid)
            before = len(receiver.arrivals)
        process.send_signal(signal.SIGKILL)
        assert await asyncio.to_thread(process.wait, 30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    (tmp_path / "ready.json").unlink(missing_ok=True)  # left by the killed server
    store = StateStore(tmp_path / "data" / "state.sqlite3")
    stored = store.notices(sid, -1)
    store.close()
    assert len(stored) > before + 3  # notices were pending when it was killed
    await receiver.start()
    try:
        async with server_process(tmp_path, *flags, env=env) as running:
            await wait_until(lambda: len(receiver.of(sid)) == len(stored), timeout=30)
    finally:
        await receiver.stop()
    assert_received_as_stored(receiver, sid, stored)
    printed = out.read_text() + running.printed()
    stored_bytes = running.stored()
    for secret in (SECRET, "pw-Zz91", "q-Tok3n-77"):
        assert secret not in printed
        assert secret.encode() not in stored_bytes
    assert f"webhook http://127.0.0.1:{receiver.port}/hook: recording {sid}" in printed


async def test_a_malformed_endpoint_list_stops_the_server_without_showing_it(
    tmp_path: Path,
) -> None:
    good = {"url": "https://hooks.example.com/a?token=q-Tok3n", "secret": SECRET}
    cases = {
        json.dumps([good, {"url": good["url"]}]): (
            "CLOUDREC_WEBHOOKS[1].secret: missing; the endpoint's secret (the key of "
            "Agora-Signature and Agora-Signature-V2)"
        ),
        json.dumps([{**good, "url": "ftp://h/q-Tok3n"}]): (
            "CLOUDREC_WEBHOOKS[0].url: its scheme is not http or https; the receiver's "
            "http:// or https:// URL"
        ),
        json.dumps([good])[:-3]: "CLOUDREC_WEBHOOKS: not JSON",
    }
    for value, message in cases.items():
        env = {**os.environ, "CLOUDREC_WEBHOOKS": value}
        code, stdout, stderr = await refused_server(tmp_path, "--webhooks-from-env", env=env)
        assert (code, stdout) == (2, ""), stderr
        assert stderr.startswith(f"cloudrec server: {message}"), stderr
        assert SECRET not in stderr and "q-Tok3n" not in stderr


async def test_a_test_event_over_rest_for_the_operator_only(tmp_path: Path) -> None:
    async with (
        webhook_receiver(SECRET) as receiver,
        in_process_server(tmp_path, Endpoint(receiver.url, SECRET)) as (_, http),
    ):
        sent = await http.post("/v1/cloudrec/webhooks/test", json={"endpoint": 0})
        missing = await http.post("/v1/cloudrec/webhooks/test", json={"endpoint": 1})
        customer = await http.post(
            "/v1/cloudrec/webhooks/test", json={"endpoint": 0}, auth=TEST_CUSTOMER
        )
        malformed = await http.post("/v1/cloudrec/webhooks/test", json={"endpoint": "x"})
    assert sent.status_code == 200, sent.text
    assert sent.json()["delivered"] is True and sent.json()["endpoint"] == receiver.url
    assert [n["noticeId"] for n in receiver.notices()] == [sent.json()["noticeId"]]
    assert (missing.status_code, missing.json()) == (
        404, {"code": 404, "reason": "no webhook endpoint 1; the endpoints are 0 to 0"},
    )  # fmt: skip
    assert customer.status_code == 403, customer.text
    assert malformed.status_code == 400 and malformed.json()["code"] == 2, malformed.text
