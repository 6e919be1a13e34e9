"""The recordings controller: recorders and their rows, without a window."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.errors import CloudRecordingError, ErrorCode
from gui.forms.new_recording import NewRecordingPanel
from gui.keyring_store import KeyringStore
from gui.models.recordings import RowState
from gui.recordings_controller import RecordingsController
from gui.server_connection import ServerConnection
from gui.settings import AppSettings

from .conftest import FakeRecorderFactory, FakeServer

LISTED = [
    {"sid": "s1", "cname": "lobby", "appId": "a", "resourceId": "r1", "uid": "7"},
    {"sid": "s2", "cname": "done", "appId": "a", "resourceId": "r2", "uid": "8", "finished": True},
]


Controlled = tuple[RecordingsController, list[tuple[str, bool]]]
"""A controller over a fake server's recordings list, and the messages it emitted."""


@pytest.fixture
def controlled(
    settings: AppSettings,
    store: KeyringStore,
    recorder_factory: FakeRecorderFactory,
    fake_server: FakeServer,
) -> Controlled:
    def api(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/cloudrec/recordings"
        return httpx.Response(200, json={"recordings": LISTED})

    transport = httpx.MockTransport(api)
    connection = ServerConnection(settings, store, fake_server, transport=transport)  # type: ignore[arg-type]
    connection.use("http://127.0.0.1:9", "tok", owned=True)
    controller = RecordingsController(connection, recorder_factory)
    messages: list[tuple[str, bool]] = []
    controller.message.connect(lambda text, error: messages.append((text, error)))
    return controller, messages


def _request(qtbot: Any) -> Any:
    panel = NewRecordingPanel()
    qtbot.addWidget(panel)
    request = panel.request()
    assert request is not None
    return request


async def test_a_failed_start_is_returned_and_shown_on_its_row(
    qtbot: Any, controlled: Controlled, recorder_factory: FakeRecorderFactory
) -> None:
    controller, messages = controlled
    failure = CloudRecordingError("no route", ErrorCode.CONNECT_ERROR)
    recorder_factory.failures.append(failure)
    request = _request(qtbot)
    started = await controller.start(request)
    assert started.failure is not None and started.failure.code is ErrorCode.CONNECT_ERROR
    row = controller.model.row(started.recording_id)
    assert row is not None and row.state is RowState.FAILED and row.failed
    assert row.error_code == int(ErrorCode.CONNECT_ERROR) and row.last_event == str(failure)
    assert messages[-1] == (f"Start failed: {failure}", True)
    assert recorder_factory.servers == [("http://127.0.0.1:9", "tok")]
    assert controller.request(started.recording_id) == request  # can be started again
    controller.ticker.stop()


async def test_release_keeps_a_recording_in_the_background(
    qtbot: Any, controlled: Controlled, recorder_factory: FakeRecorderFactory
) -> None:
    controller, _ = controlled
    changes: list[bool] = []
    controller.attachment_changed.connect(lambda: changes.append(True))
    started = await controller.start(_request(qtbot))
    assert started.failure is None and controller.active() == [started.recording_id]
    await controller.release(started.recording_id, cancel=False)
    assert controller.background and controller.recorder(started.recording_id) is None
    row = controller.model.row(started.recording_id)
    assert row is not None and row.state is RowState.BACKGROUND
    assert ("release", False) in recorder_factory.made[0].calls
    assert changes == [True, True]  # attached at start, released
    controller.ticker.stop()


async def test_reattach_shows_the_servers_unfinished_recordings(
    qtbot: Any, controlled: Controlled, recorder_factory: FakeRecorderFactory
) -> None:
    controller, messages = controlled
    await controller.reattach()
    assert [row.channel for row in controller.model.rows()] == ["lobby"]
    recorder = recorder_factory.made[0]
    assert recorder.calls == [("attach", "a", "r1", "s1", "lobby", 7)]
    assert ("Reattached to the recording of channel lobby", False) in messages
    await controller.reattach()  # what is attached already is not attached twice
    assert len(recorder_factory.made) == 1
    await controller.release_all()
    assert not controller.ticker.isActive() and controller.recorders() == []
    await controller.connection.aclose()
