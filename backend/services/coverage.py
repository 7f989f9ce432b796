"""Coverage per grid and local day, kept up to date batch by batch.

The town raster (geo.coverage) is built once per process from the grids and the stored lattice. Each batch's kept
lines are stamped into it and, for every grid they touch, ORed into that grid's bitmap for the day and officer
(`GridCoverage`), so a day or week query reads one small row per grid, day and officer, whatever the number of
patrols. `PatrolGridVisit` keeps what bits cannot: which patrols and officers came, and when.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, UTC
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo.coverage import (
    DEFAULT_CELL_SIZE_M, DEFAULT_RADIUS_M, GridCellIndex, RasterSpec, cells_of_lonlat, grid_cell_index,
    popcount_bytes, rasterize_track_coverage, raster_spec_for_bounds,
)

from ..models import Area, CoverageLattice, GridCoverage, Patrol, PatrolGridVisit

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


def town_raster(session: Session) -> TownRaster | None:
    """The current town raster (None before any grid exists). Rebuilt when grids are added or removed."""
    count, max_id = session.execute(select(func.count(Area.id), func.max(Area.id)).where(Area.kind == "grid")).one()
    if not count:
        return None
    lattice = _lattice(session)
    key = (count, max_id, lattice.id, lattice.centre_lon, lattice.centre_lat, lattice.cell_size_m, lattice.radius_m)
    db_key = str(session.get_bind().url)
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
    index = grid_cell_index(spec, geoms)
    return TownRaster(key, spec, index, ids, np.array([r[2] for r in rows], dtype=np.float64),
                      {int(g): i for i, g in enumerate(ids)}, lattice.radius_m)


# ---- writing: a window of kept fixes of one patrol ------------------------------------------------------------

def add_kept_fixes(session: Session, patrol: Patrol, t_unix_s: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                   breaks_before: np.ndarray) -> None:
    """OR the lines through these kept fixes (in order, one patrol) into the day/grid/officer bitmaps and
    record the visits. Fix 0 starts a line; a line crossing local midnight counts on the day it reaches."""
    raster = town_raster(session)
    if raster is None or lon.size == 0:
        return
    days = local_day(t_unix_s)
    for day in np.unique(days):
        on_day = np.flatnonzero(days == day)
        first = on_day[0]
        take = on_day
        breaks = breaks_before[on_day].copy()
        if first > 0 and not breaks_before[first]:  # the segment reaching this day from the previous fix
            take = np.concatenate([[first - 1], on_day])
            breaks = np.concatenate([[True], [False], breaks[1:]])
        mask = rasterize_track_coverage(raster.spec, lon[take], lat[take], breaks, raster.radius_m)
        _merge_day(session, raster, patrol, day.astype(date), mask, t_unix_s[on_day], lon[on_day], lat[on_day])


def _merge_day(session: Session, raster: TownRaster, patrol: Patrol, day: date, mask: np.ndarray,
               t_unix_s: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> None:
    covered = raster.index.covered_cells(mask)
    touched = np.flatnonzero(covered)
    if touched.size == 0:
        return
    touched_ids = [int(raster.grid_ids[g]) for g in touched]
    existing = {row.grid_id: row for row in session.scalars(select(GridCoverage).where(
        GridCoverage.day == day, GridCoverage.officer_id == patrol.officer_id,
        GridCoverage.grid_id.in_(touched_ids)))}
    cells = raster.index.cells_per_grid
    for g, grid_id in zip(touched, touched_ids, strict=True):
        bits = raster.index.grid_bits(mask, int(g))
        row = existing.get(grid_id)
        if row is None:
            session.add(GridCoverage(grid_id=grid_id, day=day, officer_id=patrol.officer_id, squad_id=patrol.squad_id,
                                     cell_count=int(cells[g]), covered_cells=int(covered[g]), bits=bits))
            continue
        merged = np.bitwise_or(np.frombuffer(row.bits, dtype=np.uint8), np.frombuffer(bits, dtype=np.uint8))
        row.bits = merged.tobytes()
        row.covered_cells = popcount_bytes(merged)
    _record_visits(session, raster, patrol, day, touched, touched_ids, t_unix_s, lon, lat)


def _record_visits(session, raster, patrol, day, touched, touched_ids, t_unix_s, lon, lat) -> None:
    """First and last time per touched grid: fixes inside the grid, else (touched only within R of its edge)
    the window's own times."""
    fix_grid = raster.index.grid_of_cells(cells_of_lonlat(raster.spec, lon, lat))
    visits = {row.grid_id: row for row in session.scalars(select(PatrolGridVisit).where(
        PatrolGridVisit.patrol_id == patrol.id, PatrolGridVisit.day == day,
        PatrolGridVisit.grid_id.in_(touched_ids)))}
    for g, grid_id in zip(touched, touched_ids, strict=True):
        inside = t_unix_s[fix_grid == g]
        times = inside if inside.size else t_unix_s
        first = datetime.fromtimestamp(float(times.min()), UTC)
        last = datetime.fromtimestamp(float(times.max()), UTC)
        row = visits.get(grid_id)
        if row is None:
            session.add(PatrolGridVisit(patrol_id=patrol.id, grid_id=grid_id, day=day, officer_id=patrol.officer_id,
                                        squad_id=patrol.squad_id, first_at=first, last_at=last))
        else:
            row.first_at, row.last_at = min(row.first_at, first), max(row.last_at, last)


def forget_patrol_days(session: Session, officer_id: int, days: set[date]) -> list[int]:
    """Drop an officer's bitmaps and visits of these days (before rebuilding them); returns the patrols that
    had visits on them."""
    if not days:
        return []
    patrol_ids = list(session.scalars(select(PatrolGridVisit.patrol_id).distinct().where(
        PatrolGridVisit.officer_id == officer_id, PatrolGridVisit.day.in_(days))))
    session.execute(delete(GridCoverage).where(GridCoverage.officer_id == officer_id, GridCoverage.day.in_(days)))
    session.execute(delete(PatrolGridVisit).where(PatrolGridVisit.officer_id == officer_id,
                                                  PatrolGridVisit.day.in_(days)))
    return patrol_ids


# ---- reading ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GridFigures:
    grid_id: int
    covered_ratio: float
    covered_m2: float
    area_m2: float
    patrols: int
    officers: int
    last_visited_at: datetime | None


def coverage_by_grid(session: Session, grid_ids: list[int], day_from: date, day_to: date,
                     squad_id: int | None = None, officer_id: int | None = None) -> list[GridFigures]:
    """Covered share, covered m², patrols, officers and last visit of each grid over [day_from, day_to]."""
    raster = town_raster(session)
    merged = _merged_bits(session, day_from, day_to, squad_id, officer_id)
    visits = _visit_figures(session, day_from, day_to, squad_id, officer_id)
    figures = []
    cells_per_grid = raster.index.cells_per_grid if raster else None
    for grid_id in grid_ids:
        pos = raster.position.get(grid_id) if raster else None
        cells = int(cells_per_grid[pos]) if pos is not None else 0
        area_m2 = float(raster.area_m2[pos]) if pos is not None else 0.0
        bits = merged.get(grid_id)
        ratio = popcount_bytes(bits) / cells if bits is not None and cells else 0.0
        patrols, officers, last = visits.get(grid_id, (0, 0, None))
        figures.append(GridFigures(grid_id, ratio, ratio * area_m2, area_m2, patrols, officers, last))
    return figures


def _filtered(stmt, model, day_from, day_to, squad_id, officer_id):
    stmt = stmt.where(model.day >= day_from, model.day <= day_to)
    if squad_id is not None:
        stmt = stmt.where(model.squad_id == squad_id)
    if officer_id is not None:
        stmt = stmt.where(model.officer_id == officer_id)
    return stmt


def _merged_bits(session, day_from, day_to, squad_id, officer_id) -> dict[int, np.ndarray]:
    """OR of every matching bitmap, per grid."""
    rows = session.execute(_filtered(select(GridCoverage.grid_id, GridCoverage.bits), GridCoverage,
                                     day_from, day_to, squad_id, officer_id)).all()
    merged: dict[int, np.ndarray] = {}
    for grid_id, bits in rows:
        current = merged.get(grid_id)
        packed = np.frombuffer(bits, dtype=np.uint8)
        merged[grid_id] = packed if current is None else current | packed
    return merged


def _visit_figures(session, day_from, day_to, squad_id, officer_id) -> dict[int, tuple[int, int, datetime]]:
    stmt = select(PatrolGridVisit.grid_id, func.count(PatrolGridVisit.patrol_id.distinct()),
                  func.count(PatrolGridVisit.officer_id.distinct()), func.max(PatrolGridVisit.last_at))
    stmt = _filtered(stmt, PatrolGridVisit, day_from, day_to, squad_id, officer_id).group_by(PatrolGridVisit.grid_id)
    return {grid_id: (patrols, officers, _aware(last)) for grid_id, patrols, officers, last in session.execute(stmt)}


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


def covered_mask_for(session: Session, raster: TownRaster, grid_ids: list[int], day_from: date, day_to: date,
                     squad_id: int | None, officer_id: int | None) -> np.ndarray:
    """Per raster cell: 0 outside the grids asked for, 1 uncovered, 2 covered (the coverage map)."""
    state = np.zeros(raster.spec.cell_count, dtype=np.uint8)
    merged = _merged_bits(session, day_from, day_to, squad_id, officer_id)
    index = raster.index
    for grid_id in grid_ids:
        pos = raster.position.get(grid_id)
        if pos is None:
            continue
        cells = index.cell_ids[index.offsets[pos]:index.offsets[pos + 1]]
        state[cells] = np.maximum(state[cells], 1)
        bits = merged.get(grid_id)
        if bits is not None:
            hit = np.unpackbits(bits, count=cells.size).astype(bool)
            state[cells[hit]] = 2
    return state
