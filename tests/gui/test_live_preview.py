"""The right-hand panel's live view: the selected recording's picture and its users'
audio meters, in place of the layout preview while it records."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtGui import QColor, QImage

from gui.widgets.level_meters import METER_CELLS, ZONES, level_line
from gui.widgets.preview_panel import PreviewPanel
from gui.widgets.rate_plot import BACKLOG_COLOUR, RATE_COLOUR, RatePlot


def test_a_meter_line_fills_from_minus_60_to_0_dbfs() -> None:
    full, empty = "\u2588", "\u2591"
    assert level_line(1001, 0.0) == f"      1001  {full * METER_CELLS}  0 dB"
    assert level_line(1001, -30.0) == f"      1001  {full * 10}{empty * 10}  -30 dB"
    assert level_line(7, -90.0) == f"         7  {empty * METER_CELLS}  –"  # silence
    assert level_line(7, 3.0) == f"         7  {full * METER_CELLS}  3 dB"  # over: full


def test_a_meter_lights_its_zones_up_to_the_level(qtbot: Any) -> None:
    """-30 dBFS lights half the bar, all green; -3 dBFS reaches into the red zone; the
    unlit rest of the track is the zone's colour, darker."""
    from gui.widgets.level_meters import LevelMeters

    meters = LevelMeters()
    qtbot.addWidget(meters)
    meters.set_levels({1001: -30.0, 1002: -3.0, 7: -90.0})
    meters.resize(400, meters.sizeHint().height())
    assert meters.text().splitlines() == [
        level_line(1001, -30.0),
        level_line(1002, -3.0),
        level_line(7, -90.0),
    ]
    assert meters.accessibleDescription() == meters.text()
    image = meters.grab().toImage()
    lit = [_lit_zones(image, row) for row in range(3)]
    green, yellow, red = (colour for _, colour in ZONES)
    assert lit[0] == {_rgb(green)}  # half the bar: green only
    assert lit[1] == {_rgb(green), _rgb(yellow), _rgb(red)}
    assert lit[2] == set()  # silence: nothing lit


def _rgb(colour: Any) -> tuple[int, int, int]:
    return colour.red(), colour.green(), colour.blue()


def _lit_zones(image: QImage, row: int) -> set[tuple[int, int, int]]:
    """The zone colours lit along the middle line of meter ``row``."""
    from gui.widgets.level_meters import ROW_HEIGHT

    y = row * ROW_HEIGHT + 1 + ROW_HEIGHT // 2
    colours = {_rgb(colour) for _, colour in ZONES}
    return {seen for x in range(image.width()) if (seen := _rgb(image.pixelColor(x, y))) in colours}


def test_the_live_view_replaces_the_layout_preview_while_there_is_a_picture(
    qtbot: Any,
) -> None:
    panel = PreviewPanel(3)
    qtbot.addWidget(panel)
    panel.resize(400, 300)
    assert panel.pages.currentIndex() == 0
    image = QImage(320, 180, QImage.Format.Format_RGB888)
    image.fill(QColor(200, 30, 40))
    panel.show_live(image, "q&a <1>", {1001: -12.0, 1002: -90.0})
    assert panel.pages.currentIndex() == 1
    assert panel.live_title.text() == "<b>Live: q&amp;a &lt;1&gt;</b>"  # not read as markup
    pixmap = panel.live.pixmap()
    assert not pixmap.isNull() and abs(pixmap.width() / pixmap.height() - 16 / 9) < 0.02
    shown = pixmap.toImage().pixelColor(pixmap.width() // 2, pixmap.height() // 2)
    assert (shown.red(), shown.green(), shown.blue()) == (200, 30, 40)
    assert panel.levels.text().splitlines() == [level_line(1001, -12.0), level_line(1002, -90.0)]
    panel.show_live(None)
    assert panel.pages.currentIndex() == 0


def _shows(widget: Any, colour: Any) -> bool:
    """Whether some pixel of ``widget`` is near ``colour`` (lines are antialiased)."""
    image = widget.grab().toImage()
    target = (colour.red(), colour.green(), colour.blue())
    for x in range(image.width()):
        for y in range(image.height()):
            c = image.pixelColor(x, y)
            pixel = (c.red(), c.green(), c.blue())
            if sum((a - b) ** 2 for a, b in zip(pixel, target, strict=True)) < 60**2:
                return True
    return False


def test_the_plot_draws_the_rate_and_the_backlog_of_the_last_minutes(qtbot: Any) -> None:
    plot = RatePlot()
    qtbot.addWidget(plot)
    plot.resize(300, 80)
    assert not _shows(plot, RATE_COLOUR) and not _shows(plot, BACKLOG_COLOUR)  # no samples
    plot.set_samples([(float(t), 500.0 if t < 60 else 900.0, t // 30) for t in range(120)])
    assert _shows(plot, RATE_COLOUR) and _shows(plot, BACKLOG_COLOUR)


def test_individual_mode_lists_each_users_files_in_place_of_the_layout(
    window: Any, qtbot: Any
) -> None:
    """Choosing individual recording on the Recording tab puts the files each sample user
    gets (Agora's names, with the channel typed) where the layout preview was; the
    number of sample users and the channel change the list; mix brings the layout back."""
    from core.enums import RecordingMode
    from core.media.playlist import track_playlist_name

    panel, preview = window.panel, window.preview_panel
    window.show()
    combo = panel.recording_form.widget("recording_mode")
    combo.setCurrentIndex(combo.findData(int(RecordingMode.INDIVIDUAL)))
    assert preview.outputs.isVisible() and not preview.preview.isVisible()
    assert "Files of each user" in preview.title.text()
    preview.users.setValue(2)
    panel.identity["channel"].setText("q&a")
    text = preview.outputs.text()
    names = [track_playlist_name("<sid>", "q&a", uid, kind)
             for uid in (1001, 1002) for kind in ("audio", "video")]  # fmt: skip
    assert all(html.escape(name) in text for name in names), text
    assert "1003" not in text
    combo.setCurrentIndex(combo.findData(int(RecordingMode.MIX)))
    assert preview.preview.isVisible() and not preview.outputs.isVisible()
    assert "Layout preview" in preview.title.text()
