"""The Webhooks page against the real embedded server and a real receiver on 127.0.0.1:
endpoints saved in the settings and the real Secret Service reach the server through its
environment only, and Send test event arrives signed (the receiver checks both of
Agora's signatures the documented way, tests/webhook_receiver.py)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from core.server.webhook_config import WEBHOOKS_ENV
from gui.dialogs.webhooks_page import SERVER_COLUMN, WebhooksPage
from gui.embedded_server import EmbeddedServer
from gui.keyring_store import KeyringStore
from gui.server_connection import ServerConnection
from gui.settings import AppSettings
from gui.widgets.status_bar import StatusBar
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.slow

SECRET = "whsec-e2e-5f1c9a"
PASSWORD = "pw-e2e-83b2"


def _environment(pid: int) -> tuple[bytes, dict[str, str]]:
    """The command line and environment of process ``pid`` (Linux)."""
    folder = Path(f"/proc/{pid}")
    environ = (folder / "environ").read_bytes().split(b"\0")
    variables = dict(item.decode().split("=", 1) for item in environ if b"=" in item)
    return (folder / "cmdline").read_bytes(), variables


def _files_holding(root: Path, secret: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret in p.read_bytes()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
async def test_endpoints_reach_the_embedded_server_and_a_test_event_arrives_signed(
    qtbot: Any,
    settings: AppSettings,
    settings_file: Path,
    store: KeyringStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    receiver = WebhookReceiver(SECRET)
    await receiver.start()
    server = EmbeddedServer(tmp_path / "server.log", storage_roots=(tmp_path,))
    connection = ServerConnection(settings, store, server)
    try:
        # The user adds the receiver (with a user and password for Basic auth) and saves.
        page = WebhooksPage([])
        qtbot.addWidget(page)
        with_user = receiver.url.replace("http://", f"http://bob:{PASSWORD}@")
        page.url.setText(with_user)
        page.secret.setText(SECRET)
        page.events.setText("40, 41")
        page.add_button.click()
        assert all(label.isHidden() for label in page.errors.values())
        await page.save(settings, store)
        settings.sync()

        await connection.start_embedded()
        assert connection.url is not None and server.pid is not None
        cmdline, variables = _environment(server.pid)
        assert b"--webhooks-from-env" in cmdline.split(b"\0")
        assert SECRET.encode() not in cmdline and PASSWORD.encode() not in cmdline
        assert json.loads(variables[WEBHOOKS_ENV]) == [
            {"url": with_user, "secret": SECRET, "events": [40, 41]}
        ]
        assert WEBHOOKS_ENV not in server.environment  # kept for the start only
        for secret in (SECRET.encode(), PASSWORD.encode()):  # never in a file
            assert _files_holding(tmp_path, secret) == []
            assert secret not in settings_file.read_bytes()

        # The server lists it; the status bar has nothing to say while nothing waits.
        bar = StatusBar()
        qtbot.addWidget(bar)
        connection.status_received.connect(bar.show_server_status)
        await connection.check_health()
        assert connection.last_status is not None
        [entry] = connection.last_status["webhooks"]
        assert entry["endpoint"] == receiver.url and entry["events"] == [40, 41]
        assert bar.webhooks.isHidden()

        # Send test event: the server signs and sends it; the page says how it went.
        shown = WebhooksPage(settings.webhooks(), connection)
        qtbot.addWidget(shown)
        await shown.refresh_status()
        assert shown.table.item(0, SERVER_COLUMN).text() == "0 waiting"
        await shown.send_test(0)
        assert shown.result.text().startswith(f"Test event 40 delivered to {receiver.url} in ")
        assert shown.result.text().endswith(" ms.")
        [arrival] = receiver.arrivals
        assert receiver.forged == 0  # both signatures verified with the keyring's secret
        notice = arrival.notice
        assert notice["eventType"] == 40
        assert notice["payload"]["details"]["cloudrecTest"] is True
        basic = base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
        assert arrival.headers["authorization"] == f"Basic {basic}"

        # The receiver down: the answer names the error.
        await receiver.stop()
        await shown.send_test(0)
        assert shown.result.text().startswith(
            f"Test event 40 not delivered to {receiver.url}: ConnectError"
        ), shown.result.text()

        # An endpoint added since the server started applies at its next start.
        shown.url.setText("http://127.0.0.1:9/later")
        shown.secret.setText("another-secret")
        shown.add_button.click()
        await shown.refresh_status()
        assert shown.table.item(1, SERVER_COLUMN).text() == (
            "not on the running server: applies at its next start"
        )
        await shown.send_test(1)
        assert "applies at the next start of the embedded server" in shown.result.text()
        assert len(receiver.arrivals) == 1
    finally:
        await connection.leave(keep_recording=False)
        await receiver.stop()
