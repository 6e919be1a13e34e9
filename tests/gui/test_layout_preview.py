"""The layout preview draws exactly compute_layout's rectangles."""

from __future__ import annotations

from typing import Any

import pytest

from core.enums import MixedVideoLayout
from core.layout import compute_layout
from gui.widgets.layout_preview import LayoutPreview, sample_uids


@pytest.mark.parametrize("layout", list(MixedVideoLayout))
@pytest.mark.parametrize("users", [0, 1, 2, 5, 9, 16, 17, 20])
@pytest.mark.parametrize(("width", "height", "big"), [(360, 640, 0), (1280, 720, 1003)])
def test_preview_rectangles_equal_compute_layout(
    qtbot: Any, layout: MixedVideoLayout, users: int, width: int, height: int, big: int
) -> None:
    preview = LayoutPreview()
    qtbot.addWidget(preview)
    preview.resize(400, 400)
    preview.set_layout(layout, width, height, big)
    preview.set_users(users)
    preview.grab()  # paints
    expected = compute_layout(layout, sample_uids(users), width, height, big)
    assert preview.rects == expected
    assert list(preview.rects) == list(expected)  # same drawing order
    assert set(preview.widget_rects) == set(expected)


def test_vertical_marks_the_max_resolution_user(qtbot: Any) -> None:
    preview = LayoutPreview()
    qtbot.addWidget(preview)
    preview.resize(400, 300)
    preview.set_layout(MixedVideoLayout.VERTICAL, 1280, 720, 1003)
    preview.set_users(5)
    preview.grab()
    assert preview.marked_uid == 1003
    big = preview.widget_rects[1003]
    assert all(big.width() > r.width() for uid, r in preview.widget_rects.items() if uid != 1003)
    preview.set_layout(MixedVideoLayout.VERTICAL, 1280, 720, 0)
    preview.grab()
    assert preview.marked_uid == 1001  # uid 0: the first user is the big one


def test_window_preview_follows_the_transcoding_form(window: Any) -> None:
    form = window.panel.transcoding_form
    form.widget("layout").setCurrentIndex(
        form.widget("layout").findData(int(MixedVideoLayout.BEST_FIT))
    )
    form.widget("width").setValue(640)
    form.widget("height").setValue(480)
    window.preview_panel.users.setValue(7)
    window.preview_panel.preview.grab()
    assert window.preview_panel.preview.rects == compute_layout(
        MixedVideoLayout.BEST_FIT, sample_uids(7), 640, 480, 0
    )
