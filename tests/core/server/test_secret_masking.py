"""Storage keys are kept out of messages by construction, not masked by replacing their
text: a message is built only from fields that never hold a key (object key, bucket,
endpoint, region, the store's error code), so a key of one character that also occurs
elsewhere in the message leaves the message whole.

Real requests: the ``channel_server`` fixture's REST API and a signature-checking moto
S3 server, reached with keys of one character each.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.enums import SANDBOX_APP_ID
from tests.helpers import bearer_client
from tests.s3server import S3Server

BASE = f"/v1/apps/{SANDBOX_APP_ID}/cloud_recording"
SMALL = {"width": 160, "height": 120, "fps": 15, "bitrate": 100}


@pytest.fixture
async def http(channel_server: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with bearer_client(channel_server) as client:
        yield client


def check_key_message(endpoint: str, bucket: str, reason: str) -> re.Pattern[str]:
    """The whole message of a failed destination check (its probe object has a random name)."""
    return re.compile(
        rf"cannot upload '\.cloudrec-check-[0-9a-f]{{32}}' \(S3-compatible store bucket "
        rf"'{re.escape(bucket)}' at {re.escape(endpoint)}\): {re.escape(reason)}"
    )


async def test_one_character_keys_leave_every_message_whole(
    channel_server: Any, http: httpx.AsyncClient, s3_server: S3Server, s3_bucket: str
) -> None:
    at = s3_server.endpoint  # http://127.0.0.1:PORT: holds '1', '2', '7', '.', ':'
    cases = [
        # an access key moto does not know: "1" is in the endpoint (twice)
        ("1", "e", f"the access key is not known to {at}"),
        # the right access key and a wrong secret of one letter found all over the text
        (s3_server.access_key, "e", f"the secret key does not match the access key ({at} "
         "rejected the request signature)"),
        # keys that are characters of the message's punctuation
        ("'", ":", f"the access key is not known to {at}"),
    ]  # fmt: skip
    for uid, (access_key, secret_key, reason) in enumerate(cases, 31):
        assert access_key in reason or secret_key in reason or access_key == s3_server.access_key
        expected = check_key_message(at, s3_bucket, reason)
        storage = {
            "vendor": 1,
            "bucket": s3_bucket,
            "accessKey": access_key,
            "secretKey": secret_key,
            "extensionParams": {"endpoint": at},
        }
        checked = await http.post("/v1/cloudrec/storage/check", json={"storageConfig": storage})
        assert checked.status_code == 200
        assert checked.json()["ok"] is False and checked.json()["code"] == 438
        assert expected.fullmatch(checked.json()["reason"]), checked.json()["reason"]

        body = {"cname": "mask", "uid": str(uid)}
        rid = (await http.post(f"{BASE}/acquire", json=body)).json()["resourceId"]
        started = await http.post(
            f"{BASE}/resourceid/{rid}/mode/mix/start",
            json={**body, "clientRequest": {"recordingConfig": {"transcodingConfig": SMALL},
                                             "storageConfig": storage}},
        )  # fmt: skip
        assert started.status_code == 400 and started.json()["code"] == 438, started.text
        assert expected.fullmatch(started.json()["reason"]), started.json()["reason"]
        # the fatal error notice a reattaching client reads says the same
        (entry,) = [
            r
            for r in (await http.get("/v1/cloudrec/recordings")).json()["recordings"]
            if r["resourceId"] == rid
        ]
        notices = channel_server.app.state.recordings.store.notices(entry["sid"])
        (error,) = [n for n in notices if n["eventType"] == 1]
        assert error["payload"]["details"]["errorMsg"] == started.json()["reason"]
