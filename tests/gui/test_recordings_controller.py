"""The recordings controller: recorders and their rows, without a window."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtGui import QColor, QImage

from core.errors import CloudRecordingError, ErrorCode
from gui.forms.new_recording import NewRecordingPanel
from gui.keyring_store import KeyringStore
from gui.models.recordings import PROGRESS_ROLE, THUMBNAIL_SIZE, RecordingsModel, RowState
from gui.recordings_controller import RecordingsController
from gui.server_connection import ServerConnection
from gui.settings import AppSettings

from .conftest import FakeRecorderFactory, FakeServer

LISTED = [
    {
        "sid": "s1",
        "cname": "lobby",
        "appId": "a",
        "resourceId": "r1",
        "uid": "7",
        "fileList": "s1_lobby.m3u8",
        "location": "/srv/rec/lobby",
        "createdAt": time.time() - 600,  # started 10 minutes before the window came
    },
    {"sid": "s2", "cname": "done", "appId": "a", "resourceId": "r2", "uid": "8", "finished": True},
]


def _jpeg(width: int, height: int) -> bytes:
    """A real JPEG of one colour, as the server's preview sends."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(200, 30, 30))
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "JPEG")
    return bytes(buffer.data().data())


PREVIEW = _jpeg(640, 360)

Controlled = tuple[RecordingsController, list[tuple[str, bool]]]
"""A controller over a fake server's recordings list, and the messages it emitted."""


@pytest.fixture
def controlled(
    settings: AppSettings,
    store: KeyringStore,
    recorder_factory: FakeRecorderFactory,
    fake_server: FakeServer,
) -> Controlled:
    asked: list[int] = []

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/cloudrec/recordings/s1":  # 3 of 4 slices stored
            asked.append(1)
            slices = min(len(asked), 2)  # a 4 s slice of 500 000 bytes by each of 2 asks
            figures = {"keptSlices": 4, "storedSlices": 3, "keptBytes": 5000,
                       "storedBytes": 3000, "bytes": 500_000 * slices,
                       "duration": 4.0 * slices,
                       "droppedFrames": 2, "levels": {"7": -12.5}}  # fmt: skip
            state = [{"serviceName": "cloudrec_recorder", "payload": figures}]
            server_response = {"status": 5, "extensionServiceState": state}
            return httpx.Response(200, json={**LISTED[0], "serverResponse": server_response})
        if request.url.path == "/v1/cloudrec/recordings/s1/preview":  # picture at 1.000 s
            if request.headers.get("if-none-match") == "1000":
                return httpx.Response(304)
            return httpx.Response(
                200, content=PREVIEW, headers={"content-type": "image/jpeg", "etag": "1000"}
            )
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


async def test_reattach_shows_the_servers_unfinished_recordings_and_the_finished_ones(
    qtbot: Any, controlled: Controlled, recorder_factory: FakeRecorderFactory
) -> None:
    controller, messages = controlled
    await controller.reattach()
    assert [row.channel for row in controller.model.rows()] == ["lobby", "done"]
    done = controller.model.row("s2")  # finished: a row to find its files, no recorder
    assert done is not None and done.sid == "s2" and controller.recorder("s2") is None
    assert done.state is RowState.STOPPED and done.last_event == (
        "finished before this window started"
    )
    recorder = recorder_factory.made[0]
    assert recorder.calls == [("attach", "a", "r1", "s1", "lobby", 7)]
    # its duration runs from the server's start, not from the reattach (issue 28, item 6)
    lobby = controller.model.rows()[0]
    since = time.time() - float(LISTED[0]["createdAt"])  # type: ignore[arg-type]
    assert abs(lobby.duration() - since) < 5.0, (lobby.duration(), since)
    assert ("Reattached to the recording of channel lobby", False) in messages
    await controller.reattach()  # what is attached or shown already is not added twice
    assert len(recorder_factory.made) == 1 and len(controller.model.rows()) == 2
    await controller.release_all()
    assert not controller.ticker.isActive() and controller.recorders() == []
    await controller.connection.aclose()


async def test_a_row_shows_the_servers_figures_and_where_the_files_are(
    qtbot: Any, controlled: Controlled
) -> None:
    """The row of a recording shows the sid its files are named with, where they are
    (the server's ``location``), slices stored of written, size, output rate and
    dropped frames, from the server's figures (``/v1/cloudrec/recordings/{sid}``)."""
    controller, _ = controlled
    await controller.reattach()
    model = controller.model
    rid = model.rows()[0].recording_id
    row = model.row(rid)
    assert row is not None and (row.sid, row.playlist, row.files_at) == (
        "s1", "s1_lobby.m3u8", "/srv/rec/lobby",
    )  # fmt: skip
    assert row.location == "/srv/rec/lobby/s1_lobby.m3u8"
    assert model.data(model.index(0, RecordingsModel.RECORDING_ID)) == "s1"
    assert controller.details_poll.isActive()  # started by the reattach
    model.update(rid, state=RowState.RECORDING)
    seconds = iter([100.0, 101.0, 102.0])
    controller.clock = lambda: next(seconds)
    await controller.refresh_details()  # 500 000 bytes in 4 s of media: 1000 kb/s
    await controller.refresh_details()  # one more such slice
    await controller.refresh_details()  # none more: the rate stays, not 0
    row = model.row(rid)
    assert row is not None
    assert (row.slices_kept, row.slices_stored, row.size_bytes, row.dropped_frames) == (
        4, 3, 5000, 2,
    )  # fmt: skip
    assert row.levels == {7: -12.5}
    # the plot's: rate and backlog (4 - 3) at each ask
    assert row.history == ((100.0, 1000.0, 1), (101.0, 1000.0, 1), (102.0, 1000.0, 1))
    assert model.data(model.index(0, RecordingsModel.UPLOAD)) == "3/4 slices"
    assert model.data(model.index(0, RecordingsModel.UPLOAD), PROGRESS_ROLE) == 75
    assert model.data(model.index(0, RecordingsModel.SIZE)) == "4.9 KB"
    tip = model.data(model.index(0, RecordingsModel.UPLOAD), Qt.ItemDataRole.ToolTipRole)
    assert tip == "/srv/rec/lobby/s1_lobby.m3u8\n2.9 KB of 4.9 KB stored"  # MP4 bytes too
    assert model.data(model.index(0, RecordingsModel.OUTPUT)) == "1000 kb/s, 2 dropped"
    # the newest composed picture and its thumbnail
    assert row.live_picture is not None and row.live_picture.size().toTuple() == (640, 360)
    assert row.live_thumbnail is not None and row.picture_etag == "1000"
    assert row.live_thumbnail.size().toTuple() == THUMBNAIL_SIZE
    model.update(rid, state=RowState.STOPPED)  # it records no more: no output rate
    await controller.refresh_details()
    assert model.data(model.index(0, RecordingsModel.OUTPUT)) == "–"
    await controller.release_all()
    assert not controller.details_poll.isActive()
    await controller.connection.aclose()
