"""The cells a track covers: the share of each raster cell lying within R metres of the track's kept lines, as a
small window of the raster around the track (0..255 per cell).

Cells well inside the band are found by stamping precomputed disks along the lines; the cells along the band's
edge (those with a neighbour on the other side) then get their share from their exact distance to the lines, as
anti-aliased drawing does. Without that, the band's edge moves by up to half a cell with the lattice: on a 45 m
grid beside a street walked along its edge, that alone is several percentage points.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.raster import DEFAULT_RADIUS_M, RasterSpec, stamp_margin_cells, to_metres

__all__ = ["FULL", "CoverageWindow", "track_coverage", "track_coverage_lonlat", "window_cells"]

FULL = 255  # a cell wholly within R
# Sub-cell positions of a sample are snapped to a PHASES x PHASES lattice, each with its own precomputed disk, so the
# stamped core is right to 1/8 cell; the band's edge cells are then measured exactly.
_PHASES = 8
# Bounds the (samples x disk cells) index block built at once: ~2^21 int64 = 16 MB.
_STAMP_BLOCK = 1 << 21
# nearest_distance_m's buckets: this many per reach (1: the 9 squares of the reach around a point).
_BUCKETS_PER_REACH = 1
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


@cache
def _phase_disks(cell_size_m: float, radius_m: float) -> tuple[tuple[NDArray[np.int64], NDArray[np.int64]], ...]:
    """For each sub-cell phase, (row, col) offsets of the cells whose centre lies within R of the phase centre."""
    margin = stamp_margin_cells(cell_size_m, radius_m)
    d = np.arange(-margin, margin + 1)
    dcol, drow = np.meshgrid(d, d)
    centre = (np.arange(_PHASES) + 0.5) / _PHASES  # phase centre within its cell, in cell units
    radius_cells = radius_m / cell_size_m
    disks = []
    for phase in range(_PHASES * _PHASES):
        fy, fx = divmod(phase, _PHASES)
        inside = (dcol + 0.5 - centre[fx]) ** 2 + (drow + 0.5 - centre[fy]) ** 2 <= radius_cells**2
        disks.append((drow[inside].astype(np.int64), dcol[inside].astype(np.int64)))
    return tuple(disks)


def _densify_m(x_m: NDArray[np.float64], y_m: NDArray[np.float64], breaks_before: NDArray[np.bool_],
               step_m: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points every ``step_m`` or closer along each segment inside a part, plus every fix (lone fixes too)."""
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
    return np.concatenate([sx, x_m]), np.concatenate([sy, y_m])


def _segments(x_m: NDArray[np.float64], y_m: NDArray[np.float64], breaks: NDArray[np.bool_]
              ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Ends (ax, ay, bx, by) of each kept segment; a fix alone in its part is a segment of length 0."""
    seg = np.flatnonzero(~breaks[1:])
    alone = np.flatnonzero(breaks & np.append(breaks[1:], True))
    a = np.concatenate([seg, alone])
    b = np.concatenate([seg + 1, alone])
    return x_m[a], y_m[a], x_m[b], y_m[b]


def nearest_distance_m(px: NDArray[np.float64], py: NDArray[np.float64], ax: NDArray[np.float64],
                       ay: NDArray[np.float64], bx: NDArray[np.float64], by: NDArray[np.float64],
                       reach_m: float) -> NDArray[np.float64]:
    """Distance from each point to the nearest segment (a, b), exact where it is at most ``reach_m``, +inf where no
    segment is that close.

    Segments are bucketed on a lattice of ``reach_m`` squares by the squares their box touches; each point is
    measured against the segments of its square and the 8 around it, all pairs at once (an R-tree's nearest query
    took 13 µs a point; finer squares cut the pairs but not the time).
    """
    out = np.full(px.size, np.inf)
    if px.size == 0 or ax.size == 0:
        return out
    size = reach_m / _BUCKETS_PER_REACH
    x0 = min(ax.min(), bx.min(), px.min()) - (_BUCKETS_PER_REACH + 1) * size
    y0 = min(ay.min(), by.min(), py.min()) - (_BUCKETS_PER_REACH + 1) * size
    c0 = np.floor((np.minimum(ax, bx) - x0) / size).astype(np.int64)
    c1 = np.floor((np.maximum(ax, bx) - x0) / size).astype(np.int64)
    r0 = np.floor((np.minimum(ay, by) - y0) / size).astype(np.int64)
    r1 = np.floor((np.maximum(ay, by) - y0) / size).astype(np.int64)
    ncols = int(np.floor((max(ax.max(), bx.max(), px.max()) - x0) / size)) + 2 * _BUCKETS_PER_REACH + 2
    # each segment in every bucket its box touches (almost always one: segments are a few metres)
    spans_c, spans_r = c1 - c0 + 1, r1 - r0 + 1
    per = spans_c * spans_r
    seg = np.repeat(np.arange(ax.size), per)
    k = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
    kr, kc = np.divmod(k, np.repeat(spans_c, per))
    bucket = (np.repeat(r0, per) + kr) * ncols + np.repeat(c0, per) + kc
    order = np.argsort(bucket, kind="stable")
    bucket, seg = bucket[order], seg[order]
    # the 9 buckets around each point, and the run of segments in each
    pc = np.floor((px - x0) / size).astype(np.int64)
    pr = np.floor((py - y0) / size).astype(np.int64)
    side = 2 * _BUCKETS_PER_REACH + 1
    dr, dc = np.divmod(np.arange(side * side), side)
    around = ((pr[:, None] + dr[None, :] - _BUCKETS_PER_REACH) * ncols
              + pc[:, None] + dc[None, :] - _BUCKETS_PER_REACH).ravel()
    lo, hi = np.searchsorted(bucket, around, "left"), np.searchsorted(bucket, around, "right")
    counts = hi - lo
    point = np.repeat(np.repeat(np.arange(px.size), side * side), counts)
    at = np.repeat(lo, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    s = seg[at]
    qx, qy = px[point], py[point]
    sx, sy = ax[s], ay[s]
    dx, dy = bx[s] - sx, by[s] - sy
    length2 = dx * dx + dy * dy
    t = np.clip(np.divide((qx - sx) * dx + (qy - sy) * dy, length2, out=np.zeros_like(length2),
                          where=length2 > 0), 0.0, 1.0)
    d = np.hypot(qx - (sx + t * dx), qy - (sy + t * dy))
    if d.size:  # pairs come grouped by point, in point order
        per_point = np.bincount(point, minlength=px.size)
        found = per_point > 0
        out[found] = np.minimum.reduceat(d, (np.cumsum(per_point) - per_point)[found])
    out[out > reach_m] = np.inf
    return out


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
    Each segment is sampled every half cell and a disk of cells whose centre lies within R is stamped at each
    sample (the union of disks reaches within 0.1 m of R between samples). Samples whose disk could leave the raster
    are dropped: the raster padding puts them more than R from the town. Cells on the edge of the stamped band, and
    the cells just outside it, then take the share ``clip(0.5 + (R - d) / cell, 0, 1)`` from the exact distance
    ``d`` of their centre to the lines: exact for a straight edge across the cell, and unbiased where it is not.

    Examples
    --------
    >>> from geo.raster import raster_spec_for_bounds
    >>> spec = raster_spec_for_bounds((115.5, 38.0, 115.51, 38.01))
    >>> track_coverage(spec, np.array([]), np.array([])).empty
    True
    >>> x, y = to_metres(spec, [115.505], [38.005])
    >>> round(float(track_coverage(spec, x, y).values.sum()) / 255 * 100)  # one fix: a disk of pi * 30² m²
    2827
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
    sx_m, sy_m = _densify_m(x_m, y_m, breaks, cs / 2.0)
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
    core = _stamp(col - col0, row - row0, u - col, v - row, w, h, cs, radius_m)
    values = np.where(core, np.uint8(FULL), np.uint8(0)).astype(np.uint8)

    edge = _band_edge(core)
    er, ec = np.nonzero(edge)
    if er.size:
        cx = spec.origin_x_m + (ec + col0 + 0.5) * cs
        cy = spec.origin_y_m + (er + row0 + 0.5) * cs
        # past R + half a cell the share is 0 whatever the distance
        distance_m = nearest_distance_m(cx, cy, *_segments(x_m, y_m, breaks), radius_m + cs / 2)
        share = np.clip(0.5 + (radius_m - distance_m) / cs, 0.0, 1.0)
        values[er, ec] = np.rint(share * FULL).astype(np.uint8)
    return CoverageWindow(row0, col0, values)


def _stamp(col: NDArray[np.int64], row: NDArray[np.int64], fu: NDArray[np.float64], fv: NDArray[np.float64],
           w: int, h: int, cell_size_m: float, radius_m: float) -> NDArray[np.bool_]:
    """Cells (of a w x h window) whose centre lies within R of a sample, sub-cell positions kept to 1/8 cell."""
    covered = np.zeros(w * h, dtype=bool)
    phase = (np.minimum((fv * _PHASES).astype(np.int64), _PHASES - 1) * _PHASES
             + np.minimum((fu * _PHASES).astype(np.int64), _PHASES - 1))
    cells = w * h
    # One key per (phase, cell): dense samples and a patrol standing still stamp each disk once; sorted by phase, so
    # each phase's disk is stamped over one contiguous slice.
    keys = np.sort(phase * cells + row * w + col)
    keys = keys[np.diff(keys, prepend=-1) != 0]
    bounds = np.searchsorted(keys, np.arange(_PHASES * _PHASES + 1) * cells)
    for p, (drow, dcol) in enumerate(_phase_disks(cell_size_m, radius_m)):
        at = keys[bounds[p]:bounds[p + 1]] - p * cells
        if at.size == 0 or drow.size == 0:
            continue
        offsets = drow * w + dcol
        block = max(1, _STAMP_BLOCK // offsets.size)
        for start in range(0, at.size, block):
            covered[(at[start:start + block, None] + offsets[None, :]).ravel()] = True
    return covered.reshape(h, w)


def _band_edge(core: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Cells of the stamped band with a 4-neighbour outside it, and cells outside it with a 4-neighbour inside:
    the only cells whose share can lie strictly between 0 and 1 (the band's edge crosses a cell in less than the
    7 m a 4-neighbour step moves away from a straight line, at any angle)."""
    inner = np.zeros_like(core)
    inner[1:-1, 1:-1] = core[1:-1, 1:-1] & core[:-2, 1:-1] & core[2:, 1:-1] & core[1:-1, :-2] & core[1:-1, 2:]
    near = np.zeros_like(core)
    near[1:, :] |= core[:-1, :]
    near[:-1, :] |= core[1:, :]
    near[:, 1:] |= core[:, :-1]
    near[:, :-1] |= core[:, 1:]
    return (core & ~inner) | (~core & near)


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

