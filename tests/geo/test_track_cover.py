"""track_coverage against a plain reference: every fix and every point along each segment stamps its disk of shares,
and a cell keeps the highest. The fast path builds its stamps in blocks, drops repeated keys and skips the fixes
that are already a segment's first sample; none of that may change a single cell's share."""

from __future__ import annotations

import numpy as np
import pytest

from geo.raster import raster_spec_for_bounds, stamp_margin_cells, to_metres
from geo.track_cover import _PHASES, _SAMPLE_STEP_CELLS, _phase_shares, track_coverage

SPEC = raster_spec_for_bounds((115.50, 38.00, 115.53, 38.02))
R = 30.0


def reference(x_m: np.ndarray, y_m: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """The whole raster, one sample at a time."""
    cs = SPEC.cell_size_m
    samples = []
    for i in range(x_m.size):
        samples.append((x_m[i], y_m[i]))
        if i + 1 < x_m.size and not breaks[i + 1]:
            dx, dy = x_m[i + 1] - x_m[i], y_m[i + 1] - y_m[i]
            length = np.hypot(dx, dy)
            if np.isfinite(length):
                n = max(int(np.ceil(length / (cs * _SAMPLE_STEP_CELLS))), 1)
                samples.extend((x_m[i] + k / n * dx, y_m[i] + k / n * dy) for k in range(1, n))
    drow, dcol, share = _phase_shares(cs, R, _PHASES)
    margin = stamp_margin_cells(cs, R)
    out = np.zeros((SPEC.height, SPEC.width), dtype=np.uint8)
    for sx, sy in samples:
        u, v = (sx - SPEC.origin_x_m) / cs, (sy - SPEC.origin_y_m) / cs
        if not (margin <= u < SPEC.width - margin and margin <= v < SPEC.height - margin):
            continue  # also NaN
        col, row = int(np.floor(u)), int(np.floor(v))
        p = min(int((v - row) * _PHASES), _PHASES - 1) * _PHASES + min(int((u - col) * _PHASES), _PHASES - 1)
        cells = out[row + drow[p], col + dcol[p]]
        out[row + drow[p], col + dcol[p]] = np.maximum(cells, share[p])
    return out


def track(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A walk and a drive with breaks, a patrol standing still, a NaN fix, lone fixes and one long segment."""
    rng = np.random.default_rng(seed)
    n = 400
    lon = 115.505 + np.cumsum(rng.normal(0, 4e-5, n))
    lat = 38.005 + np.cumsum(rng.normal(0, 4e-5, n))
    lon[100:130], lat[100:130] = lon[100], lat[100]  # standing still
    lon[200], lat[200] = np.nan, np.nan  # a fix with no position
    lon[300], lat[300] = 115.525, 38.015  # a long jump: one segment of about 1.8 km
    breaks = rng.random(n) < 0.03
    breaks[[250, 251, 252]] = True  # lone fixes
    return lon, lat, breaks


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_cell_as_the_plain_reference_gives_it(seed: int) -> None:
    lon, lat, breaks = track(seed)
    x_m, y_m = to_metres(SPEC, lon, lat)
    window = track_coverage(SPEC, x_m, y_m, breaks, R)
    fast = window.full(SPEC).reshape(SPEC.height, SPEC.width)
    expected = reference(x_m, y_m, breaks | np.r_[True, np.zeros(lon.size - 1, bool)])
    assert expected.any()
    assert np.array_equal(fast, expected), f"{int((fast != expected).sum())} cells differ"
