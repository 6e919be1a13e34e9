"""The seed's recommended bitrates for the mixed video.

``recommended_bitrate`` returns the seed's table exactly for every listed
resolution and frame rate (in either orientation). For any other size or frame
rate it interpolates on the pixel rate (width x height x fps) in log-log space
between the two nearest table rows, and beyond the ends of the table extrapolates
with the power law fitted to the whole table (bitrate ~ pixel_rate ** k). The
live-broadcast bitrate is twice the communication bitrate, as in every row of the
seed's table. The result is rounded to whole kbps and kept within the bitrates a
TranscodingConfig accepts (50 to 10000 kbps), so the offered value can always be used.
"""

from __future__ import annotations

import itertools
import math
from functools import cache

from core.enums import ChannelType

# (width, height, fps, communication kbps); live kbps is twice the communication value.
SEED_TABLE: tuple[tuple[int, int, int, int], ...] = (
    (160, 120, 15, 65),
    (120, 120, 15, 50),
    (320, 180, 15, 140),
    (180, 180, 15, 100),
    (240, 180, 15, 120),
    (320, 240, 15, 200),
    (240, 240, 15, 140),
    (424, 240, 15, 220),
    (640, 360, 15, 400),
    (360, 360, 15, 260),
    (640, 360, 30, 600),
    (360, 360, 30, 400),
    (480, 360, 15, 320),
    (480, 360, 30, 490),
    (640, 480, 15, 500),
    (480, 480, 15, 400),
    (640, 480, 30, 750),
    (480, 480, 30, 600),
    (848, 480, 15, 610),
    (848, 480, 30, 930),
    (640, 480, 10, 400),
    (1280, 720, 15, 1130),
    (1280, 720, 30, 1710),
    (960, 720, 15, 910),
    (960, 720, 30, 1380),
)

LIVE_FACTOR = 2
MIN_KBPS, MAX_KBPS = 50, 10_000


def _key(width: int, height: int, fps: int) -> tuple[int, int, int]:
    return (max(width, height), min(width, height), fps)


_EXACT = {_key(w, h, f): kbps for w, h, f, kbps in SEED_TABLE}


@cache
def _curve() -> tuple[list[tuple[float, float]], float]:
    """Table points as (log pixel rate, log kbps), duplicates merged, and the fitted slope."""
    by_rate: dict[int, list[float]] = {}
    for w, h, f, kbps in SEED_TABLE:
        by_rate.setdefault(w * h * f, []).append(math.log(kbps))
    points = sorted((math.log(rate), sum(v) / len(v)) for rate, v in by_rate.items())
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
        (x - mean_x) ** 2 for x, _ in points
    )
    return points, slope


def _interpolate(pixel_rate: float) -> float:
    points, slope = _curve()
    x = math.log(pixel_rate)
    if x <= points[0][0]:
        return math.exp(points[0][1] + slope * (x - points[0][0]))
    if x >= points[-1][0]:
        return math.exp(points[-1][1] + slope * (x - points[-1][0]))
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x0 <= x <= x1:
            return math.exp(y0 + (y1 - y0) * (x - x0) / (x1 - x0))
    raise AssertionError("unreachable: x lies within the table")


def recommended_bitrate(
    width: int, height: int, fps: int, channel_type: ChannelType = ChannelType.COMMUNICATION
) -> int:
    """The recommended video bitrate in kbps for a mixed picture of this size and fps."""
    if width <= 0 or height <= 0 or fps <= 0:
        raise ValueError(f"width, height and fps must be positive, got {width}x{height}@{fps}")
    kbps = _EXACT.get(_key(width, height, fps))
    if kbps is None:
        kbps = min(MAX_KBPS, max(MIN_KBPS, round(_interpolate(width * height * fps))))
    if ChannelType(channel_type) is ChannelType.LIVE:
        return min(MAX_KBPS, kbps * LIVE_FACTOR)
    return kbps
