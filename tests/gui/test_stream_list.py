"""The Recording tab's live streams: URLs typed into a password field, shown masked,
checked as the server checks them, sent with the start request, kept in the keyring."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QLineEdit

from core.enums import RecordingMode
from gui.forms.new_recording import NewRecordingPanel
from gui.keyring_store import KeyringStore
from gui.widgets.stream_list import StreamList

URL = "rtmp://live.example.com/app/the-stream-key"


def shown(widget: StreamList) -> list[str]:
    return [widget.list.item(i).text() for i in range(widget.list.count())]


def test_a_url_is_added_masked_and_a_wrong_one_is_refused(qtbot: Any) -> None:
    widget = StreamList()
    qtbot.addWidget(widget)
    assert widget.field.echoMode() is QLineEdit.EchoMode.Password
    widget.field.setText(URL)
    widget.add_typed()
    assert widget.urls() == [URL]
    assert shown(widget) == ["rtmp://live.example.com/app/****"]
    widget.field.setText("http://example.com/app/other-key")
    widget.add_typed()
    assert not widget.error.isHidden() and "rtmp://host/app/key" in widget.error.text()
    assert "other-key" not in widget.error.text() and widget.urls() == [URL]
    widget.field.setText(URL)
    widget.add_typed()  # twice: refused
    assert widget.urls() == [URL] and "already" in widget.error.text()
    for n in range(4):
        widget.field.setText(f"srt://10.0.0.{n}:9000?streamid=k{n}")
        widget.add_typed()
    assert len(widget.urls()) == 5 and not widget.add_button.isEnabled()
    widget.list.setCurrentRow(0)
    widget.remove_selected()
    assert URL not in widget.urls() and len(widget.urls()) == 4


def test_the_start_request_carries_the_streams_and_individual_mode_has_none(
    qtbot: Any,
) -> None:
    panel = NewRecordingPanel()
    qtbot.addWidget(panel)
    panel.streams.field.setText(URL)
    panel.streams.add_typed()
    request = panel.request()
    assert request is not None and request.recording.rtmp_publish_config is not None
    outputs = request.recording.rtmp_publish_config.outputs
    assert [o.rtmp_url.get_secret_value() for o in outputs] == [URL]
    combo = panel.recording_form.widget("recording_mode")
    combo.setCurrentIndex(combo.findData(int(RecordingMode.INDIVIDUAL)))
    assert not panel.streams.isEnabled()
    request = panel.request()
    assert request is not None and request.recording.rtmp_publish_config is None


async def test_the_urls_are_kept_in_the_keyring_not_the_settings(
    store: KeyringStore, window: Any
) -> None:
    await store.set_stream_urls([URL])
    await window.load_stream_urls()
    assert window.panel.streams.urls() == [URL]
    window.panel.streams.list.setCurrentRow(0)
    window.panel.streams.remove_selected()
    window.panel.streams.field.setText("rtmps://cdn.example.com/live/second-key")
    window.panel.streams.add_typed()
    assert window.stream_save is not None
    await window.stream_save  # the saves run one after the other: this is the last
    assert await store.stream_urls() == ["rtmps://cdn.example.com/live/second-key"]
    window.settings.sync()
    settings = Path(window.settings.file_name())
    assert "second-key" not in await asyncio.to_thread(settings.read_text, encoding="utf-8")
