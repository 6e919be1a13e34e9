"""The custom layout's editor (gui/widgets/layout_editor.py): regions dragged and resized
with the mouse, snapped to the grid, undone and redone, their settings checked as the
server checks them, saved by name in the settings; the Transcoding tab sends them with
the custom layout only. Positions are hand-computed from the canvas's place in the
widget (an 8 px margin, the canvas scaled to fit and centred)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from core.enums import MixedVideoLayout, RenderMode
from core.layout import Region
from gui.forms.new_recording import NewRecordingPanel
from gui.settings import AppSettings
from gui.widgets.layout_editor import DEFAULT_REGIONS, GRID, LayoutEditor
from gui.widgets.layout_preview import LayoutPreview, tile_colour


@pytest.fixture
def editor(qtbot: Any) -> LayoutEditor:
    widget = LayoutEditor()
    qtbot.addWidget(widget)
    widget.set_canvas(640, 360, "#000000")
    # 656x376 inside the margins is 640x360: the canvas at (8, 8), scale 1
    widget.canvas.setFixedSize(656, 376)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def at(fx: float, fy: float) -> QPoint:
    """The widget point of canvas fraction (fx, fy) in the editor's canvas."""
    return QPoint(round(8 + fx * 640), round(8 + fy * 360))


def drag(qtbot: Any, editor: LayoutEditor, start: QPoint, end: QPoint) -> None:
    canvas = editor.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2))
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)


def test_a_region_is_dragged_snapped_undone_and_redone(qtbot: Any, editor: LayoutEditor) -> None:
    assert editor.regions == DEFAULT_REGIONS
    changes: list[tuple[Region, ...]] = []
    editor.regions_changed.connect(changes.append)
    # drag the small region (0.65, 0.65) by (-0.42, -0.31) of the canvas: snapped to 0.05
    drag(qtbot, editor, at(0.8, 0.8), at(0.8 - 0.42, 0.8 - 0.31))
    moved = editor.regions[1]
    assert (moved.x, moved.y, moved.width, moved.height) == (0.25, 0.35, 0.3, 0.3)
    assert editor.regions[0] == DEFAULT_REGIONS[0] and len(changes) == 1
    # the canvas draws it there: region #2's box in widget pixels
    box = editor.canvas.region_box(1)
    assert (box.x(), box.y(), box.width(), box.height()) == (168.0, 134.0, 192.0, 108.0)
    editor.undo_button.click()
    assert editor.regions == DEFAULT_REGIONS
    editor.redo_button.click()
    assert editor.regions[1] == moved
    # without the grid: the fraction the mouse moved, to a millionth
    editor.snap_check.setChecked(False)
    drag(qtbot, editor, at(0.4, 0.5), at(0.4 + 0.1, 0.5))
    assert editor.regions[1].x == pytest.approx(0.35, abs=1 / 640)
    assert editor.regions[1].x != round(editor.regions[1].x / GRID) * GRID


def test_a_region_is_resized_by_its_corner_and_kept_on_the_canvas(
    qtbot: Any, editor: LayoutEditor
) -> None:
    editor.canvas.select(1)
    handle = editor.canvas.handle_box(1).center()
    corner = QPoint(round(handle.x()), round(handle.y()))
    # grow it far past the canvas: clipped at the right and bottom edges
    drag(qtbot, editor, corner, corner + QPoint(400, 400))
    grown = editor.regions[1]
    assert (grown.x, grown.y, grown.width, grown.height) == (0.65, 0.65, 0.35, 0.35)
    # shrink it below the grid step: it stays one step wide
    handle = editor.canvas.handle_box(1).center()
    drag(qtbot, editor, QPoint(round(handle.x()), round(handle.y())), at(0.1, 0.1))
    assert (editor.regions[1].width, editor.regions[1].height) == (GRID, GRID)
    # dragging a region past the left edge stops it there
    drag(qtbot, editor, at(0.5, 0.2), at(-0.5, 0.2))
    assert editor.regions[0].x == 0.0  # the full-canvas region cannot move


def test_the_selected_regions_settings_are_checked_as_the_server_checks_them(
    qtbot: Any, editor: LayoutEditor
) -> None:
    editor.canvas.select(1)
    editor.alpha_spin.setValue(0.5)
    editor.alpha_spin.editingFinished.emit()
    editor.mode_combo.setCurrentIndex(editor.mode_combo.findData(int(RenderMode.FIT)))
    editor.mode_combo.activated.emit(editor.mode_combo.currentIndex())
    editor.uid_edit.setText("1002")
    editor.uid_edit.editingFinished.emit()
    assert editor.regions[1] == Region(0.65, 0.65, 0.3, 0.3, 1002, 0.5, RenderMode.FIT)
    assert editor.layout_config()[1] == {
        "x_axis": 0.65, "y_axis": 0.65, "width": 0.3, "height": 0.3, "alpha": 0.5,
        "render_mode": 1, "uid": "1002",
    }  # fmt: skip
    editor.uid_edit.setText("abc")
    editor.uid_edit.editingFinished.emit()
    assert editor.error.isVisible() and editor.error.text().startswith("uid: 'abc' is not allowed")
    assert editor.regions[1].uid == 1002  # unchanged
    editor.add_button.click()
    assert len(editor.regions) == 3 and editor.canvas.selected == 2
    editor.remove_button.click()
    assert len(editor.regions) == 2
    for _ in range(4):
        editor.undo_button.click()
    assert editor.regions[1].uid is None and editor.regions[1].alpha == 0.5


def test_layouts_are_saved_by_name_in_the_settings(
    qtbot: Any, editor: LayoutEditor, settings: AppSettings
) -> None:
    editor.saved_changed.connect(settings.set_layouts)
    editor.name_combo.setEditText("interview")
    drag(qtbot, editor, at(0.8, 0.8), at(0.3, 0.3))
    editor.save_button.click()
    kept = settings.layouts()
    assert list(kept) == ["interview"] and kept["interview"] == editor.layout_config()
    saved = editor.regions
    editor.set_regions(DEFAULT_REGIONS)
    other = LayoutEditor()
    qtbot.addWidget(other)
    other.set_saved(settings.layouts())
    other.name_combo.setCurrentIndex(other.name_combo.findText("interview"))
    other.name_combo.activated.emit(other.name_combo.currentIndex())
    assert other.regions == saved


def test_the_preview_draws_crop_fit_and_alpha_as_the_output(qtbot: Any) -> None:
    preview = LayoutPreview()
    qtbot.addWidget(preview)
    preview.setFixedSize(656, 376)
    regions = (
        Region(0, 0, 0.5, 1, render_mode=RenderMode.FIT),  # 16:9 picture in a 320x360 half
        Region(0.5, 0, 0.5, 1),  # cropped: fills its half
    )
    preview.set_layout(MixedVideoLayout.CUSTOM, 640, 360, 0, "#204080", regions)
    preview.set_users(2)
    image = preview.grab().toImage()
    background, first, second = QColor("#204080"), tile_colour(1001), tile_colour(1002)
    # FIT: 640x360 into 320x360 is 320x180, centred: bars of 90 px above and below
    assert image.pixelColor(8 + 160, 8 + 40).rgb() == background.rgb()
    assert image.pixelColor(8 + 40, 8 + 180).rgb() == first.rgb()
    assert image.pixelColor(8 + 480, 8 + 20).rgb() == second.rgb()  # CROP: no bar
    preview.set_layout(
        MixedVideoLayout.CUSTOM, 640, 360, 0, "#000000",
        (Region(0, 0, 1, 1), Region(0.25, 0.25, 0.5, 0.5, alpha=0.5)),
    )  # fmt: skip
    blend = preview.grab().toImage().pixelColor(8 + 320, 8 + 250)
    for a, b, c in zip(blend.getRgb()[:3], first.getRgb()[:3], second.getRgb()[:3], strict=True):
        assert abs(a - (b + c) / 2) <= 2  # half of each


def test_the_transcoding_tab_sends_regions_with_the_custom_layout_only(qtbot: Any) -> None:
    panel = NewRecordingPanel()
    qtbot.addWidget(panel)
    combo = panel.transcoding_form.editors["layout"].widget
    assert isinstance(combo, QComboBox)
    assert panel.layout_editor.isHidden()
    combo.setCurrentIndex(combo.findData(int(MixedVideoLayout.CUSTOM)))  # as a user picks it
    assert not panel.layout_editor.isHidden()
    assert panel.transcoding.layout is MixedVideoLayout.CUSTOM
    assert [r.region for r in panel.transcoding.layout_config] == list(DEFAULT_REGIONS)
    panel.layout_editor.set_regions((Region(0.1, 0.1, 0.5, 0.5, uid=7),))
    assert panel.transcoding.layout_config[0].uid == 7
    request = panel.request()
    assert request is not None
    assert request.recording.transcoding_config.layout_config[0].uid == 7
    combo.setCurrentIndex(combo.findData(int(MixedVideoLayout.BEST_FIT)))
    assert panel.layout_editor.isHidden()
    assert panel.transcoding.layout_config == ()  # no regions beside a preset


def test_the_transcoding_tab_takes_images_and_the_active_speaker(qtbot: Any) -> None:
    panel = NewRecordingPanel()
    qtbot.addWidget(panel)
    form = panel.transcoding_form
    image = form.editors["background_image"].widget
    speaker = form.editors["active_speaker"].widget
    assert isinstance(image, QLineEdit) and isinstance(speaker, QCheckBox)
    assert panel.transcoding.background_image is None and not panel.transcoding.active_speaker
    image.setText("https://example.com/stage.png")
    speaker.setChecked(True)  # FLOAT, the default layout: allowed
    assert panel.transcoding.background_image == "https://example.com/stage.png"
    assert panel.transcoding.active_speaker
    image.setText("stage.png")
    assert form.error_text("background_image").startswith("'stage.png' is not allowed: ")
    image.setText("")
    combo = form.editors["layout"].widget
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData(int(MixedVideoLayout.BEST_FIT)))
    assert "false with BEST_FIT (1)" in form.error_text("active_speaker")
    assert panel.request() is None  # Start waits for a valid config


async def test_the_preview_draws_the_canvas_image_as_the_recording_will(qtbot: Any) -> None:
    """The background image is fetched once by the window (over real HTTP on
    127.0.0.1) and drawn cropped to cover the canvas: a square image of a red and a
    blue half on a 16:9 canvas keeps its halves left and right, its top and bottom cut."""
    from core.config import TranscodingConfig
    from gui.widgets.preview_panel import PreviewPanel
    from tests.image_server import encode_image, halves, image_server

    panel = PreviewPanel(0)
    qtbot.addWidget(panel)
    preview = panel.preview
    preview.setFixedSize(656, 376)
    with image_server() as served:
        url = served.add("/stage.png", encode_image(halves((220, 0, 0), (0, 0, 220), (90, 90))))
        panel.show_config(TranscodingConfig(width=640, height=360, background_image=url))
        assert panel.image_fetch is not None
        await panel.image_fetch
        panel.show_config(TranscodingConfig(width=640, height=360, background_image=url))
        assert served.asked == ["/stage.png"]  # kept by URL
    image = preview.grab().toImage()
    for y in (10, 188, 364):  # the whole height
        assert image.pixelColor(8 + 20, y).red() > 180 and image.pixelColor(8 + 620, y).blue() > 180
    panel.show_config(TranscodingConfig(width=640, height=360))  # none: the colour again
    assert preview.grab().toImage().pixelColor(8 + 20, 188).rgb() == QColor("#000000").rgb()
