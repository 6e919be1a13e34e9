"""The status bar: the server's URL, kind and state, counts, CPU and recorder health."""

from __future__ import annotations

from typing import Any

from gui.embedded_server import ServerState
from gui.widgets.status_bar import AMBER, GREEN, GREY, RED, StatusBar


def _bar(qtbot: Any) -> StatusBar:
    bar = StatusBar()
    qtbot.addWidget(bar)
    return bar


def test_status_bar_says_whether_the_recorders_keep_up(qtbot: Any) -> None:
    bar = _bar(qtbot)
    label = bar.render_health
    base = {"activeRecordings": 2, "droppedFrames": 0, "lateFrames": 0}
    bar.show_render_health({**base, "renderLag": 0.05})
    assert not label.isHidden() and label.text() == "Recorders: on time"
    assert label.styleSheet() == ""
    bar.show_render_health({**base, "renderLag": 0.3, "droppedFrames": 4, "lateFrames": 3})
    assert label.text() == "Recorders: on time, 7 frames lost"
    assert label.styleSheet() == f"color: {AMBER};"  # frames lost: amber
    assert label.toolTip() == (
        "Input frames dropped: 4, arrived too late: 3. Lost frames and a growing lag mean "
        "the recording server is short of CPU: record fewer channels or smaller canvases "
        "on it, or give it more cores."
    )
    bar.show_render_health({**base, "renderLag": 0.99})
    assert label.text() == "Recorders: on time" and label.styleSheet() == ""
    bar.show_render_health({**base, "renderLag": 1.0})  # red from 1 s
    assert label.text() == "Recorders: 1.0 s behind" and label.styleSheet() == f"color: {RED};"
    bar.show_render_health({**base, "renderLag": 2.46, "droppedFrames": 1})
    assert label.text() == "Recorders: 2.5 s behind, 1 frames lost"
    assert label.styleSheet() == f"color: {RED};"  # behind wins over amber
    bar.show_render_health({**base, "activeRecordings": 0, "renderLag": 0.0})
    assert label.isHidden()
    bar.show_render_health({"activeRecordings": 1})  # an older server: nothing to show
    assert label.isHidden()


def test_server_kind_url_and_state(qtbot: Any) -> None:
    bar = _bar(qtbot)
    assert bar.server_url.text() == "Server (embedded): none"
    assert bar.server_state.text() == "stopped"
    assert bar.server_state.styleSheet() == f"color: {GREY};"
    bar.show_server("https://rec.example", embedded=False, state=ServerState.UNREACHABLE)
    assert bar.server_url.text() == "Server (remote): https://rec.example"
    assert bar.server_state.text() == "unreachable"
    assert bar.server_state.styleSheet() == f"color: {RED};"
    bar.show_server("http://127.0.0.1:1", embedded=True, state=ServerState.RUNNING)
    assert bar.server_url.text() == "Server (embedded): http://127.0.0.1:1"
    assert bar.server_state.text() == "running"
    assert bar.server_state.styleSheet() == f"color: {GREEN};"
    bar.show_server("http://127.0.0.1:1", embedded=True, state=ServerState.FAILED)
    assert bar.server_state.text() == "failed to start"
    assert bar.server_state.styleSheet() == f"color: {RED};"
    bar.show_server("http://127.0.0.1:1", embedded=True, state=ServerState.DETACHED)
    assert bar.server_state.text() == "running in background"
    assert bar.server_state.styleSheet() == f"color: {GREY};"


def test_the_servers_counts_replace_the_windows_and_cpu_is_a_share(qtbot: Any) -> None:
    bar = _bar(qtbot)
    bar.show_window_counts(1, 2)
    assert (bar.active.text(), bar.backlog.text()) == ("Active: 1", "Upload backlog: 2")
    status = {"activeRecordings": 3, "uploadBacklog": 5, "cpuSeconds": 10.0, "monotonic": 100.0}
    bar.show_server_status(status)
    assert bar.cpu.text() == ""  # one sample gives no share yet
    bar.show_server_status({**status, "cpuSeconds": 11.0, "monotonic": 104.0})
    assert bar.cpu.text() == "Server CPU: 25 %"
    bar.show_window_counts(0, 0)  # the server knows more (released, background recordings)
    assert (bar.active.text(), bar.backlog.text()) == ("Active: 3", "Upload backlog: 5")


def test_status_bar_shows_webhook_backlog_and_errors(qtbot: Any) -> None:
    import time

    bar = _bar(qtbot)
    label = bar.webhooks
    base = {"cpuSeconds": 1.0, "monotonic": 1.0, "activeRecordings": 0, "uploadBacklog": 0}
    healthy = {
        "endpoint": "https://hooks.example.com/agora",
        "events": None,
        "backlog": 0,
        "retrying": 0,
        "lastError": None,
        "lastErrorMs": None,
        "lastDeliveryMs": 1_700_000_000_000,
    }
    bar.show_server_status({**base, "webhooks": []})  # no endpoint: nothing
    assert label.isHidden()
    bar.show_server_status({**base, "webhooks": [healthy]})  # all delivered: nothing
    assert label.isHidden()
    bar.show_server_status({**base, "webhooks": [{**healthy, "backlog": 4}]})
    assert not label.isHidden()
    assert label.text() == "Webhooks: 4 waiting" and label.styleSheet() == ""
    clock = time.strftime("%H:%M:%S", time.localtime(1_700_000_000))
    assert label.toolTip() == (
        f"https://hooks.example.com/agora: 4 waiting, 0 recordings retrying; "
        f"last delivered at {clock}"
    )
    failing = {
        **healthy,
        "backlog": 7,
        "retrying": 2,
        "lastError": "answered HTTP 503",
        "lastErrorMs": 1_700_000_060_000,
    }
    bar.show_server_status({**base, "webhooks": [failing]})
    assert label.text() == "Webhooks: 7 waiting, failing: answered HTTP 503"
    assert label.styleSheet() == f"color: {RED};"
    error_clock = time.strftime("%H:%M:%S", time.localtime(1_700_000_060))
    assert label.toolTip() == (
        f"https://hooks.example.com/agora: 7 waiting, 2 recordings retrying; last error at "
        f"{error_clock}: answered HTTP 503; last delivered at {clock}"
    )
    long_error = {**failing, "lastError": "ConnectError: " + "x" * 80}
    bar.show_server_status({**base, "webhooks": [long_error]})
    assert label.text().endswith("…") and len(label.text()) < 80
    assert "x" * 80 in label.toolTip()
    # An error before the last delivery is history: shown in the tooltip only.
    recovered = {**failing, "retrying": 0, "lastDeliveryMs": 1_700_000_090_000, "backlog": 1}
    bar.show_server_status({**base, "webhooks": [recovered, {**failing, "endpoint": "http://b/"}]})
    assert label.text() == "Webhooks: 8 waiting, failing: answered HTTP 503"
    bar.show_server_status({**base, "webhooks": [failing, {**failing, "endpoint": "http://b/"}]})
    assert label.text() == "Webhooks: 14 waiting, 2 endpoints failing"
    assert len(label.toolTip().splitlines()) == 2
    bar.show_server_status({**base, "webhooks": [{**recovered, "backlog": 0}]})
    assert label.isHidden()
    bar.show_server_status(base)  # an older server without webhooks
    assert label.isHidden()
