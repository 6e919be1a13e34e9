"""Each Basic customer sees and controls only its own recordings (docs/security.md,
"Who may do what"): over real HTTP, with two customers and the server's bearer token.

A recording belongs to the customer that acquired its resource; another customer gets,
for it, exactly the 404 an unknown resource or sid gets, so it cannot even learn that
it exists. The owner is stored with the recording and survives a restart; a database of
schema version 1 (no owner column) is migrated, its recordings becoming the operator's.
"""

from __future__ import annotations

import asyncio
import base64
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from core.enums import SANDBOX_APP_ID
from core.notices import service_state
from core.server.state import SCHEMA_VERSION, StateStore
from tests.conftest import ChannelServer, serve_channel_server

APP = SANDBOX_APP_ID
CUSTOMERS = {"alice": "a-secret", "bob": "b-secret"}
SMALL = {"width": 160, "height": 120, "fps": 15, "bitrate": 100}


def _basic(customer: str) -> str:
    pair = f"{customer}:{CUSTOMERS[customer]}".encode()
    return "Basic " + base64.b64encode(pair).decode()


@asynccontextmanager
async def _clients(server: ChannelServer) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """A client per caller: ``alice``, ``bob`` (Basic) and ``operator`` (bearer)."""
    headers = {name: _basic(name) for name in CUSTOMERS}
    headers["operator"] = f"Bearer {server.settings.token}"
    clients = {
        name: httpx.AsyncClient(base_url=server.url, headers={"Authorization": value}, timeout=30)
        for name, value in headers.items()
    }
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()


def _api(rid: str = "", sid: str = "") -> str:
    path = f"/v1/apps/{APP}/cloud_recording"
    if rid:
        path += f"/resourceid/{rid}"
    if sid:
        path += f"/sid/{sid}"
    return path


async def _acquire(client: httpx.AsyncClient, cname: str, uid: int) -> str:
    response = await client.post(_api() + "/acquire", json={"cname": cname, "uid": str(uid)})
    assert response.status_code == 200, response.text
    return str(response.json()["resourceId"])


def _start_body(cname: str, uid: int, folder: Path) -> dict[str, Any]:
    storage = {"vendor": 100, "region": 0, "extensionParams": {"localFolder": str(folder)}}
    config = {"transcodingConfig": SMALL}
    return {
        "cname": cname,
        "uid": str(uid),
        "clientRequest": {"recordingConfig": config, "storageConfig": storage},
    }


async def _record(client: httpx.AsyncClient, cname: str, uid: int, folder: Path) -> tuple[str, str]:
    rid = await _acquire(client, cname, uid)
    response = await client.post(
        _api(rid) + "/mode/mix/start", json=_start_body(cname, uid, folder)
    )
    assert response.status_code == 200, response.text
    return rid, str(response.json()["sid"])


async def _listed(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/v1/cloudrec/recordings")
    assert response.status_code == 200, response.text
    return [item["sid"] for item in response.json()["recordings"]]


def _unknown_sid(sid: str) -> dict[str, Any]:
    return {"code": 404, "reason": f"no recording with sid {sid!r} for this resourceId"}


UNKNOWN_RESOURCE = {"code": 404, "reason": "unknown or expired resourceId: call acquire again"}


async def _every_call(
    client: httpx.AsyncClient, rid: str, sid: str, cname: str, uid: int
) -> list[tuple[int, Any]]:
    """query, updateLayout, stop, events and the newest snapshot of one recording:
    (status, JSON body) each."""
    body = {"cname": cname, "uid": str(uid), "clientRequest": {"mixedVideoLayout": 1}}
    answers = [
        await client.get(_api(rid, sid) + "/mode/mix/query"),
        await client.post(_api(rid, sid) + "/mode/mix/updateLayout", json=body),
        await client.post(
            _api(rid, sid) + "/mode/mix/stop",
            json={"cname": cname, "uid": str(uid), "clientRequest": {}},
        ),
        await client.get(f"/v1/cloudrec/recordings/{sid}/events"),
        await client.get(f"/v1/cloudrec/recordings/{sid}/snapshot"),
    ]
    return [(a.status_code, a.json()) for a in answers]


async def test_a_customer_cannot_see_or_control_another_customers_recording(
    tmp_path: Path,
) -> None:
    """Bob gets Agora's 404 for every call on Alice's recording, word for word the answer
    for a sid that does not exist; he cannot start with her resource; the list shows each
    customer its own recordings and the operator all of them; Alice's recording is still
    recording after Bob's stop and stops for her."""
    async with (
        serve_channel_server(tmp_path, customers=CUSTOMERS) as server,
        _clients(server) as clients,
    ):
        alice, bob, operator = clients["alice"], clients["bob"], clients["operator"]
        rid, sid = await _record(alice, "own-a", 11, tmp_path / "a")
        bob_rid, bob_sid = await _record(bob, "own-b", 12, tmp_path / "b")

        # Bob on Alice's recording: what he gets for a sid nobody has
        unknown = "f" * 32
        for tried in (unknown, sid):
            # Agora's query, updateLayout and stop; then cloudrec's event stream and snapshot
            assert await _every_call(bob, rid, tried, "own-a", 11) == [
                *[(404, _unknown_sid(tried))] * 3,
                *[
                    (
                        404,
                        {
                            "code": 404,
                            "reason": f"failed to find worker: no recording with sid {tried!r}",
                        },
                    )
                ]
                * 2,
            ]
        # Alice's own recording has no snapshot (no snapshotConfig): 404 saying so
        none = await alice.get(f"/v1/cloudrec/recordings/{sid}/snapshot")
        assert none.status_code == 404 and none.json()["code"] == 404
        assert none.json()["reason"].startswith(f"no snapshot of recording {sid!r} yet")

        # Alice's resource of a second acquire: Bob cannot start with it
        second = await _acquire(alice, "own-a2", 13)
        refused = await bob.post(
            _api(second) + "/mode/mix/start", json=_start_body("own-a2", 13, tmp_path / "x")
        )
        assert (refused.status_code, refused.json()) == (404, UNKNOWN_RESOURCE)
        assert not (tmp_path / "x").exists()

        assert await _listed(alice) == [sid]
        assert await _listed(bob) == [bob_sid]
        assert await _listed(operator) == [sid, bob_sid]

        # Alice's recording went on recording through Bob's stop (status 5)
        query = await alice.get(_api(rid, sid) + "/mode/mix/query")
        assert query.status_code == 200, query.text
        assert query.json()["serverResponse"]["status"] == 5
        # Alice controls it; the operator controls Bob's
        stopped = await alice.post(
            _api(rid, sid) + "/mode/mix/stop",
            json={"cname": "own-a", "uid": "11", "clientRequest": {}},
        )
        # nobody was in these channels: Agora's 206 code 435 (no user sent a stream)
        assert stopped.status_code == 206, stopped.text
        stopped = await operator.post(
            _api(bob_rid, bob_sid) + "/mode/mix/stop",
            json={"cname": "own-b", "uid": "12", "clientRequest": {}},
        )
        assert stopped.status_code == 206, stopped.text
        # Alice's resource still works for Alice (Bob's refused start did not use it)
        started = await alice.post(
            _api(second) + "/mode/mix/start", json=_start_body("own-a2", 13, tmp_path / "a2")
        )
        assert started.status_code == 200, started.text
        assert await _listed(bob) == [bob_sid]
        assert await _listed(alice) == [sid, started.json()["sid"]]


async def test_the_owner_survives_a_restart(tmp_path: Path) -> None:
    """Ownership is stored with the recording: after a restart of the server on the same
    data folder Bob still gets 404 for Alice's recording, which Alice still queries."""
    async with (
        serve_channel_server(tmp_path, customers=CUSTOMERS) as server,
        _clients(server) as clients,
    ):
        rid, sid = await _record(clients["alice"], "own-r", 21, tmp_path / "a")
        stopped = await clients["alice"].post(
            _api(rid, sid) + "/mode/mix/stop",
            json={"cname": "own-r", "uid": "21", "clientRequest": {}},
        )
        assert stopped.status_code == 206, stopped.text
    async with (
        serve_channel_server(tmp_path, customers=CUSTOMERS) as server,
        _clients(server) as clients,
    ):
        # an ended recording: Agora's query answers 404, cloudrec's extension answers
        ended = await clients["alice"].get(_api(rid, sid) + "/mode/mix/query")
        assert (ended.status_code, ended.json()["code"]) == (404, 404)
        query = await clients["alice"].get(f"/v1/cloudrec/recordings/{sid}")
        assert query.status_code == 200, query.text
        assert query.json()["sid"] == sid
        answer = await clients["bob"].get(_api(rid, sid) + "/mode/mix/query")
        assert (answer.status_code, answer.json()) == (404, _unknown_sid(sid))
        hidden = await clients["bob"].get(f"/v1/cloudrec/recordings/{sid}")
        assert (hidden.status_code, hidden.json()["code"]) == (404, 404)
        assert await _listed(clients["alice"]) == [sid]
        assert await _listed(clients["bob"]) == []
        assert await _listed(clients["operator"]) == [sid]


_SCHEMA_1 = """
CREATE TABLE recordings (
    sid TEXT PRIMARY KEY, resource_id TEXT NOT NULL, app_id TEXT NOT NULL,
    cname TEXT NOT NULL, uid INTEGER NOT NULL, status INTEGER NOT NULL,
    recording_config TEXT NOT NULL, storage_config TEXT NOT NULL, playlist TEXT NOT NULL,
    folder TEXT NOT NULL, created_at REAL NOT NULL, stopped_at REAL, exit_reason TEXT,
    uploading_status TEXT NOT NULL DEFAULT 'unknown'
);
PRAGMA user_version=1;
"""


async def test_a_version_1_database_is_migrated_its_recordings_the_operators(
    tmp_path: Path,
) -> None:
    """A data folder written before owners were kept: the server opens it, adds the
    column (schema version 2), and its recordings are the operator's alone."""
    data = tmp_path / "server-data"
    data.mkdir()
    db = sqlite3.connect(data / "state.sqlite3")
    db.executescript(_SCHEMA_1)
    sid = "0" * 32
    db.execute(
        "INSERT INTO recordings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (sid, "old-rid", APP, "old", 5, 7, "{}", '{"vendor": 100}', f"{sid}_old.m3u8",
         "", 1.0, 2.0, "stopped", "uploaded"),
    )  # fmt: skip
    db.commit()
    db.close()

    async with (
        serve_channel_server(tmp_path, customers=CUSTOMERS) as server,
        _clients(server) as clients,
    ):
        assert await _listed(clients["operator"]) == [sid]
        assert await _listed(clients["alice"]) == []
        answer = await clients["alice"].get(_api("old-rid", sid) + "/mode/mix/query")
        assert (answer.status_code, answer.json()) == (404, _unknown_sid(sid))
        query = await clients["operator"].get(f"/v1/cloudrec/recordings/{sid}")
        assert query.status_code == 200, query.text
        assert query.json()["serverResponse"]["status"] == 7
        assert query.json()["location"] is None

    store = StateStore(data / "state.sqlite3")
    try:
        assert store.fetchone("PRAGMA user_version") == (SCHEMA_VERSION,)
        row = store.recording(sid)
        assert row is not None and (row.owner, row.location, row.cname, row.uploading_status) == (
            None,
            None,  # where it was written is not known: listed as null
            "old",
            "uploaded",
        )
    finally:
        store.close()


async def _listing(client: httpx.AsyncClient, sid: str) -> dict[str, Any]:
    answer = await client.get(f"/v1/cloudrec/recordings/{sid}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_where_the_files_are_is_told_to_the_operator_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    """``location``: the absolute path of the local folder a recording writes to (its
    own, or the server's recordings folder when the start names none), told to the
    operator only (a customer is not told the server's paths), kept across a restart;
    the recording's playlist is there under its ``fileList`` name. The figures of the
    uploader (slices kept and stored) move from the first slice on."""
    async with (
        serve_channel_server(tmp_path, customers=CUSTOMERS) as server,
        _clients(server) as clients,
    ):
        alice, operator = clients["alice"], clients["operator"]
        rid, sid = await _record(alice, "loc", 31, tmp_path / "a")
        assert (await _listing(operator, sid))["location"] == str((tmp_path / "a").resolve())
        assert (await _listing(alice, sid))["location"] is None
        own_rid = await _acquire(operator, "loc-default", 32)
        body = _start_body("loc-default", 32, tmp_path)
        body["clientRequest"]["storageConfig"] = {"vendor": 100, "region": 0}
        body["clientRequest"]["recordingConfig"]["sliceDuration"] = 2
        started = await operator.post(_api(own_rid) + "/mode/mix/start", json=body)
        assert started.status_code == 200, started.text
        own_sid = started.json()["sid"]
        default = server.settings.data_dir / "recordings"
        assert (await _listing(operator, own_sid))["location"] == str(default.resolve())

        async def figures() -> dict[str, Any]:
            return service_state((await _listing(operator, own_sid))["serverResponse"])

        deadline = time.monotonic() + 15  # the first slice closes 2 s in
        while (await figures())["storedSlices"] < 1:
            assert time.monotonic() < deadline, await figures()
            await asyncio.sleep(0.2)
        for cname, uid, who, ids in (("loc", 31, alice, (rid, sid)),
                                     ("loc-default", 32, operator, (own_rid, own_sid))):  # fmt: skip
            stopped = await who.post(
                _api(*ids) + "/mode/mix/stop",
                json={"cname": cname, "uid": str(uid), "clientRequest": {}},
            )
            assert stopped.status_code == 206, stopped.text
        done = await figures()
        assert done["storedSlices"] == done["keptSlices"] >= 1
        assert done["storedBytes"] == done["keptBytes"] > 0
        listed = (default / f"{own_sid}_loc-default.m3u8").read_text().count("#EXTINF")
        assert listed == done["keptSlices"]
    async with (
        serve_channel_server(tmp_path, customers=CUSTOMERS) as server,
        _clients(server) as clients,
    ):
        listing = await _listing(clients["operator"], sid)
        playlist = Path(listing["location"]) / listing["fileList"]
        assert playlist.is_file() and playlist.parent == (tmp_path / "a").resolve()
        assert (await _listing(clients["alice"], sid))["location"] is None
