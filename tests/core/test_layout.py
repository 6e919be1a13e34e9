"""compute_layout: the seed's three layouts, checked as properties over users and canvases,
and the CUSTOM layout's regions (Agora's layoutConfig) against hand-computed pixels."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import MixedVideoLayout, Rect, Region, RenderMode, compute_layout, compute_windows
from core.layout import MAX_REGIONS, MAX_WINDOWS, assign_regions, picture_rect, shown_uids

canvas_sides = st.integers(8, 960).map(lambda n: 2 * n)  # even sides 16..1920
PRESETS = [layout for layout in MixedVideoLayout if layout is not MixedVideoLayout.CUSTOM]


@st.composite
def canvases(draw: st.DrawFn) -> tuple[int, int]:
    long_side = draw(st.integers(8, 960)) * 2
    short_side = draw(st.integers(8, 540)) * 2
    return (long_side, short_side) if draw(st.booleans()) else (short_side, long_side)


def _inside(rect: Rect, width: int, height: int) -> bool:
    return (
        rect.x >= 0
        and rect.y >= 0
        and rect.x + rect.width <= width
        and rect.y + rect.height <= height
    )


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(PRESETS), st.integers(0, 20), canvases(), st.integers(0, 25))
def test_layout_properties(
    layout: MixedVideoLayout, users: int, canvas: tuple[int, int], max_uid: int
) -> None:
    width, height = canvas
    uids = [1000 + i for i in range(users)]
    rects = compute_layout(layout, uids, width, height, 1000 + max_uid)
    assert len(rects) == min(users, MAX_WINDOWS)
    assert all(_inside(r, width, height) and r.width > 0 and r.height > 0 for r in rects.values())
    items = list(rects.items())
    if layout is MixedVideoLayout.BEST_FIT:
        small = items
    else:
        small = items[1:]
        if items:
            big = items[0][1]
            if layout is MixedVideoLayout.FLOAT:
                assert big == Rect(0, 0, width, height)
            else:  # VERTICAL: the big window never hides the small ones
                assert all(not big.intersects(r) for _, r in small)
    for i, (_, a) in enumerate(small):
        for _, b in small[i + 1 :]:
            assert not a.intersects(b)
    assert len({(r.width, r.height) for _, r in small}) <= 1  # equal windows are exactly equal


def test_float_first_user_fills_the_canvas_others_fill_rows_from_the_bottom_left() -> None:
    rects = compute_layout(MixedVideoLayout.FLOAT, [1, 2, 3, 4, 5, 6], 1000, 1000)
    assert list(rects) == [1, 2, 3, 4, 5, 6]
    assert rects[1] == Rect(0, 0, 1000, 1000)
    assert rects[2] == Rect(12, 753, 235, 235)  # bottom left, 0.012 from the edges
    assert rects[5] == Rect(753, 753, 235, 235)  # fourth in the bottom row
    assert rects[6] == Rect(12, 506, 235, 235)  # the next row up


def test_best_fit_grids_by_number_of_users() -> None:
    def grid(n: int) -> set[tuple[int, int]]:
        return {
            (r.width, r.height)
            for r in compute_layout(
                MixedVideoLayout.BEST_FIT, list(range(1, n + 1)), 1200, 1200
            ).values()
        }

    assert grid(1) == {(1200, 1200)}
    assert grid(2) == {(600, 1200)}
    assert grid(4) == {(600, 600)}
    assert grid(5) == grid(9) == {(400, 400)}
    assert grid(16) == {(300, 300)}
    seventeen = compute_layout(MixedVideoLayout.BEST_FIT, list(range(1, 18)), 1000, 1000)
    assert seventeen[1] == Rect(100, 0, 200, 200)
    assert seventeen[17] == Rect(400, 800, 200, 200)  # centred on a fifth row


def test_best_fit_centres_an_incomplete_last_row() -> None:
    rects = compute_layout(MixedVideoLayout.BEST_FIT, [1, 2, 3], 400, 400)
    assert rects[3] == Rect(100, 200, 200, 200)


def test_vertical_puts_max_resolution_uid_large_on_the_left() -> None:
    rects = compute_layout(MixedVideoLayout.VERTICAL, [1, 2, 3], 1000, 800, max_resolution_uid=3)
    assert next(iter(rects)) == 3
    assert rects[3] == Rect(0, 0, 800, 800)
    assert rects[1] == Rect(800, 0, 200, 100) and rects[2] == Rect(800, 100, 200, 100)
    ten = compute_layout(MixedVideoLayout.VERTICAL, list(range(1, 11)), 1000, 800)
    assert ten[1].width == 600 and ten[10] == Rect(800, 0, 200, 100)  # second column


def test_vertical_falls_back_to_the_first_user() -> None:
    rects = compute_layout(MixedVideoLayout.VERTICAL, [5, 6], 1000, 800, max_resolution_uid=99)
    assert next(iter(rects)) == 5


def test_users_beyond_17_are_the_last_to_join() -> None:
    uids = list(range(1, 21))
    assert shown_uids(MixedVideoLayout.BEST_FIT, uids) == uids[:17]
    kept = shown_uids(MixedVideoLayout.VERTICAL, uids, max_resolution_uid=20)
    assert 20 in kept and len(kept) == 17


def test_empty_and_bad_canvas() -> None:
    assert compute_layout(MixedVideoLayout.FLOAT, [], 360, 640) == {}
    with pytest.raises(ValueError, match="positive"):
        compute_layout(MixedVideoLayout.FLOAT, [1], 0, 640)


def test_a_custom_region_covers_its_fractions_of_the_canvas_floored() -> None:
    region = Region(0.25, 0.5, 0.5, 0.25)
    assert region.rect(640, 360) == Rect(160, 180, 320, 90)
    # six decimals: 0.333333 of 1920 is 639.99936 px, floored to 639; the right edge
    # 0.666667 of 1920 is 1280.00064, floored to 1280
    assert Region(0.333333, 0, 0.333334, 1).rect(1920, 1080) == Rect(639, 0, 641, 1080)
    # a region beyond the right edge is clipped to the canvas
    assert Region(0.8, 0, 0.5, 1).rect(1000, 100) == Rect(800, 0, 200, 100)


def test_custom_regions_named_first_then_the_others_in_join_order() -> None:
    regions = [
        Region(0, 0, 1, 1),  # nobody named: the first user no region names
        Region(0.5, 0, 0.5, 0.5, uid=7, alpha=0.5, render_mode=RenderMode.FIT),
        Region(0, 0.5, 0.5, 0.5),
        Region(0.5, 0.5, 0.5, 0.5, uid=99),  # not in the channel: empty
    ]
    windows = compute_windows(MixedVideoLayout.CUSTOM, [5, 7, 9, 11], 200, 100, regions=regions)
    assert list(windows) == [5, 7, 9]  # drawing order is the regions' order; 11 has none
    assert windows[5].rect == Rect(0, 0, 200, 100)
    assert windows[7].rect == Rect(100, 0, 100, 50)
    assert (windows[7].alpha, windows[7].render_mode) == (0.5, RenderMode.FIT)
    assert windows[9].rect == Rect(0, 50, 100, 50)
    assert (windows[9].alpha, windows[9].render_mode) == (1.0, RenderMode.CROP)
    assert assign_regions([5, 7, 9, 11], regions) == [5, 7, 9, None]
    # the same through compute_layout, which gives the geometry alone
    assert compute_layout(MixedVideoLayout.CUSTOM, [5, 7, 9, 11], 200, 100, regions=regions) == {
        uid: w.rect for uid, w in windows.items()
    }


def test_presets_are_opaque_and_take_the_render_mode_given() -> None:
    windows = compute_windows(
        MixedVideoLayout.BEST_FIT, [1, 2], 640, 360, render_mode=RenderMode.FIT
    )
    assert {(w.alpha, w.render_mode) for w in windows.values()} == {(1.0, RenderMode.FIT)}
    assert compute_windows(MixedVideoLayout.FLOAT, [1], 640, 360)[1].render_mode is RenderMode.CROP


@st.composite
def regions(draw: st.DrawFn) -> list[Region]:
    count = draw(st.integers(0, MAX_REGIONS))
    named = iter(draw(st.permutations(range(1000, 1000 + MAX_REGIONS))))
    out = []
    for _ in range(count):
        x, y = draw(st.floats(0, 1)), draw(st.floats(0, 1))
        width, height = draw(st.floats(1e-6, 1)), draw(st.floats(1e-6, 1))
        uid = next(named) if draw(st.booleans()) else None
        out.append(Region(x, y, width, height, uid, draw(st.floats(0, 1))))
    return out


@settings(max_examples=150, deadline=None)
@given(regions(), st.integers(0, 20), canvases())
def test_custom_layout_properties(drawn: list[Region], users: int, canvas: tuple[int, int]) -> None:
    width, height = canvas
    uids = [1000 + i for i in range(users)]
    windows = compute_windows(MixedVideoLayout.CUSTOM, uids, width, height, regions=drawn)
    named = {r.uid for r in drawn if r.uid is not None}
    unnamed_regions = sum(r.uid is None for r in drawn)
    unnamed_users = [u for u in uids if u not in named]
    expected = {r.uid for r in drawn if r.uid in uids} | set(unnamed_users[:unnamed_regions])
    assert set(windows) == expected
    for uid, window in windows.items():
        region = next(r for r in drawn if r.uid == uid) if uid in named else None
        if region is not None:
            assert window.rect == region.rect(width, height)
            assert window.alpha == region.alpha
        r = window.rect
        assert r.x >= 0 and r.y >= 0 and r.x + r.width <= width and r.y + r.height <= height


def test_a_picture_is_fitted_with_bars_or_cropped_to_cover_its_window() -> None:
    window, portrait = Rect(0, 0, 320, 180), (180, 320)
    # FIT: scale 0.5625 -> 101.25 x 180, even: 100 x 180, centred (bars of 110 px)
    assert picture_rect(window, portrait, (640, 360), RenderMode.FIT) == Rect(110, 0, 100, 180)
    # CROP: scale 16/9 -> 320 x 568.9, even: 320 x 570, centred (196 px cut above)
    assert picture_rect(window, portrait, (640, 360), RenderMode.CROP) == Rect(0, -196, 320, 570)
    # the same shape as the window: both modes fill it exactly
    for mode in RenderMode:
        assert picture_rect(window, (640, 360), (640, 360), mode) == window
