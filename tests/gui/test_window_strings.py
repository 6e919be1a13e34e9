"""Strings that moved out of the window keep their Chinese translations.

The catalogue holds the window's strings in the "MainWindow" context; the objects
the window was split into translate in that context, so nothing needs retranslating.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QObject, QTranslator

from gui import paths
from gui.actions import WindowActions
from gui.embedded_server import ServerState
from gui.widgets.preview_panel import PreviewPanel
from gui.widgets.status_bar import StatusBar, state_text


@pytest.fixture
def chinese(qapp: Any) -> Iterator[None]:
    translator = QTranslator()
    assert translator.load("cloudrec_zh_CN", str(paths.TRANSLATIONS_DIR))
    QCoreApplication.installTranslator(translator)
    try:
        yield
    finally:
        QCoreApplication.removeTranslator(translator)


def test_moved_strings_are_translated(qtbot: Any, chinese: None) -> None:
    owner = QObject()  # the actions' parent, kept alive for the test
    actions = WindowActions(owner)
    assert actions.quit.text() == "退出(&Q)"
    assert actions.demo_stop.text() == "停止演示参与者"
    assert state_text(ServerState.RUNNING) == "运行中"
    bar = StatusBar()
    qtbot.addWidget(bar)
    assert bar.server_state.text() == "已停止"
    panel = PreviewPanel(4)
    qtbot.addWidget(panel)
    assert panel.preview.toolTip() == "录制端将合成的布局；★ 标记大流用户。"
