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


def _mnemonics(menu: Any) -> list[str]:
    """The access key of each action of ``menu`` (the letter after a single '&')."""
    import re

    keys = []
    for action in menu.actions():
        found = re.search(r"&([^&])", action.text())
        if found:
            keys.append(found.group(1).lower())
    return keys


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_each_menus_access_keys_are_its_own(qtbot: Any, qapp: Any, language: str) -> None:
    """Issue 28, item 13: no two commands of a menu (nor two menus) share an access key,
    in English and in Chinese, and the Chinese ones sit at the end of their text."""
    from PySide6.QtWidgets import QMenuBar

    translator = QTranslator()
    if language != "en":
        assert translator.load(f"cloudrec_{language}", str(paths.TRANSLATIONS_DIR))
        QCoreApplication.installTranslator(translator)
    try:
        owner = QObject()
        actions = WindowActions(owner)
        bar = QMenuBar()
        qtbot.addWidget(bar)
        actions.fill_menu_bar(bar)
        menus = [a.menu() for a in bar.actions() if a.menu() is not None]
        for keys in [_mnemonics(bar), *(_mnemonics(m) for m in menus)]:
            assert len(keys) == len(set(keys)), keys
        if language != "en":
            texts = [a.text() for m in menus for a in m.actions() if "&" in a.text()]
            assert all(t.rstrip("…").endswith(")") for t in texts), texts
    finally:
        QCoreApplication.removeTranslator(translator)


def test_the_storage_fields_are_named_in_chinese(chinese: None) -> None:
    """Issue 28, item 9: the Storage tab's bucket and keys were labelled in English in
    the Chinese window; Agora's terms stay beside the Chinese ones."""
    from gui.forms.labels import field_label

    assert field_label("bucket") == "存储桶 (Bucket)"
    assert field_label("access_key") == "访问密钥 (Access Key)"
    assert field_label("secret_key") == "私有密钥 (Secret Key)"
