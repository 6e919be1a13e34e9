"""Webhook delivery: every notice of the durable log pushed to each endpoint, signed.

The notice log (table ``notices`` of the server's database, :mod:`core.server.state`)
is the outbox. Next to it, table ``webhook_cursors`` holds for each endpoint and
recording the sequence number of the last notice the endpoint answered 2xx to
(``delivered``; -1: none yet), and the state of a delivery that fails. A cursor moves
only after the receiver's 2xx, so whatever happens to the server (a crash, SIGKILL)
a notice is sent again rather than lost: at least once, in order per recording, each
with the ``noticeId`` it was stored with, for receivers to drop repeats.

Per endpoint and recording one task sends the notices in sequence order, the next
only after the previous got a 2xx. A failure (no connection, no answer within
:data:`TIMEOUT`, any other status) is retried after 1 s, doubling up to a cap, for
ever, until the notice is older than the age limit: then it is skipped with a warning.
Other recordings go on meanwhile; a receiver that hangs holds one task per recording,
never the recorder (nothing on a recording's path awaits a receiver: the log's
:meth:`WebhookDeliverer.notify` only wakes a task; its database work runs in a thread).

Each request is ``POST`` with the stored notice as compact single-line JSON, its
``notifyMs`` set to the time of sending (fresh on each resend, as Agora's), and
Agora's headers: ``Agora-Signature`` = lowercase hex HMAC-SHA1 and
``Agora-Signature-V2`` = lowercase hex HMAC-SHA256 of the raw body bytes, keyed with
the endpoint's secret as UTF-8 (docs/webhooks.md).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from core.database import Database, DatabaseError
from core.notices import EventType, make_notice
from core.server.webhook_config import Endpoint

logger = logging.getLogger(__name__)

TIMEOUT = 10.0
"""Seconds a receiver has to answer (Agora's NCS: 200 within 10 s)."""
FIRST_RETRY = 1.0
"""Seconds before the first retry; each further one waits twice as long, up to the cap."""
RETRY_CAP = 60.0
"""Seconds between retries at most (``cloudrec server --webhook-retry-cap``)."""
MAX_AGE = 24 * 3600.0
"""Seconds after its event (``payload.sendts``) a notice is still sent
(``cloudrec server --webhook-max-age``, in hours)."""
BATCH = 64
"""Notices read from the database at once by one delivery task."""
MAX_CONNECTIONS = 16
"""Connections to one endpoint at once (recordings beyond wait for one)."""

_STATUS_EVENTS = frozenset({
    EventType.UPLOADER_STARTED, EventType.UPLOADED, EventType.BACKUPED,
    EventType.RECORDER_STARTED,
})  # fmt: skip
"""Events whose ``details`` carry ``status`` (0: normal), which Agora's sample receiver reads."""

NOTHING_DELIVERED = -1
"""The cursor of a recording of which an endpoint has received nothing (sequence numbers
count from 0)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_cursors (
    endpoint TEXT NOT NULL,
    sid TEXT NOT NULL,
    delivered INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL,
    last_error TEXT,
    error_ms INTEGER,
    delivered_ms INTEGER,
    PRIMARY KEY (endpoint, sid)
);
"""


def signatures(secret: str, body: bytes) -> tuple[str, str]:
    """``Agora-Signature`` and ``Agora-Signature-V2`` of ``body``: the lowercase hex
    HMAC-SHA1 and HMAC-SHA256 of the raw bytes, keyed with ``secret`` as UTF-8."""
    key = secret.encode("utf-8")
    return (
        hmac.new(key, body, hashlib.sha1).hexdigest(),
        hmac.new(key, body, hashlib.sha256).hexdigest(),
    )


def request_body(notice: dict[str, Any], notify_ms: int) -> bytes:
    """The bytes sent for ``notice``: compact single-line JSON in its stored key order,
    ``notifyMs`` set to ``notify_ms`` (the time of this sending), UTF-8. Agora's own
    sample receiver joins the body's lines again with the platform's line separator,
    which only keeps the signature right for a body of one line."""
    sent = {**notice, "notifyMs": notify_ms}
    return json.dumps(sent, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _parse(text: str) -> dict[str, Any] | None:
    try:
        notice = json.loads(text)
    except ValueError:
        return None
    return notice if isinstance(notice, dict) else None


def _event_ms(notice: dict[str, Any]) -> int | None:
    """When the notice's event happened (``payload.sendts``, else ``notifyMs``), in Unix ms."""
    payload = notice.get("payload")
    for value in (payload.get("sendts") if isinstance(payload, dict) else None,
                  notice.get("notifyMs")):  # fmt: skip
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
    return None


@dataclass(frozen=True)
class Cursor:
    """What an endpoint has received of one recording, and its failing delivery."""

    delivered: int
    attempts: int = 0
    last_error: str | None = None
    error_ms: int | None = None
    delivered_ms: int | None = None


class WebhookOutbox(Database):
    """The delivery cursors, in the server's database beside the notices they point in.

    The table ``notices`` is :class:`~core.server.state.StateStore`'s; the outbox only
    reads it, so a StateStore must have opened the database first."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def heads(self) -> dict[str, tuple[int, int | None]]:
        """For every recording with notices: its newest sequence number and that
        notice's event time (Unix ms; None if it has none)."""
        rows = self.fetchall(
            "SELECT sid, MAX(sequence), "
            "CASE WHEN json_valid(body) THEN json_extract(body, '$.payload.sendts') END "
            "FROM notices GROUP BY sid"
        )
        return {
            str(sid): (int(seq), int(ms) if isinstance(ms, int | float) else None)
            for sid, seq, ms in rows
        }

    def cursors(self, endpoint: str) -> dict[str, Cursor]:
        rows = self.fetchall(
            "SELECT sid, delivered, attempts, last_error, error_ms, delivered_ms "
            "FROM webhook_cursors WHERE endpoint = ?",
            (endpoint,),
        )
        return {str(r[0]): Cursor(*r[1:]) for r in rows}

    def cursor(self, endpoint: str, sid: str) -> Cursor:
        """What ``endpoint`` has received of ``sid`` (nothing: a cursor at -1)."""
        row = self.fetchone(
            "SELECT delivered, attempts, last_error, error_ms, delivered_ms "
            "FROM webhook_cursors WHERE endpoint = ? AND sid = ?",
            (endpoint, sid),
        )
        return Cursor(*row) if row else Cursor(NOTHING_DELIVERED)

    def pending(self, sid: str, after: int, limit: int = BATCH) -> list[tuple[int, str]]:
        """Up to ``limit`` notices of ``sid`` after sequence ``after``: (sequence, body)."""
        rows = self.fetchall(
            "SELECT sequence, body FROM notices WHERE sid = ? AND sequence > ? "
            "ORDER BY sequence LIMIT ?",
            (sid, after, limit),
        )
        return [(int(seq), str(body)) for seq, body in rows]

    def backlog(self, sid: str, after: int, events: frozenset[int] | None) -> int:
        """Notices of ``sid`` after ``after`` that an endpoint taking ``events`` gets."""
        query = "SELECT COUNT(*) FROM notices WHERE sid = ? AND sequence > ?"
        args: tuple[Any, ...] = (sid, after)
        if events is not None:
            marks = ",".join("?" * len(events))
            query += f" AND json_valid(body) AND json_extract(body, '$.eventType') IN ({marks})"
            args += tuple(sorted(events))
        row = self.fetchone(query, args)
        return int(row[0]) if row else 0

    def save(self, endpoint: str, sid: str, cursor: Cursor, next_at: float | None = None) -> None:
        self.save_many(endpoint, [(sid, cursor)], next_at)

    def save_many(
        self, endpoint: str, cursors: Iterable[tuple[str, Cursor]], next_at: float | None = None
    ) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO webhook_cursors (endpoint, sid, delivered, attempts, next_at, "
                "last_error, error_ms, delivered_ms) VALUES (?,?,?,?,?,?,?,?) "
                "ON CONFLICT (endpoint, sid) DO UPDATE SET delivered = excluded.delivered, "
                "attempts = excluded.attempts, next_at = excluded.next_at, "
                "last_error = excluded.last_error, error_ms = excluded.error_ms, "
                "delivered_ms = excluded.delivered_ms",
                [
                    (endpoint, sid, c.delivered, c.attempts, next_at, c.last_error,
                     c.error_ms, c.delivered_ms)
                    for sid, c in cursors
                ],
            )  # fmt: skip


class _Delivery:
    """The task that sends one recording's notices to one endpoint, and its state."""

    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor
        self.more = False  # a notice came while the task was reading: read again
        self.task: asyncio.Task[None] | None = None


@dataclass
class _EndpointState:
    endpoint: Endpoint
    transport: httpx.AsyncBaseTransport
    url: httpx.URL  # without userinfo, which goes as ``authorization``
    authorization: str | None
    last_error: str | None = None
    error_ms: int | None = None
    delivered_ms: int | None = None


class WebhookDeliverer:
    """Pushes every recording's notices to the server's webhook endpoints.

    :meth:`start` resumes every recording with notices an endpoint has not received,
    :meth:`notify` is called with a recording's sid each time one of its notices is
    stored, :meth:`status` reports each endpoint's backlog and last error, and
    :meth:`close` stops (a notice being sent then is sent again after a restart).
    """

    def __init__(
        self,
        endpoints: Iterable[Endpoint],
        database: Path,
        *,
        max_age: float = MAX_AGE,
        retry_cap: float = RETRY_CAP,
        timeout: float = TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoints = tuple(endpoints)
        self.max_age = max_age
        self.retry_cap = retry_cap
        self.timeout = timeout
        self._database = database
        self._transport = transport
        self._outbox: WebhookOutbox | None = None
        self._states: dict[str, _EndpointState] = {}
        self._deliveries: dict[tuple[str, str], _Delivery] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: set[str] = set()  # sids notified while starting
        self._ready = False  # every recording to resume has its task: notify spawns more
        self._closed = False

    # --- life -------------------------------------------------------------------

    async def start(self) -> None:
        """Open the cursors and resume every recording an endpoint has not received all
        of (skipping, in one step and with one warning, recordings whose newest notice
        is already older than the age limit)."""
        self._loop = asyncio.get_running_loop()
        if not self.endpoints:
            return
        self._outbox = outbox = await asyncio.to_thread(WebhookOutbox, self._database)
        heads = await asyncio.to_thread(outbox.heads)
        oldest_ms = self._oldest_ms()
        for endpoint in self.endpoints:
            state = self._endpoint_state(endpoint)
            self._states[endpoint.id] = state
            cursors = await asyncio.to_thread(outbox.cursors, endpoint.id)
            failed = [c for c in cursors.values() if c.error_ms is not None]
            if failed:
                newest = max(failed, key=lambda c: c.error_ms or 0)
                state.last_error, state.error_ms = newest.last_error, newest.error_ms
            state.delivered_ms = (
                max((c.delivered_ms or 0 for c in cursors.values()), default=0) or None
            )
            expired: list[tuple[str, Cursor]] = []
            for sid, (last, event_ms) in heads.items():
                cursor = cursors.get(sid, Cursor(NOTHING_DELIVERED))
                if last <= cursor.delivered:
                    continue
                if event_ms is not None and event_ms < oldest_ms:
                    skipped = Cursor(
                        last, 0, cursor.last_error, cursor.error_ms, cursor.delivered_ms
                    )
                    expired.append((sid, skipped))
                    continue
                self._spawn(state, sid, cursor)
            if expired:
                await asyncio.to_thread(outbox.save_many, endpoint.id, expired)
                logger.warning(
                    "webhook %s: the notices of %d recordings are older than the age "
                    "limit (%g h) and are not sent",
                    endpoint.shown, len(expired), self.max_age / 3600,
                )  # fmt: skip
        self._ready = True
        for sid in sorted(self._woken):
            self.notify(sid)
        self._woken.clear()

    async def close(self) -> None:
        """Stop every delivery (what was being sent is sent again after a restart)."""
        self._closed = True
        tasks = [d.task for d in self._deliveries.values() if d.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._deliveries.clear()
        for state in self._states.values():
            await state.transport.aclose()
        if self._outbox is not None:
            self._outbox.close()

    # --- waking -----------------------------------------------------------------

    def notify(self, sid: str) -> None:
        """A notice of recording ``sid`` was stored: send it (returns at once; may be
        called from any thread)."""
        if not self.endpoints or self._closed:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self._loop is not None and running is not self._loop:
            with contextlib.suppress(RuntimeError):  # a loop already closed: nothing to wake
                self._loop.call_soon_threadsafe(self.notify, sid)
            return
        if not self._ready:  # start reads every recording, then wakes these again
            self._woken.add(sid)
            return
        for state in self._states.values():
            delivery = self._deliveries.get((state.endpoint.id, sid))
            if delivery is not None:
                delivery.more = True
            else:
                self._spawn(state, sid, None)

    def _spawn(self, state: _EndpointState, sid: str, cursor: Cursor | None) -> None:
        # cursor None: not known yet (a new recording, or one whose task ended): read it
        delivery = _Delivery(cursor or Cursor(NOTHING_DELIVERED))
        key = (state.endpoint.id, sid)
        self._deliveries[key] = delivery
        assert self._loop is not None
        delivery.task = self._loop.create_task(self._run(state, sid, delivery, cursor is None))

    # --- sending ----------------------------------------------------------------

    async def _run(self, state: _EndpointState, sid: str, delivery: _Delivery, read: bool) -> None:
        endpoint = state.endpoint
        outbox = self._outbox
        assert outbox is not None
        attempts = 0
        try:
            while True:
                delivery.more = False
                try:
                    if read:
                        delivery.cursor = await asyncio.to_thread(outbox.cursor, endpoint.id, sid)
                        read = False
                    batch = await asyncio.to_thread(outbox.pending, sid, delivery.cursor.delivered)
                    if not batch:
                        if delivery.more:
                            continue
                        return
                    await self._send_batch(state, sid, delivery, batch)
                    attempts = 0
                except DatabaseError as exc:
                    attempts += 1
                    logger.warning("webhook %s: recording %s: %s", endpoint.shown, sid, exc)
                    await asyncio.sleep(self._retry_delay(attempts))
                except Exception:
                    # A bug must not end a recording's delivery for good: say so, retry.
                    attempts += 1
                    logger.exception(
                        "webhook %s: recording %s: delivery failed", endpoint.shown, sid
                    )
                    await asyncio.sleep(self._retry_delay(attempts))
        finally:
            if self._deliveries.get((endpoint.id, sid)) is delivery:
                del self._deliveries[(endpoint.id, sid)]

    async def _send_batch(
        self, state: _EndpointState, sid: str, delivery: _Delivery, batch: list[tuple[int, str]]
    ) -> None:
        endpoint = state.endpoint
        passed: int | None = None  # the last notice passed over without being sent
        too_old: list[int] = []  # of those, the ones older than the age limit
        for sequence, text in batch:
            notice = _parse(text)
            if notice is None:
                logger.warning(
                    "webhook %s: recording %s: notice %d is not a JSON object; not sent",
                    endpoint.shown, sid, sequence,
                )  # fmt: skip
            elif not endpoint.wants(notice.get("eventType")):
                pass
            elif self._too_old(notice):
                too_old.append(sequence)
            else:
                self._warn_too_old(state, sid, too_old)
                too_old, passed = [], None
                if await self._deliver(state, sid, delivery, sequence, notice):
                    continue  # the cursor is past it, and past those passed over before
                too_old.append(sequence)  # it grew too old while its receiver failed
            passed = sequence
        if passed is not None:
            self._warn_too_old(state, sid, too_old)
            old = delivery.cursor
            delivery.cursor = Cursor(passed, 0, old.last_error, old.error_ms, old.delivered_ms)
            await self._save(state, sid, delivery.cursor)

    def _warn_too_old(self, state: _EndpointState, sid: str, sequences: list[int]) -> None:
        if sequences:
            logger.warning(
                "webhook %s: recording %s: %d notices (sequence %d to %d) are older than "
                "the age limit (%g h) and are not sent",
                state.endpoint.shown, sid, len(sequences), sequences[0], sequences[-1],
                self.max_age / 3600,
            )  # fmt: skip

    async def _deliver(
        self,
        state: _EndpointState,
        sid: str,
        delivery: _Delivery,
        sequence: int,
        notice: dict[str, Any],
    ) -> bool:
        """Send ``notice`` until its receiver answers 2xx (True) or it grows older than
        the age limit (False); the cursor moves past it either way."""
        endpoint = state.endpoint
        attempts = 0
        while True:
            if attempts and self._too_old(notice):
                return False
            now_ms = int(time.time() * 1000)
            error = await self._post(state, request_body(notice, now_ms))
            old = delivery.cursor
            if error is None:
                done_ms = int(time.time() * 1000)
                state.delivered_ms = done_ms
                delivery.cursor = Cursor(sequence, 0, old.last_error, old.error_ms, done_ms)
                await self._save(state, sid, delivery.cursor)
                if attempts:
                    logger.warning(
                        "webhook %s: recording %s: delivered again after %d failed attempts",
                        endpoint.shown, sid, attempts,
                    )  # fmt: skip
                return True
            attempts += 1
            state.last_error, state.error_ms = error, now_ms
            delivery.cursor = Cursor(old.delivered, attempts, error, now_ms, old.delivered_ms)
            delay = self._retry_delay(attempts)
            if attempts == 1:
                logger.warning(
                    "webhook %s: recording %s: notice %d not delivered (%s); retrying, "
                    "every %g s at most",
                    endpoint.shown, sid, sequence, error, self.retry_cap,
                )  # fmt: skip
            await self._save(state, sid, delivery.cursor, time.time() + delay)
            await asyncio.sleep(delay)

    async def _post(self, state: _EndpointState, body: bytes) -> str | None:
        """POST ``body`` once; None on a 2xx, else what went wrong (words of our own:
        never the URL, which may hold a token, and never the secret)."""
        v1, v2 = signatures(state.endpoint.secret, body)
        headers = {
            "Content-Type": "application/json",
            "Agora-Signature": v1,
            "Agora-Signature-V2": v2,
            "User-Agent": "cloudrec-webhooks",
        }
        if state.authorization is not None:
            headers["Authorization"] = state.authorization
        try:
            async with asyncio.timeout(self.timeout):
                request = httpx.Request(
                    "POST", state.url, content=body, headers=headers,
                    extensions={"timeout": httpx.Timeout(self.timeout, pool=None).as_dict()},
                )  # fmt: skip
                # The answer's body is never read (a receiver's long answer costs
                # nothing); only its status counts.
                response = await state.transport.handle_async_request(request)
                await response.aclose()
        except TimeoutError:
            return f"no answer within {self.timeout:g} s"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:200]
        if response.is_success:
            return None
        return f"answered HTTP {response.status_code}"

    def _endpoint_state(self, endpoint: Endpoint) -> _EndpointState:
        """How requests go to ``endpoint``: straight through a transport of its own, not
        an httpx client, because a client logs every request's whole URL at level info,
        and a URL may hold a token of its receiver's (its query) or a password (its
        userinfo, sent here as Basic auth). No redirects, no proxies from the
        environment."""
        url = httpx.URL(endpoint.url)
        authorization = None
        if url.userinfo:
            credentials = f"{url.username}:{url.password}".encode()
            authorization = "Basic " + base64.b64encode(credentials).decode("ascii")
            url = url.copy_with(username=None, password=None)
        transport = self._transport or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS)
        )
        return _EndpointState(endpoint, transport, url, authorization)

    async def _save(
        self, state: _EndpointState, sid: str, cursor: Cursor, next_at: float | None = None
    ) -> None:
        assert self._outbox is not None
        try:
            await asyncio.to_thread(self._outbox.save, state.endpoint.id, sid, cursor, next_at)
        except DatabaseError as exc:
            # Kept in memory: at worst a notice is sent again after a restart.
            logger.warning("webhook %s: recording %s: %s", state.endpoint.shown, sid, exc)

    def _retry_delay(self, attempts: int) -> float:
        return float(min(self.retry_cap, FIRST_RETRY * 2 ** min(attempts - 1, 30)))

    def _oldest_ms(self) -> float:
        return (time.time() - self.max_age) * 1000

    def _too_old(self, notice: dict[str, Any]) -> bool:
        event_ms = _event_ms(notice)
        return event_ms is not None and event_ms < self._oldest_ms()

    # --- a test event -------------------------------------------------------------

    async def send_test(self, index: int) -> dict[str, Any]:
        """Send one test notice to endpoint ``index`` (in configuration order) now, once,
        and say how it went: ``{endpoint, eventType, noticeId, delivered, error,
        elapsedMs}``. The notice is of a recording that does not exist (``sid``
        ``cloudrec_webhook_test_<hex>``, ``details.cloudrecTest`` true), of an event type
        the endpoint takes (recorder_started when it takes it); it is not stored, not
        retried and not counted in the status. Raises IndexError for no such endpoint."""
        if not 0 <= index < len(self.endpoints) or not self._states:
            raise IndexError(index)
        state = self._states[self.endpoints[index].id]
        endpoint = state.endpoint
        kind = EventType.RECORDER_STARTED
        if not endpoint.wants(int(kind)):
            kind = EventType(min(endpoint.events or {int(kind)}))
        details: dict[str, Any] = {"cloudrecTest": True}
        if kind in _STATUS_EVENTS:
            details = {"status": 0, **details}
        test_id = uuid.uuid4().hex
        notice = make_notice(
            kind, sid=f"cloudrec_webhook_test_{test_id}", cname="cloudrec_webhook_test",
            uid=0, sequence=0, details=details,
        )  # fmt: skip
        began = time.monotonic()
        error = await self._post(state, request_body(notice, int(time.time() * 1000)))
        return {
            "endpoint": endpoint.shown,
            "eventType": int(kind),
            "noticeId": notice["noticeId"],
            "delivered": error is None,
            "error": error,
            "elapsedMs": round((time.monotonic() - began) * 1000),
        }

    # --- status -----------------------------------------------------------------

    async def status(self) -> list[dict[str, Any]]:
        """Per endpoint: its URL without userinfo or query, its backlog (notices not yet
        received that it takes), the recordings whose delivery fails now, the last error
        and when it happened, and when a notice was last delivered (Unix ms)."""
        outbox = self._outbox
        entries = []
        for state in self._states.values():
            endpoint = state.endpoint
            active = [
                (sid, d.cursor)
                for (eid, sid), d in list(self._deliveries.items())
                if eid == endpoint.id
            ]
            backlog = 0
            if outbox is not None:
                for sid, cursor in active:
                    try:
                        backlog += await asyncio.to_thread(
                            outbox.backlog, sid, cursor.delivered, endpoint.events
                        )
                    except DatabaseError:
                        pass
            entries.append({
                "endpoint": endpoint.shown,
                "events": sorted(endpoint.events) if endpoint.events is not None else None,
                "backlog": backlog,
                "retrying": sum(1 for _, c in active if c.attempts),
                "lastError": state.last_error,
                "lastErrorMs": state.error_ms,
                "lastDeliveryMs": state.delivered_ms,
            })  # fmt: skip
        return entries
