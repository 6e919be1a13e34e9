"""Odd inputs to the recording REST API answer 4xx in Agora's shape, never 500.

Each request goes over real HTTP to the ``channel_server`` fixture, with the bytes a
client could send (non-ASCII headers, numbers JSON allows but Python handles badly,
strings that are digits to ``str.isdigit`` only). Each answer is checked for its exact
status, code and reason (the reason names the field and what is allowed), and after
each group the server still answers an ordinary request.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.enums import SANDBOX_APP_ID
from tests.conftest import TEST_CUSTOMER
from tests.helpers import BAD_CREDENTIALS, bearer_client

APP = SANDBOX_APP_ID
BASE = f"/v1/apps/{APP}/cloud_recording"
UID_ALLOWED = "is not allowed; a decimal string of an integer from 1 to 4294967295"
MAX_UID_ALLOWED = "is not allowed; a uid from 0 to 4294967295 (0: the first user to join)"
SMALL = {"width": 160, "height": 120, "fps": 15, "bitrate": 100}


@pytest.fixture
async def http(channel_server: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with bearer_client(channel_server) as client:
        yield client


def answer(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


async def still_answers(http: httpx.AsyncClient) -> None:
    """An ordinary request right after: the server is not wedged by what came before."""
    ok = await http.post(f"{BASE}/acquire", json={"cname": "after", "uid": "9"})
    assert ok.status_code == 200, ok.text
    assert set(ok.json()) == {"resourceId", "cname", "uid"}


async def start_recording(
    http: httpx.AsyncClient, cname: str, uid: str, folder: Path
) -> tuple[str, str]:
    """Acquire and start a small recording into the local ``folder``: its resource id and
    sid (the start must answer 200)."""
    rid = (await http.post(f"{BASE}/acquire", json={"cname": cname, "uid": uid})).json()
    rid = rid["resourceId"]
    started = await http.post(
        f"{BASE}/resourceid/{rid}/mode/mix/start",
        json={
            "cname": cname,
            "uid": uid,
            "clientRequest": {
                "recordingConfig": {"transcodingConfig": SMALL},
                "storageConfig": {"vendor": 100, "extensionParams": {"localFolder": str(folder)}},
            },
        },
    )
    assert started.status_code == 200, started.text
    return rid, started.json()["sid"]


async def stop_recording(
    http: httpx.AsyncClient, rid: str, sid: str, cname: str, uid: str
) -> httpx.Response:
    return await http.post(
        f"{BASE}/resourceid/{rid}/sid/{sid}/mode/mix/stop", json={"cname": cname, "uid": uid}
    )


async def post_raw(http: httpx.AsyncClient, path: str, body: bytes) -> httpx.Response:
    return await http.post(path, content=body, headers={"Content-Type": "application/json"})


async def test_non_ascii_authorization_headers_are_401(channel_server: Any) -> None:
    customer, secret = TEST_CUSTOMER
    headers: list[bytes] = [
        "Bearer é".encode(),  # UTF-8
        b"Bearer \xff\xfe",  # not UTF-8 either
        f"Bearer {channel_server.settings.token}é".encode(),  # the token and one more
        "Basic é".encode(),
        b"Basic " + base64.b64encode(f"{customer}:{secret}é".encode()),
        b"Basic " + base64.b64encode(f"{customer}é:{secret}".encode()),
        b"Basic " + base64.b64encode(customer.encode() + b":\xff"),
        b"Basic " + base64.b64encode(b"\xff:\xff"),
        "Bearer ²".encode(),
    ]
    async with httpx.AsyncClient(base_url=channel_server.url, timeout=30) as anonymous:
        for value in headers:
            for method, path in (
                ("POST", f"{BASE}/acquire"),
                ("GET", "/v1/cloudrec/recordings"),
                ("GET", "/v1/cloudrec/recordings/s/events"),
            ):
                response = await anonymous.request(
                    method,
                    path,
                    json={"cname": "a", "uid": "1"} if method == "POST" else None,
                    headers=[(b"Authorization", value)],
                )
                assert answer(response) == (401, BAD_CREDENTIALS), (value, path)
        # the right credentials still work, both ways
        good = await anonymous.get("/v1/cloudrec/recordings", auth=httpx.BasicAuth(*TEST_CUSTOMER))
        assert answer(good) == (200, {"recordings": []})
        bearer = {"Authorization": f"Bearer {channel_server.settings.token}"}
        assert (await anonymous.get("/v1/cloudrec/recordings", headers=bearer)).status_code == 200


async def test_odd_uid_strings_are_432_naming_the_uid(http: httpx.AsyncClient) -> None:
    huge = "9" * 5000  # more digits than Python's int() reads from text
    cases = {
        "²": f"uid: '²' {UID_ALLOWED}",  # str.isdigit() says yes, int() says no
        "١": f"uid: '١' {UID_ALLOWED}",  # an Arabic-Indic 1: int() would read it as 1
        " 1": f"uid: ' 1' {UID_ALLOWED}",
        "1 ": f"uid: '1 ' {UID_ALLOWED}",
        "1.0": f"uid: '1.0' {UID_ALLOWED}",
        "+1": f"uid: '+1' {UID_ALLOWED}",
        "-1": f"uid: '-1' {UID_ALLOWED}",
        "0x10": f"uid: '0x10' {UID_ALLOWED}",
        "1e3": f"uid: '1e3' {UID_ALLOWED}",
        "1_000": f"uid: '1_000' {UID_ALLOWED}",
        "": f"uid: '' {UID_ALLOWED}",
        "42949672950": f"uid: '42949672950' {UID_ALLOWED}",  # 11 digits
        huge: f"uid: '{'9' * 24}'... (5000 characters) {UID_ALLOWED}",
        "4294967296": "uid: 4294967296 is not allowed; an integer from 1 to 4294967295 "
        "(0 is reserved)",
        "0": "uid: 0 is not allowed; an integer from 1 to 4294967295 (0 is reserved)",
    }
    for uid, reason in cases.items():
        for path in (f"{BASE}/acquire", f"{BASE}/resourceid/r/mode/mix/start"):
            response = await http.post(path, json={"cname": "odd", "uid": uid})
            assert answer(response) == (400, {"code": 432, "reason": reason}), (uid[:20], path)
    # the largest uid and leading zeros are still uids
    for uid, shown in (("4294967295", "4294967295"), ("0007", "7")):
        ok = await http.post(f"{BASE}/acquire", json={"cname": "odd", "uid": uid})
        assert ok.status_code == 200 and ok.json()["uid"] == shown, ok.text
    await still_answers(http)


async def test_odd_max_resolution_uid_at_start_is_432(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """JSON numbers Python reads as inf or NaN, negatives, beyond 2^32-1, fractions."""
    cases = {
        b"1e400": f"max_resolution_uid: inf {MAX_UID_ALLOWED}",
        b"-1e400": f"max_resolution_uid: -inf {MAX_UID_ALLOWED}",
        b"NaN": f"max_resolution_uid: nan {MAX_UID_ALLOWED}",
        b"Infinity": f"max_resolution_uid: inf {MAX_UID_ALLOWED}",
        b"-1": f"max_resolution_uid: -1 {MAX_UID_ALLOWED}",
        b"4294967296": f"max_resolution_uid: 4294967296 {MAX_UID_ALLOWED}",
        b"1" + b"0" * 100: f"max_resolution_uid: 1{'0' * 100} {MAX_UID_ALLOWED}",
        b"1.5": f"max_resolution_uid: 1.5 {MAX_UID_ALLOWED}",
        b'"x"': f"max_resolution_uid: 'x' {MAX_UID_ALLOWED}",
        b'"\xc2\xb2"': f"max_resolution_uid: '²' {MAX_UID_ALLOWED}",
    }
    storage = b'{"vendor": 100, "extensionParams": {"localFolder": "%s"}}' % str(tmp_path).encode()
    for value, reason in cases.items():
        rid = (await http.post(f"{BASE}/acquire", json={"cname": "mru", "uid": "3"})).json()
        body = (
            b'{"cname": "mru", "uid": "3", "clientRequest": {"recordingConfig": '
            b'{"transcodingConfig": {"maxResolutionUid": %s}}, "storageConfig": %s}}'
            % (value, storage)
        )
        response = await post_raw(
            http, f"{BASE}/resourceid/{rid['resourceId']}/mode/mix/start", body
        )
        assert answer(response) == (400, {"code": 432, "reason": reason}), value
    assert (await http.get("/v1/cloudrec/recordings")).json() == {"recordings": []}
    await still_answers(http)


async def test_odd_update_layout_values_are_432_and_the_recording_goes_on(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    rid, sid = await start_recording(http, "upd", "4", tmp_path)
    path = f"{BASE}/resourceid/{rid}/sid/{sid}/mode/mix/updateLayout"
    layout_allowed = (
        "is not allowed; FLOAT (0), BEST_FIT (1), VERTICAL (2) or CUSTOM (3, with layoutConfig)"
    )
    cases = {
        b'"maxResolutionUid": 1e400': f"maxResolutionUid: inf {MAX_UID_ALLOWED}",
        b'"maxResolutionUid": Infinity': f"maxResolutionUid: inf {MAX_UID_ALLOWED}",
        b'"maxResolutionUid": NaN': f"maxResolutionUid: nan {MAX_UID_ALLOWED}",
        b'"maxResolutionUid": -1': f"maxResolutionUid: -1 {MAX_UID_ALLOWED}",
        b'"maxResolutionUid": 4294967296': f"maxResolutionUid: 4294967296 {MAX_UID_ALLOWED}",
        b'"maxResolutionUid": 1.5': f"maxResolutionUid: 1.5 {MAX_UID_ALLOWED}",  # was 1
        b'"maxResolutionUid": "x"': f"maxResolutionUid: 'x' {MAX_UID_ALLOWED}",
        b'"maxResolutionUid": null': f"maxResolutionUid: None {MAX_UID_ALLOWED}",
        b'"maxResolutionUid": []': f"maxResolutionUid: [] {MAX_UID_ALLOWED}",
        b'"mixedVideoLayout": 1e400': f"mixedVideoLayout: inf {layout_allowed}",
        b'"mixedVideoLayout": NaN': f"mixedVideoLayout: nan {layout_allowed}",
        b'"mixedVideoLayout": -1': f"mixedVideoLayout: -1 {layout_allowed}",
    }
    for field, reason in cases.items():
        body = b'{"cname": "upd", "uid": "4", "clientRequest": {%s}}' % field
        response = await post_raw(http, path, body)
        assert answer(response) == (400, {"code": 432, "reason": reason}), field
    # Agora's own form of the uid (a decimal string) and a plain number both work: the
    # recording still runs (a finished one answers 404)
    for value in ('"4294967295"', "7"):
        body = b'{"cname": "upd", "uid": "4", "clientRequest": {"maxResolutionUid": %s}}'
        ok = await post_raw(http, path, body % value.encode())
        assert answer(ok) == (200, {"resourceId": rid, "sid": sid, "cname": "upd", "uid": "4"})
    stopped = await stop_recording(http, rid, sid, "upd", "4")
    assert stopped.json()["serverResponse"]["uploadingStatus"] == "uploaded", stopped.text


async def test_odd_last_event_ids_are_400_naming_the_header(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    rid, sid = await start_recording(http, "lei", "5", tmp_path)
    events = f"/v1/cloudrec/recordings/{sid}/events"
    allowed = (
        "is not allowed; the id of a notice this stream sent, a decimal integer from 0 to "
        "2147483648"
    )
    cases = {
        b"abc": f"'abc' {allowed}",
        b"-1": f"'-1' {allowed}",
        b"1.5": f"'1.5' {allowed}",
        b"2147483649": f"'2147483649' {allowed}",  # one past the largest
        b"99999999999999999999": f"'99999999999999999999' {allowed}",
        b"9" * 5000: f"'999999999999999999999999'... (5000 characters) {allowed}",
        "²".encode(): f"'²' {allowed}",  # UTF-8, decoded as Latin-1 by the server: 'Â²'
        b"\xb2": f"'\\\\xb2' {allowed}",  # Latin-1 superscript two: '²'.isdigit() is true
        "é".encode(): f"'é' {allowed}",
        b"\xff": f"'\\\\xff' {allowed}",
    }
    for value, reason in cases.items():
        response = await http.get(events, headers=[(b"Last-Event-ID", value)])
        expected = {"code": 2, "reason": f"invalid request: header.Last-Event-ID: {reason}"}
        assert answer(response) == (400, expected), value[:20]
    # an id the stream sent is taken: the stream replays what follows it
    async with http.stream("GET", events, headers={"Last-Event-ID": "1"}) as replay:
        assert replay.status_code == 200
        first = await anext(replay.aiter_lines())
        assert first == "id: 2"
    stopped = await stop_recording(http, rid, sid, "lei", "5")
    assert stopped.status_code == 206, stopped.text  # an empty channel: Agora's 206
    await still_answers(http)


async def test_bodies_the_json_parser_gives_up_on_are_400_in_agoras_shape(
    http: httpx.AsyncClient,
) -> None:
    prefix = "invalid request: body: JSON decode error: "
    cases = {
        b'{"cname": "\xff", "uid": "1"}': "not UTF-8 text (byte 0xff at position 11); "
        "send JSON in UTF-8",
        b'{"cname": "a", "uid": ' + b"9" * 5000 + b"}": "a number of more than 4300 digits",
        b'{"cname": "a", "uid": "1", "clientRequest": {"scene": ' + b"1" * 4301 + b"}}": (
            "a number of more than 4300 digits"
        ),
        b"[" * 100_000 + b"]" * 100_000: "arrays or objects nested too deeply to read",
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000: "arrays or objects nested too deeply to read",
    }
    for body, reason in cases.items():
        for path in (f"{BASE}/acquire", "/v1/cloudrec/storage/check"):
            response = await post_raw(http, path, body)
            assert answer(response) == (400, {"code": 2, "reason": prefix + reason}), (
                body[:30],
                path,
            )
    await still_answers(http)


async def test_unpaired_surrogates_are_400_naming_the_field_never_the_value(
    http: httpx.AsyncClient,
) -> None:
    """JSON's \\ud800 escape decodes to a string no UTF-8 encoder takes (channel name
    checks, paths, the keyring and request signing all encode)."""
    unicode = "not Unicode text (it holds an unpaired surrogate escape such as \\ud800); send text that UTF-8 can encode"
    rid = (await http.post(f"{BASE}/acquire", json={"cname": "sur", "uid": "6"})).json()
    start = f"{BASE}/resourceid/{rid['resourceId']}/mode/mix/start"
    storage = (
        b'{"vendor": 1, "bucket": "abc", "accessKey": "AK\\ud800SECRETPART", "secretKey": "s"}'
    )
    cases = [
        (f"{BASE}/acquire", b'{"cname": "a\\ud800", "uid": "1"}', "cname"),
        (f"{BASE}/acquire", b'{"cname": "a", "uid": "\\udfff1"}', "uid"),
        (start, b'{"cname": "sur", "uid": "6", "clientRequest": {"storageConfig": %s}}' % storage,
         "clientRequest.storageConfig.accessKey"),
        (start, b'{"cname": "sur", "uid": "6", "clientRequest": {"x\\ud800": 1}}', "clientRequest",
         "Input should be a valid string, unable to parse raw data as a unicode string"),  # pydantic's
        (start, b'{"cname": "sur", "uid": "6", "clientRequest": {"recordingConfig": '
         b'{"transcodingConfig": {"backgroundColor": "\\ud83d"}}}}',
         "clientRequest.recordingConfig.transcodingConfig.backgroundColor"),
        ("/v1/cloudrec/storage/check", b'{"storageConfig": %s}' % storage, "storageConfig.accessKey"),
        ("/v1/cloudrec/storage/check", b'{"storageConfig": {"vendor": 100, "extensionParams": '
         b'{"localFolder": "/tmp/\\ud800"}}}', "storageConfig.extensionParams.localFolder"),
    ]  # fmt: skip
    for path, body, field, *why in cases:
        response = await post_raw(http, path, body)
        reason = f"invalid request: {field}: {why[0] if why else unicode}"
        assert answer(response) == (400, {"code": 2, "reason": reason}), field
        assert "SECRETPART" not in response.text
    # a pair of surrogate escapes is one character, and fine
    ok = await post_raw(http, f"{BASE}/acquire", b'{"cname": "\\ud83d\\ude00", "uid": "1"}')
    assert answer(ok) == (
        400,
        {
            "code": 401,  # Agora's acquire: 401 invalid_channel_name
            "reason": "invalid_channel_name: channel_name: '\U0001f600' is not allowed; '\U0001f600' may not be used; "
            "1 to 64 bytes from a-z, A-Z, 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~,",
        },
    )
    await still_answers(http)


async def test_storage_endpoints_the_uploader_cannot_use_are_432(http: httpx.AsyncClient) -> None:
    """The config's pattern lets these through; they reached httpx at the check and
    answered 500 (a port beyond 65535, a bracketed host that is no IPv6 address)."""
    allowed = "is not allowed; empty, or http(s)://host[:port] with a port from 1 to 65535"
    for endpoint in ("http://a:99999", "http://127.0.0.1:65536", "http://[zz]", "http://a:0",
                     "http://[1.2.3.4]:9000", "http://a:b:c"):  # fmt: skip
        storage = {
            "vendor": 1,
            "bucket": "abc",
            "accessKey": "a",
            "secretKey": "b",
            "extensionParams": {"endpoint": endpoint},
        }
        reason = {"code": 432, "reason": f"endpoint: {endpoint!r} {allowed}"}
        checked = await http.post("/v1/cloudrec/storage/check", json={"storageConfig": storage})
        assert answer(checked) == (400, reason), endpoint
        rid = (await http.post(f"{BASE}/acquire", json={"cname": "ep", "uid": "8"})).json()
        started = await http.post(
            f"{BASE}/resourceid/{rid['resourceId']}/mode/mix/start",
            json={"cname": "ep", "uid": "8", "clientRequest": {"storageConfig": storage}},
        )
        assert answer(started) == (400, reason), endpoint
    assert (await http.get("/v1/cloudrec/recordings")).json() == {"recordings": []}
    await still_answers(http)


async def test_paths_and_methods_the_api_lacks_answer_agoras_shape(
    http: httpx.AsyncClient,
) -> None:
    """The router's own 404/405 ({"detail": ...}) came through for an empty mode
    (``.../mode//query``, found by the stateful fuzz), a wrong method or a path the API
    does not have."""
    where = "is no path of this API (docs/rest-api.md lists them)"
    cases = [
        ("GET", f"{BASE}/resourceid/r/sid/s/mode//query", 404,
         f"not found: GET '{BASE}/resourceid/r/sid/s/mode//query' {where}"),
        ("POST", f"{BASE}/resourceid/r/mode/mix/x/start", 404,
         f"not found: POST '{BASE}/resourceid/r/mode/mix/x/start' {where}"),
        ("GET", "/v1/cloudrec/nothing", 404, f"not found: GET '/v1/cloudrec/nothing' {where}"),
        ("GET", f"{BASE}/acquire", 405,
         f"method not allowed: GET '{BASE}/acquire'; this path takes POST"),
        ("DELETE", f"{BASE}/resourceid/r/sid/s/mode/mix/query", 405,
         f"method not allowed: DELETE '{BASE}/resourceid/r/sid/s/mode/mix/query'; "
         "this path takes GET"),
    ]  # fmt: skip
    for method, path, status, reason in cases:
        body = {"cname": "a", "uid": "1"} if method == "POST" else None
        response = await http.request(method, path, json=body)
        assert answer(response) == (status, {"code": status, "reason": reason}), path
        if status == 405:
            assert response.headers["allow"] == reason.rsplit(" ", 1)[-1]
    long = f"{BASE}/{'x' * 200}"
    response = await http.get(long)
    shown = f"{long[:120]!r}... ({len(long)} characters)"
    assert answer(response) == (404, {"code": 404, "reason": f"not found: GET {shown} {where}"})
    await still_answers(http)
