"""``cloudrec server --customers-from-env``: Basic auth with customer IDs and secrets
from ``CLOUDREC_CUSTOMERS``, as docs/rest-api.md says, and the secrets never shown.

Each test runs the real command (``python -m core.cli server``) as a child process on
127.0.0.1 with a random port, at log level debug, and keeps everything it prints
(tests.server_process).
"""

from __future__ import annotations

import os
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx

from core.enums import SANDBOX_APP_ID
from tests.helpers import BAD_CREDENTIALS, UNAUTHORIZED
from tests.server_process import ServerProcess, refused_server, server_process

ACME, BETA = ("acme", "acme-S3cret-7f2b9c"), ("beta", "beta-S3cret-91c4d0")
CUSTOMERS = f"{ACME[0]}:{ACME[1]},{BETA[0]}:{BETA[1]}"
TOKEN = "bearer-token-of-this-test"


def environment(customers: str) -> dict[str, str]:
    return {**os.environ, "CLOUDREC_CUSTOMERS": customers, "CLOUDREC_SERVER_TOKEN": TOKEN}


def server(tmp: Path, *flags: str) -> AbstractAsyncContextManager[ServerProcess]:
    """The server running with ``CUSTOMERS``; on exit it is stopped with SIGTERM and must
    exit 0."""
    return server_process(tmp, *flags, env=environment(CUSTOMERS))


def basic(customer: str, secret: str) -> httpx.BasicAuth:
    return httpx.BasicAuth(customer, secret)


async def test_customers_from_the_environment_authenticate_and_their_secrets_never_show(
    tmp_path: Path,
) -> None:
    base = f"/v1/apps/{SANDBOX_APP_ID}/cloud_recording"
    identity = {"cname": "basic", "uid": "5"}
    rec = tmp_path / "rec"
    async with server(tmp_path, "--customers-from-env", "--storage-root", str(rec)) as running:
        async with httpx.AsyncClient(base_url=running.url, timeout=30) as http:
            for customer in (ACME, BETA):
                ok = await http.post(f"{base}/acquire", json=identity, auth=basic(*customer))
                assert ok.status_code == 200, ok.text
                listed = await http.get("/v1/cloudrec/recordings", auth=basic(*customer))
                assert listed.json() == {"recordings": []}
            for auth in (
                basic(ACME[0], "wrong"),
                basic(ACME[0], BETA[1]),  # another customer's secret
                basic("nobody", ACME[1]),
                basic(ACME[0], ACME[1] + "x"),
            ):
                denied = await http.post(f"{base}/acquire", json=identity, auth=auth)
                assert (denied.status_code, denied.json()) == (401, BAD_CREDENTIALS)
            anonymous = await http.post(f"{base}/acquire", json=identity)
            assert (anonymous.status_code, anonymous.json()) == (401, UNAUTHORIZED)
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            assert (await http.post(f"{base}/acquire", json=identity, headers=bearer)).is_success

            # a whole recording with Basic auth, so that every part of the server logs
            rid = (await http.post(f"{base}/acquire", json=identity, auth=basic(*ACME))).json()
            storage = {"vendor": 100, "extensionParams": {"localFolder": str(rec)}}
            body = {**identity, "clientRequest": {"storageConfig": storage}}
            path = f"{base}/resourceid/{rid['resourceId']}/mode/mix"
            started = await http.post(f"{path}/start", json=body, auth=basic(*ACME))
            assert started.status_code == 200, started.text
            sid = started.json()["sid"]
            stopped = await http.post(
                f"{path.rsplit('/mode', 1)[0]}/sid/{sid}/mode/mix/stop",
                json={**identity, "clientRequest": {}},  # stop takes no storageConfig
                auth=basic(*ACME),
            )
            assert stopped.status_code == 206, stopped.text  # an empty channel: Agora's 206
            assert stopped.json()["serverResponse"]["uploadingStatus"] == "uploaded"
    printed = running.printed()
    assert f'"POST {base}/acquire HTTP/1.1" 401' in printed  # it did log the requests
    assert f'"POST {base}/acquire HTTP/1.1" 200' in printed
    assert "DEBUG" in printed
    stored = running.stored()
    for _, secret in (ACME, BETA):
        assert secret not in printed
        assert secret.encode() not in stored


async def test_without_the_option_customers_are_not_accepted(tmp_path: Path) -> None:
    base = f"/v1/apps/{SANDBOX_APP_ID}/cloud_recording"
    async with server(tmp_path) as running, httpx.AsyncClient(base_url=running.url) as http:
        identity = {"cname": "basic", "uid": "5"}
        denied = await http.post(f"{base}/acquire", json=identity, auth=basic(*ACME))
        assert (denied.status_code, denied.json()) == (401, BAD_CREDENTIALS)
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert (await http.post(f"{base}/acquire", json=identity, headers=bearer)).is_success
    assert ACME[1] not in running.printed()


async def test_a_malformed_customer_list_stops_the_server_without_showing_it(
    tmp_path: Path,
) -> None:
    for customers in (f"{ACME[0]}:{ACME[1]},broken", f"{ACME[0]}:{ACME[1]},:{BETA[1]}"):
        code, stdout, stderr = await refused_server(
            tmp_path, "--customers-from-env", env=environment(customers)
        )
        assert (code, stdout) == (2, ""), stderr
        assert stderr == "cloudrec server: CLOUDREC_CUSTOMERS: each entry must be ID:SECRET\n"
