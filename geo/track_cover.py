"""The cells a track covers: the share of each raster cell lying within R metres of the track's kept lines, as a
small window of the raster around the track (0..255 per cell).

Samples every 0.7 cell along the lines stamp precomputed disks whose cells carry their share of the band, from
their distance to the sample, as anti-aliased drawing does; a cell keeps the highest share any sample gives it.
Counting a cell whole or not at all by its centre moves the band's edge by up to half a cell with the lattice: on
a 45 m grid beside a street walked along its edge, that alone was several percentage points.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.raster import DEFAULT_RADIUS_M, RasterSpec, stamp_margin_cells, to_metres

__all__ = ["FULL", "CoverageWindow", "square_share", "track_coverage", "track_coverage_lonlat",
           "window_cells"]

FULL = 255  # a cell wholly within R
# Sub-cell positions of a sample are snapped to a PHASES x PHASES lattice, each with its own precomputed table of the
# cells it reaches and their shares: 1/32 cell (0.3 m). A coarser lattice moves a street's band by a constant amount
# all along it when the street runs along the lattice's axes (1/8 cell: up to 0.6 m, 1.4 pp on a 45 m block); the
# tables are stamped in one step whatever their number, so the finer lattice costs only memory (1,024 tables).
_PHASES = 32
# A cell on the band's edge takes its share from its nearest sample among the several within reach, each snapped by
# up to half a phase: the nearest of them tends to be a little too near. Samples apart, on the other hand, lie up to
# s²/8R further from a cell than the line between them (0.2 m at 7 m). Measured on street blocks walked along their
# streets (tests/geo/test_street_coverage.py) and the demo town's drives (bench), no correction serves best.
_SNAP_BIAS_M = 0.0
# Samples along a segment are at most this many cells apart.
_SAMPLE_STEP_CELLS = 0.7
# The (samples x disk cells) index block built and stamped at once: 2^16 int32 = 256 KB, so the indices are still in
# the L2 cache when maximum.at reads them back. Blocks of 2^21 (8 MB) made a township-day's stamping 80 ms, not 45.
_STAMP_BLOCK = 1 << 16
# A kept segment is never this long in a township; past it the input is not a cleaned track.
_MAX_SAMPLES = 50_000_000


@dataclass(frozen=True)
class CoverageWindow:
    """Coverage of the raster cells [row0, row0 + h) x [col0, col0 + w): ``values[i, j]`` is the share (0..255)
    of cell (row0 + i, col0 + j) within R of the lines. Zero outside the window."""

    row0: int
    col0: int
    values: NDArray[np.uint8]

    @property
    def empty(self) -> bool:
        return self.values.size == 0 or not self.values.any()

    def max_into(self, spec: RasterSpec, out: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """``out`` (the raster's cells, flat) raised to this window's values where they are higher."""
        h, w = self.values.shape
        if h and w:
            grid = out.reshape(spec.height, spec.width)
            view = grid[self.row0:self.row0 + h, self.col0:self.col0 + w]
            np.maximum(view, self.values, out=view)
        return out

    def full(self, spec: RasterSpec) -> NDArray[np.uint8]:
        return self.max_into(spec, np.zeros(spec.cell_count, dtype=np.uint8))

    def union(self, other: CoverageWindow) -> CoverageWindow:
        """The higher share of each cell of both windows, over a window holding both."""
        if other.values.size == 0:
            return self
        if self.values.size == 0:
            return other
        r0, c0 = min(self.row0, other.row0), min(self.col0, other.col0)
        r1 = max(self.row0 + self.values.shape[0], other.row0 + other.values.shape[0])
        c1 = max(self.col0 + self.values.shape[1], other.col0 + other.values.shape[1])
        merged = np.zeros((r1 - r0, c1 - c0), dtype=np.uint8)
        for window in (self, other):
            h, w = window.values.shape
            view = merged[window.row0 - r0:window.row0 - r0 + h, window.col0 - c0:window.col0 - c0 + w]
            np.maximum(view, window.values, out=view)
        return CoverageWindow(r0, c0, merged)


def _empty() -> CoverageWindow:
    return CoverageWindow(0, 0, np.zeros((0, 0), dtype=np.uint8))


def _densify_m(x_m: NDArray[np.float64], y_m: NDArray[np.float64], breaks_before: NDArray[np.bool_],
               step_m: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points every ``step_m`` or closer along each segment inside a part, from the segment's first fix, plus each
    fix that starts no finite segment (a part's last fix, lone fixes): every fix once."""
    seg = np.flatnonzero(~breaks_before[1:])  # segment i -> i + 1 exists unless i + 1 starts a new part
    dx_m, dy_m = x_m[seg + 1] - x_m[seg], y_m[seg + 1] - y_m[seg]
    length_m = np.hypot(dx_m, dy_m)
    n = np.where(np.isfinite(length_m), np.ceil(length_m / step_m), 1.0)
    if n.sum() > _MAX_SAMPLES:
        raise ValueError("track too long to rasterize: are these kept fixes of one township's tracks?")
    n = np.maximum(n, 1.0).astype(np.int64)
    start = np.cumsum(n) - n
    t = (np.arange(n.sum()) - np.repeat(start, n)) / np.repeat(n, n)
    owner = np.repeat(np.arange(seg.size), n)
    sx = x_m[seg][owner] + t * dx_m[owner]
    sy = y_m[seg][owner] + t * dy_m[owner]
    rest = np.ones(x_m.size, dtype=bool)
    rest[seg[np.isfinite(length_m)]] = False  # these fixes are their segment's sample at t = 0
    return np.concatenate([sx, x_m[rest]]), np.concatenate([sy, y_m[rest]])


def track_coverage(spec: RasterSpec, x_m: NDArray[np.float64], y_m: NDArray[np.float64],
                   breaks_before: ArrayLike | None = None, radius_m: float = DEFAULT_RADIUS_M) -> CoverageWindow:
    """The share of each cell within ``radius_m`` of the lines through kept fixes (in the raster's metres).

    Parameters
    ----------
    spec : RasterSpec
    x_m, y_m : ndarray
        Kept fixes of one or more tracks in the raster's metres (geo.raster.to_metres), in order.
    breaks_before : array_like of bool, optional
        True where a fix starts a new part (``CleanTrack.breaks_before``): no line joins it to the fix before.
        Fix 0 always starts a part. ``None``: one part.
    radius_m : float
        Coverage radius; at most ``spec.max_radius_m``.

    Notes
    -----
    Each segment is sampled every 0.7 cell (the union of disks reaches within 0.2 m of R between samples; walking
    fixes are closer than that anyway, and half-cell sampling cost a third more time for 0.02 pp) and each
    sample stamps the cells within R + half a cell of it with their share, ``clip(0.5 + (R - d) / cell, 0, 1)`` for
    a cell whose centre lies ``d`` from the sample across the direction to it (square_share); a cell keeps its
    highest share. Where the bands of two lines meet inside a cell from opposite sides (two streets about 2R apart),
    each covers its own part of the cell and the highest share is less than their union: such cells are counted
    short, never over. Samples whose disk could leave the raster are dropped: the raster padding puts them
    more than R from the town.

    Examples
    --------
    >>> from geo.raster import raster_spec_for_bounds
    >>> spec = raster_spec_for_bounds((115.5, 38.0, 115.51, 38.01))
    >>> track_coverage(spec, np.array([]), np.array([])).empty
    True
    >>> x, y = to_metres(spec, [115.505], [38.005])
    >>> round(float(track_coverage(spec, x, y).values.sum()) / 255 * 100)  # one fix: a disk of pi * 30² = 2827 m²
    2853
    """
    if radius_m > spec.max_radius_m:
        raise ValueError(f"radius_m {radius_m} exceeds the {spec.max_radius_m} m the raster is padded for")
    if x_m.size == 0:
        return _empty()
    breaks = np.zeros(x_m.size, dtype=bool) if breaks_before is None else np.asarray(breaks_before, bool).ravel().copy()
    if breaks.size != x_m.size:
        raise ValueError("breaks_before differs in length from the fixes")
    breaks[0] = True
    cs = spec.cell_size_m
    sx_m, sy_m = _densify_m(x_m, y_m, breaks, cs * _SAMPLE_STEP_CELLS)
    u, v = (sx_m - spec.origin_x_m) / cs, (sy_m - spec.origin_y_m) / cs
    margin = stamp_margin_cells(cs, radius_m)
    keep = (u >= margin) & (u < spec.width - margin) & (v >= margin) & (v < spec.height - margin)  # also drops NaN
    if not keep.any():
        return _empty()
    u, v = u[keep], v[keep]
    col, row = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)
    # The window: the samples' cells and every cell their disks and the edge cells around them can reach.
    pad = margin + 1
    col0, row0 = max(int(col.min()) - pad, 0), max(int(row.min()) - pad, 0)
    w = min(int(col.max()) + pad + 1, spec.width) - col0
    h = min(int(row.max()) + pad + 1, spec.height) - row0
    values = _stamp_shares(col - col0, row - row0, u - col, v - row, w, h, cs, radius_m)
    return CoverageWindow(row0, col0, values)


def square_share(nx: NDArray[np.float64], ny: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """The share of a unit cell (centred at 0) on the near side of a straight edge across the direction (nx, ny): the
    points q with n . q <= t, n the unit vector along (nx, ny), t in cells.

    Exact for any direction: along the lattice's axes the share is linear in t (0.5 + t), but at 45° it is not, and
    a street at 45° crosses every cell along it at the same offset, so a linear share there moved the band's edge
    consistently (a 1 pp bias on 45 m blocks).

    Examples
    --------
    >>> float(square_share(np.array(1.0), np.array(0.0), np.array(0.25)))
    0.75
    >>> round(float(square_share(np.array(1.0), np.array(1.0), np.array(0.5 ** 0.5 / 2))), 6)  # 45°
    0.875
    """
    norm = np.hypot(nx, ny)
    a = np.abs(np.divide(nx, norm, out=np.ones_like(norm), where=norm > 0))
    b = np.abs(np.divide(ny, norm, out=np.zeros_like(norm), where=norm > 0))
    a, b = np.maximum(a, b), np.minimum(a, b)
    t0, t1 = (a + b) / 2, (a - b) / 2
    ab2 = np.maximum(2 * a * b, 1e-12)
    share = np.where(t <= -t0, 0.0,
            np.where(t <= -t1, (t + t0) ** 2 / ab2,
            np.where(t <= t1, 0.5 + t / a,
            np.where(t < t0, 1.0 - (t0 - t) ** 2 / ab2, 1.0))))
    return np.clip(share, 0.0, 1.0)


@cache
def _phase_shares(cell_size_m: float, radius_m: float, phases: int
                  ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.uint8]]:
    """For each sub-cell phase (row), the (row, col) offsets of the cells a sample there reaches and each one's share
    within R of the sample, times FULL: the share of the cell on the sample's side of a straight band edge R from the
    sample, across the direction from the sample to the cell (square_share). Rows are padded to one length with
    share 0 (which changes nothing), so every sample is stamped in one vectorised step."""
    radius_m -= _SNAP_BIAS_M
    margin = stamp_margin_cells(cell_size_m, radius_m + _SNAP_BIAS_M)
    d = np.arange(-margin, margin + 1)
    dcol, drow = np.meshgrid(d, d)
    centre = (np.arange(phases) + 0.5) / phases  # phase centre within its cell, in cell units
    rows = []
    for phase in range(phases * phases):
        fy, fx = divmod(phase, phases)
        dx, dy = dcol + 0.5 - centre[fx], drow + 0.5 - centre[fy]  # sample -> cell centre, in cells
        distance = np.hypot(dx, dy)
        share = np.rint(square_share(dx, dy, radius_m / cell_size_m - distance) * FULL).astype(np.uint8)
        reached = share > 0
        rows.append((drow[reached], dcol[reached], share[reached]))
    k = max(r[0].size for r in rows)
    out_row, out_col = np.zeros((len(rows), k), dtype=np.int64), np.zeros((len(rows), k), dtype=np.int64)
    out_share = np.zeros((len(rows), k), dtype=np.uint8)
    for i, (dr, dc, sh) in enumerate(rows):
        out_row[i, :dr.size], out_col[i, :dc.size], out_share[i, :sh.size] = dr, dc, sh
    return out_row, out_col, out_share


def _stamp_shares(col: NDArray[np.int64], row: NDArray[np.int64], fu: NDArray[np.float64], fv: NDArray[np.float64],
                  w: int, h: int, cell_size_m: float, radius_m: float) -> NDArray[np.uint8]:
    """The highest share each cell (of a w x h window) takes from any sample, sample positions kept to 1/PHASES
    of a cell: a cell's share from its nearest sample, as the band's edge crosses it."""
    values = np.zeros(w * h, dtype=np.uint8)
    phase = (np.minimum((fv * _PHASES).astype(np.int64), _PHASES - 1) * _PHASES
             + np.minimum((fu * _PHASES).astype(np.int64), _PHASES - 1))
    cells = w * h
    # A patrol standing still stamps once: repeated (phase, cell) keys in a row are dropped. Not sorted: the samples
    # come in track order, so their stamps already fall near one another, and sorting cost more than it saved.
    keys = phase * cells + row * w + col
    keys = keys[np.diff(keys, prepend=-1) != 0]
    phase_of, cell_of = np.divmod(keys, cells)
    cell_of = cell_of.astype(np.int32)  # 32-bit indices: building them is three times faster than 64-bit
    drow, dcol, share = _phase_shares(cell_size_m, radius_m, _PHASES)
    flat = (drow * w + dcol).astype(np.int32)
    block = max(1, _STAMP_BLOCK // flat.shape[1])
    for start in range(0, keys.size, block):
        p, c = phase_of[start:start + block], cell_of[start:start + block]
        np.maximum.at(values, (c[:, None] + flat[p]).ravel(), share[p].ravel())
    return values.reshape(h, w)


def track_coverage_lonlat(spec: RasterSpec, lon: ArrayLike, lat: ArrayLike, breaks_before: ArrayLike | None = None,
                          radius_m: float = DEFAULT_RADIUS_M) -> CoverageWindow:
    """track_coverage for kept fixes in WGS-84 degrees."""
    lon_a = np.asarray(lon, dtype=np.float64).ravel()
    lat_a = np.asarray(lat, dtype=np.float64).ravel()
    if lon_a.size != lat_a.size:
        raise ValueError("lon and lat differ in length")
    return track_coverage(spec, *to_metres(spec, lon_a, lat_a), breaks_before, radius_m)


def window_cells(window: CoverageWindow, spec: RasterSpec) -> NDArray[np.int64]:
    """Raster cell ids of the window's cells, row-major (the window's values.ravel() order)."""
    h, w = window.values.shape
    rows = np.arange(window.row0, window.row0 + h)
    cols = np.arange(window.col0, window.col0 + w)
    return (rows[:, None] * spec.width + cols[None, :]).ravel()

