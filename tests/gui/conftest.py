"""Fixtures of the window's tests: offscreen Qt, a qasync loop, temporary settings.

Async tests run on a ``qasync.QEventLoop`` (through pytest-asyncio's
``pytest_asyncio_loop_factories`` hook), the same loop the window runs on, so
``async_slot`` coroutines, ``run_in_executor`` and Qt signals behave as in the app.
Inside such a test, wait with ``tests.helpers.wait_until`` (it yields to the loop) rather than
``qtbot.waitUntil`` (which would spin a nested Qt loop under the running task).

Secrets go to the real Secret Service (``secret_service``, ``store``): each test under a
service name of its own, emptied after it. Fake keyrings exist only in tests that inject
a keyring fault, and say which.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring.backend
import keyring.errors
import pytest
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from core.errors import CloudRecordingError
from gui.embedded_server import ServerState
from gui.keyring_store import KeyringStore
from gui.settings import AppSettings
from tests.helpers import require_secret_service


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


class ScopedSecretService(keyring.backend.KeyringBackend):
    """keyring's Secret Service backend under a service name of one test's own.

    Every call goes to the real Secret Service (gnome-keyring in the D-Bus session that
    ``scripts/test.sh`` starts); only the service name changes, ``cloudrec`` becoming
    ``cloudrec-test-<hex>``, so a test neither sees another test's entries nor reads or
    overwrites a developer's own ``cloudrec`` secrets. :meth:`remove_all` deletes what
    the test stored.
    """

    priority = 1  # type: ignore[assignment]

    def __init__(self, backend: keyring.backend.KeyringBackend) -> None:
        super().__init__()
        self.backend = backend
        self.suffix = f"-test-{uuid.uuid4().hex[:12]}"
        self.entries: set[tuple[str, str]] = set()

    def scoped(self, service: str) -> str:
        """The service name this test's entries are stored under in the Secret Service."""
        return service + self.suffix

    def get_password(self, service: str, username: str) -> str | None:
        value: str | None = self.backend.get_password(self.scoped(service), username)
        return value

    def set_password(self, service: str, username: str, password: str) -> None:
        self.backend.set_password(self.scoped(service), username, password)
        self.entries.add((service, username))

    def delete_password(self, service: str, username: str) -> None:
        self.backend.delete_password(self.scoped(service), username)
        self.entries.discard((service, username))

    def remove_all(self) -> None:
        """Delete every entry the test stored and check that none is left."""
        for service, username in list(self.entries):
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                self.delete_password(service, username)
            assert self.backend.get_password(self.scoped(service), username) is None


@pytest.fixture
def secret_service() -> Iterator[ScopedSecretService]:
    """The real Secret Service, under this test's own service name; emptied afterwards."""
    require_secret_service()
    backend = keyring.get_keyring()
    assert "SecretService" in type(backend).__module__, type(backend)
    scoped = ScopedSecretService(backend)
    try:
        yield scoped
    finally:
        scoped.remove_all()


@pytest.fixture
def store(secret_service: ScopedSecretService) -> KeyringStore:
    """The window's keyring store over the real Secret Service (this test's service)."""
    return KeyringStore(secret_service)


class FakeRecorder:
    """Stands in for CloudRecorder: records calls and drives the observer like the SDK."""

    def __init__(self, observer: Any, failure: CloudRecordingError | None = None) -> None:
        self.observer = observer
        self.recording_id = uuid.uuid4().hex
        self.sid: str | None = None
        """The server's id, given by start as the SDK's start gets it (before started)."""
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
        self.sid = uuid.uuid4().hex
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
        self.grants: tuple[tuple[Any, ...], tuple[str, ...]] | None = None
        """The storage roots and allowed endpoints of the last start."""
        self.webhooks: str | None = None
        """The ``CLOUDREC_WEBHOOKS`` value of the last start."""

    def exit_code(self) -> int | None:
        return None

    async def start(
        self, *, storage_roots: Any = (), allowed_endpoints: Any = (), webhooks: str | None = None
    ) -> str:
        self.grants = (tuple(storage_roots), tuple(allowed_endpoints))
        self.webhooks = webhooks
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
    """A main window with fake recorders, attached to a pretend server; its secrets go
    to the real Secret Service (``store``)."""
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
