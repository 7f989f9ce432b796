"""Coverage per grid and local day, kept up to date batch by batch.

The town raster (geo.coverage) is built once per process from the grids and the stored lattice. Each batch's kept
lines are stamped into it and ORed into the day's town-wide bitmaps for everyone, the squad and the officer
(`CoverageDay`), so a day or week query reads at most one row per day, whatever the number of patrols or grids.
`PatrolGridVisit` keeps who came near which grid and when; the day's 'all' row carries the same as a compact
blob for fast counting.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from functools import cache
from time import monotonic
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, UTC
from zoneinfo import ZoneInfo

import lz4.block
import numpy as np
import shapely
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo.coverage import (
    DEFAULT_CELL_SIZE_M, DEFAULT_RADIUS_M, GridCellIndex, RasterSpec, cells_of_metres, grid_cell_index,
    rasterize_track_coverage_metres, raster_spec_for_bounds, to_metres,
)

from ...extensions.database import dialect_insert
from ...extensions.plain_sql import defer_plain, fetch_plain
from ...models import Area, CoverageDay, CoverageLattice, Patrol, PatrolGridVisit

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # coverage days are the squad's working days


def local_day(t_unix_s: np.ndarray) -> np.ndarray:
    """Local (Asia/Shanghai, UTC+8 all year: China has no daylight saving) day number of each time, as
    numpy datetime64[D]."""
    return (np.asarray(t_unix_s, dtype=np.float64) + 8 * 3600).astype("datetime64[s]").astype("datetime64[D]")


def day_bounds_utc(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), LOCAL_TZ).astimezone(UTC)
    return start, start + timedelta(days=1)


def today_local(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(LOCAL_TZ).date()


@dataclass(frozen=True)
class TownRaster:
    """The raster, each grid's cells, and lookups between grid ids and positions in the index."""

    key: tuple
    spec: RasterSpec
    index: GridCellIndex
    grid_ids: np.ndarray
    area_m2: np.ndarray
    position: dict[int, int]
    radius_m: float


_rasters: dict[str, TownRaster] = {}
_rasters_lock = threading.Lock()


_RECHECK_S = 5.0  # how stale another process's grid import may be seen; this process's own is seen at once
_checked_at: dict[str, float] = {}


def forget_rasters() -> None:
    """Called after grids change in this process, so the next request rebuilds the raster."""
    _checked_at.clear()


def town_raster(session: Session) -> TownRaster | None:
    """The current town raster (None before any grid exists). Rebuilt when grids are added or removed; the
    grids are looked at no more than every few seconds (two queries a batch were 2 ms of ~35)."""
    db_key = str(session.get_bind().url)
    cached = _rasters.get(db_key)
    if cached is not None and monotonic() - _checked_at.get(db_key, -_RECHECK_S) < _RECHECK_S:
        return cached
    raster = _current_raster(session, db_key)
    _checked_at[db_key] = monotonic()
    return raster


def _current_raster(session: Session, db_key: str) -> TownRaster | None:
    count, max_id = session.execute(select(func.count(Area.id), func.max(Area.id)).where(Area.kind == "grid")).one()
    if not count:
        return None
    lattice = _lattice(session)
    key = (count, max_id, lattice.id, lattice.centre_lon, lattice.centre_lat, lattice.cell_size_m, lattice.radius_m)
    cached = _rasters.get(db_key)
    if cached is not None and cached.key == key:
        return cached
    with _rasters_lock:
        cached = _rasters.get(db_key)
        if cached is None or cached.key != key:
            cached = _build_raster(session, key, lattice)
            _rasters[db_key] = cached
    return cached


def _lattice(session: Session) -> CoverageLattice:
    lattice = session.get(CoverageLattice, 1)
    if lattice is not None:
        return lattice
    min_lon, min_lat, max_lon, max_lat = session.execute(
        select(func.min(Area.min_lon), func.min(Area.min_lat), func.max(Area.max_lon), func.max(Area.max_lat))
        .where(Area.kind == "grid")).one()
    lattice = CoverageLattice(id=1, centre_lon=round((min_lon + max_lon) / 2, 6),
                              centre_lat=round((min_lat + max_lat) / 2, 6),
                              cell_size_m=DEFAULT_CELL_SIZE_M, radius_m=DEFAULT_RADIUS_M)
    try:
        with session.begin_nested():
            session.add(lattice)
    except IntegrityError:  # another worker fixed it first
        lattice = session.get(CoverageLattice, 1, populate_existing=True)
    return lattice


def _build_raster(session: Session, key: tuple, lattice: CoverageLattice) -> TownRaster:
    rows = session.execute(select(Area.id, func.ST_AsBinary(Area.geom), Area.area_m2, Area.min_lon, Area.min_lat,
                                  Area.max_lon, Area.max_lat).where(Area.kind == "grid").order_by(Area.id)).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    geoms = shapely.from_wkb([bytes(r[1]) for r in rows])
    bounds = (min(r[3] for r in rows), min(r[4] for r in rows), max(r[5] for r in rows), max(r[6] for r in rows))
    spec = raster_spec_for_bounds(bounds, radius_m=lattice.radius_m, cell_size_m=lattice.cell_size_m,
                                  centre_lonlat=(lattice.centre_lon, lattice.centre_lat))
    index = grid_cell_index(spec, geoms).prepare()
    spec.fitted_from_lonlat  # noqa: B018 - fitted now (~70 ms), not in the first batch that projects fixes
    return TownRaster(key, spec, index, ids, np.array([r[2] for r in rows], dtype=np.float64),
                      {int(g): i for i, g in enumerate(ids)}, lattice.radius_m)


# ---- the day rows ------------------------------------------------------------------------------------------

ALL, SQUAD, OFFICER = "all", "squad", "officer"
_VISIT_COLUMNS = 6  # grid_id, patrol_id, officer_id, squad_id (-1: none), first_at, last_at (unix seconds)


# Blobs are LZ4: a week's query decompresses 14 of them, and zlib spent 0.8 ms on each (LZ4: about 0.1 ms).
def _compress(data: bytes) -> bytes:
    return lz4.block.compress(data, store_size=True)


def _decompress(blob: bytes) -> bytes:
    return lz4.block.decompress(blob)


def _extent(raster: TownRaster) -> tuple[int, int, int, int]:
    spec = raster.spec
    return (round(spec.origin_x_m / spec.cell_size_m), round(spec.origin_y_m / spec.cell_size_m),
            spec.width, spec.height)


def _packed_cells(raster: TownRaster, row) -> np.ndarray:
    """A stored row's cells as a packed mask over the current raster."""
    return _relaid(raster, (row.col0, row.row0, row.width, row.height),
                   np.frombuffer(_decompress(row.cells), dtype=np.uint8))


def _relaid(raster: TownRaster, extent: tuple[int, int, int, int], packed: np.ndarray) -> np.ndarray:
    """Packed cells stored over `extent`, over the current raster (re-laid out if grids changed its extent)."""
    col0, row0, width, height = _extent(raster)
    old_col0, old_row0, old_width, old_height = extent
    if extent == (col0, row0, width, height):
        return packed
    old = np.unpackbits(packed, count=old_width * old_height).reshape(old_height, old_width)
    new = np.zeros((height, width), dtype=np.uint8)
    c0, r0 = max(col0, old_col0), max(row0, old_row0)
    c1, r1 = min(col0 + width, old_col0 + old_width), min(row0 + height, old_row0 + old_height)
    if c1 > c0 and r1 > r0:
        new[r0 - row0:r1 - row0, c0 - col0:c1 - col0] = old[r0 - old_row0:r1 - old_row0, c0 - old_col0:c1 - old_col0]
    return np.packbits(new.ravel())


def _scopes(patrol: Patrol) -> list[tuple[str, int]]:
    scopes = [(ALL, 0), (OFFICER, patrol.officer_id)]
    if patrol.squad_id is not None:
        scopes.append((SQUAD, patrol.squad_id))
    return scopes


def _day_rows(session: Session, day: date, scopes: list[tuple[str, int]]) -> dict[tuple[str, int], tuple]:
    """The day's stored rows of these scopes, locked until commit (PostgreSQL; SQLite's writer holds the file)."""
    sql = ("SELECT id, scope, scope_id, col0, row0, width, height, cells, visits FROM coverage_days WHERE day = ? AND ("
           + " OR ".join(["(scope = ? AND scope_id = ?)"] * len(scopes)) + ")")
    if session.get_bind().dialect.name == "postgresql":
        sql += " FOR UPDATE"
    rows = fetch_plain(session, sql, (day, *(v for scope in scopes for v in scope)))
    return {(row.scope, row.scope_id): row for row in rows}


# ---- writing: a window of kept fixes of one patrol ------------------------------------------------------------

def add_kept_fixes(session: Session, patrol: Patrol, t_unix_s: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                   breaks_before: np.ndarray) -> None:
    """OR the lines through these kept fixes (in order, one patrol) into the day's bitmaps (everyone, the
    squad, the officer) and record the visits. Fix 0 starts a line; a line crossing local midnight counts on
    the day it reaches."""
    raster = town_raster(session)
    if raster is None or lon.size == 0:
        return
    x_m, y_m = to_metres(raster.spec, lon, lat)
    days = local_day(t_unix_s)
    for day in np.unique(days):
        on_day = np.flatnonzero(days == day)
        first = on_day[0]
        take = on_day
        breaks = breaks_before[on_day].copy()
        if first > 0 and not breaks_before[first]:  # the segment reaching this day from the previous fix
            take = np.concatenate([[first - 1], on_day])
            breaks = np.concatenate([[True], [False], breaks[1:]])
        mask = rasterize_track_coverage_metres(raster.spec, x_m[take], y_m[take], breaks, raster.radius_m)
        fix_grid = raster.index.grid_of_cells(cells_of_metres(raster.spec, x_m[on_day], y_m[on_day]))
        _merge_day(session, raster, patrol, day.astype(date), mask, t_unix_s[on_day], fix_grid)


def _merge_day(session: Session, raster: TownRaster, patrol: Patrol, day: date, mask: np.ndarray,
               t_unix_s: np.ndarray, fix_grid: np.ndarray) -> None:
    touched = np.flatnonzero(raster.index.covered_cells(mask))
    if touched.size == 0:
        return
    packed = np.packbits(mask)
    scopes = _scopes(patrol)
    rows = _day_rows(session, day, scopes)
    extent = dict(zip(("col0", "row0", "width", "height"), _extent(raster), strict=True))
    new_visits = _record_visits(session, raster, patrol, day, touched, t_unix_s, fix_grid)
    now = datetime.now(UTC)

    def merged_values(scope: str, row) -> dict:
        merged = packed if row is None else np.bitwise_or(_packed_cells(raster, row), packed)
        return {**extent, "cells": _compress(merged.tobytes()), "updated_at": now,
                "visits": _merge_visits(row.visits if row else None, new_visits) if scope == ALL else None}

    missing = [scope for scope in scopes if scope not in rows]
    if missing:
        # The day's first batch for these scopes. Another officer's first batch may be creating the same rows
        # right now (PostgreSQL): ours then conflicts, does nothing, and is merged into theirs below.
        created = {(r.scope, r.scope_id) for r in session.execute(
            _day_rows_insert(session.get_bind().dialect.name),
            [{"day": day, "scope": scope, "scope_id": scope_id, **merged_values(scope, None)}
             for scope, scope_id in missing])}
        lost = [scope for scope in missing if scope not in created]
        if lost:
            rows |= _day_rows(session, day, lost)
    for scope in scopes:
        if scope in rows:
            values = merged_values(scope[0], rows[scope])
            defer_plain(session, _DAY_UPDATE, (*(values[c] for c in _DAY_UPDATE_COLUMNS), rows[scope].id))


_DAY_UPDATE_COLUMNS = ("col0", "row0", "width", "height", "cells", "visits", "updated_at")
_DAY_UPDATE = f"UPDATE coverage_days SET {', '.join(c + ' = ?' for c in _DAY_UPDATE_COLUMNS)} WHERE id = ?"


def _record_visits(session, raster, patrol, day, touched, t_unix_s, fix_grid) -> np.ndarray:
    """Upsert this patrol's visits to the touched grids in one statement (the stored first and last times are
    widened in SQL); returns them as visit rows for the day's blob, where they merge with the stored ones.
    First and last time: of fixes inside the grid, else (touched only within R of its edge) of the window."""
    first = np.full(touched.size, t_unix_s.min())
    last = np.full(touched.size, t_unix_s.max())
    inside = np.flatnonzero(np.isin(fix_grid, touched))
    if inside.size:  # earliest and latest fix inside each touched grid, by one sort of the fixes by grid
        order = inside[np.argsort(fix_grid[inside], kind="stable")]
        grids = fix_grid[order]
        starts = np.flatnonzero(np.concatenate([[True], np.diff(grids) != 0]))
        at = np.searchsorted(touched, grids[starts])  # touched is sorted (flatnonzero)
        first[at] = np.minimum.reduceat(t_unix_s[order], starts)
        last[at] = np.maximum.reduceat(t_unix_s[order], starts)
    grid_ids = raster.grid_ids[touched]
    out = np.column_stack([grid_ids, np.full(touched.size, patrol.id), np.full(touched.size, patrol.officer_id),
                           np.full(touched.size, -1 if patrol.squad_id is None else patrol.squad_id),
                           first.astype(np.int64), last.astype(np.int64)]).astype(np.int64)
    rows = [(patrol.id, g, day, patrol.officer_id, patrol.squad_id, datetime.fromtimestamp(f, UTC),
             datetime.fromtimestamp(a, UTC))
            for g, f, a in zip(grid_ids.tolist(), first.tolist(), last.tolist(), strict=True)]
    # One statement with a row of values per grid (grids are unique here, as ON CONFLICT requires), in slices
    # that stay under the databases' limits on parameters.
    upsert = _VISITS_UPSERT[session.get_bind().dialect.name]
    for start in range(0, len(rows), _VISITS_PER_STATEMENT):
        part = rows[start:start + _VISITS_PER_STATEMENT]
        defer_plain(session, upsert.format(values=", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(part))),
                      tuple(v for row in part for v in row))
    return out


_VISITS_PER_STATEMENT = 1000


# The stored first and last times widen; SQLite's two-argument min and max compare its ISO text in time order.
_VISITS_UPSERT = {dialect: (
    "INSERT INTO patrol_grid_visits (patrol_id, grid_id, day, officer_id, squad_id, first_at, last_at) "
    "VALUES {values} ON CONFLICT (patrol_id, grid_id, day) DO UPDATE SET "
    f"first_at = {earliest}(patrol_grid_visits.first_at, excluded.first_at), "
    f"last_at = {latest}(patrol_grid_visits.last_at, excluded.last_at)")
    for dialect, earliest, latest in (("postgresql", "least", "greatest"), ("sqlite", "min", "max"))}


@cache
def _day_rows_insert(dialect: str):
    """The day's new rows, skipping any another transaction has just created (see _merge_day)."""
    table = CoverageDay.__table__
    stmt = dialect_insert(dialect, table)
    return stmt.on_conflict_do_nothing(index_elements=["day", "scope", "scope_id"]).returning(
        table.c.scope, table.c.scope_id)


def _visits_of(blob: bytes | None) -> np.ndarray:
    if not blob:
        return np.zeros((0, _VISIT_COLUMNS), dtype=np.int64)
    return np.frombuffer(_decompress(blob), dtype="<i8").reshape(-1, _VISIT_COLUMNS)


def _merge_visits(blob: bytes | None, new: np.ndarray) -> bytes:
    """One row per (grid, patrol): the earliest first and latest last time."""
    rows = np.concatenate([_visits_of(blob), new])
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    rows = rows[order]
    starts = np.flatnonzero(np.concatenate([[True], (np.diff(rows[:, 0]) != 0) | (np.diff(rows[:, 1]) != 0)]))
    merged = rows[starts].copy()
    merged[:, 4] = np.minimum.reduceat(rows[:, 4], starts)
    merged[:, 5] = np.maximum.reduceat(rows[:, 5], starts)
    return _compress(merged.astype("<i8").tobytes())


def forget_days(session: Session, days: set[date]) -> list[int]:
    """Drop every bitmap and visit of these days (before recounting them from the patrols); returns the
    patrols that had visits on them."""
    if not days:
        return []
    patrol_ids = list(session.scalars(select(PatrolGridVisit.patrol_id).distinct().where(
        PatrolGridVisit.day.in_(days))))
    session.execute(delete(CoverageDay).where(CoverageDay.day.in_(days)))
    session.execute(delete(PatrolGridVisit).where(PatrolGridVisit.day.in_(days)))
    return patrol_ids


# ---- reading ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CoverageTable:
    """Figures per grid, as parallel lists in the order asked for (a thousand small objects cost more than
    the query)."""

    grid_ids: list[int]
    covered_ratio: list[float]
    covered_m2: list[float]
    area_m2: list[float]
    patrols: list[int]
    officers: list[int]
    last_visited_s: np.ndarray  # unix seconds, NaN where never visited in the period


def _scope_of(squad_id: int | None, officer_id: int | None) -> tuple[str, int]:
    if officer_id is not None:
        return OFFICER, officer_id
    if squad_id is not None:
        return SQUAD, squad_id
    return ALL, 0


def covered_mask(session: Session, raster: TownRaster, day_from: date, day_to: date, squad_id: int | None = None,
                 officer_id: int | None = None) -> np.ndarray:
    """Cells covered on any day of [day_from, day_to] by the scope (the officer, else the squad, else everyone);
    with both an officer and a squad, the officer's cells count only if they patrolled for that squad."""
    cells, _ = _period_rows(session, day_from, day_to, _scope_of(squad_id, officer_id), visits=False)
    return _mask_of(session, raster, cells, day_from, day_to, squad_id, officer_id)


@dataclass(frozen=True)
class _DayRow:
    """A stored day row, decompressed: the cells over the row's own extent, and the visits of an 'all' row."""

    updated_at: object  # as the driver returns it: the version of the row this was read from
    extent: tuple[int, int, int, int]
    packed: np.ndarray
    visits: np.ndarray | None


# Past days rarely change, so a week's query keeps them decompressed here and reads again only the rows whose
# updated_at moved (normally today's). A row is ~0.3 MB at most; 64 of them are two weeks of everyone and 3 squads.
_DAY_CACHE_ROWS = 64
_day_cache: OrderedDict[tuple[str, int], _DayRow] = OrderedDict()
_day_cache_lock = threading.Lock()


def _period_rows(session: Session, day_from: date, day_to: date, scope: tuple[str, int], visits: bool
                 ) -> tuple[list[_DayRow], list[np.ndarray]]:
    """The scope's day rows and (with `visits`) the days' visit rows. A first query lists the rows and their
    versions; the blobs (on PostgreSQL each a TOAST read of ~100 KB) are fetched only for rows not cached as they
    are now."""
    listed = fetch_plain(session, "SELECT id, scope, scope_id, updated_at FROM coverage_days WHERE day >= ? "
                                  "AND day <= ? AND ((scope = ? AND scope_id = ?) OR scope = 'all')",
                         (day_from, day_to, *scope))
    db_key = str(session.get_bind().url)
    wanted = [row for row in listed if (row.scope, row.scope_id) == scope or (visits and row.scope == ALL)]
    with _day_cache_lock:
        cached = {row.id: _day_cache.get((db_key, row.id)) for row in wanted}
    stale = [row.id for row in wanted if cached[row.id] is None or cached[row.id].updated_at != row.updated_at]
    if stale:
        fetched = fetch_plain(session, "SELECT id, updated_at, col0, row0, width, height, cells, visits "
                                       f"FROM coverage_days WHERE id IN ({', '.join('?' * len(stale))})", tuple(stale))
        for row in fetched:
            decoded = _DayRow(row.updated_at, (row.col0, row.row0, row.width, row.height),
                              np.frombuffer(_decompress(row.cells), dtype=np.uint8),
                              _visits_of(row.visits) if row.visits else None)
            cached[row.id] = decoded
            with _day_cache_lock:
                _day_cache[(db_key, row.id)] = decoded
                _day_cache.move_to_end((db_key, row.id))
                while len(_day_cache) > _DAY_CACHE_ROWS:
                    _day_cache.popitem(last=False)
    cells = [cached[row.id] for row in wanted if (row.scope, row.scope_id) == scope]
    visit_rows = [cached[row.id].visits for row in wanted if row.scope == ALL and cached[row.id].visits is not None]
    return cells, visit_rows if visits else []


def _mask_of(session, raster, cell_rows, day_from, day_to, squad_id, officer_id) -> np.ndarray:
    merged = None
    for row in cell_rows:
        packed = _relaid(raster, row.extent, row.packed)
        merged = packed.copy() if merged is None else np.bitwise_or(merged, packed, out=merged)
    if merged is None:
        return np.zeros(raster.spec.cell_count, dtype=bool)
    mask = np.unpackbits(merged, count=raster.spec.cell_count).view(bool)
    if officer_id is not None and squad_id is not None and not _patrolled_for(session, officer_id, squad_id,
                                                                              day_from, day_to):
        mask[:] = False
    return mask


def _patrolled_for(session, officer_id, squad_id, day_from, day_to) -> bool:
    return session.scalar(select(PatrolGridVisit.id).where(
        PatrolGridVisit.officer_id == officer_id, PatrolGridVisit.squad_id == squad_id,
        PatrolGridVisit.day >= day_from, PatrolGridVisit.day <= day_to).limit(1)) is not None


def period_visits(session: Session, day_from: date, day_to: date, squad_id: int | None = None,
                  officer_id: int | None = None) -> np.ndarray:
    """Visit rows (see CoverageDay.visits) of the period, filtered."""
    _, days = _period_rows(session, day_from, day_to, (ALL, 0), visits=True)
    return _visit_rows(days, squad_id, officer_id)


def _visit_rows(days: list[np.ndarray], squad_id: int | None, officer_id: int | None) -> np.ndarray:
    rows = np.concatenate(days) if days else _visits_of(None)
    if squad_id is not None:
        rows = rows[rows[:, 3] == squad_id]
    if officer_id is not None:
        rows = rows[rows[:, 2] == officer_id]
    return rows


def distinct_per_grid(grid_col: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(grid ids, number of distinct `other` values for each), via one sort of a combined 64-bit key."""
    key = np.sort((grid_col.astype(np.int64) << 32) | (other.astype(np.int64) & 0xFFFFFFFF))
    key = key[np.concatenate([[True], np.diff(key) != 0])] if key.size else key
    grids = key >> 32
    starts = np.flatnonzero(np.concatenate([[True], np.diff(grids) != 0])) if grids.size else grids
    return grids[starts], np.diff(np.append(starts, grids.size))


def coverage_by_grid(session: Session, grid_ids: list[int], day_from: date, day_to: date,
                     squad_id: int | None = None, officer_id: int | None = None) -> CoverageTable:
    """Covered share, covered m², patrols, officers and last visit of each grid over [day_from, day_to]."""
    raster = town_raster(session)
    if raster is None:
        zeros = [0.0] * len(grid_ids)
        return CoverageTable(list(grid_ids), zeros, zeros, zeros, [0] * len(grid_ids), [0] * len(grid_ids),
                             np.full(len(grid_ids), np.nan))
    cells, days = _period_rows(session, day_from, day_to, _scope_of(squad_id, officer_id), visits=True)
    ratio = raster.index.covered_ratio(_mask_of(session, raster, cells, day_from, day_to, squad_id, officer_id))
    visits = _visit_rows(days, squad_id, officer_id)
    wanted = np.asarray(grid_ids, dtype=np.int64)
    last_grids, last_t = _last_per_grid(visits)
    shares = _aligned(wanted, raster.grid_ids, ratio, 0.0)  # raster.grid_ids are in id order
    areas = _aligned(wanted, raster.grid_ids, raster.area_m2, 0.0)
    return CoverageTable(list(grid_ids), shares.tolist(), (shares * areas).tolist(), areas.tolist(),
                         _aligned(wanted, *distinct_per_grid(visits[:, 0], visits[:, 1]), 0).tolist(),
                         _aligned(wanted, *distinct_per_grid(visits[:, 0], visits[:, 2]), 0).tolist(),
                         _aligned(wanted, last_grids, last_t.astype(np.float64), np.nan))


def _last_per_grid(visits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(grid ids in order, the latest last_at of each)."""
    if not visits.size:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(visits[:, 0], kind="stable")
    grid_sorted = visits[order, 0]
    starts = np.flatnonzero(np.concatenate([[True], np.diff(grid_sorted) != 0]))
    return grid_sorted[starts], np.maximum.reduceat(visits[order, 5], starts)


def _aligned(wanted: np.ndarray, found: np.ndarray, values: np.ndarray, fill) -> np.ndarray:
    """values[k] belongs to grid found[k] (sorted ids): one value per wanted grid, `fill` where none (a thousand
    dict lookups cost more than the sums)."""
    out = np.full(wanted.size, fill, dtype=np.result_type(values.dtype, np.asarray(fill).dtype))
    if found.size and wanted.size:
        at = np.minimum(np.searchsorted(found, wanted), found.size - 1)
        hit = found[at] == wanted
        out[hit] = values[at[hit]]
    return out


def _aware(value):
    """MAX() bypasses the column type on SQLite and returns text or a naive datetime: make it aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def last_visits(session: Session, grid_ids: list[int], squad_id: int | None = None,
                officer_id: int | None = None) -> dict[int, datetime]:
    """The last visit ever (any day) of each grid that has one."""
    stmt = select(PatrolGridVisit.grid_id, func.max(PatrolGridVisit.last_at)).group_by(PatrolGridVisit.grid_id)
    if squad_id is not None:
        stmt = stmt.where(PatrolGridVisit.squad_id == squad_id)
    if officer_id is not None:
        stmt = stmt.where(PatrolGridVisit.officer_id == officer_id)
    wanted = set(grid_ids)
    return {g: _aware(last) for g, last in session.execute(stmt) if g in wanted}


def cell_states(session: Session, raster: TownRaster, grid_ids: list[int], day_from: date, day_to: date,
                squad_id: int | None, officer_id: int | None) -> np.ndarray:
    """Per raster cell: 0 outside the grids asked for, 1 uncovered, 2 covered (the coverage map)."""
    state = np.zeros(raster.spec.cell_count, dtype=np.uint8)
    index = raster.index
    positions = [raster.position[g] for g in grid_ids if g in raster.position]
    if positions:
        cells = np.concatenate([index.cell_ids[index.offsets[p]:index.offsets[p + 1]] for p in positions])
        state[cells] = 1
    covered = covered_mask(session, raster, day_from, day_to, squad_id, officer_id)
    state[(state == 1) & covered] = 2
    return state


def data_version(session: Session) -> tuple:
    """Changes whenever a batch changes any coverage (for caches of derived maps)."""
    return tuple(map(str, session.execute(select(func.count(CoverageDay.id), func.max(CoverageDay.updated_at))).one()))
