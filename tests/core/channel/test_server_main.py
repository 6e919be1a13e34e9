"""``cloudrec server`` as a process: ready file, printed lines, clean SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from core.enums import SANDBOX_APP_ID
from core.participants.synthetic import synthetic_media
from core.participants.whip_client import publish

REPO = Path(__file__).resolve().parents[3]
APP = "0123456789abcdef0123456789abcdef:fedcba9876543210fedcba9876543210"


async def read_ready_file(path: Path, process: asyncio.subprocess.Process) -> dict:
    for _ in range(400):  # 20 s
        if await asyncio.to_thread(path.exists):
            return json.loads(await asyncio.to_thread(path.read_text))
        assert process.returncode is None, "the server exited while starting"
        await asyncio.sleep(0.05)
    raise AssertionError("no ready file")


async def test_server_process_runs_and_stops_cleanly(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    env = {**os.environ, "CLOUDREC_SERVER_TOKEN": "s3cret-admin", "CLOUDREC_APPS": APP}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "core.commands.server",
        "--port",
        "0",
        "--ready-file",
        str(ready),
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    m = synthetic_media(4, size=(160, 120), low_stream=False)
    try:
        info = await read_ready_file(ready, process)
        assert info["pid"] == process.pid and "s3cret" not in ready.read_text()
        url = info["url"]
        assert url.startswith("http://127.0.0.1:")
        assert process.stdout is not None
        lines = [(await process.stdout.readline()).decode().strip() for _ in range(2)]
        assert lines == [
            f"cloudrec server listening on {url}",
            "admin token: (from CLOUDREC_SERVER_TOKEN, not shown)",  # given, so not printed
        ]

        async with httpx.AsyncClient(base_url=url) as http:
            unknown = await http.get(f"/channels/{'ab' * 16}/x")
            assert unknown.status_code == 404 and "unknown app" in unknown.json()["error"]
            known = f"/channels/{APP.split(':')[0]}/x"  # a certificate app: needs a token
            assert (await http.get(known)).status_code == 401
            admin = {"Authorization": "Bearer s3cret-admin"}
            assert (await http.get(known, headers=admin)).status_code == 200
            page = await http.get("/join")
            assert page.status_code == 200 and SANDBOX_APP_ID in page.text

            session = await publish(
                f"{url}/whip/{SANDBOX_APP_ID}/cli/4", audio=m.audio, video=m.video
            )
            await session.wait_connected()
            roster = (await http.get(f"/channels/{SANDBOX_APP_ID}/cli")).json()
            assert [u["uid"] for u in roster["users"]] == [4]

        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            assert await process.wait() == 0
        # The server closed the publisher's connection on its way out.
        for _ in range(100):
            if session.connection_state in ("closed", "failed"):
                break
            await asyncio.sleep(0.05)
        assert session.connection_state in ("closed", "failed")
        assert not ready.exists()
        await session.close()
    finally:
        m.stop()
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_bad_app_option_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "core.commands.server", "--app", "nothex:x"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        env={k: v for k, v in os.environ.items() if k != "CLOUDREC_APPS"},
    )
    assert result.returncode == 2
    assert "APPID:CERTIFICATE" in result.stderr
