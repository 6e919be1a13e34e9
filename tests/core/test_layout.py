"""compute_layout: the seed's three layouts, checked as properties over users and canvases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import MixedVideoLayout, Rect, compute_layout
from core.layout import MAX_WINDOWS, shown_uids

canvas_sides = st.integers(8, 960).map(lambda n: 2 * n)  # even sides 16..1920


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
@given(st.sampled_from(list(MixedVideoLayout)), st.integers(0, 20), canvases(), st.integers(0, 25))
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
