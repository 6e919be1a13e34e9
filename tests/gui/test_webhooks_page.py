"""The Settings dialog's Webhooks page: endpoints checked by the server's own rules, kept
in the settings with their secrets in the real Secret Service, passed to the embedded
server in its environment, and the Send test event button (against a stand-in server;
the real server and receiver are in test_webhooks_embedded.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt

from core.errors import CloudRecordingError, ErrorCode
from core.server.webhook_config import WEBHOOKS_ENV, parse_webhooks
from gui.dialogs.settings_dialog import SettingsDialog
from gui.dialogs.webhooks_page import SERVER_COLUMN, WebhooksPage
from gui.keyring_store import SERVICE, KeyringStore, webhook_entry
from gui.server_connection import ServerConnection
from gui.settings import AppSettings, ServerChoice, WebhookEndpoint
from gui.webhooks import check_endpoint, server_environment, server_index
from tests.helpers import wait_until

from .conftest import FakeServer, ScopedSecretService


def _page(
    qtbot: Any, endpoints: Sequence[WebhookEndpoint] = (), server: Any = None
) -> WebhooksPage:
    page = WebhooksPage(endpoints, server)
    qtbot.addWidget(page)
    return page


def _type(page: WebhooksPage, url: str, secret: str, events: str = "") -> None:
    page.url.setText(url)
    page.secret.setText(secret)
    page.events.setText(events)


def _server_says(value: dict[str, Any]) -> str:
    """The server's own message for one endpoint, without the variable's name."""
    with pytest.raises(CloudRecordingError) as caught:
        parse_webhooks(json.dumps([value]))
    return caught.value.message.split(": ", 1)[1]


def test_bad_input_shows_the_servers_message_under_each_field(qtbot: Any) -> None:
    page = _page(qtbot)
    _type(page, "ftp://hooks.example.com/agora", "", "31, 99 abc")
    page.add_button.click()
    assert page.endpoints() == []
    url, secret, events = (page.errors[n] for n in ("url", "secret", "events"))
    assert url.text() == "its scheme is not http or https; the receiver's http:// or https:// URL"
    assert url.text() == _server_says({"url": "ftp://hooks.example.com/agora", "secret": "s"})
    assert secret.text() == (
        "empty; the endpoint's secret (the key of Agora-Signature and Agora-Signature-V2), "
        "not empty"
    )
    assert events.text().startswith("99 is not an event type cloudrec sends; a list of event ")
    assert "each one of 1, 2, 3, 4, 11, 30, 31, 32, 33, 40, 41, 42, 45, 2001" in events.text()
    assert events.text() == _server_says(
        {"url": "https://h.example/", "secret": "s", "events": [31, 99]}
    )
    assert not any(label.isHidden() for label in (url, secret, events))
    # typing in a field clears its message; the others stay until the next try
    qtbot.keyClicks(page.events, "1")
    assert page.errors["events"].isHidden() and not page.errors["url"].isHidden()
    assert check_endpoint("https://h.example/x", "s", "abc")["events"].startswith(
        "a string, not an event type number;"
    )
    assert check_endpoint("https://h.example/x#top", "s", "")["url"].startswith("it has a fragment")
    _type(page, "https://hooks.example.com/agora", "s3cret", "31 32,11")
    page.add_button.click()
    assert page.endpoints() == [WebhookEndpoint("https://hooks.example.com/agora", (11, 31, 32))]
    assert all(label.isHidden() for label in page.errors.values())
    _type(page, "https://hooks.example.com/agora", "other", "")  # the same receiver again
    page.add_button.click()
    assert page.errors["url"].text().startswith("endpoint 1 has this URL already;")
    assert len(page.endpoints()) == 1


async def test_secrets_go_to_the_keyring_never_to_the_settings_file(
    qtbot: Any,
    settings: AppSettings,
    settings_file: Path,
    store: KeyringStore,
    secret_service: ScopedSecretService,
) -> None:
    page = _page(qtbot)
    _type(page, "https://bob:pw-4711@hooks.example.com/agora?team=7", "sec-one-8a1", "31, 32")
    page.add_button.click()
    _type(page, "http://127.0.0.1:9/hook", "sec-two-5c2")
    page.add_button.click()
    await page.save(settings, store)
    settings.sync()
    first = WebhookEndpoint("https://hooks.example.com/agora?team=7", (31, 32))
    second = WebhookEndpoint("http://127.0.0.1:9/hook", None)
    assert settings.webhooks() == [first, second]
    text = settings_file.read_bytes()
    assert b"hooks.example.com/agora?team=7" in text
    for secret in (b"sec-one-8a1", b"sec-two-5c2", b"pw-4711", b"bob:"):
        assert secret not in text
    assert await store.webhook_secret(first.url) == ("sec-one-8a1", "bob:pw-4711")
    raw = secret_service.backend.get_password(
        secret_service.scoped(SERVICE), webhook_entry(second.url)
    )
    assert json.loads(raw) == {"secret": "sec-two-5c2"}  # in the real Secret Service

    # Edit: a new URL without a secret keeps the secret (moved to the new entry);
    # removing an endpoint removes its secret.
    again = _page(qtbot, settings.webhooks())
    assert again.table.item(0, 0).text() == first.url
    assert again.table.item(0, 1).text() == "31, 32"
    assert again.table.item(1, 1).text() == "every event"
    again.table.selectRow(1)
    assert again.url.text() == second.url and again.secret.text() == ""
    assert again.secret.placeholderText() == "unchanged"
    again.url.setText("http://127.0.0.1:9/moved")
    again.events.setText("40")
    again.update_button.click()
    again.table.selectRow(0)
    again.remove_button.click()
    await again.save(settings, store)
    moved = WebhookEndpoint("http://127.0.0.1:9/moved", (40,))
    assert settings.webhooks() == [moved]
    assert await store.webhook_secret(moved.url) == ("sec-two-5c2", "")
    assert await store.webhook_secret(second.url) == ("", "")
    assert await store.webhook_secret(first.url) == ("", "")


async def test_the_embedded_server_gets_the_endpoints_in_its_environment(
    settings: AppSettings, store: KeyringStore, fake_server: FakeServer
) -> None:
    settings.set_webhooks(
        [
            WebhookEndpoint("https://hooks.example.com/agora", (31, 11)),
            WebhookEndpoint("http://127.0.0.1:9/no-secret"),
            WebhookEndpoint("http://127.0.0.1:9/hook"),
        ]
    )
    await store.set_webhook_secret("https://hooks.example.com/agora", "s-1", "u:p")
    await store.set_webhook_secret("http://127.0.0.1:9/hook", "s-2")
    text, urls, problems = await server_environment(settings, store)
    assert text is not None
    assert json.loads(text) == [
        {"url": "https://u:p@hooks.example.com/agora", "secret": "s-1", "events": [31, 11]},
        {"url": "http://127.0.0.1:9/hook", "secret": "s-2"},
    ]
    assert len(parse_webhooks(text)) == 2  # what the server reads from CLOUDREC_WEBHOOKS
    assert urls == ("https://hooks.example.com/agora", "http://127.0.0.1:9/hook")
    assert problems == ["http://127.0.0.1:9/no-secret: no secret in the keyring"]

    connection = ServerConnection(
        settings,
        store,
        fake_server,  # type: ignore[arg-type]
        transport=httpx.MockTransport(lambda r: httpx.Response(404, json={})),
    )
    logged: list[tuple[str, bool]] = []
    connection.message.connect(lambda text, error: logged.append((text, error)))
    await connection.start_embedded()
    try:
        assert fake_server.webhooks == text
        assert connection.webhooks_started == urls
        assert (
            "Webhook endpoint left out: http://127.0.0.1:9/no-secret: no secret in the keyring",
            True,
        ) in logged
    finally:
        await connection.leave(keep_recording=False)
    settings.set_webhooks([])
    assert await server_environment(settings, store) == (None, (), [])
    assert WEBHOOKS_ENV == "CLOUDREC_WEBHOOKS"


def test_the_servers_place_of_an_endpoint() -> None:
    entries = [
        {"endpoint": "https://h.example/a"},
        {"endpoint": "https://h.example/a"},  # ?team=1 and ?team=2: the status drops queries
        {"endpoint": "http://127.0.0.1:9/b"},
    ]
    started = ("https://h.example/a?team=1", "https://h.example/a?team=2", "http://x@127.0.0.1:9/b")
    assert server_index("https://h.example/a?team=2", entries, started) == 1
    assert server_index("https://h.example/a?team=1", entries, started) == 0
    assert server_index("https://h.example/a?team=3", entries, ()) is None  # ambiguous
    assert server_index("http://127.0.0.1:9/b", entries, ()) == 2
    assert server_index("https://new.example/", entries, started) is None


class StandInServer:
    """The page's view of ``ServerConnection``: a status list and the test's answer."""

    def __init__(self, entries: list[dict[str, Any]], answer: dict[str, Any]) -> None:
        self.entries = entries
        self.answer = answer
        self.tests: list[int] = []
        self.webhooks_started: tuple[str, ...] = ()
        self.embedded = True

    async def webhook_status(self) -> list[dict[str, Any]] | None:
        return self.entries

    async def send_webhook_test(self, index: int) -> dict[str, Any]:
        self.tests.append(index)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


async def test_send_test_event_asks_the_running_server_by_its_place(qtbot: Any) -> None:
    entries = [
        {"endpoint": "https://other.example/x", "backlog": 0, "lastError": None},
        {
            "endpoint": "https://hooks.example.com/agora",
            "backlog": 3,
            "lastError": "answered HTTP 503",
            "lastErrorMs": 1_700_000_000_000,
        },
    ]
    server = StandInServer(entries, {"eventType": 40, "delivered": True, "elapsedMs": 12})
    page = _page(
        qtbot,
        [
            WebhookEndpoint("https://hooks.example.com/agora"),
            WebhookEndpoint("https://new.example/hook"),
        ],
        server,
    )
    await page.refresh_status()
    assert page.table.item(0, SERVER_COLUMN).text().startswith(
        "3 waiting; last error "
    ) and page.table.item(0, SERVER_COLUMN).text().endswith(": answered HTTP 503")
    assert page.table.item(1, SERVER_COLUMN).text() == (
        "not on the running server: applies at its next start"
    )
    page.test_button(0).click()
    await wait_until(lambda: page.result.text().startswith("Test event"), timeout=5)
    assert server.tests == [1]
    assert page.result.text() == (
        "Test event 40 delivered to https://hooks.example.com/agora in 12 ms."
    )
    await page.send_test(1)  # added since the server started
    assert server.tests == [1]
    assert page.result.text() == (
        "The running server does not have the endpoint https://new.example/hook (added or "
        "changed since it started): it applies at the next start of the embedded server."
    )
    server.answer = {
        "eventType": 40,
        "delivered": False,
        "error": "ConnectError: connection refused",
        "elapsedMs": 3,
    }
    await page.send_test(0)
    assert page.result.text() == (
        "Test event 40 not delivered to https://hooks.example.com/agora: "
        "ConnectError: connection refused (after 3 ms)."
    )
    server.answer = CloudRecordingError("HTTP 403: operator only", ErrorCode.CONNECT_ERROR)  # type: ignore[assignment]
    await page.send_test(0)
    assert page.result.text() == "The test event was not sent: HTTP 403: operator only"
    assert page.test_button(0).isEnabled()
    # an endpoint edited here is not the one the server has
    page.table.selectRow(0)
    page.url.setText("https://hooks.example.com/agora2")
    await page.refresh_status()  # the status arriving keeps what is being typed
    assert page.url.text() == "https://hooks.example.com/agora2" and page.selected() == 0
    page.update_button.click()
    await page.send_test(0)
    assert server.tests == [1, 1, 1]
    assert page.result.text().startswith("The running server does not have the endpoint")
    server.embedded = False  # a remote server: its own configuration
    await page.refresh_status()
    assert page.table.item(1, SERVER_COLUMN).text() == (
        "not on the remote server: it has its own endpoints"
    )
    await page.send_test(1)
    assert page.result.text() == (
        "The remote server does not have the endpoint https://new.example/hook: a remote "
        "server has its own webhook endpoints, set where it runs."
    )
    assert server.tests == [1, 1, 1]


def test_the_dialog_has_a_webhooks_tab_that_says_a_remote_server_has_its_own(
    qtbot: Any,
) -> None:
    page = WebhooksPage([])
    dialog = SettingsDialog("", ServerChoice(), webhooks=page)
    qtbot.addWidget(dialog)
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == [
        "General",
        "Webhooks",
    ]
    assert page.remote_note.isHidden()
    dialog.remote.setChecked(True)
    assert not page.remote_note.isHidden()
    assert "A remote server has its own webhook endpoints" in page.remote_note.text()
    assert "next start of the embedded server" in page.note.text()
    assert page.table.rowCount() == 0
    assert page.secret.echoMode() == page.secret.EchoMode.Password
    assert page.events.toolTip().splitlines()[1:3] == [
        "1 cloud_recording_error",
        "2 cloud_recording_warning",
    ]
    assert page.result.textFormat() == Qt.TextFormat.PlainText


def test_the_page_and_the_bar_speak_chinese(qtbot: Any, qapp: Any) -> None:
    from PySide6.QtCore import QCoreApplication, QTranslator

    from gui import paths
    from gui.widgets.status_bar import StatusBar

    translator = QTranslator()
    assert translator.load("cloudrec_zh_CN", str(paths.TRANSLATIONS_DIR))
    QCoreApplication.installTranslator(translator)
    try:
        page = _page(qtbot, [WebhookEndpoint("https://hooks.example.com/agora")])
        assert page.add_button.text() == "添加"
        assert page.test_button(0).text() == "发送测试事件"
        assert page.table.item(0, 1).text() == "全部事件"
        assert page.note.text().startswith("端点在内置服务器下次启动时生效。")
        bar = StatusBar()
        qtbot.addWidget(bar)
        entry = {"endpoint": "https://h.example/", "backlog": 2, "retrying": 1}
        bar.show_webhooks([{**entry, "lastError": "answered HTTP 503", "lastErrorMs": 1}])
        assert bar.webhooks.text() == "Webhook：2 条待发送，失败：answered HTTP 503"
    finally:
        QCoreApplication.removeTranslator(translator)


async def test_the_windows_settings_dialog_saves_the_endpoints(
    window: Any, settings: AppSettings, store: KeyringStore
) -> None:
    task = window.on_settings()
    await wait_until(lambda: window.settings_dialog is not None)
    dialog = window.settings_dialog
    page = dialog.webhooks
    assert dialog.tabs.indexOf(page) == 1
    _type(page, "https://hooks.example.com/agora", "from-the-window", "11")
    page.add_button.click()
    dialog.accept()
    await task
    assert window.settings_dialog is None
    assert settings.webhooks() == [WebhookEndpoint("https://hooks.example.com/agora", (11,))]
    assert await store.webhook_secret("https://hooks.example.com/agora") == (
        "from-the-window",
        "",
    )


@pytest.mark.parametrize(
    ("persistent", "stored", "note", "placeholder"),
    [
        (True, True, "The token is kept in the OS keyring.", "unchanged"),
        (True, False, "The token is kept in the OS keyring.", "not set"),
        (
            False,
            False,
            "No OS keyring is available: the token is kept only until the window closes.",
            "not set",
        ),
    ],
)
def test_the_token_field_says_where_the_token_is_kept_and_whether_one_is(
    qtbot: Any, persistent: bool, stored: bool, note: str, placeholder: str
) -> None:
    """Issue 28, item 8: the note follows the keyring the window found, and an empty
    field reads "unchanged" only when a token was stored before."""
    dialog = SettingsDialog("", ServerChoice(), keyring_persistent=persistent, token_stored=stored)
    qtbot.addWidget(dialog)
    assert dialog.token_note.text() == note
    assert dialog.token.placeholderText() == placeholder
