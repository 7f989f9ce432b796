"""Adding a window of kept fixes of one patrol to the coverage: per region and local day, the share of each cell
within R of the lines (geo.track_cover) is merged into the patrol's own row, and its visits recorded with the
time of the first and last kept fix within R of each grid. Only the patrol's own rows are written, so batches of
different officers never wait on each other."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import cast

import lz4.block
import numpy as np
import shapely
from sqlalchemy.orm import Session

from geo.coverage import CoverageWindow, to_metres, track_coverage

from ...extensions.plain_sql import defer_plain, fetch_plain
from ...models import Patrol
from .coverage_days import local_day
from .coverage_regions import RegionRaster, region_map, region_raster

_VISIT_COLUMNS = 3  # grid_id, first_at, last_at (unix seconds)


def compress(data: bytes) -> bytes:
    # LZ4: a week's query decompresses a row per patrol-day, and zlib spent 0.8 ms on each.
    return lz4.block.compress(data, store_size=True)


def decompress(blob: bytes) -> bytes:
    return lz4.block.decompress(blob)


def visits_of(blob: bytes | None) -> np.ndarray:
    if not blob:
        return np.zeros((0, _VISIT_COLUMNS), dtype=np.int64)
    return np.frombuffer(decompress(blob), dtype="<i8").reshape(-1, _VISIT_COLUMNS)


def window_of(raster: RegionRaster, col0: int, row0: int, width: int, height: int, cells: bytes) -> CoverageWindow:
    """A stored window (lattice units) over the region's current raster, cut to it."""
    values = np.frombuffer(decompress(cells), dtype=np.uint8).reshape(height, width)
    c0, r0 = col0 - raster.lattice_col0, row0 - raster.lattice_row0
    spec = raster.spec
    lo_c, lo_r = max(c0, 0), max(r0, 0)
    hi_c, hi_r = min(c0 + width, spec.width), min(r0 + height, spec.height)
    if hi_c <= lo_c or hi_r <= lo_r:
        return CoverageWindow(0, 0, np.zeros((0, 0), dtype=np.uint8))
    return CoverageWindow(lo_r, lo_c, values[lo_r - r0:hi_r - r0, lo_c - c0:hi_c - c0])


def add_kept_fixes(session: Session, patrol: Patrol, t_unix_s: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                   breaks_before: np.ndarray) -> None:
    """Add the lines through these kept fixes (in order, one patrol) to the patrol's coverage of every region they
    reach, per local day. Fix 0 starts a line; a line crossing local midnight counts on the day it reaches."""
    if lon.size == 0:
        return
    for region_id in region_map(session).regions_near(lon, lat):
        raster = region_raster(session, region_id)
        if raster is not None:
            _add_to_region(session, raster, patrol, t_unix_s, *to_metres(raster.spec, lon, lat), breaks_before)


def _add_to_region(session: Session, raster: RegionRaster, patrol: Patrol, t_unix_s: np.ndarray, x_m: np.ndarray,
                   y_m: np.ndarray, breaks_before: np.ndarray) -> None:
    days = local_day(t_unix_s)
    for day in np.unique(days):
        on_day = np.flatnonzero(days == day)
        first = on_day[0]
        take = on_day
        breaks = breaks_before[on_day].copy()
        if first > 0 and not breaks_before[first]:  # the segment reaching this day from the previous fix
            take = np.concatenate([[first - 1], on_day])
            breaks = np.concatenate([[True], [False], breaks[1:]])
        breaks[0] = True
        window = track_coverage(raster.spec, x_m[take], y_m[take], breaks, raster.radius_m)
        lines = track_lines(x_m[take], y_m[take], breaks)
        touched = np.unique(near_pairs(raster, lines)[1])
        if window.empty or touched.size == 0:
            continue  # near the region, but within R of none of its grids
        first_at, last_at = visit_times(raster, touched, t_unix_s[take], x_m[take], y_m[take], breaks)
        visits = np.column_stack([raster.grid_ids[touched], first_at, last_at]).astype(np.int64)
        _merge_patrol_day(session, raster, patrol, day.astype(date), window, visits)
        _record_visits(session, patrol, day.astype(date), visits)


def track_lines(x_m: np.ndarray, y_m: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """Each kept segment as a two-point line and each fix alone in its part as a point (shapely geometries)."""
    seg = np.flatnonzero(~breaks[1:])
    alone = np.flatnonzero(breaks & np.append(breaks[1:], True))
    # casts, here and below: for an array of coordinates shapely returns an array, its stubs a line or an array
    lines = cast(np.ndarray, shapely.linestrings(np.stack([np.column_stack([x_m[seg], y_m[seg]]),
                                                           np.column_stack([x_m[seg + 1], y_m[seg + 1]])], axis=1))
                 ) if seg.size else np.zeros(0, dtype=object)
    return np.concatenate([lines, shapely.points(x_m[alone], y_m[alone])]) if alone.size else lines


def near_pairs(raster: RegionRaster, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(geometry index, grid position) of each geometry within R of a grid: each grid's prepared R-buffer tested
    against the geometries whose boxes meet it, grid by grid. The same pairs as GEOS's distance test per pair
    (STRtree dwithin) but near a grid's corners (NEAR_QUAD_SEGS), in a third of its time (~4 of 12 ms a batch)."""
    geom_at, grid_at = raster.near_tree.query(geoms)  # boxes only
    if grid_at.size == 0:
        return geom_at, grid_at
    order = np.argsort(grid_at, kind="stable")
    geom_at, grid_at = geom_at[order], grid_at[order]
    starts = np.flatnonzero(np.concatenate([[True], np.diff(grid_at) != 0]))
    keep = np.empty(grid_at.size, dtype=bool)
    for a, b in zip(starts, np.append(starts[1:], grid_at.size), strict=True):
        keep[a:b] = shapely.intersects(raster.near_m[grid_at[a]], geoms[geom_at[a:b]])
    return geom_at[keep], grid_at[keep]


def visit_times(raster: RegionRaster, touched: np.ndarray, t_unix_s: np.ndarray, x_m: np.ndarray, y_m: np.ndarray,
                breaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last time each touched grid (positions; the lines came within R of it) was visited: the times of
    the kept fixes within R of the grid; for a grid only a segment's middle came near (a fast stretch between two
    fixes), the time the segment passed closest."""
    first = np.full(touched.size, np.inf)
    last = np.full(touched.size, -np.inf)
    fix, grid = near_pairs(raster, cast(np.ndarray, shapely.points(x_m, y_m)))
    at = np.searchsorted(touched, grid)
    hit = (at < touched.size) & (touched[np.minimum(at, touched.size - 1)] == grid)
    np.minimum.at(first, at[hit], t_unix_s[fix[hit]])
    np.maximum.at(last, at[hit], t_unix_s[fix[hit]])
    missing = np.flatnonzero(~np.isfinite(first))
    if missing.size:
        _closest_passes(raster, touched, missing, first, last, t_unix_s, x_m, y_m, breaks)
    return first, last


def _closest_passes(raster: RegionRaster, touched: np.ndarray, missing: np.ndarray, first: np.ndarray,
                    last: np.ndarray, t_unix_s: np.ndarray, x_m: np.ndarray, y_m: np.ndarray, breaks: np.ndarray
                    ) -> None:
    """For grids no kept fix came within R of: when the segment passing within R of it was closest to it."""
    seg = np.flatnonzero(~breaks[1:])
    lines = cast(np.ndarray, shapely.linestrings(np.stack([np.column_stack([x_m[seg], y_m[seg]]),
                                                           np.column_stack([x_m[seg + 1], y_m[seg + 1]])], axis=1)))
    grids = raster.grids_m[touched[missing]]
    grid_of, line_of = shapely.STRtree(lines).query(grids, predicate="dwithin", distance=raster.radius_m)
    nearest = shapely.get_point(shapely.shortest_line(lines[line_of], grids[grid_of]), 0)
    share = shapely.line_locate_point(lines[line_of], nearest, normalized=True)
    k = seg[line_of]
    t = t_unix_s[k] + share * (t_unix_s[k + 1] - t_unix_s[k])
    np.minimum.at(first, missing[grid_of], t)
    np.maximum.at(last, missing[grid_of], t)


def _merge_patrol_day(session: Session, raster: RegionRaster, patrol: Patrol, day: date, window: CoverageWindow,
                      visits: np.ndarray) -> None:
    stored = fetch_plain(session, "SELECT id, col0, row0, width, height, cells, visits FROM coverage_patrol_days "
                                  "WHERE patrol_id = :patrol AND day = :day AND region_id = :region",
                         {"patrol": patrol.id, "day": day, "region": raster.region_id})
    now = datetime.now(UTC)
    if stored:
        row = stored[0]
        window = window_of(raster, row.col0, row.row0, row.width, row.height, row.cells).union(window)
        visits = merge_visits(visits_of(row.visits), visits)
    h, w = window.values.shape
    values = {"col0": window.col0 + raster.lattice_col0, "row0": window.row0 + raster.lattice_row0, "width": w,
              "height": h, "cells": compress(np.ascontiguousarray(window.values).tobytes()),
              "visits": compress(visits.astype("<i8").tobytes()), "updated_at": now}
    if stored:
        defer_plain(session, _UPDATE, {**values, "id": stored[0].id})
    else:
        defer_plain(session, _INSERT, {**values, "patrol": patrol.id, "day": day, "region": raster.region_id,
                                       "officer": patrol.officer_id, "squad": patrol.squad_id})


_COLUMNS = ("col0", "row0", "width", "height", "cells", "visits", "updated_at")
_UPDATE = f"UPDATE coverage_patrol_days SET {', '.join(f'{c} = :{c}' for c in _COLUMNS)} WHERE id = :id"
_INSERT = ("INSERT INTO coverage_patrol_days (patrol_id, day, region_id, officer_id, squad_id, "
           f"{', '.join(_COLUMNS)}) VALUES (:patrol, :day, :region, :officer, :squad, "
           f"{', '.join(':' + c for c in _COLUMNS)})")


def merge_visits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One row per grid: the earliest first and the latest last time."""
    rows = np.concatenate([a, b])
    if rows.size == 0:
        return rows.reshape(0, _VISIT_COLUMNS)
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    starts = np.flatnonzero(np.concatenate([[True], np.diff(rows[:, 0]) != 0]))
    merged = rows[starts].copy()
    merged[:, 1] = np.minimum.reduceat(rows[:, 1], starts)
    merged[:, 2] = np.maximum.reduceat(rows[:, 2], starts)
    return merged


def _record_visits(session: Session, patrol: Patrol, day: date, visits: np.ndarray) -> None:
    """Upsert the visits in one statement per slice (the stored first and last times are widened in SQL)."""
    dialect = session.get_bind().dialect.name
    rows = visits.tolist()
    for start in range(0, len(rows), _VISITS_PER_STATEMENT):
        part = rows[start:start + _VISITS_PER_STATEMENT]
        params: dict = {"patrol": patrol.id, "day": day, "officer": patrol.officer_id, "squad": patrol.squad_id}
        values = []
        for k, (grid_id, first_at, last_at) in enumerate(part):
            values.append(f"(:patrol, :g{k}, :day, :officer, :squad, :f{k}, :l{k})")
            params[f"g{k}"] = grid_id
            params[f"f{k}"] = datetime.fromtimestamp(first_at, UTC)
            params[f"l{k}"] = datetime.fromtimestamp(last_at, UTC)
        defer_plain(session, _VISITS_UPSERT[dialect].format(values=", ".join(values)), params)


_VISITS_PER_STATEMENT = 500

# The stored first and last times widen; SQLite's two-argument min and max compare its ISO text in time order.
_VISITS_UPSERT = {dialect: (
    "INSERT INTO patrol_grid_visits (patrol_id, grid_id, day, officer_id, squad_id, first_at, last_at) "
    "VALUES {values} ON CONFLICT (patrol_id, grid_id, day) DO UPDATE SET "
    f"first_at = {earliest}(patrol_grid_visits.first_at, excluded.first_at), "
    f"last_at = {latest}(patrol_grid_visits.last_at, excluded.last_at)")
    for dialect, earliest, latest in (("postgresql", "least", "greatest"), ("sqlite", "min", "max"))}
