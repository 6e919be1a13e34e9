"""The webhook deliverer on a real SQLite store and a real receiver on 127.0.0.1.

Notices are appended to the store as the notice log does (no recorder runs here; the
tests with recordings are in test_webhooks.py). The receiver verifies both signatures
the way Agora's documentation tells a receiver to (tests.webhook_receiver).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.notices import EventType, make_notice
from core.server.state import StateStore
from core.server.webhook_config import Endpoint
from core.server.webhooks import WebhookDeliverer, WebhookOutbox, request_body, signatures
from tests.helpers import wait_until
from tests.webhook_receiver import WebhookReceiver, webhook_receiver

SECRET = "whsec-Tq7Zp2-test-secret"
TOKEN = "qtoken-9f3e1c"  # a token of the receiver's own in its URL's query


def test_signatures_are_agoras_documented_test_vector() -> None:
    # Agora's "Enable message notification service" page (docs/webhooks.md, "Signatures")
    body = (
        b'{"eventMs":1560408533119,"eventType":10,"noticeId":"4eb720f0-8da7-11e9-a43e-'
        b'53f411c2761f","notifyMs":1560408533119,"payload":{"a":"1","b":2},"productId":1}'
    )
    assert signatures("secret", body) == (
        "033c62f40f687675f17f0f41f91a40c71c0f134c",
        "6d3320c60b11101395b7fc8f9068748808a0aa1bfa064438e39d1bc2c7d74d99",
    )


def test_the_body_is_the_stored_notice_on_one_line_with_the_time_of_sending() -> None:
    notice = make_notice(
        EventType.RECORDER_STARTED, sid="s1", cname="频道 one", uid=7, sequence=0,
        details={"status": 0},
    )  # fmt: skip
    body = request_body(notice, 1_700_000_000_123)
    assert b"\n" not in body and b", " not in body and b'": ' not in body
    sent = json.loads(body)
    assert sent == {**notice, "notifyMs": 1_700_000_000_123}
    assert list(sent) == list(notice)  # the stored key order
    assert "频道 one".encode() in body  # UTF-8, as Agora sends


def append(store: StateStore, sid: str, count: int, *, first: int = 0, **fields: Any) -> None:
    """``count`` notices of ``sid`` stored as the notice log stores them."""
    for sequence in range(first, first + count):
        notice = make_notice(
            EventType.UPLOADING_PROGRESS, sid=sid, cname="chan", uid=9, sequence=sequence,
            details={"progress": sequence},
        )  # fmt: skip
        notice["payload"].update(fields)
        store.add_notice(sid, sequence, notice)


async def backlog_drains(sending: WebhookDeliverer, timeout: float = 10.0) -> None:
    """Fail unless the endpoint's backlog reaches 0 within ``timeout`` seconds.

    The receiver counts a notice as it arrives, before its answer has reached the
    deliverer and moved the cursor: the last one is still in the backlog for a moment.
    """
    deadline = time.monotonic() + timeout
    while (backlog := (await sending.status())[0]["backlog"]) != 0:
        assert time.monotonic() < deadline, f"backlog still {backlog}"
        await asyncio.sleep(0.02)


def sequences(notices: list[dict[str, Any]]) -> list[int]:
    return [n["payload"]["sequence"] for n in notices]


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "state.sqlite3")


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with webhook_receiver(SECRET) as running:
        yield running


def deliverer(
    store: StateStore, *endpoints: Endpoint, retry_cap: float = 0.2, **options: Any
) -> WebhookDeliverer:
    made = WebhookDeliverer(endpoints, store.path, retry_cap=retry_cap, **options)
    store.notice_stored = made.notify
    return made


async def test_every_notice_arrives_once_in_order_signed_with_a_fresh_notify_time(
    store: StateStore, receiver: WebhookReceiver
) -> None:
    append(store, "before", 5)  # stored before the deliverer started: resumed by start
    sending = deliverer(store, Endpoint(receiver.url, SECRET))
    await sending.start()
    try:
        for round_ in range(10):
            for sid in ("a", "b"):
                append(store, sid, 2, first=2 * round_)
        await wait_until(lambda: len(receiver.arrivals) == 45)
        for sid, count in (("before", 5), ("a", 20), ("b", 20)):
            got = [n for n in receiver.notices() if n["payload"]["sid"] == sid]
            assert sequences(got) == list(range(count)), sid  # in order, none twice
            stored = store.notices(sid, -1)
            for sent, kept in zip(got, stored, strict=True):
                assert sent["noticeId"] == kept["noticeId"]
                assert sent == {**kept, "notifyMs": sent["notifyMs"]}
                assert sent["notifyMs"] >= kept["notifyMs"]
        assert receiver.forged == 0
        for arrival in receiver.arrivals:
            assert arrival.headers["content-type"] == "application/json"
            assert b"\n" not in arrival.body
        await backlog_drains(sending)
    finally:
        await sending.close()
    cursors = WebhookOutbox(store.path).cursors(Endpoint(receiver.url, SECRET).id)
    assert {sid: c.delivered for sid, c in cursors.items()} == {"before": 4, "a": 19, "b": 19}


async def test_a_receiver_down_then_up_gets_every_notice_in_order(
    store: StateStore, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://user:pw-{TOKEN}@127.0.0.1:{receiver.port}/hook?key={TOKEN}"
    endpoint = Endpoint(url, SECRET)
    sending = deliverer(store, endpoint)
    await sending.start()
    try:
        append(store, "a", 3)
        await wait_until(lambda: len(receiver.arrivals) == 3)
        await receiver.stop()  # connections refused
        append(store, "a", 5, first=3)
        append(store, "b", 4)
        await wait_until(lambda: sending_status_retrying(sending) == 2)
        status = (await sending.status())[0]
        assert status["endpoint"] == f"http://127.0.0.1:{receiver.port}/hook"
        assert status["backlog"] == 9 and status["retrying"] == 2
        assert status["lastError"].startswith("ConnectError")
        assert status["lastErrorMs"] > status["lastDeliveryMs"]
        await receiver.start()
        await wait_until(lambda: len(receiver.unique()) == 12)
        receiver.set_mode("error")  # now it answers 503: retried as well
        append(store, "b", 2, first=4)
        await wait_until(lambda: sending_status_retrying(sending) == 1)
        assert (await sending.status())[0]["lastError"] == "answered HTTP 503"
        receiver.set_mode("ok")
        await wait_until(lambda: len(receiver.unique()) == 14)
        await backlog_drains(sending)
    finally:
        await sending.close()
    assert sequences(receiver.of("a")) == list(range(8))
    assert sequences(receiver.of("b")) == list(range(6))
    assert len(receiver.arrivals) == 14  # nothing arrived twice either
    assert receiver.forged == 0
    for arrival in receiver.arrivals:  # the URL's userinfo went as Basic auth
        assert arrival.headers["authorization"].startswith("Basic ")
    shown = caplog.text + json.dumps(await sending.status())
    assert "not delivered (ConnectError" in caplog.text
    for secret in (SECRET, TOKEN):
        assert secret not in shown
    stored = b"".join(p.read_bytes() for p in store.path.parent.iterdir())
    assert SECRET.encode() not in stored and TOKEN.encode() not in stored


def sending_status_retrying(sending: WebhookDeliverer) -> int:
    """Recordings whose delivery fails now (as status() counts them)."""
    return sum(1 for d in sending._deliveries.values() if d.cursor.attempts)


async def test_a_resend_keeps_the_notice_id_with_a_new_notify_time_and_signatures(
    store: StateStore, receiver: WebhookReceiver
) -> None:
    seen: list[tuple[bytes, str]] = []
    original = receiver._hook

    async def first_refused(request: Any) -> Any:  # 503 to the first attempt only
        body = await request.body()
        seen.append((body, request.headers["agora-signature-v2"]))
        if len(seen) == 1:
            from starlette.responses import JSONResponse

            return JSONResponse({}, status_code=503)
        return await original(request)

    receiver._hook = first_refused  # type: ignore[method-assign]
    await receiver.stop()
    await receiver.start()
    sending = deliverer(store, Endpoint(receiver.url, SECRET), retry_cap=1.5)
    await sending.start()
    try:
        append(store, "a", 1)
        await wait_until(lambda: len(receiver.arrivals) == 1, timeout=10)
    finally:
        await sending.close()
    (first, sig1), (second, sig2) = seen
    assert json.loads(first)["noticeId"] == json.loads(second)["noticeId"]
    assert json.loads(second)["notifyMs"] - json.loads(first)["notifyMs"] >= 900  # 1 s later
    assert sig1 != sig2
    assert sig2 == hmac.new(SECRET.encode(), second, hashlib.sha256).hexdigest()


async def test_after_a_restart_pending_notices_arrive_and_delivered_ones_do_not_repeat(
    store: StateStore, receiver: WebhookReceiver
) -> None:
    endpoint = Endpoint(receiver.url, SECRET)
    sending = deliverer(store, endpoint)
    await sending.start()
    append(store, "a", 4)
    await wait_until(lambda: len(receiver.arrivals) == 4)
    await receiver.stop()
    append(store, "a", 3, first=4)
    append(store, "b", 2)
    await wait_until(lambda: sending_status_retrying(sending) == 2)
    await sending.close()  # the server stops with notices pending
    await receiver.start()
    again = deliverer(store, endpoint)
    await again.start()
    try:
        await wait_until(lambda: len(receiver.arrivals) == 9)
    finally:
        await again.close()
    assert sequences(receiver.of("a")) == list(range(7))
    assert sequences(receiver.of("b")) == [0, 1]
    assert len(receiver.arrivals) == 9  # the four delivered before were not sent again


async def test_an_endpoint_takes_only_its_event_types_and_its_backlog_counts_those(
    store: StateStore, receiver: WebhookReceiver
) -> None:
    endpoint = Endpoint(receiver.url, SECRET, frozenset({31, 11}))
    sending = deliverer(store, endpoint)
    await sending.start()
    try:
        await receiver.stop()
        for sequence, kind in enumerate((40, 31, 33, 33, 11, 33)):
            notice = make_notice(
                EventType(kind), sid="a", cname="c", uid=1, sequence=sequence, details={}
            )
            store.add_notice("a", sequence, notice)
        await wait_until(lambda: sending_status_retrying(sending) == 1)
        assert (await sending.status())[0]["backlog"] == 2
        assert (await sending.status())[0]["events"] == [11, 31]
        await receiver.start()
        await wait_until(lambda: len(receiver.arrivals) == 2)
        await wait_until(lambda: not sending._deliveries)  # passed over the last 33 too
    finally:
        await sending.close()
    assert [n["eventType"] for n in receiver.notices()] == [31, 11]
    cursor = WebhookOutbox(store.path).cursor(endpoint.id, "a")
    assert cursor.delivered == 5


async def test_notices_older_than_the_age_limit_are_skipped_with_a_warning(
    store: StateStore, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    hour_ago = int((time.time() - 3600) * 1000)
    append(store, "old", 3, sendts=hour_ago)  # every notice old: skipped at start
    append(store, "mixed", 2, sendts=hour_ago)
    append(store, "mixed", 2, first=2)
    endpoint = Endpoint(receiver.url, SECRET)
    sending = deliverer(store, endpoint, max_age=1800)
    await sending.start()
    try:
        await wait_until(lambda: len(receiver.arrivals) == 2)
        await wait_until(lambda: not sending._deliveries)
    finally:
        await sending.close()
    assert sequences(receiver.notices()) == [2, 3]
    outbox = WebhookOutbox(store.path)
    assert outbox.cursor(endpoint.id, "old").delivered == 2
    assert outbox.cursor(endpoint.id, "mixed").delivered == 3
    assert "the notices of 1 recordings are older than the age limit (0.5 h)" in caplog.text
    assert "recording mixed: 2 notices (sequence 0 to 1) are older than" in caplog.text
    assert SECRET not in caplog.text and "progress" not in caplog.text  # no body, no secret


async def test_a_notice_that_grows_too_old_while_its_receiver_is_down_is_dropped(
    store: StateStore, receiver: WebhookReceiver
) -> None:
    # the limit is 2 s past the event: the receiver down for longer loses it, not the next
    sending = deliverer(store, Endpoint(receiver.url, SECRET), max_age=2.0, retry_cap=0.3)
    await sending.start()
    try:
        await receiver.stop()
        append(store, "a", 1)
        await wait_until(lambda: sending_status_retrying(sending) == 1)
        await wait_until(lambda: not sending._deliveries, timeout=10)  # given up: too old
        await receiver.start()
        append(store, "a", 1, first=1)
        await wait_until(lambda: len(receiver.arrivals) == 1)
    finally:
        await sending.close()
    assert sequences(receiver.notices()) == [1]


async def test_a_hanging_receiver_holds_neither_the_store_nor_another_endpoint(
    store: StateStore, receiver: WebhookReceiver
) -> None:
    async with webhook_receiver(SECRET) as hanging:
        hanging.set_mode("hang")
        sending = deliverer(
            store, Endpoint(hanging.url, SECRET), Endpoint(receiver.url, SECRET), timeout=1.0
        )
        await sending.start()
        try:
            slowest = 0.0
            for sequence in range(20):
                began = time.perf_counter()
                append(store, "a", 1, first=sequence)  # the notice log's own call
                slowest = max(slowest, time.perf_counter() - began)
            await wait_until(lambda: len(receiver.arrivals) == 20)
            assert hanging.hanging >= 1 and not hanging.arrivals
            await wait_until(lambda: sending_status_retrying(sending) == 1, timeout=5)
            status = {s["endpoint"]: s for s in await sending.status()}
            assert status[hanging.url]["lastError"] == "no answer within 1 s"
            assert status[hanging.url]["backlog"] == 20
            assert status[receiver.url]["backlog"] == 0
            hanging.set_mode("ok")
            await wait_until(lambda: len(hanging.unique()) == 20, timeout=10)
        finally:
            await sending.close()
    assert sequences(hanging.unique()) == list(range(20))
    assert slowest < 0.5, slowest  # storing a notice never waits for a receiver


async def test_a_fault_of_the_deliverer_itself_is_logged_and_retried(
    store: StateStore, caplog: pytest.LogCaptureFixture
) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if len(sent) == 1:
            raise RuntimeError("a bug on the way out")
        return httpx.Response(200, json={})

    sending = deliverer(
        store,
        Endpoint("https://hooks.example.com/x", SECRET),
        transport=httpx.MockTransport(answer),
    )
    await sending.start()
    try:
        append(store, "a", 2)
        await wait_until(lambda: len(sent) == 3, timeout=5)
        await wait_until(lambda: not sending._deliveries)
    finally:
        await sending.close()
    assert [json.loads(r.content)["payload"]["sequence"] for r in sent] == [0, 0, 1]
    assert "recording a: delivery failed" in caplog.text and "a bug on the way out" in caplog.text


async def test_a_test_event_goes_to_one_endpoint_at_once_and_says_how_it_went(
    store: StateStore, receiver: WebhookReceiver
) -> None:
    only_uploads = Endpoint(receiver.url + "?token=" + TOKEN, SECRET, frozenset({31, 11}))
    refused = Endpoint("http://127.0.0.1:9/closed", SECRET)  # the discard port: nobody there
    sending = deliverer(store, Endpoint(receiver.url, SECRET), only_uploads, refused)
    await sending.start()
    try:
        first = await sending.send_test(0)
        second = await sending.send_test(1)
        third = await sending.send_test(2)
        with pytest.raises(IndexError):
            await sending.send_test(3)
        status = await sending.status()
    finally:
        await sending.close()
    assert first["delivered"] and first["error"] is None and first["eventType"] == 40
    assert first["endpoint"] == receiver.url and first["elapsedMs"] >= 0
    assert second["delivered"] and second["eventType"] == 11  # one it takes
    assert not third["delivered"] and third["error"].startswith("ConnectError")
    one, two = receiver.notices()
    assert one["noticeId"] == first["noticeId"] and two["noticeId"] == second["noticeId"]
    assert one["payload"]["details"] == {
        "msgName": "recorder_started", "status": 0, "cloudrecTest": True,
    }  # fmt: skip
    assert one["payload"]["sid"].startswith("cloudrec_webhook_test_")
    assert receiver.forged == 0
    assert store.notices(one["payload"]["sid"], -1) == []  # not stored, not in the status
    assert [s["lastError"] for s in status] == [None, None, None]
    assert TOKEN not in json.dumps([first, second, third])


async def test_a_stored_notice_that_is_not_json_is_passed_over_with_a_warning(
    store: StateStore, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    append(store, "a", 1)
    store.execute("INSERT INTO notices (sid, sequence, body) VALUES ('a', 1, '{broken')")
    append(store, "a", 1, first=2)
    store.execute("INSERT INTO notices (sid, sequence, body) VALUES ('b', 0, 'null')")
    sending = deliverer(store, Endpoint(receiver.url, SECRET, frozenset({33})))
    await sending.start()
    try:
        await wait_until(lambda: len(receiver.arrivals) == 2)
        await wait_until(lambda: not sending._deliveries)
        assert (await sending.status())[0]["backlog"] == 0
    finally:
        await sending.close()
    assert sequences(receiver.notices()) == [0, 2]
    assert "recording a: notice 1 is not a JSON object; not sent" in caplog.text
    assert WebhookOutbox(store.path).cursor(Endpoint(receiver.url, SECRET).id, "b").delivered == 0
