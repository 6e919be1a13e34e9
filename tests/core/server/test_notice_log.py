"""The notice log and its reader (what the REST event stream serves), on a real SQLite store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from core.errors import ErrorCode
from core.notices import MODULE_RECORDER, MODULE_UPLOADER, EventType
from core.server.notice_log import NoticeLog
from core.server.state import StateStore


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "state.sqlite3")


def sequences(notices: list[dict[str, Any]]) -> list[int]:
    return [n["payload"]["sequence"] for n in notices]


async def read_all(log: NoticeLog, after: int = -1) -> list[dict[str, Any]]:
    return [n async for n in log.read(after)]


async def test_a_notice_is_stored_with_the_next_sequence_in_agora_shape(store: StateStore) -> None:
    log = NoticeLog(store, "sid1", "chan", 42)
    await log.append(EventType.RECORDER_STARTED, status=0, startTime=1.5)
    await log.append(EventType.STATUS_UPDATE, status=5)
    stored = store.notices("sid1")
    assert sequences(stored) == [0, 1] and log.last_sequence == 1  # from 0, as Agora's
    first = stored[0]
    assert first["eventType"] == 40 and first["productId"] == 3
    assert first["payload"]["cname"] == "chan" and first["payload"]["uid"] == "42"
    assert first["payload"]["details"] == {
        "msgName": "recorder_started",
        "status": 0,
        "startTime": 1.5,
    }
    # Agora's serviceType: 1 the recorder module, 0 the service (2 the uploader)
    assert [n["payload"]["serviceType"] for n in stored] == [1, 0]


async def test_a_reader_replays_after_a_sequence_then_follows_until_closed(
    store: StateStore,
) -> None:
    log = NoticeLog(store, "sid1", "chan", 42)
    for status in (1, 4, 5):
        await log.append(EventType.STATUS_UPDATE, status=status)
    got: list[dict[str, Any]] = []

    async def follow() -> None:
        async for notice in log.read(after=0):
            got.append(notice)

    reader = asyncio.create_task(follow())
    await asyncio.sleep(0.05)
    assert sequences(got) == [1, 2] and not reader.done()  # replayed, now waiting
    await log.append(EventType.STATUS_UPDATE, status=7)
    await asyncio.sleep(0.05)
    assert sequences(got) == [1, 2, 3] and not reader.done()  # a live notice arrives
    await log.append(EventType.SESSION_EXIT, exitStatus=0)
    await log.close()
    async with asyncio.timeout(2):
        await reader
    assert sequences(got) == [1, 2, 3, 4]
    assert got[-1]["payload"]["details"]["msgName"] == "session_exit"


async def test_a_closed_log_is_read_to_its_end_and_the_reader_stops(store: StateStore) -> None:
    log = NoticeLog(store, "sid1", "chan", 42)
    await log.append(EventType.STATUS_UPDATE, status=1)
    await log.append(EventType.STATUS_UPDATE, status=7)
    await log.close()
    assert log.closed
    async with asyncio.timeout(2):
        assert sequences(await read_all(log)) == [0, 1]
        assert await read_all(log, after=1) == []
        await log.wait_closed()


async def test_a_log_reopened_on_the_store_continues_the_numbering(store: StateStore) -> None:
    """After a server restart the same recording's notices go on from its last sequence."""
    first = NoticeLog(store, "sid1", "chan", 42)
    await first.append(EventType.STATUS_UPDATE, status=5)
    await first.append(EventType.STATUS_UPDATE, status=6)
    again = NoticeLog(store, "sid1", "chan", 42)
    assert again.last_sequence == 1
    await again.append(EventType.RECORDER_LEAVE, leaveCode=2)
    await again.close()
    async with asyncio.timeout(2):
        notices = await read_all(again)
    assert sequences(notices) == [0, 1, 2]
    other = NoticeLog(store, "sid2", "chan", 43, closed=True)
    assert other.last_sequence == -1 and await read_all(other) == []


@pytest.mark.parametrize(
    ("code", "module"),
    [
        (ErrorCode.UPLOADER_INIT, MODULE_UPLOADER),
        (ErrorCode.UPLOADER_FAILED, MODULE_UPLOADER),
        (ErrorCode.BACKUP_FAILED, MODULE_UPLOADER),
        (ErrorCode.RECORDER_FAILED, MODULE_RECORDER),
        (ErrorCode.RECORDER_INIT, MODULE_RECORDER),
        (ErrorCode.NO_USERS, MODULE_RECORDER),
        (ErrorCode.NO_RECORDED_DATA, MODULE_RECORDER),
    ],
)
async def test_an_error_notice_names_the_module_of_its_code(
    store: StateStore, code: ErrorCode, module: int
) -> None:
    log = NoticeLog(store, "sid1", "chan", 42)
    fatal = code is ErrorCode.UPLOADER_INIT
    await log.error(code, "what went wrong", fatal=fatal)
    (notice,) = store.notices("sid1")
    assert notice["eventType"] == int(EventType.ERROR)
    # Agora's fields, in its order: errorLevel 5 fatal (3 otherwise), stat 0 normal
    assert list(notice["payload"]["details"].items()) == [
        ("msgName", "cloud_recording_error"),
        ("module", module),
        ("errorLevel", 5 if fatal else 3),
        ("errorCode", int(code)),
        ("stat", 1 if fatal else 0),
        ("errorMsg", "what went wrong"),
    ]
