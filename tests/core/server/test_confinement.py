"""Confinement (issue 16, findings 1 and 2): where a REST client may make the server
write, and which hosts it may make the server call (docs/security.md, "Confinement").

Real servers on 127.0.0.1 answer real requests: ``channel_server`` (its storage root is
the test's ``tmp_path``, its allowlist 127.0.0.1), servers with other limits
(``serve_channel_server``) and a ``cloudrec server`` child started with the options.
That no request leaves the server for a refused endpoint is shown by a listening socket
on 127.0.0.1 whose accept queue stays empty; the same socket does see the connection of
an allowed endpoint, so the check can fail.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

from core.commands import server as server_command
from core.commands.record import _grants, _on_this_machine
from core.config import CloudStorageConfig
from core.enums import SANDBOX_APP_ID, StorageVendor
from core.errors import InvalidParameterError
from core.notices import MODULE_UPLOADER
from core.regions import REGION_TABLES
from core.sdk.embedded import EmbeddedServer, endpoint_host, start_embedded_server
from core.server.confinement import Confinement, EndpointRule, parse_endpoint_rule
from core.storage.ledger import SliceLedger
from tests.conftest import ChannelServer, serve_channel_server
from tests.helpers import wait_until
from tests.s3server import S3Server

APP = SANDBOX_APP_ID
SMALL = {"width": 160, "height": 120, "fps": 15, "bitrate": 100}

FOLDER_REASON = (
    "storageConfig.extensionParams.localFolder: {!r} is not allowed; an absolute path "
    "(or ~/...) without '..' of a folder inside the server's storage roots; empty for the "
    "server's recordings folder (the server's operator adds roots with cloudrec server "
    "--storage-root)"
)
ENDPOINT_REASON = (
    "storageConfig.extensionParams.endpoint: {!r} is not allowed; a host this server may "
    "send to: empty for the vendor's region endpoint, or a host[:port] the server's "
    "operator allows (cloudrec server --allow-endpoint)"
)


def folder_refusal(value: str) -> dict[str, Any]:
    return {"code": 432, "reason": FOLDER_REASON.format(value)}


def endpoint_refusal(value: str) -> dict[str, Any]:
    return {"code": 432, "reason": ENDPOINT_REASON.format(value)}


def local(folder: str) -> dict[str, Any]:
    return {"vendor": 100, "region": 0, "extensionParams": {"localFolder": folder}}


def s3(s3_server: S3Server, bucket: str, endpoint: str) -> dict[str, Any]:
    return {
        "vendor": 1,
        "region": 0,
        "bucket": bucket,
        "accessKey": s3_server.access_key,
        "secretKey": s3_server.secret_key,
        "extensionParams": {"endpoint": endpoint},
    }


class Api:
    """The recording API and the storage check of one server, with its bearer token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def acquire(self, cname: str, uid: int) -> str:
        response = await self.http.post(
            f"/v1/apps/{APP}/cloud_recording/acquire", json={"cname": cname, "uid": str(uid)}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["resourceId"])

    async def start(
        self, rid: str, cname: str, uid: int, storage: dict[str, Any]
    ) -> httpx.Response:
        body = {
            "cname": cname,
            "uid": str(uid),
            "clientRequest": {
                "recordingConfig": {"transcodingConfig": SMALL, "maxIdleTime": 30},
                "storageConfig": storage,
            },
        }
        return await self.http.post(
            f"/v1/apps/{APP}/cloud_recording/resourceid/{rid}/mode/mix/start", json=body
        )

    async def stop(self, rid: str, sid: str, cname: str, uid: int) -> dict[str, Any]:
        response = await self.http.post(
            f"/v1/apps/{APP}/cloud_recording/resourceid/{rid}/sid/{sid}/mode/mix/stop",
            json={"cname": cname, "uid": str(uid), "clientRequest": {}},
        )
        assert response.status_code == 206, response.text  # an empty channel: Agora's 206
        body: dict[str, Any] = response.json()
        return body

    async def check(self, storage: dict[str, Any]) -> httpx.Response:
        return await self.http.post("/v1/cloudrec/storage/check", json={"storageConfig": storage})


@contextlib.asynccontextmanager
async def api_of(url: str, token: str) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        yield Api(http)


@pytest.fixture
async def api(channel_server: ChannelServer) -> AsyncIterator[Api]:
    async with api_of(channel_server.url, channel_server.settings.token) as client:
        yield client


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A listening TCP socket on 127.0.0.1 that accepts nothing by itself: a connection
    made to it waits in its accept queue, where :func:`connections` finds it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    try:
        yield sock
    finally:
        sock.close()


def connections(sock: socket.socket) -> int:
    """How many connections wait in ``sock``'s accept queue (taken and closed)."""
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def port_of(sock: socket.socket) -> int:
    port: int = sock.getsockname()[1]
    return port


# --- local folders -------------------------------------------------------------------


async def test_folders_outside_the_roots_are_refused_before_anything_is_created(
    channel_server: ChannelServer,
    api: Api,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Absolute, '..', a link pointing out, relative, the server's own folders, a NUL
    byte: start and storage/check answer 400 with 432 and one reason that quotes the
    value as sent, whether the folder exists or not, and creates nothing; the resource
    stays usable and then records into a folder inside the root."""
    outside = tmp_path_factory.mktemp("outside")  # exists, next to the root tmp_path
    (tmp_path / "link").symlink_to(outside, target_is_directory=True)
    data = channel_server.settings.data_dir
    refused = [
        str(outside),  # an existing folder outside the root
        str(outside / "rec"),  # one that does not exist
        f"{tmp_path}/../{outside.name}/rec",  # '..' out of the root
        f"{tmp_path}/sub/../rec",  # '..' that would stay inside: refused all the same
        str(tmp_path / "link"),  # a link inside the root pointing out of it
        str(tmp_path / "link" / "rec"),
        "rec",  # relative: the server's working folder is not the client's business
        "~nobody-of-this-test/rec",
        str(data / "backup"),  # the server's own folders, though inside the root
        str(data),
        f"{tmp_path}/rec\x00",
    ]
    rid = await api.acquire("confined", 51)
    for value in refused:
        response = await api.start(rid, "confined", 51, local(value))
        assert (response.status_code, response.json()) == (400, folder_refusal(value)), value
        response = await api.check(local(value))
        assert (response.status_code, response.json()) == (400, folder_refusal(value)), value
    assert sorted(outside.rglob("*")) == []
    assert not (tmp_path / "rec").exists() and not (data / "backup").exists()

    inside = tmp_path / "inside" / "rec"
    response = await api.start(rid, "confined", 51, local(str(inside)))
    assert response.status_code == 200, response.text  # the refusals left rid unused
    sid = response.json()["sid"]
    stopped = await api.stop(rid, sid, "confined", 51)
    playlist = stopped["serverResponse"]["fileList"]
    assert (inside / playlist).is_file()
    assert sorted(outside.rglob("*")) == []


async def test_folders_inside_the_roots_are_accepted_where_their_links_lead(
    channel_server: ChannelServer, api: Api, tmp_path: Path
) -> None:
    """Inside the root: new folders (made by the check, its probe removed), '.' and
    doubled slashes, a link to another folder inside, and the server's recordings folder,
    which is always a root."""
    real = tmp_path / "real"
    (tmp_path / "inlink").symlink_to(real, target_is_directory=True)
    recordings = channel_server.settings.data_dir / "recordings"
    cases = {
        str(tmp_path / "a" / "b"): tmp_path / "a" / "b",
        f"{tmp_path}/./c//d": tmp_path / "c" / "d",
        str(tmp_path / "inlink" / "rec"): real / "rec",
        str(recordings / "mine"): recordings / "mine",
    }
    for value, folder in cases.items():
        response = await api.check(local(value))
        assert response.json() == {"ok": True, "destination": f"local folder {folder}"}, value
        assert folder.is_dir() and list(folder.iterdir()) == []

    rid = await api.acquire("linked", 52)
    response = await api.start(rid, "linked", 52, local(str(tmp_path / "inlink" / "rec")))
    assert response.status_code == 200, response.text
    stopped = await api.stop(rid, response.json()["sid"], "linked", 52)
    assert (real / "rec" / stopped["serverResponse"]["fileList"]).is_file()


async def test_a_storage_root_of_the_operator_is_its_only_folder_besides_recordings(
    tmp_path: Path,
) -> None:
    """``storage_roots`` replaces nothing but adds: with a root elsewhere, the test's
    folder is refused, the root and the recordings folder accepted."""
    root = tmp_path / "srv" / "rec"
    async with serve_channel_server(tmp_path / "server", storage_roots=(root,)) as server:
        async with api_of(server.url, server.settings.token) as client:
            for value in (str(tmp_path / "elsewhere"), str(root.parent)):
                response = await client.check(local(value))
                assert (response.status_code, response.json()) == (400, folder_refusal(value))
            for folder in (root, root / "x", server.settings.data_dir / "recordings"):
                response = await client.check(local(str(folder)))
                assert response.json() == {"ok": True, "destination": f"local folder {folder}"}
            response = await client.check(local(""))  # the server's recordings folder
            assert response.json()["ok"] is True
    assert not (tmp_path / "elsewhere").exists()


# --- endpoints -----------------------------------------------------------------------


async def test_endpoints_that_spell_loopback_otherwise_are_refused_without_a_connection(
    api: Api, listener: socket.socket, s3_server: S3Server, s3_bucket: str
) -> None:
    """The allowlist names 127.0.0.1: other names and spellings of the same address,
    which would all reach the listening socket, are refused before any connection; the
    listed host reaches it (the control) and works with the S3 server."""
    port = port_of(listener)
    refused = [
        f"http://localhost:{port}",
        f"http://127.1:{port}",
        f"http://2130706433:{port}",
        f"http://0x7f000001:{port}",
        f"http://[::ffff:127.0.0.1]:{port}",
        f"http://127.0.0.1.:{port}",
    ]
    rid = await api.acquire("probe", 53)
    for endpoint in refused:
        storage = s3(s3_server, s3_bucket, endpoint)
        response = await api.start(rid, "probe", 53, storage)
        assert (response.status_code, response.json()) == (400, endpoint_refusal(endpoint))
        response = await api.check(storage)
        assert (response.status_code, response.json()) == (400, endpoint_refusal(endpoint))
    assert connections(listener) == 0

    # The control: an allowed endpoint on the same socket is connected to.
    allowed = f"http://127.0.0.1:{port}"
    check = asyncio.create_task(api.check(s3(s3_server, s3_bucket, allowed)))
    seen: list[int] = []
    await wait_until(lambda: seen.append(connections(listener)) or sum(seen) > 0, 10)
    response = await check  # the connection was closed unanswered: the check fails
    assert response.status_code == 200 and response.json()["ok"] is False
    assert response.json()["code"] == 438

    response = await api.check(s3(s3_server, s3_bucket, s3_server.endpoint))
    assert response.json() == {
        "ok": True,
        "destination": f"S3-compatible store bucket '{s3_bucket}' at {s3_server.endpoint}",
    }


async def test_an_allowlist_port_allows_that_port_only_and_loopback_needs_listing(
    tmp_path: Path, listener: socket.socket, s3_server: S3Server, s3_bucket: str
) -> None:
    """``127.0.0.1:<S3 port>`` allows the S3 server and not another port of the host;
    a server with the default allowlist (the region hosts) refuses loopback."""
    s3_port = int(s3_server.endpoint.rsplit(":", 1)[1])
    other = f"http://127.0.0.1:{port_of(listener)}"
    limits = {"allowed_endpoints": (f"127.0.0.1:{s3_port}",)}
    async with serve_channel_server(tmp_path / "one", **limits) as server:
        async with api_of(server.url, server.settings.token) as client:
            response = await client.check(s3(s3_server, s3_bucket, s3_server.endpoint))
            assert response.json()["ok"] is True
            rid = await client.acquire("ports", 54)
            response = await client.start(rid, "ports", 54, s3(s3_server, s3_bucket, other))
            assert (response.status_code, response.json()) == (400, endpoint_refusal(other))
            response = await client.check(s3(s3_server, s3_bucket, other))
            assert (response.status_code, response.json()) == (400, endpoint_refusal(other))
    async with serve_channel_server(tmp_path / "two", allowed_endpoints=()) as server:
        async with api_of(server.url, server.settings.token) as client:
            for endpoint in (other, s3_server.endpoint):
                response = await client.check(s3(s3_server, s3_bucket, endpoint))
                assert (response.status_code, response.json()) == (
                    400,
                    endpoint_refusal(endpoint),
                )
            # LOCAL ignores the endpoint (docs/storage.md): nothing to refuse or to call
            storage = {**local(""), "extensionParams": {"endpoint": other}}
            assert (await client.check(storage)).json()["ok"] is True
    assert connections(listener) == 0


def test_the_region_hosts_are_allowed_on_https_only() -> None:
    """Every vendor's region host is allowed by default on port 443, as the uploader
    reaches it; another port or plain http (port 80) of the same host is refused."""
    confinement = Confinement(Path("/srv/cloudrec"))
    hosts = {info.endpoint for table in REGION_TABLES.values() for info in table}
    assert len(hosts) == 41  # 4 Qiniu + 18 Amazon S3 + 19 Aliyun, no two alike
    assert set(confinement.endpoint_rules) == {EndpointRule(h, 443) for h in hosts}
    for vendor, table in REGION_TABLES.items():
        for info in table:
            config = dict(vendor=vendor, region=info.index, bucket="rec", access_key="a")
            for endpoint in (f"https://{info.endpoint}", f"https://{info.endpoint}:443"):
                storage = CloudStorageConfig(**config, secret_key="s", endpoint=endpoint)
                assert confinement.check(storage) is None
            for endpoint in (f"https://{info.endpoint}:8443", f"http://{info.endpoint}"):
                storage = CloudStorageConfig(**config, secret_key="s", endpoint=endpoint)
                with pytest.raises(InvalidParameterError) as refused:
                    confinement.check(storage)
                assert refused.value.message == ENDPOINT_REASON.format(endpoint)
    # No endpoint: the region's own host, derived by the server, always allowed.
    plain = CloudStorageConfig(
        vendor=StorageVendor.ALIYUN, bucket="rec", access_key="a", secret_key="s"
    )
    assert confinement.check(plain) is None


def test_a_long_refused_value_is_quoted_by_its_start_and_length() -> None:
    confinement = Confinement(Path("/srv/cloudrec"))
    value = "/elsewhere/" + "x" * 300
    with pytest.raises(InvalidParameterError) as refused:
        confinement.local_folder(value)
    shown = f"{value[:120]!r}... (311 characters)"
    assert refused.value.message == FOLDER_REASON.replace("{!r}", shown)


# --- the options ---------------------------------------------------------------------


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    server_command.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_server_options_become_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(server_command.TOKEN_ENV, raising=False)
    default = server_command.settings_from_args(_parse("--data-dir", "d"))
    assert (default.storage_roots, default.allowed_endpoints) == ((), ())
    settings = server_command.settings_from_args(
        _parse(
            *("--storage-root", "rel", "--storage-root", "~/x", "--storage-root", "/srv/./r"),
            *("--allow-endpoint", "minio.example.com:9000", "--allow-endpoint", "[::1]"),
        )
    )
    assert settings.storage_roots == (tmp_path / "rel", tmp_path / "home" / "x", Path("/srv/r"))
    assert settings.allowed_endpoints == ("minio.example.com:9000", "[::1]")
    confinement = Confinement(Path("/data"), settings.storage_roots, settings.allowed_endpoints)
    assert confinement.storage_roots == (Path("/data/recordings"), *settings.storage_roots)
    assert confinement.endpoint_rules[-2:] == (
        EndpointRule("minio.example.com", 9000),
        EndpointRule("::1", None),
    )


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("minio.example.com", EndpointRule("minio.example.com", None)),
        ("MinIO.Example.com:9000", EndpointRule("minio.example.com", 9000)),
        ("127.0.0.1", EndpointRule("127.0.0.1", None)),
        (" 127.0.0.1:9000 ", EndpointRule("127.0.0.1", 9000)),
        ("[::1]", EndpointRule("::1", None)),
        ("[::1]:9000", EndpointRule("::1", 9000)),
        ("http://minio:9000", None),
        ("minio:9000/path", None),
        ("user@minio", None),
        ("minio:0", None),
        ("minio:65536", None),
        ("minio:x", None),
        ("::1", None),
        ("", None),
    ],
)
def test_allow_endpoint_values(spec: str, rule: EndpointRule | None) -> None:
    if rule is not None:
        assert parse_endpoint_rule(spec) == rule
        return
    with pytest.raises(ValueError) as wrong:
        parse_endpoint_rule(spec)
    assert str(wrong.value) == (
        f"{spec!r} is not HOST or HOST:PORT (a port from 1 to 65535; an IPv6 address in "
        "brackets), e.g. minio.example.com:9000 or [::1]:9000"
    )


def test_a_wrong_allow_endpoint_stops_the_server_before_it_listens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = server_command.main(
        ["--data-dir", str(tmp_path / "d"), "--allow-endpoint", "http://minio:9000"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err == (
        "cloudrec server: --allow-endpoint: 'http://minio:9000' is not HOST or HOST:PORT (a "
        "port from 1 to 65535; an IPv6 address in brackets), e.g. minio.example.com:9000 or "
        "[::1]:9000\n"
    )
    assert not (tmp_path / "d").exists()


async def test_cloudrec_server_takes_its_limits_from_the_command_line(
    tmp_path: Path, listener: socket.socket, s3_server: S3Server, s3_bucket: str
) -> None:
    """A ``cloudrec server`` child (the embedded launcher, the window's and the commands'
    way) with ``--storage-root`` and ``--allow-endpoint``: those and nothing more."""
    granted = tmp_path / "granted"
    s3_host = endpoint_host(s3_server.endpoint)
    server = await start_embedded_server(
        tmp_path / "data", storage_roots=(granted,), allowed_endpoints=(s3_host,)
    )
    try:
        if sys.platform.startswith("linux"):
            args = Path(f"/proc/{server.pid}/cmdline").read_bytes().decode().split("\0")
            at = args.index("--storage-root")
            assert args[at : at + 4] == [
                *("--storage-root", str(granted)),
                *("--allow-endpoint", s3_host),
            ]
        async with api_of(server.url, server.token) as client:
            response = await client.check(local(str(granted / "rec")))
            assert response.json() == {"ok": True, "destination": f"local folder {granted}/rec"}
            response = await client.check(s3(s3_server, s3_bucket, s3_server.endpoint))
            assert response.json()["ok"] is True
            elsewhere = str(tmp_path / "elsewhere")
            response = await client.check(local(elsewhere))
            assert (response.status_code, response.json()) == (400, folder_refusal(elsewhere))
            other = f"http://127.0.0.1:{port_of(listener)}"
            response = await client.check(s3(s3_server, s3_bucket, other))
            assert (response.status_code, response.json()) == (400, endpoint_refusal(other))
    finally:
        await server.stop()
    assert connections(listener) == 0
    assert not (tmp_path / "elsewhere").exists()


def test_cloudrec_record_grants_its_embedded_server_what_its_user_gave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder (made absolute from the command's working folder, not the server's)
    and the endpoint's host and port; nothing for what was not given."""
    monkeypatch.chdir(tmp_path)
    storage = _on_this_machine(CloudStorageConfig(local_folder="out"))
    assert storage.local_folder == str(tmp_path / "out")
    assert _grants(storage) == ((tmp_path / "out",), ())
    assert _grants(CloudStorageConfig()) == ((), ())
    keys = dict(vendor=StorageVendor.AMAZON_S3, bucket="rec", access_key="a", secret_key="s")
    for endpoint, host in [
        ("http://127.0.0.1:9000", "127.0.0.1:9000"),
        ("http://minio.example.com", "minio.example.com:80"),
        ("https://minio.example.com", "minio.example.com:443"),
        ("http://[::1]:9000", "[::1]:9000"),
    ]:
        assert _grants(CloudStorageConfig(**keys, endpoint=endpoint)) == ((), (host,))
    assert os.path.isabs(_on_this_machine(CloudStorageConfig(local_folder="~/r")).local_folder)


async def test_after_a_restart_without_its_root_a_recording_ends_quoting_the_refusal(
    tmp_path: Path,
) -> None:
    """A server killed while recording into a root, started again without that root: the
    recording is not resumed into the folder, it ends (status 20) with the uploader
    failure quoting the refusal, its slices left in the backup folder."""
    root, data = tmp_path / "granted", tmp_path / "data"
    first = EmbeddedServer(data, storage_roots=(root,))
    await first.start()
    try:
        async with api_of(first.url, first.token) as client:
            rid = await client.acquire("moved", 55)
            response = await client.start(rid, "moved", 55, local(str(root / "rec")))
            assert response.status_code == 200, response.text
            sid = response.json()["sid"]
        first.kill()
        assert await first.wait_exit(10) == -signal.SIGKILL
    finally:
        await first.stop()
    second = EmbeddedServer(data)
    await second.start()
    try:
        async with api_of(second.url, second.token) as client:
            base = f"/v1/apps/{APP}/cloud_recording/resourceid/{rid}/sid/{sid}/mode/mix"
            events = f"/v1/cloudrec/recordings/{sid}/events"
            async with aconnect_sse(client.http, "GET", events) as source:
                notices = [
                    json.loads(event.data)
                    async for event in source.aiter_sse()
                    if event.event == "notice"  # then its end
                ]
            # ended: Agora's query answers 404; cloudrec's extension still tells
            assert (await client.http.get(f"{base}/query")).status_code == 404
            query = (await client.http.get(f"/v1/cloudrec/recordings/{sid}")).json()
    finally:
        await second.stop()
    ledger = SliceLedger(data / "state.sqlite3")
    pending = sum(not s.uploaded for s in ledger.slices(sid))
    ledger.close()
    errors = [n["payload"]["details"] for n in notices if n["eventType"] == 1]
    assert errors == [
        {
            "msgName": "cloud_recording_error",
            "module": MODULE_UPLOADER,
            "errorLevel": 3,
            "errorCode": 439,
            "stat": 0,
            "errorMsg": f"after the restart the uploads cannot resume "
            f"({FOLDER_REASON.format(str(root / 'rec'))}); the {pending} slices not uploaded "
            f"stay in {data / 'backup' / sid}",
        }
    ]
    assert query["serverResponse"]["status"] == 20
