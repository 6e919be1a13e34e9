"""The server survives malformed requests: schemathesis finds no 5xx in the OpenAPI surface.

The server runs for real (uvicorn on 127.0.0.1 in a thread of its own); schemathesis
generates requests from ``/openapi.json``, valid and invalid, with the bearer token.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.server.app import ServerSettings, create_app
from tests.helpers import serve_in_thread

TOKEN = "fuzz-token"


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = Path(tmp_path_factory.mktemp("fuzz"))
    app = create_app(ServerSettings(token=TOKEN, data_dir=data, customers={"customer": "secret"}))
    with serve_in_thread(app) as url:
        yield url


HEADERS = {"bearer": (f"Authorization: Bearer {TOKEN}",), "anonymous": ()}


def _schemathesis(url: str, *headers: str) -> subprocess.Popen[str]:
    cli = Path(sys.executable).with_name("st")
    args = [
        str(cli),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "30",
        "--seed",
        "1",
        "--request-timeout",
        "20",
        "--generation-database",
        "none",
        "--no-color",
        "--warnings",
        "off",
    ]
    for header in headers:
        args += ["-H", header]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def runs(server_url: str) -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Both runs at once, one per core: each is a process of its own generating requests,
    and the server answers both."""
    started = {name: _schemathesis(server_url, *headers) for name, headers in HEADERS.items()}
    try:
        yield started
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.communicate()


@pytest.mark.slow
@pytest.mark.parametrize("authorised", list(HEADERS))
def test_no_server_errors(runs: dict[str, subprocess.Popen[str]], authorised: str) -> None:
    stdout, stderr = runs[authorised].communicate(timeout=540)
    assert runs[authorised].returncode == 0, stdout[-4000:] + stderr[-2000:]
    passed = re.search(r"(\d+) generated, \d+ passed", stdout)
    assert passed and int(passed.group(1)) > 100, stdout[-2000:]  # it really ran
