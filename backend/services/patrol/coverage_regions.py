"""Coverage regions and their rasters. A region is the town or street office a grid belongs to (its nearest town
ancestor); grids under no town are grouped by the 0.25° tile their centre lies in. Each region has its own lattice
in its own local projection, so a county of towns tens of km apart, or a province, costs per batch and per query what one town
does. Rasters are built once per process and region and kept within a budget of cells (memory stays bounded
however many towns a deployment holds)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from time import monotonic

import numpy as np
from numpy.typing import ArrayLike
import shapely
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo.coverage import (
    DEFAULT_CELL_SIZE_M, DEFAULT_RADIUS_M, GridCellIndex, RasterSpec, grid_cell_index, raster_spec_for_bounds,
)

from ...models import Area, CoverageLattice

_RECHECK_S = 5.0  # how stale another process's grid import may be seen; this process's own is seen at once
# Rasters kept per process, by the cells they hold: a 90 km² town is about a million cells, 15-20 MB with its index.
RASTER_CELLS_BUDGET = 24_000_000
_DEGREE_M = 111_320.0


@dataclass(frozen=True)
class RegionMap:
    """Which region each grid belongs to, and each region's grids and lon/lat box (padded by what a fix outside
    it can still cover)."""

    version: tuple
    region_of_grid: dict[int, int]
    grids_of_region: dict[int, np.ndarray]  # sorted grid ids
    region_ids: np.ndarray
    boxes: np.ndarray  # (regions, 4): min lon, min lat, max lon, max lat, padded
    grid_array: np.ndarray  # every grid id, sorted, and the region of each: regions_of without a Python loop
    region_array: np.ndarray

    def regions_near(self, lon: np.ndarray, lat: np.ndarray) -> list[int]:
        """Regions whose padded box holds any of these fixes (normally one: the town being patrolled)."""
        if lon.size == 0 or self.region_ids.size == 0:
            return []
        x0, y0, x1, y1 = float(np.nanmin(lon)), float(np.nanmin(lat)), float(np.nanmax(lon)), float(np.nanmax(lat))
        b = self.boxes
        candidates = np.flatnonzero((b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0))
        near = []
        for k in candidates:  # the fixes' box overlaps: is a fix itself inside?
            inside = (lon >= b[k, 0]) & (lon <= b[k, 2]) & (lat >= b[k, 1]) & (lat <= b[k, 3])
            if inside.any():
                near.append(int(self.region_ids[k]))
        return near

    def regions_of(self, grid_ids: ArrayLike) -> dict[int, list[int]]:
        """The given grids grouped by region (unknown ids left out)."""
        wanted = np.asarray(grid_ids, dtype=np.int64)
        if wanted.size == 0 or self.grid_array.size == 0:
            return {}
        at = np.minimum(np.searchsorted(self.grid_array, wanted), self.grid_array.size - 1)
        known = self.grid_array[at] == wanted
        regions = self.region_array[at[known]]
        wanted = wanted[known]
        return {int(r): wanted[regions == r].tolist() for r in np.unique(regions)}


@dataclass(frozen=True)
class RegionRaster:
    """One region's raster, its grids' cells, and lookups between grid ids and positions in the index."""

    key: tuple
    region_id: int
    spec: RasterSpec
    index: GridCellIndex
    grid_ids: np.ndarray  # in id order: position -> grid id
    area_m2: np.ndarray  # geodesic areas, by position
    position: dict[int, int]
    radius_m: float
    lattice_col0: int  # the raster's first column and row in lattice units (cells from the lattice centre)
    lattice_row0: int
    grids_m: np.ndarray  # polygons in the raster's metres, by position
    near_m: np.ndarray  # each grid buffered by R (16 segments a quarter circle), prepared, by position
    near_tree: shapely.STRtree  # over near_m

    def positions_of(self, grid_ids: Iterable[int]) -> np.ndarray:
        return np.array([self.position[g] for g in grid_ids if g in self.position], dtype=np.int64)


# The R-buffers' arcs are chords: with 16 a quarter circle a chord lies at most R(1 - cos(pi/64)), 3.6 cm at
# R = 30 m, inside the arc, so "within R" of a grid's corner is decided to within a few centimetres.
NEAR_QUAD_SEGS = 16

_maps: dict[str, RegionMap] = {}
_map_checked_at: dict[str, float] = {}
_rasters: OrderedDict[tuple[str, int], RegionRaster] = OrderedDict()
_lock = threading.Lock()


def forget_rasters() -> None:
    """Called after grids change in this process, so the next request sees them."""
    _map_checked_at.clear()


def _db_key(session: Session) -> str:
    return str(session.get_bind().engine.url)


def region_map(session: Session) -> RegionMap:
    """The current regions (looked at no more than every few seconds: two queries a batch were 2 ms of ~35)."""
    db_key = _db_key(session)
    cached = _maps.get(db_key)
    if cached is not None and monotonic() - _map_checked_at.get(db_key, -_RECHECK_S) < _RECHECK_S:
        return cached
    version = tuple(map(str, session.execute(
        select(func.count(Area.id), func.max(Area.id), func.max(Area.updated_at))).one()))
    if cached is None or cached.version != version:
        cached = _build_map(session, version)
        _maps[db_key] = cached
    _map_checked_at[db_key] = monotonic()
    return cached


def _build_map(session: Session, version: tuple) -> RegionMap:
    rows = session.execute(select(Area.id, Area.kind, Area.parent_id)).all()
    kind = {r.id: r.kind for r in rows}
    parent = {r.id: r.parent_id for r in rows}

    def town_of(area_id: int) -> int | None:
        node, seen = parent.get(area_id), 0
        while node is not None and seen < 16:  # the tree is at most five levels deep; a cycle is not followed
            if kind.get(node) == "town":
                return node
            node, seen = parent.get(node), seen + 1
        return None

    grids = session.execute(select(Area.id, Area.min_lon, Area.min_lat, Area.max_lon, Area.max_lat)
                            .where(Area.kind == "grid").order_by(Area.id)).all()
    region_of_grid = {g.id: region_of(town_of(g.id), (g.min_lon + g.max_lon) / 2, (g.min_lat + g.max_lat) / 2)
                      for g in grids}
    members: dict[int, list] = {}
    for g in grids:
        members.setdefault(region_of_grid[g.id], []).append(g)
    region_ids = np.array(sorted(members), dtype=np.int64)
    boxes = np.zeros((region_ids.size, 4))
    for k, region in enumerate(region_ids.tolist()):
        ms = members[region]
        x0, y0 = min(m.min_lon for m in ms), min(m.min_lat for m in ms)
        x1, y1 = max(m.max_lon for m in ms), max(m.max_lat for m in ms)
        pad_lat = 3 * DEFAULT_RADIUS_M / _DEGREE_M
        pad_lon = pad_lat / max(np.cos(np.radians(max(abs(y0), abs(y1)))), 0.01)
        boxes[k] = (x0 - pad_lon, y0 - pad_lat, x1 + pad_lon, y1 + pad_lat)
    grid_array = np.array([g.id for g in grids], dtype=np.int64)  # in id order (the query's order_by)
    return RegionMap(version, region_of_grid,
                     {r: np.array([m.id for m in ms], dtype=np.int64) for r, ms in members.items()}, region_ids, boxes,
                     grid_array, np.array([region_of_grid[g] for g in grid_array.tolist()], dtype=np.int64))


TILE_DEG = 0.25  # ~28 km: a town's size, so a region of grids under no town stays a town's size too


def region_of(town_id: int | None, lon: float, lat: float) -> int:
    """A grid's region: its town's area id, or for a grid under no town the negative key of its 0.25° tile (stable
    as grids are added, unlike any grouping of the grids themselves)."""
    if town_id is not None:
        return town_id
    column = int(np.floor((lon + 180.0) / TILE_DEG))
    row = int(np.floor((lat + 90.0) / TILE_DEG))
    return -(row * int(360 / TILE_DEG) + column + 1)


def region_raster(session: Session, region_id: int) -> RegionRaster | None:
    """The region's raster (None for a region without grids), rebuilt when its grids change."""
    rmap = region_map(session)
    grid_ids = rmap.grids_of_region.get(region_id)
    if grid_ids is None:
        return None
    db_key = _db_key(session)
    key = (rmap.version, region_id)
    with _lock:
        cached = _rasters.get((db_key, region_id))
        if cached is not None and cached.key[1] == region_id and _same_grids(cached, grid_ids):
            _rasters.move_to_end((db_key, region_id))
            return cached
    lattice = _lattice(session, region_id, grid_ids)
    raster = _build_raster(session, key, region_id, grid_ids, lattice)
    with _lock:
        _rasters[(db_key, region_id)] = raster
        _rasters.move_to_end((db_key, region_id))
        while len(_rasters) > 1 and sum(r.spec.cell_count for r in _rasters.values()) > RASTER_CELLS_BUDGET:
            _rasters.popitem(last=False)
    return raster


def _same_grids(raster: RegionRaster, grid_ids: np.ndarray) -> bool:
    return raster.grid_ids.size == grid_ids.size and bool(np.array_equal(raster.grid_ids, grid_ids))


def _lattice(session: Session, region_id: int, grid_ids: np.ndarray) -> CoverageLattice:
    lattice = session.scalar(select(CoverageLattice).where(CoverageLattice.region_id == region_id))
    if lattice is not None:
        return lattice
    x0, y0, x1, y1 = session.execute(
        select(func.min(Area.min_lon), func.min(Area.min_lat), func.max(Area.max_lon), func.max(Area.max_lat))
        .where(Area.id.in_(grid_ids.tolist()))).one()
    lattice = CoverageLattice(region_id=region_id, centre_lon=round((x0 + x1) / 2, 6),
                              centre_lat=round((y0 + y1) / 2, 6), cell_size_m=DEFAULT_CELL_SIZE_M,
                              radius_m=DEFAULT_RADIUS_M)
    try:
        with session.begin_nested():
            session.add(lattice)
    except IntegrityError:  # another worker fixed it first
        lattice = session.scalars(select(CoverageLattice).where(CoverageLattice.region_id == region_id)
                                  .execution_options(populate_existing=True)).one()
    return lattice


def _build_raster(session: Session, key: tuple, region_id: int, grid_ids: np.ndarray,
                  lattice: CoverageLattice) -> RegionRaster:
    rows = session.execute(select(Area.id, func.ST_AsBinary(Area.geom), Area.area_m2, Area.min_lon, Area.min_lat,
                                  Area.max_lon, Area.max_lat)
                           .where(Area.id.in_(grid_ids.tolist())).order_by(Area.id)).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    geoms = shapely.from_wkb([bytes(r[1]) for r in rows])
    bounds = (min(r[3] for r in rows), min(r[4] for r in rows), max(r[5] for r in rows), max(r[6] for r in rows))
    spec = raster_spec_for_bounds(bounds, radius_m=lattice.radius_m, cell_size_m=lattice.cell_size_m,
                                  centre_lonlat=(lattice.centre_lon, lattice.centre_lat))
    index = grid_cell_index(spec, geoms).prepare()
    spec.fitted_from_lonlat  # noqa: B018 - fitted now (~70 ms), not in the first batch that projects fixes
    grids_m = shapely.transform(geoms, spec.lonlat_to_metres_rows)
    near_m = shapely.buffer(grids_m, lattice.radius_m, quad_segs=NEAR_QUAD_SEGS)
    shapely.prepare(near_m)
    return RegionRaster(key, region_id, spec, index, ids, np.array([r[2] for r in rows], dtype=np.float64),
                        {int(g): i for i, g in enumerate(ids)}, lattice.radius_m,
                        round(spec.origin_x_m / spec.cell_size_m), round(spec.origin_y_m / spec.cell_size_m),
                        grids_m, near_m, shapely.STRtree(near_m))


def warm_up(session: Session) -> int:
    """Build every region's raster now (as many as the budget keeps), not in the first batches a worker gets."""
    built = 0
    for region_id in region_map(session).region_ids.tolist():
        if region_raster(session, region_id) is not None:
            built += 1
    return built
