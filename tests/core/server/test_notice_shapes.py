"""Every notice a recording sends has the shape Agora documents for its event type.

The documentation's field lists and examples are the fixture
(``fixtures/agora_ncs_cloud_recording.json``: the envelope, ``payload`` and each event's
``details`` with their JSON types, the ``serviceType`` of each event, the composite
examples of 31 and 32). The notices are those of real sessions (real store, uploader
and destination; a fake recorder hands them slices, tests.core.storage.sessions): a
recording that stops and uploads, and one whose store is down over its end (errors,
the recovered warning, backuped, then uploaded). Agora's receivers take added fields;
what is checked is that every documented one is there with its documented type.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.notices import EventType
from tests.core.server.test_session import Unreachable, local_harness

FIXTURE = json.loads(
    (Path(__file__).parent / "fixtures" / "agora_ncs_cloud_recording.json").read_text()
)

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def json_type(value: Any) -> str:
    """The JSON type of ``value`` (a bool is no number)."""
    if isinstance(value, bool):
        return "boolean"
    return next(name for name, kinds in JSON_TYPES.items() if isinstance(value, kinds))


def check_fields(where: str, value: dict[str, Any], documented: dict[str, str]) -> None:
    for name, kind in documented.items():
        assert name in value, f"{where}: {name} is missing"
        assert json_type(value[name]) == kind, f"{where}.{name}: {value[name]!r} is no {kind}"


def check_notice(notice: dict[str, Any]) -> None:
    """``notice`` has Agora's envelope and payload, and, for an Agora event type, its
    ``serviceType``, ``msgName`` and every documented ``details`` field."""
    check_fields("notice", notice, FIXTURE["envelope"])
    assert notice["productId"] == FIXTURE["productId"]
    payload = notice["payload"]
    check_fields("payload", payload, FIXTURE["payload"])
    assert payload["uid"].isdigit()  # a uid as a decimal string
    event = str(notice["eventType"])
    if event not in FIXTURE["events"]:  # cloudrec's own (2001): a type Agora does not send
        assert int(event) > 1001, event
        return
    documented = FIXTURE["events"][event]
    assert payload["serviceType"] == documented["serviceType"], (event, payload)
    details = payload["details"]
    check_fields(f"details of {event}", details, documented["details"])
    assert details["msgName"] == FIXTURE["msgNames"][event]
    if event in ("31", "32"):  # each entry as the documented composite example's
        (example,) = [v for k, v in FIXTURE["examples"].items() if k.startswith(event)]
        shape = {k: json_type(v) for k, v in example["fileList"][0].items()}
        for entry in details["fileList"]:
            assert set(entry) == set(shape), entry
            check_fields(f"fileList of {event}", entry, shape)
            assert (entry["uid"], entry["mixedAllUser"]) == ("0", True)  # composite
        assert details["status"] == example["status"]
    if event == "41":  # a combination of Agora's bits
        code = details["leaveCode"]
        assert code == 0 or code & ~sum(FIXTURE["leaveCodeBits"]) == 0, code


async def recorded(tmp_path: Path, slices: int, target: Unreachable | None = None) -> list[Any]:
    """The notices of a session that records ``slices`` slices, a snapshot after each,
    and stops (its store, ``target``, comes up after the stop), each checked by
    :func:`check_notice`."""
    harness = local_harness(tmp_path, target)
    try:
        await harness.session.start()
        for index in range(slices):
            await harness.fake.record_slice()
            await harness.fake.record_snapshot(2.0 * (index + 1))
        await harness.session.stop()
        if target is not None:
            target.up = True
        await harness.session.wait_finished()
        notices = await harness.notices()
    finally:
        await harness.close()
    for notice in notices:
        check_notice(notice)
    return notices


async def test_a_recording_that_stops_and_uploads_sends_agoras_shapes(tmp_path: Path) -> None:
    notices = await recorded(tmp_path, 3)
    kinds = {n["eventType"] for n in notices}
    assert kinds == {3, 4, 11, 30, 31, 33, 40, 41, 42, 45, int(EventType.SLICE_STORED)}, kinds
    assert sum(n["eventType"] == 45 for n in notices) == 3  # one per snapshot
    assert [n["payload"]["sequence"] for n in notices] == list(range(len(notices)))


async def test_a_recording_backed_up_over_its_end_sends_agoras_shapes(tmp_path: Path) -> None:
    notices = await recorded(tmp_path, 2, Unreachable(tmp_path / "out"))
    kinds = {n["eventType"] for n in notices}
    assert {1, 2, 32, 31, 45} <= kinds, kinds  # the errors, uploads work again, then both
