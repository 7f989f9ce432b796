"""Reading coverage: covered share, covered m², patrols, officers and last visit of each grid over local days, for
everyone, a squad or an officer; the per-cell states of the coverage map; one patrol's own coverage.

A day of a region is the maximum over its patrols' rows (coverage_writer). Rows rarely change once their day is
over, so each process keeps rows decompressed and each day's maximum per scope, and reads again only rows whose
`updated_at` moved (normally today's): a week's query costs about what a day's does.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property
from datetime import date

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...extensions.plain_sql import fetch_plain
from ...models import CoveragePatrolDay, Patrol, PatrolGridVisit
from .coverage_days import today_local  # noqa: F401 - re-exported for the routes
from .coverage_regions import RegionRaster, region_map, region_raster
from .coverage_writer import visits_of, window_of

# Decoded rows and day maxima kept per process, by bytes (a day's maximum is one byte a cell of its region).
_ROW_CACHE_BYTES = 64 << 20
_DAY_CACHE_BYTES = 128 << 20


@dataclass(frozen=True)
class _Row:
    """A stored row, decompressed: its window over the lattice, its visits, and whose it is."""

    updated_at: object  # as the driver returns it: the version of the row this was read from
    extent: tuple[int, int, int, int]  # col0, row0, width, height in lattice units
    cells: bytes  # LZ4, decoded against a raster when used (the raster may have grown since)
    visits: np.ndarray  # (grid_id, first_at, last_at)
    patrol_id: int
    officer_id: int
    squad_id: int  # -1: none

    @cached_property
    def visit_rows(self) -> np.ndarray:
        """The visits as period rows: (grid, patrol, officer, squad, first, last)."""
        n = self.visits.shape[0]
        return np.column_stack([self.visits[:, 0], np.full(n, self.patrol_id), np.full(n, self.officer_id),
                                np.full(n, self.squad_id), self.visits[:, 1], self.visits[:, 2]]).astype(np.int64)

    @property
    def nbytes(self) -> int:
        return len(self.cells) + 3 * self.visits.nbytes + 200


class _BytesLRU:
    def __init__(self, budget: int) -> None:
        self.budget, self.used = budget, 0
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: object, nbytes: int) -> None:
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.used -= old[1]
            self.items[key] = (value, nbytes)
            self.used += nbytes
            while self.used > self.budget and len(self.items) > 1:
                _, (_, size) = self.items.popitem(last=False)
                self.used -= size


    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.used = 0


_rows = _BytesLRU(_ROW_CACHE_BYTES)
_days = _BytesLRU(_DAY_CACHE_BYTES)


def forget_cached() -> None:
    """Drop what this process keeps (tests compare against reads with nothing kept)."""
    _rows.clear()
    _days.clear()


def _scope_sql(sql: str, params: dict, squad_id: int | None, officer_id: int | None) -> str:
    if officer_id is not None:
        sql += " AND officer_id = :officer"
        params["officer"] = officer_id
    if squad_id is not None:
        sql += " AND squad_id = :squad"
        params["squad"] = squad_id
    return sql


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _day_versions(session: Session, region_id: int, day_from: date, day_to: date, squad_id: int | None,
                  officer_id: int | None) -> dict[date, tuple]:
    """Each day's (rows, latest update) in the scope: a row only grows and a recount makes new rows, so this pair
    changes whenever the day's coverage does. One small query, whatever the number of patrols behind a week."""
    params: dict = {"region": region_id, "day_from": day_from, "day_to": day_to}
    sql = _scope_sql("SELECT day, count(id) AS n, max(updated_at) AS latest FROM coverage_patrol_days "
                     "WHERE region_id = :region AND day >= :day_from AND day <= :day_to", params, squad_id, officer_id)
    return {_as_date(r.day): (r.n, str(r.latest)) for r in fetch_plain(session, sql + " GROUP BY day", params)}


def _period_rows(session: Session, region_id: int, day_from: date, day_to: date, squad_id: int | None,
                 officer_id: int | None) -> dict[date, list[tuple[int, _Row]]]:
    """The scope's rows of the region in the period, by day. One query lists them with their versions; blobs are
    fetched only for rows not kept as they are now (on PostgreSQL each a TOAST read)."""
    params: dict = {"region": region_id, "day_from": day_from, "day_to": day_to}
    sql = _scope_sql("SELECT id, day, updated_at FROM coverage_patrol_days WHERE region_id = :region "
                     "AND day >= :day_from AND day <= :day_to", params, squad_id, officer_id)
    listed = fetch_plain(session, sql, params)
    db_key = str(session.get_bind().engine.url)
    found: dict[int, _Row] = {}
    stale = []
    for row in listed:
        kept = _rows.get((db_key, row.id))
        if kept is not None and kept[0].updated_at == row.updated_at:
            found[row.id] = kept[0]
        else:
            stale.append(row.id)
    for start in range(0, len(stale), 500):
        ids = stale[start:start + 500]
        fetched = fetch_plain(session, "SELECT id, updated_at, col0, row0, width, height, cells, visits, patrol_id, "
                                       "officer_id, squad_id FROM coverage_patrol_days WHERE id IN ("
                                       + ", ".join(f":i{k}" for k in range(len(ids))) + ")",
                              {f"i{k}": i for k, i in enumerate(ids)})
        for row in fetched:
            decoded = _Row(row.updated_at, (row.col0, row.row0, row.width, row.height), bytes(row.cells),
                           visits_of(row.visits), row.patrol_id, row.officer_id,
                           -1 if row.squad_id is None else row.squad_id)
            found[row.id] = decoded
            _rows.put((db_key, row.id), decoded, decoded.nbytes)
    by_day: dict[date, list[tuple[int, _Row]]] = {}
    for row in listed:
        by_day.setdefault(_as_date(row.day), []).append((row.id, found[row.id]))
    return by_day


def _day_max(session: Session, raster: RegionRaster, day: date, rows: list[tuple[int, _Row]],
             scope: tuple) -> np.ndarray:
    """The highest share of each cell over these rows (a day of the scope), kept per process with the rows'
    versions. A row only ever grows (batches add to it; a recount replaces it by a new row), so while today's
    batches arrive only the rows that changed are added to the kept maximum."""
    versions = {row_id: str(row.updated_at) for row_id, row in rows}
    key = (str(session.get_bind().engine.url), raster.key, day, scope)
    kept = _days.get(key)
    if kept is not None:
        kept_versions, kept_values = kept[0]
        if kept_versions == versions:
            return kept_values
        if kept_versions.keys() <= versions.keys():
            values = kept_values.copy()  # the kept one may be read by another thread right now
            for row_id, row in rows:
                if kept_versions.get(row_id) != versions[row_id]:
                    window_of(raster, *row.extent, row.cells).max_into(raster.spec, values)
            _days.put(key, (versions, values), values.nbytes)
            return values
    values = np.zeros(raster.spec.cell_count, dtype=np.uint8)
    for _, row in rows:
        window_of(raster, *row.extent, row.cells).max_into(raster.spec, values)
    _days.put(key, (versions, values), values.nbytes)
    return values


def region_coverage(session: Session, raster: RegionRaster, day_from: date, day_to: date, squad_id: int | None,
                    officer_id: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(per-cell coverage 0..255 over the period, the period's visit rows (grid, patrol, officer, squad, first,
    last)) of the scope in one region."""
    versions = _day_versions(session, raster.region_id, day_from, day_to, squad_id, officer_id)
    scope = (squad_id, officer_id)
    if not versions:
        return np.zeros(raster.spec.cell_count, dtype=np.uint8), np.zeros((0, 6), dtype=np.int64)
    latest = max(versions)
    # The days before the latest rarely change: their maximum and visits are kept by the days' versions, so a week
    # read while today's batches arrive reads today's rows only.
    earlier = sorted(d for d in versions if d != latest)
    signature = tuple((d, versions[d]) for d in earlier)
    key = (str(session.get_bind().engine.url), raster.key, "earlier", latest, scope)
    kept = _days.get(key)
    if kept is not None and kept[0][0] == signature:
        cells, visits = kept[0][1], kept[0][2]
    elif earlier:
        by_day = _period_rows(session, raster.region_id, earlier[0], earlier[-1], squad_id, officer_id)
        cells, parts = None, []
        for day in earlier:
            day_values = _day_max(session, raster, day, by_day.get(day, []), scope)
            cells = day_values.copy() if cells is None else np.maximum(cells, day_values, out=cells)
            parts += [row.visit_rows for _, row in by_day.get(day, []) if row.visit_rows.size]
        visits = np.concatenate(parts) if parts else np.zeros((0, 6), dtype=np.int64)
        _days.put(key, (signature, cells, visits), cells.nbytes + visits.nbytes)
    else:
        cells, visits = None, np.zeros((0, 6), dtype=np.int64)
    rows = _period_rows(session, raster.region_id, latest, latest, squad_id, officer_id).get(latest, [])
    today = _day_max(session, raster, latest, rows, scope)
    cells = today.copy() if cells is None else np.maximum(cells, today)
    latest_visits = [row.visit_rows for _, row in rows if row.visit_rows.size]
    return cells, np.concatenate([visits, *latest_visits]) if latest_visits else visits


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


def distinct_per_grid(grid_col: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(grid ids, number of distinct `other` values for each), via one sort of a combined 64-bit key."""
    key = np.sort((grid_col.astype(np.int64) << 32) | (other.astype(np.int64) & 0xFFFFFFFF))
    key = key[np.concatenate([[True], np.diff(key) != 0])] if key.size else key
    grids = key >> 32
    starts = np.flatnonzero(np.concatenate([[True], np.diff(grids) != 0])) if grids.size else grids
    return grids[starts], np.diff(np.append(starts, grids.size))


def coverage_by_grid(session: Session, grid_ids: list[int], day_from: date, day_to: date,
                     squad_id: int | None = None, officer_id: int | None = None) -> CoverageTable:
    """Covered share, covered m², patrols, officers and last visit of each grid over [day_from, day_to]; with both
    a squad and an officer, the officer's patrols for that squad."""
    wanted = np.asarray(grid_ids, dtype=np.int64)
    shares = np.zeros(wanted.size)
    areas = np.zeros(wanted.size)
    patrols = np.zeros(wanted.size, dtype=np.int64)
    officers = np.zeros(wanted.size, dtype=np.int64)
    last = np.full(wanted.size, np.nan)
    for region_id in region_map(session).regions_of(grid_ids):
        raster = region_raster(session, region_id)
        if raster is None:
            continue
        cells, visits = region_coverage(session, raster, day_from, day_to, squad_id, officer_id)
        ratio = raster.index.covered_ratio(cells)
        mine = np.isin(wanted, raster.grid_ids)
        at = np.searchsorted(raster.grid_ids, wanted[mine])  # raster.grid_ids are in id order
        areas[mine] = raster.area_m2[at]
        patrols[mine] = _aligned(wanted[mine], *distinct_per_grid(visits[:, 0], visits[:, 1]), 0)
        # A grid no line came within R of covers nothing: its border cells may still show a sliver of a band that
        # passes just outside it (their share of the grid and of the band are measured apart).
        shares[mine] = np.where(patrols[mine] > 0, ratio[at], 0.0)
        officers[mine] = _aligned(wanted[mine], *distinct_per_grid(visits[:, 0], visits[:, 2]), 0)
        last[mine] = _aligned(wanted[mine], *_last_per_grid(visits), np.nan)
    return CoverageTable(list(grid_ids), shares.tolist(), (shares * areas).tolist(), areas.tolist(),
                         patrols.tolist(), officers.tolist(), last)


def _last_per_grid(visits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(grid ids in order, the latest last_at of each)."""
    if not visits.size:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    order = np.argsort(visits[:, 0], kind="stable")
    grid_sorted = visits[order, 0]
    starts = np.flatnonzero(np.concatenate([[True], np.diff(grid_sorted) != 0]))
    return grid_sorted[starts], np.maximum.reduceat(visits[order, 5], starts).astype(np.float64)


def _aligned(wanted: np.ndarray, found: np.ndarray, values: np.ndarray, fill: float) -> np.ndarray:
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
    from datetime import UTC, datetime

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def last_visits(session: Session, grid_ids: list[int], squad_id: int | None = None,
                officer_id: int | None = None) -> dict:
    """The last visit ever (any day) of each grid that has one."""
    stmt = select(PatrolGridVisit.grid_id, func.max(PatrolGridVisit.last_at)).group_by(PatrolGridVisit.grid_id)
    if squad_id is not None:
        stmt = stmt.where(PatrolGridVisit.squad_id == squad_id)
    if officer_id is not None:
        stmt = stmt.where(PatrolGridVisit.officer_id == officer_id)
    wanted = set(grid_ids)
    return {g: _aware(t) for g, t in session.execute(stmt) if g in wanted}


def cell_states(session: Session, raster: RegionRaster, grid_ids: list[int], day_from: date, day_to: date,
                squad_id: int | None, officer_id: int | None) -> np.ndarray:
    """Per raster cell: 0 outside the grids asked for, 1 uncovered, 2 covered (the coverage map). A cell counts for
    a grid holding at least half of it; covered means at least half of it lies within R of a track."""
    state = np.zeros(raster.spec.cell_count, dtype=np.uint8)
    cells, shares = raster.index.cells_of(raster.positions_of(grid_ids))
    state[cells[shares >= 0.5]] = 1
    covered, _ = region_coverage(session, raster, day_from, day_to, squad_id, officer_id)
    state[(state == 1) & (covered >= 128)] = 2
    return state


def patrol_coverage(session: Session, patrol: Patrol) -> list[dict]:
    """Covered share and m² of every grid this one patrol's kept track came within R of, over all its days."""
    rows = fetch_plain(session, "SELECT region_id, col0, row0, width, height, cells, visits FROM coverage_patrol_days "
                                "WHERE patrol_id = :patrol", {"patrol": patrol.id})
    items = []
    for region_id in sorted({row.region_id for row in rows}):
        raster = region_raster(session, region_id)
        if raster is None:
            continue
        values = np.zeros(raster.spec.cell_count, dtype=np.uint8)
        visited: set[int] = set()
        for row in rows:
            if row.region_id == region_id:
                window_of(raster, row.col0, row.row0, row.width, row.height, row.cells).max_into(raster.spec, values)
                visited.update(visits_of(row.visits)[:, 0].tolist())
        ratio = raster.index.covered_ratio(values)
        items += [{"grid_id": int(raster.grid_ids[g]), "covered_ratio": round(float(ratio[g]), 5),
                   "covered_m2": round(float(ratio[g] * raster.area_m2[g]), 1)}
                  for g in np.flatnonzero(ratio > 0) if int(raster.grid_ids[g]) in visited]
    return items


def data_version(session: Session) -> tuple:
    """Changes whenever a batch changes any coverage (for caches of derived maps)."""
    return tuple(map(str, session.execute(select(func.count(CoveragePatrolDay.id),
                                                 func.max(CoveragePatrolDay.updated_at))).one()))
