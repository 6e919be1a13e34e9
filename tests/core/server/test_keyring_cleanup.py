"""The server keeps a recording's storage keys in the OS keyring (service
``cloudrec-server``, one item per recording) only while its uploads may need them: a
start that fails leaves no item behind.

Runs against the real Secret Service (gnome-keyring on a private D-Bus session, as
scripts/test.sh starts it); the items of the service are read with secretstorage,
beside the server's own keyring calls.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import closing
from typing import Any

import httpx
import pytest

from core.enums import SANDBOX_APP_ID
from core.storage.credentials import SERVICE
from tests.helpers import bearer_client, require_secret_service
from tests.s3server import S3Server

BASE = f"/v1/apps/{SANDBOX_APP_ID}/cloud_recording"
SMALL = {"width": 160, "height": 120, "fps": 15, "bitrate": 100}


def _items() -> dict[str, str]:
    import secretstorage
    from jeepney.wrappers import DBusErrorResponse

    gone = (secretstorage.exceptions.ItemNotFoundException, DBusErrorResponse)
    for _ in range(20):
        found = {}
        with closing(secretstorage.dbus_init()) as connection:
            collection = secretstorage.get_default_collection(connection)
            try:
                # search_items reads each found item's label: an item the server deletes
                # between the search and that read raises here, so search again.
                for item in collection.search_items({"service": SERVICE}):
                    try:
                        found[item.get_attributes()["username"]] = item.get_secret().decode()
                    except gone:
                        continue  # deleted by the server while we read: not there
            except gone:
                continue
        return found
    raise AssertionError("the keyring's items kept vanishing during 20 searches")


async def keyring_items() -> dict[str, str]:
    """Recording id -> stored secret, of every item of the server's keyring service."""
    return await asyncio.to_thread(_items)


@pytest.fixture
async def http(channel_server: Any) -> AsyncIterator[httpx.AsyncClient]:
    require_secret_service()
    async with bearer_client(channel_server) as client:
        yield client


def s3(server: S3Server, bucket: str, **changes: Any) -> dict[str, Any]:
    storage = {
        "vendor": 1,
        "region": 0,
        "bucket": bucket,
        "accessKey": server.access_key,
        "secretKey": server.secret_key,
        "extensionParams": {"endpoint": server.endpoint},
    }
    return {**storage, **changes}


async def start(http: httpx.AsyncClient, cname: str, storage: dict[str, Any]) -> httpx.Response:
    body = {"cname": cname, "uid": "21"}
    rid = (await http.post(f"{BASE}/acquire", json=body)).json()["resourceId"]
    request = {"recordingConfig": {"transcodingConfig": SMALL}, "storageConfig": storage}
    return await http.post(
        f"{BASE}/resourceid/{rid}/mode/mix/start", json={**body, "clientRequest": request}
    )


async def recordings(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (await http.get("/v1/cloudrec/recordings")).json()["recordings"]
    return listed


async def test_a_recording_keeps_its_keys_until_its_uploads_are_done(
    http: httpx.AsyncClient, s3_server: S3Server, s3_bucket: str
) -> None:
    """The control: what the other test sees absent is present for a started recording."""
    before = await keyring_items()
    started = await start(http, "kept", s3(s3_server, s3_bucket))
    assert started.status_code == 200, started.text
    sid = started.json()["sid"]
    items = await keyring_items()
    assert items == {**before, sid: json.dumps([s3_server.access_key, s3_server.secret_key])}
    stopped = await http.post(
        f"{BASE}/resourceid/{started.json()['resourceId']}/sid/{sid}/mode/mix/stop",
        json={"cname": "kept", "uid": "21"},
    )
    assert stopped.json()["serverResponse"]["uploadingStatus"] == "uploaded", stopped.text
    await forgotten(sid)  # once everything is uploaded (the uploaded notice comes first)
    assert await keyring_items() == before


async def forgotten(sid: str, timeout: float = 10.0) -> None:
    """Wait until the keyring has no item for ``sid``."""
    async with asyncio.timeout(timeout):
        while sid in await keyring_items():
            await asyncio.sleep(0.05)


async def test_a_start_that_fails_leaves_no_key_in_the_keyring(
    channel_server: Any, http: httpx.AsyncClient, s3_server: S3Server, s3_bucket: str
) -> None:
    before = await keyring_items()

    # 1. the destination check fails (no such bucket): 438, after the keys were kept
    missing = f"rec-{uuid.uuid4().hex[:12]}"
    failed = await start(http, "nobucket", s3(s3_server, missing))
    assert failed.status_code == 400 and failed.json()["code"] == 438, failed.text
    assert failed.json()["reason"].endswith(
        f"bucket '{missing}' does not exist at {s3_server.endpoint}"
    )
    assert await keyring_items() == before

    # 2. the recorder cannot be set up (its work folder cannot be made): 436, after the
    #    destination check passed
    work = channel_server.settings.data_dir / "work"
    work.write_text("not a folder")
    failed = await start(http, "noinit", s3(s3_server, s3_bucket))
    assert failed.status_code == 400 and failed.json()["code"] == 436, failed.text
    assert failed.json()["reason"].startswith("cannot set up the recorder: ")
    assert await keyring_items() == before
    work.unlink()

    # 3. an endpoint the uploader cannot use: refused before any key is kept
    failed = await start(
        http, "badport", s3(s3_server, s3_bucket, extensionParams={"endpoint": "http://a:99999"})
    )
    assert failed.status_code == 400 and failed.json()["code"] == 432, failed.text
    assert await keyring_items() == before

    # the two failed recordings are known to the server, finished, and their ids have
    # no item; the server still starts (and keeps the keys of) a good recording
    ended = await recordings(http)
    assert [(r["cname"], r["status"], r["finished"]) for r in ended] == [
        ("nobucket", 20, True),
        ("noinit", 20, True),
    ]
    good = await start(http, "good", s3(s3_server, s3_bucket))
    assert good.status_code == 200, good.text
    assert set(await keyring_items()) == {*before, good.json()["sid"]}
    stopped = await http.post(
        f"{BASE}/resourceid/{good.json()['resourceId']}/sid/{good.json()['sid']}/mode/mix/stop",
        json={"cname": "good", "uid": "21"},
    )
    assert stopped.status_code == 206, stopped.text  # an empty channel: Agora's 206
    await forgotten(good.json()["sid"])
    assert await keyring_items() == before
