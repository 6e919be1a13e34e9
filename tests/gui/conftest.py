"""Fixtures of the window's tests: offscreen Qt, a qasync loop, temporary settings.

Async tests run on a ``qasync.QEventLoop`` (through pytest-asyncio's
``pytest_asyncio_loop_factories`` hook), the same loop the window runs on, so
``async_slot`` coroutines, ``run_in_executor`` and Qt signals behave as in the app.
Inside such a test, wait with ``tests.helpers.wait_until`` (it yields to the loop) rather than
``qtbot.waitUntil`` (which would spin a nested Qt loop under the running task).
"""

from __future__ import annotations

import asyncio
import gc
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring.backend
import pytest
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from core.errors import CloudRecordingError
from gui.embedded_server import ServerState
from gui.keyring_store import KeyringStore
from gui.settings import AppSettings


def pytest_asyncio_loop_factories(config: Any, item: Any) -> dict[str, Callable[[], Any]]:
    def factory() -> asyncio.AbstractEventLoop:
        app = QApplication.instance() or QApplication([])
        return qasync.QEventLoop(app)

    return {"qasync": factory}


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread() -> Iterator[None]:
    """Collect each test's garbage (its event loop's timer objects) on the GUI thread.

    A QObject with running timers that the cyclic collector happens to free on a
    worker thread cannot unregister its timers, and Qt later fires them at freed
    memory; collecting here, after the loop was closed, keeps that on this thread.
    """
    yield
    gc.collect()


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "settings" / "cloudrec.ini"


@pytest.fixture
def settings(settings_file: Path) -> Iterator[AppSettings]:
    """Settings in a temporary ini file, never the user's."""
    qsettings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    yield AppSettings(qsettings)
    qsettings.sync()


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend in memory, for tests that are not about the OS keyring."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def store(memory_keyring: MemoryKeyring) -> KeyringStore:
    return KeyringStore(memory_keyring)


class FakeRecorder:
    """Stands in for CloudRecorder: records calls and drives the observer like the SDK."""

    def __init__(self, observer: Any, failure: CloudRecordingError | None = None) -> None:
        self.observer = observer
        self.recording_id = uuid.uuid4().hex
        self.failure = failure
        self.calls: list[tuple[Any, ...]] = []

    async def start(
        self, app_id: str, channel: str, token: Any, uid: int, rec: Any, st: Any
    ) -> None:
        self.calls.append(("start", app_id, channel, token, uid, rec, st))
        self.observer.on_recording_connecting(self.recording_id)
        await asyncio.sleep(0)
        if self.failure is not None:
            raise self.failure
        self.observer.on_recording_started(self.recording_id)

    async def stop(self) -> None:
        self.calls.append(("stop",))
        self.observer.on_recording_stopped(self.recording_id)

    async def release(self, cancel: bool = False) -> None:
        self.calls.append(("release", cancel))

    async def attach(self, app_id: str, resource_id: str, sid: str, cname: str, uid: int) -> None:
        self.calls.append(("attach", app_id, resource_id, sid, cname, uid))
        self.sid = sid
        self.observer.on_recording_started(self.recording_id)


class FakeRecorderFactory:
    """``create_cloud_recorder`` for tests: keeps every recorder it made."""

    def __init__(self) -> None:
        self.made: list[FakeRecorder] = []
        self.failures: list[CloudRecordingError | None] = []
        self.servers: list[tuple[str, str | None]] = []

    def __call__(self, observer: Any, server: str = "", token: str | None = None) -> FakeRecorder:
        failure = self.failures.pop(0) if self.failures else None
        recorder = FakeRecorder(observer, failure)
        self.servers.append((server, token))
        self.made.append(recorder)
        return recorder


class FakeServer:
    """Stands in for EmbeddedServer in window tests that need no real process."""

    def __init__(self) -> None:
        self.state = ServerState.STOPPED
        self.token: str | None = "test-token"
        self.url: str | None = None
        self.pid: int | None = 4242
        self.stopped = False
        self.detached = False

    def exit_code(self) -> int | None:
        return None

    async def start(self) -> str:
        self.url = "http://127.0.0.1:9"
        self.state = ServerState.RUNNING
        return self.url

    async def stop(self) -> None:
        self.stopped = True
        self.state = ServerState.STOPPED

    def detach(self) -> None:
        self.detached = True
        self.state = ServerState.DETACHED


@pytest.fixture
def recorder_factory() -> FakeRecorderFactory:
    return FakeRecorderFactory()


@pytest.fixture
def fake_server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def window(
    qtbot: Any,
    settings: AppSettings,
    store: KeyringStore,
    recorder_factory: FakeRecorderFactory,
    fake_server: FakeServer,
) -> Iterator[Any]:
    """A main window with fake recorders, attached to a pretend server."""
    from gui.main_window import MainWindow

    win = MainWindow(
        settings,
        store,
        recorder_factory=recorder_factory,
        embedded_server=fake_server,  # type: ignore[arg-type]
    )
    win.connection.use("http://127.0.0.1:9", "test-token", owned=True)
    yield win
    # Closed here rather than by qtbot.addWidget: after the test no loop runs the
    # close dialog's coroutine, so the window is closed as already shut down.
    win.close_now()
    win.deleteLater()
