"""``cloudrec server`` and its own secrets, as a child process (``python -m core.cli
server`` on 127.0.0.1, a random port): the admin token is printed only when the server
generated it; app certificates come from the environment (``CLOUDREC_APPS``), from an
owner-only file (``--apps-file``) or, with a warning, from the command line, where
``/proc/PID/cmdline`` shows them to every user; no certificate is ever printed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest

from core.channel.accesstoken import build_rtc_token
from core.commands.server import main, read_apps_file
from tests.server_process import refused_server, server_process

ENV_APP = ("11111111111111111111111111111111", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1")
FILE_APP = ("22222222222222222222222222222222", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2")
FILE_APP_2 = ("33333333333333333333333333333333", "ccccccccccccccccccccccccccccccc3")
OPTION_APP = ("44444444444444444444444444444444", "ddddddddddddddddddddddddddddddd4")
TOKEN = "admin-token-given-in-the-environment"
WARNING = (
    "cloudrec server: warning: --app puts app certificates on the command line, where every "
    "user of this machine can read them (ps, /proc/PID/cmdline); use CLOUDREC_APPS or "
    "--apps-file instead\n"
)
OURS = ("CLOUDREC_SERVER_TOKEN", "CLOUDREC_APPS", "CLOUDREC_CUSTOMERS")


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without cloudrec's variables, plus ``extra``."""
    return {**{k: v for k, v in os.environ.items() if k not in OURS}, **extra}


async def refused(tmp: Path, *flags: str) -> tuple[int, str, str]:
    """Run a server that must refuse to start: its exit code, stdout and stderr."""
    return await refused_server(tmp, *flags, env=environment())


def apps_file(path: Path, text: str, mode: int) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


async def admitted(http: httpx.AsyncClient, app_id: str, certificate: str) -> tuple[int, str]:
    """POST a WHIP offer to ``app_id`` with a token signed by ``certificate``: the token
    is checked before the body, so a right certificate gets as far as the (bad) body."""
    token = build_rtc_token(app_id, certificate, "sec", 3, "publisher", 600)
    response = await http.post(
        f"/whip/{app_id}/sec/3",
        content="hello",
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
    )
    return response.status_code, response.text


CUSTOMER_LINE = (
    r"REST customer \(Basic auth\): [0-9a-f]{32}:[A-Za-z0-9_-]{43} \(customer ID:secret, "
    r"shown this once; the server keeps only a hash of the secret\)"
)
NOT_SDP = (400, "the body is not an SDP offer (it must start with 'v=0')\n")
BAD_SIGNATURE = (
    401,
    "token rejected: token signature is invalid (wrong app certificate or altered)\n",
)


async def test_given_token_and_certificates_from_env_and_file_are_never_shown(
    tmp_path: Path,
) -> None:
    listed = apps_file(
        tmp_path / "apps",
        f"# apps of this server\n\n{FILE_APP[0]}:{FILE_APP[1]}\n  {FILE_APP_2[0]}:{FILE_APP_2[1]}  \n",
        0o600,
    )
    env = environment(CLOUDREC_SERVER_TOKEN=TOKEN, CLOUDREC_APPS=":".join(ENV_APP))
    async with server_process(tmp_path, "--apps-file", str(listed), env=env) as running:
        *lines, customer_line = running.stdout().splitlines()
        assert lines == [
            f"cloudrec server listening on {running.url}",
            "admin token: (from CLOUDREC_SERVER_TOKEN, not shown)",
        ]
        # the server's own REST customer, made on this first start (tests/core/server/
        # test_own_customer.py): its secret is shown this once
        assert re.fullmatch(CUSTOMER_LINE, customer_line), customer_line
        cmdline = running.cmdline()
        async with httpx.AsyncClient(base_url=running.url, timeout=30) as http:
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            assert (await http.get("/v1/cloudrec/status", headers=bearer)).status_code == 200
            assert (await http.get("/v1/cloudrec/status")).status_code == 401
            for app_id, certificate in (ENV_APP, FILE_APP, FILE_APP_2):
                assert await admitted(http, app_id, certificate) == NOT_SDP, app_id
                assert await admitted(http, app_id, "f" * 32) == BAD_SIGNATURE, app_id
            unknown = await http.get(f"/channels/{OPTION_APP[0]}/sec")
            assert unknown.status_code == 404
    printed = running.printed()
    assert "DEBUG" in printed and "warning: --app" not in printed
    stored = running.stored()
    for secret in (TOKEN, ENV_APP[1], FILE_APP[1], FILE_APP_2[1]):
        assert secret not in printed
        assert secret.encode() not in cmdline
        assert secret.encode() not in stored


async def test_a_generated_token_is_printed_and_app_on_the_command_line_is_warned_of(
    tmp_path: Path,
) -> None:
    spec = ":".join(OPTION_APP)
    async with server_process(tmp_path, "--app", spec, env=environment()) as running:
        url_line, token_line, customer_line = running.stdout().splitlines()
        assert re.fullmatch(CUSTOMER_LINE, customer_line), customer_line
        assert url_line == f"cloudrec server listening on {running.url}"
        token = token_line.removeprefix("admin token: ")
        assert token_line.startswith("admin token: ") and len(token) == 43  # token_urlsafe(32)
        # what the warning says: every user reads the process's arguments
        assert spec.encode() in running.cmdline().split(b"\0")
        async with httpx.AsyncClient(base_url=running.url, timeout=30) as http:
            status = await http.get(
                "/v1/cloudrec/status", headers={"Authorization": f"Bearer {token}"}
            )
            assert status.status_code == 200
            assert await admitted(http, *OPTION_APP) == NOT_SDP
        assert running.stderr().startswith(WARNING)
    assert OPTION_APP[1] not in running.stdout() + running.stderr().removeprefix(WARNING)


async def test_an_apps_file_others_may_read_is_refused(tmp_path: Path) -> None:
    path = apps_file(tmp_path / "apps", f"{FILE_APP[0]}:{FILE_APP[1]}\n", 0o644)
    assert await refused(tmp_path, "--apps-file", str(path)) == (
        2,
        "",
        f"cloudrec server: --apps-file {path}: permissions 0644 are too open: it holds "
        f"app certificates, so only its owner may read it (chmod 600 {path})\n",
    )


def test_every_refused_apps_file_names_the_cause_and_never_a_certificate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same command in this process (its refusals happen before it serves)."""
    line = f"{FILE_APP[0]}:{FILE_APP[1]}\n"
    too_open = "are too open: it holds app certificates, so only its owner may read it"
    cases = {
        apps_file(tmp_path / "group", line, 0o640): f"permissions 0640 {too_open}",
        apps_file(tmp_path / "others", line, 0o604): f"permissions 0604 {too_open}",
        apps_file(tmp_path / "writable", line, 0o620): f"permissions 0620 {too_open}",
        apps_file(tmp_path / "bad", f"# ok\n{line}{FILE_APP_2[0]} {FILE_APP_2[1]}\n", 0o600): (
            "line 3: <hidden, 65 characters> is not allowed; APPID:CERTIFICATE, both 32 "
            "hexadecimal characters"
        ),
        apps_file(tmp_path / "latin1", "\xe9\n", 0o600): "not UTF-8 text",
        tmp_path / "missing": "No such file or directory",
        tmp_path: "not a regular file",
    }
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    cases[fifo] = "not a regular file"  # refused without waiting for a writer
    (tmp_path / "latin1").write_bytes(b"\xe9\n")
    for path, cause in cases.items():
        assert main(["--apps-file", str(path)]) == 2, path
        out, err = capsys.readouterr()
        chmod = f" (chmod 600 {path})" if "too open" in cause else ""
        assert (out, err) == ("", f"cloudrec server: --apps-file {path}: {cause}{chmod}\n")
        assert FILE_APP[1] not in err and FILE_APP_2[1] not in err
    # and a good one with comments, blank lines and spaces gives its apps
    good = apps_file(
        tmp_path / "good", f"\n# c\n  {line}\n{FILE_APP_2[0]}:{FILE_APP_2[1]}\n", 0o400
    )
    parsed = read_apps_file(good)
    assert parsed == dict([FILE_APP, FILE_APP_2])
