"""Grid patrol coverage: a raster of cells within R metres of kept track lines, per day, and its exact oracle."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from geo.fitted_transform import FittedTransform, fit_transform
from geo.projection import WGS84_LONLAT

__all__ = [
    "DEFAULT_CELL_SIZE_M",
    "DEFAULT_RADIUS_M",
    "CoverageAccumulator",
    "GridCellIndex",
    "RasterSpec",
    "cells_of_lonlat",
    "cells_of_metres",
    "exact_coverage_by_grid",
    "grid_cell_index",
    "local_equidistant_crs",
    "rasterize_track_coverage",
    "rasterize_track_coverage_metres",
    "raster_spec_for_bounds",
    "to_metres",
]

DEFAULT_RADIUS_M = 30.0
DEFAULT_CELL_SIZE_M = 10.0
# Sub-cell positions of a sample are snapped to a PHASES x PHASES lattice, each with its own precomputed disk.
# Snapping to cell centres (one disk) moves samples by up to 7 m, which widens the covered band (the union
# keeps the outermost disks) and fails the 0.5 pp target; 4 phases left a +0.13 pp mean bias, 8 phases (0.9 m
# at most) +0.002 pp for 10% more time (bench/coverage_township_day.py).
_PHASES = 8
# How far past the raster's lon/lat box the fitted projection reaches (geo.fitted_transform); ~30 km.
_FIT_MARGIN_DEG = 0.3
# Bounds the (samples x disk cells) index block built at once: ~2^21 int64 = 16 MB.
_STAMP_BLOCK = 1 << 21
# A kept segment is never this long in a township; past it the input is not a cleaned track.
_MAX_SAMPLES = 50_000_000


def local_equidistant_crs(lon: float, lat: float) -> CRS:
    """An azimuthal equidistant CRS centred on a lon/lat point, in metres.

    Distances from the centre are true and other distances and areas stay within about 1e-6 of true over a
    township (tens of km), so a 30 m radius means 30 m everywhere in the town.
    """
    return CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat:.9f} +lon_0={lon:.9f} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    )


@dataclass(frozen=True)
class RasterSpec:
    """A square-cell raster in a local metric CRS; cell ``(row, col)`` has id ``row * width + col``.

    ``origin_*_m`` is the south-west corner of cell 0; rows grow northwards. ``max_radius_m`` is the largest
    coverage radius the padding around the town was sized for.
    """

    origin_x_m: float
    origin_y_m: float
    cell_size_m: float
    width: int
    height: int
    crs: CRS
    max_radius_m: float = DEFAULT_RADIUS_M

    @property
    def cell_count(self) -> int:
        return self.width * self.height

    @cached_property
    def from_lonlat(self) -> Transformer:
        """WGS-84 lon/lat -> raster CRS metres (built once per spec; pyproj setup costs milliseconds)."""
        return Transformer.from_crs(WGS84_LONLAT, self.crs, always_xy=True)

    @cached_property
    def fitted_from_lonlat(self) -> FittedTransform:
        """``from_lonlat`` as a polynomial fitted over the raster's lon/lat box (geo.fitted_transform): the same
        metres within 0.01 mm at a twentieth of the cost; PROJ for points more than _FIT_MARGIN_DEG off it."""
        to_lonlat = Transformer.from_crs(self.crs, WGS84_LONLAT, always_xy=True)
        x0, y0 = self.origin_x_m, self.origin_y_m
        lon, lat = to_lonlat.transform(*_box_outline(x0, y0, x0 + self.width * self.cell_size_m,
                                                     y0 + self.height * self.cell_size_m))
        # The box is widened well past the raster: fixes a little off it (a patrol along the town's edge) then
        # skip PROJ too, whose first use in each server thread costs ~25 ms to set up.
        margin = _FIT_MARGIN_DEG
        return fit_transform(self.from_lonlat, (max(float(np.min(lon)) - margin, -180.0),
                                                max(float(np.min(lat)) - margin, -89.0),
                                                min(float(np.max(lon)) + margin, 180.0),
                                                min(float(np.max(lat)) + margin, 89.0)))

    def phase_disks(self, radius_m: float) -> _PhaseDisks:
        """The stamping disks for ``radius_m``, built once per spec and radius."""
        cache = self._phase_disk_cache
        if radius_m not in cache:
            cache[radius_m] = _phase_disks(self, radius_m)
        return cache[radius_m]

    @cached_property
    def _phase_disk_cache(self) -> dict[float, _PhaseDisks]:
        return {}

    def cell_centres_m(self, cell_ids: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Projected x, y (metres) of the centres of ``cell_ids``."""
        row, col = np.divmod(np.asarray(cell_ids, dtype=np.int64), self.width)
        return (self.origin_x_m + (col + 0.5) * self.cell_size_m,
                self.origin_y_m + (row + 0.5) * self.cell_size_m)


def _stamp_margin_cells(cell_size_m: float, radius_m: float) -> int:
    """How many cells a disk of ``radius_m`` reaches from the sample's cell, whatever the sub-cell position."""
    return math.ceil(radius_m / cell_size_m) + 1


def _box_outline(x0: float, y0: float, x1: float, y1: float, per_edge: int = 33
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points along a box's four edges: a box's edges bulge when projected, so its corners alone do not bound it."""
    edge = np.linspace(0.0, 1.0, per_edge)
    x = np.concatenate([x0 + edge * (x1 - x0), np.full(per_edge, x1), x1 - edge * (x1 - x0), np.full(per_edge, x0)])
    y = np.concatenate([np.full(per_edge, y0), y0 + edge * (y1 - y0), np.full(per_edge, y1), y1 - edge * (y1 - y0)])
    return x, y


def raster_spec_for_bounds(
    bounds_lonlat_wgs84: tuple[float, float, float, float],
    radius_m: float = DEFAULT_RADIUS_M,
    cell_size_m: float = DEFAULT_CELL_SIZE_M,
    margin_m: float = 100.0,
    centre_lonlat: tuple[float, float] | None = None,
) -> RasterSpec:
    """The raster for a town from its (min lon, min lat, max lon, max lat) bounds.

    ``centre_lonlat`` fixes the projection centre (default: the centre of the bounds). Cell edges lie on
    multiples of ``cell_size_m`` from that centre, so rasters with the same centre and cell size share one
    lattice whatever their bounds: a grid's cells, in row-major order, are the same in all of them.

    The town's projected box is padded by ``radius_m`` (a fix outside the town still covers the town within
    R), plus the disk's reach in cells (samples whose disk could leave the raster are dropped, so those must
    lie further out than R), plus ``margin_m`` for the curvature of lon/lat bounds in the local projection.
    """
    min_lon, min_lat, max_lon, max_lat = bounds_lonlat_wgs84
    if not all(map(math.isfinite, bounds_lonlat_wgs84)) or min_lon > max_lon or min_lat > max_lat:
        raise ValueError(f"not lon/lat bounds: {bounds_lonlat_wgs84!r}")
    if cell_size_m <= 0 or radius_m < 0:
        raise ValueError("cell_size_m must be positive and radius_m non-negative")
    centre = centre_lonlat or ((min_lon + max_lon) / 2.0, (min_lat + max_lat) / 2.0)
    crs = local_equidistant_crs(*centre)
    to_m = Transformer.from_crs(WGS84_LONLAT, crs, always_xy=True)
    x_m, y_m = to_m.transform(*_box_outline(min_lon, min_lat, max_lon, max_lat))
    pad_m = radius_m + (_stamp_margin_cells(cell_size_m, radius_m) + 1) * cell_size_m + margin_m
    origin_x_m = math.floor((x_m.min() - pad_m) / cell_size_m) * cell_size_m
    origin_y_m = math.floor((y_m.min() - pad_m) / cell_size_m) * cell_size_m
    width = math.ceil((x_m.max() + pad_m - origin_x_m) / cell_size_m)
    height = math.ceil((y_m.max() + pad_m - origin_y_m) / cell_size_m)
    return RasterSpec(origin_x_m, origin_y_m, cell_size_m, width, height, crs, max_radius_m=radius_m)


@dataclass(frozen=True)
class GridCellIndex:
    """Raster cells of each grid: grid ``g`` owns ``cell_ids[offsets[g]:offsets[g + 1]]`` (sorted).

    Built once per town and raster; every coverage query reuses it.
    """

    cell_ids: NDArray[np.int64]
    offsets: NDArray[np.int64]
    cell_area_m2: float

    @property
    def grid_count(self) -> int:
        return int(self.offsets.size - 1)

    @cached_property
    def cells_per_grid(self) -> NDArray[np.int64]:
        return np.diff(self.offsets)

    @property
    def raster_area_m2(self) -> NDArray[np.float64]:
        """Grid areas as the raster sees them; they track, but are not, the polygon areas."""
        return self.cells_per_grid * self.cell_area_m2

    def prepare(self) -> GridCellIndex:
        """Build the lookup tables now (when a server starts) rather than in its first query."""
        _ = self._cells_sorted, self._pieces, self._longest_piece
        return self

    def covered_ratio(self, covered: NDArray[np.bool_]) -> NDArray[np.float64]:
        """Share of each grid's cells set in a per-cell ``covered`` mask (0.0 for a grid without cells)."""
        cells = self.cells_per_grid
        return np.divide(self.covered_cells(covered), cells, out=np.zeros(cells.size), where=cells > 0)

    def covered_cells(self, covered: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Number of each grid's cells set in a per-cell ``covered`` mask (where grids overlap, a cell counts
        for each grid holding it).

        One sequential pass over the mask: the sums of the raster's pieces between the edges of the grids' runs
        of consecutive cells (_pieces), added up per grid. About 0.7 ms for a town of a million cells, however
        many are set: looking up only the set cells of one batch took 2 ms, gathering every grid cell 1-2.6 ms.
        """
        if self.cell_ids.size == 0:
            return np.zeros(self.grid_count, dtype=np.int64)
        cuts, piece, grid = self._pieces
        mask = covered.view(np.uint8)
        # 16-bit sums are half the time of 64, and enough: a grid's piece lies within a raster row. Pieces between
        # grids may be longer and wrap around, but no grid reads them.
        dtype = np.uint16 if self._longest_piece < 2**16 else np.int64
        sums = np.add.reduceat(mask, cuts[:-1], dtype=dtype).astype(np.int64)
        sums[-1] = int(mask[cuts[-2]:cuts[-1]].sum(dtype=np.int64))  # reduceat's last piece runs to the end
        return np.bincount(grid, weights=sums[piece], minlength=self.grid_count).astype(np.int64)

    @cached_property
    def _longest_piece(self) -> int:
        cuts, piece, _grid = self._pieces
        return int((cuts[piece + 1] - cuts[piece]).max()) if piece.size else 0

    @cached_property
    def _pieces(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Each grid's cells as runs of consecutive cell ids (a grid row crossing the raster row), the raster cut at
        every run's start and end, and for each (piece, grid) pair a piece of a run belongs to: piece k is
        [cuts[k], cuts[k + 1]). Where grids overlap a run spans several pieces."""
        ids = self.cell_ids
        owner = np.repeat(np.arange(self.grid_count), self.cells_per_grid)
        starts_at = np.flatnonzero(np.concatenate([[True], (np.diff(ids) != 1) | (np.diff(owner) != 0)]))
        starts = ids[starts_at]
        ends = starts + np.diff(np.append(starts_at, ids.size))
        cuts = np.unique(np.concatenate([starts, ends]))
        first, last = np.searchsorted(cuts, starts), np.searchsorted(cuts, ends)
        spans = last - first
        piece = np.repeat(first, spans) + (np.arange(spans.sum()) - np.repeat(np.cumsum(spans) - spans, spans))
        return cuts, piece, np.repeat(owner[starts_at], spans)

    @cached_property
    def _cells_sorted(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        owner = np.repeat(np.arange(self.grid_count), self.cells_per_grid)
        order = np.argsort(self.cell_ids, kind="stable")
        return self.cell_ids[order], owner[order]

    def grid_of_cells(self, cells: ArrayLike) -> NDArray[np.int64]:
        """The grid owning each raster cell id, -1 outside every grid (the first grid where grids overlap)."""
        sorted_cells, owner = self._cells_sorted
        cells_a = np.asarray(cells, dtype=np.int64)
        if sorted_cells.size == 0:
            return np.full(cells_a.shape, -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(sorted_cells, cells_a), sorted_cells.size - 1)
        return np.where(sorted_cells[at] == cells_a, owner[at], -1)


def to_metres(spec: RasterSpec, lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lon/lat to the raster's planar metres (about 0.05 µs a point on the raster, 1 µs off it)."""
    return spec.fitted_from_lonlat.transform(lon, lat)


def cells_of_lonlat(spec: RasterSpec, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.int64]:
    """Raster cell id under each lon/lat point, -1 outside the raster."""
    return cells_of_metres(spec, *to_metres(spec, lon, lat))


def cells_of_metres(spec: RasterSpec, x_m: NDArray[np.float64], y_m: NDArray[np.float64]) -> NDArray[np.int64]:
    """Raster cell id under each planar point (see to_metres), -1 outside the raster."""
    col = np.floor((x_m - spec.origin_x_m) / spec.cell_size_m)
    row = np.floor((y_m - spec.origin_y_m) / spec.cell_size_m)
    inside = (col >= 0) & (col < spec.width) & (row >= 0) & (row < spec.height)  # also drops NaN
    return np.where(inside, np.where(inside, row, 0).astype(np.int64) * spec.width
                    + np.where(inside, col, 0).astype(np.int64), -1)


def grid_cell_index(spec: RasterSpec, grid_geoms_lonlat: Sequence[BaseGeometry] | NDArray[np.object_]
                    ) -> GridCellIndex:
    """Assign raster cells to grids: a cell belongs to every grid polygon containing its centre.

    A non-empty grid too small or thin to contain any cell centre gets the cell under its
    ``point_on_surface``, so a track through it still counts. Empty or missing geometries get no cells.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> spec = raster_spec_for_bounds((115.5, 38.0, 115.51, 38.01))
    >>> index = grid_cell_index(spec, [box(115.5, 38.0, 115.505, 38.01), None, shapely.Polygon()])
    >>> index.grid_count, index.cells_per_grid[1:].tolist()
    (3, [0, 0])
    """
    geoms = np.asarray(grid_geoms_lonlat, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms_m = np.full(geoms.size, None, dtype=object)
    geoms_m[present] = shapely.transform(geoms[present], _lonlat_to_m(spec))
    shapely.prepare(geoms_m[present])

    # Candidate cells are those of each grid's bounding box, laid out as (grid, row, col) triples in one go.
    bounds = shapely.bounds(geoms_m[present]).reshape(-1, 4)
    cs = spec.cell_size_m
    col0 = np.clip(np.floor((bounds[:, 0] - spec.origin_x_m) / cs - 0.5), 0, spec.width - 1).astype(np.int64)
    col1 = np.clip(np.ceil((bounds[:, 2] - spec.origin_x_m) / cs - 0.5), 0, spec.width - 1).astype(np.int64)
    row0 = np.clip(np.floor((bounds[:, 1] - spec.origin_y_m) / cs - 0.5), 0, spec.height - 1).astype(np.int64)
    row1 = np.clip(np.ceil((bounds[:, 3] - spec.origin_y_m) / cs - 0.5), 0, spec.height - 1).astype(np.int64)
    ncols, nrows = col1 - col0 + 1, row1 - row0 + 1
    per_grid = ncols * nrows
    owner = np.repeat(np.flatnonzero(present), per_grid)
    local = np.arange(per_grid.sum()) - np.repeat(np.cumsum(per_grid) - per_grid, per_grid)
    row_off, col_off = np.divmod(local, np.repeat(ncols, per_grid))
    cells = (np.repeat(row0, per_grid) + row_off) * spec.width + np.repeat(col0, per_grid) + col_off
    x_m, y_m = spec.cell_centres_m(cells)
    inside = shapely.contains_xy(geoms_m[owner], x_m, y_m)
    owner, cells = owner[inside], cells[inside]

    # Grids without a cell centre (slivers) fall back to the cell under a point surely inside them.
    has_cell = np.zeros(geoms.size, dtype=bool)
    has_cell[owner] = True
    lacking = np.flatnonzero(present & ~has_cell)
    if lacking.size:
        px, py = shapely.get_coordinates(shapely.point_on_surface(geoms_m[lacking])).T
        col = np.clip(np.floor((px - spec.origin_x_m) / cs), 0, spec.width - 1).astype(np.int64)
        row = np.clip(np.floor((py - spec.origin_y_m) / cs), 0, spec.height - 1).astype(np.int64)
        owner = np.concatenate([owner, lacking])
        cells = np.concatenate([cells, row * spec.width + col])

    order = np.lexsort((cells, owner))
    offsets = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=geoms.size))]).astype(np.int64)
    return GridCellIndex(cells[order].astype(np.int64), offsets, cs * cs)


def _lonlat_to_m(spec: RasterSpec) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    def transform(lonlat: NDArray[np.float64]) -> NDArray[np.float64]:
        x_m, y_m = spec.from_lonlat.transform(lonlat[:, 0], lonlat[:, 1])
        return np.column_stack([x_m, y_m])

    return transform


@dataclass(frozen=True)
class _PhaseDisks:
    """For each sub-cell phase, the flat id offsets of cells whose centre lies within R of the phase centre."""

    offsets: list[NDArray[np.int64]]
    margin_cells: int


def _phase_disks(spec: RasterSpec, radius_m: float) -> _PhaseDisks:
    margin = _stamp_margin_cells(spec.cell_size_m, radius_m)
    d = np.arange(-margin, margin + 1)
    dcol, drow = np.meshgrid(d, d)
    centre = (np.arange(_PHASES) + 0.5) / _PHASES  # phase centre within its cell, in cell units
    radius_cells = radius_m / spec.cell_size_m
    offsets = []
    for phase in range(_PHASES * _PHASES):
        fy, fx = divmod(phase, _PHASES)
        inside = (dcol + 0.5 - centre[fx]) ** 2 + (drow + 0.5 - centre[fy]) ** 2 <= radius_cells**2
        offsets.append((drow[inside] * spec.width + dcol[inside]).astype(np.int64))
    return _PhaseDisks(offsets, margin)


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


def rasterize_track_coverage(
    spec: RasterSpec,
    lon: ArrayLike,
    lat: ArrayLike,
    breaks_before: ArrayLike | None = None,
    radius_m: float = DEFAULT_RADIUS_M,
    out: NDArray[np.bool_] | None = None,
) -> NDArray[np.bool_]:
    """Mark the cells whose centre lies within ``radius_m`` of a track's kept lines.

    Parameters
    ----------
    spec : RasterSpec
    lon, lat : array_like
        Kept fixes of one or more tracks in WGS-84 degrees, in order.
    breaks_before : array_like of bool, optional
        True where a fix starts a new part (``CleanTrack.breaks_before``); nothing is drawn from the fix
        before it. Fix 0 always starts a part. Concatenated tracks must break at each track start.
        ``None``: one part.
    radius_m : float
        Coverage radius; at most ``spec.max_radius_m``.
    out : ndarray of bool, optional
        A per-cell mask to OR into (returned); a new one when ``None``.

    Returns
    -------
    ndarray of bool, shape (spec.cell_count,)

    Notes
    -----
    Each segment is sampled every ``cell_size / 2`` metres or closer and a disk is stamped at each sample.
    Between samples ``s`` metres apart the union of disks reaches ``sqrt(R² - s²/4)`` instead of ``R`` from
    the line: 0.1 m at R = 30, s = 5, far below the cell size, so the capsule needs no correction. Each
    sample's sub-cell position is kept to 1/8 cell (see ``_PHASES``) rather than snapped to its cell centre,
    which would widen the band by a few metres and bias every ratio upwards. Samples whose disk
    could leave the raster are dropped: the raster padding puts them more than R from the town, and flat
    ids of cells past an edge would otherwise wrap onto the opposite edge.

    Examples
    --------
    >>> spec = raster_spec_for_bounds((115.5, 38.0, 115.51, 38.01))
    >>> int(rasterize_track_coverage(spec, [], []).sum())
    0
    >>> int(rasterize_track_coverage(spec, [115.505], [38.005]).sum())  # one fix: a 30 m disk, pi * 3² ≈ 28 cells
    30
    """
    lon_a = np.asarray(lon, dtype=np.float64).ravel()
    lat_a = np.asarray(lat, dtype=np.float64).ravel()
    if lon_a.size != lat_a.size:
        raise ValueError("lon and lat differ in length")
    return rasterize_track_coverage_metres(spec, *to_metres(spec, lon_a, lat_a), breaks_before, radius_m, out)


def rasterize_track_coverage_metres(
    spec: RasterSpec,
    x_m: NDArray[np.float64],
    y_m: NDArray[np.float64],
    breaks_before: ArrayLike | None = None,
    radius_m: float = DEFAULT_RADIUS_M,
    out: NDArray[np.bool_] | None = None,
) -> NDArray[np.bool_]:
    """rasterize_track_coverage for fixes already in the raster's metres (to_metres)."""
    if radius_m > spec.max_radius_m:
        raise ValueError(f"radius_m {radius_m} exceeds the {spec.max_radius_m} m the raster is padded for")
    covered = np.zeros(spec.cell_count, dtype=bool) if out is None else out
    if x_m.size == 0:
        return covered
    if breaks_before is None:
        breaks = np.zeros(x_m.size, dtype=bool)
    else:
        breaks = np.asarray(breaks_before, dtype=bool).ravel().copy()
        if breaks.size != x_m.size:
            raise ValueError("breaks_before differs in length from lon")
    breaks[0] = True
    sx_m, sy_m = _densify_m(x_m, y_m, breaks, spec.cell_size_m / 2.0)

    u = (sx_m - spec.origin_x_m) / spec.cell_size_m
    v = (sy_m - spec.origin_y_m) / spec.cell_size_m
    disks = spec.phase_disks(radius_m)
    m = disks.margin_cells
    keep = (u >= m) & (u < spec.width - m) & (v >= m) & (v < spec.height - m)  # also drops NaN
    u, v = u[keep], v[keep]
    col, row = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)
    phase = (np.minimum(((v - row) * _PHASES).astype(np.int64), _PHASES - 1) * _PHASES
             + np.minimum(((u - col) * _PHASES).astype(np.int64), _PHASES - 1))
    # One key per (phase, cell): unique drops repeats (dense samples, a patrol standing still) and sorts
    # by phase, so each phase's disk is stamped over one contiguous slice.
    keys = np.sort(phase * spec.cell_count + row * spec.width + col)
    keys = keys[np.diff(keys, prepend=-1) != 0]  # unique; sort + mask is ~3x faster than np.unique here
    bounds = np.searchsorted(keys, np.arange(_PHASES * _PHASES + 1) * spec.cell_count)
    for p, disk in enumerate(disks.offsets):
        cells = keys[bounds[p]:bounds[p + 1]] - p * spec.cell_count
        block = max(1, _STAMP_BLOCK // max(disk.size, 1))
        for start in range(0, cells.size, block):
            covered[(cells[start:start + block, None] + disk[None, :]).ravel()] = True
    return covered


class CoverageAccumulator:
    """Covered cells per period (normally a day), updated batch by batch as tracks arrive.

    Each period holds one packed bitmap (1 bit per cell), so a query costs the same whatever the number of
    patrols behind it, and a week is the OR of 7 days. Adding is idempotent and order-free (OR).
    """

    def __init__(self, spec: RasterSpec, radius_m: float = DEFAULT_RADIUS_M) -> None:
        if radius_m > spec.max_radius_m:
            raise ValueError(f"radius_m {radius_m} exceeds the {spec.max_radius_m} m the raster is padded for")
        self.spec = spec
        self.radius_m = radius_m
        self.bitmaps: dict[Hashable, NDArray[np.uint8]] = {}

    def add_track(self, period: Hashable, lon: ArrayLike, lat: ArrayLike,
                  breaks_before: ArrayLike | None = None) -> None:
        """OR one batch of kept fixes (see :func:`rasterize_track_coverage`) into ``period``."""
        self.add_mask(period, rasterize_track_coverage(self.spec, lon, lat, breaks_before, self.radius_m))

    def add_mask(self, period: Hashable, covered: NDArray[np.bool_]) -> None:
        """OR a per-cell mask into ``period``."""
        packed = np.packbits(covered)
        current = self.bitmaps.get(period)
        self.bitmaps[period] = packed if current is None else np.bitwise_or(current, packed)

    def covered_mask(self, periods: Iterable[Hashable] | None = None) -> NDArray[np.bool_]:
        """Cells covered in any of ``periods`` (all periods when ``None``; unknown periods cover nothing)."""
        keys = self.bitmaps.keys() if periods is None else periods
        packed = [self.bitmaps[k] for k in keys if k in self.bitmaps]
        if not packed:
            return np.zeros(self.spec.cell_count, dtype=bool)
        merged = np.bitwise_or.reduce(np.stack(packed), axis=0)
        return np.unpackbits(merged, count=self.spec.cell_count).view(bool)

    def covered_ratio_by_grid(self, grid_index: GridCellIndex,
                              periods: Iterable[Hashable] | None = None) -> NDArray[np.float64]:
        """Covered share (0..1) of each grid over ``periods``."""
        return grid_index.covered_ratio(self.covered_mask(periods))

    def covered_m2_by_grid(self, grid_index: GridCellIndex, grid_area_m2: ArrayLike,
                           periods: Iterable[Hashable] | None = None) -> NDArray[np.float64]:
        """Covered area per grid: the raster ratio times the exact (geodesic) grid area passed in.

        The raster's own grid areas are off by the cells along the border; the ratio is not, to first order.
        """
        return self.covered_ratio_by_grid(grid_index, periods) * np.asarray(grid_area_m2, dtype=np.float64)


def exact_coverage_by_grid(
    grid_geoms_lonlat: Sequence[BaseGeometry] | NDArray[np.object_],
    tracks_parts_lonlat: Iterable[ArrayLike],
    radius_m: float,
    crs: CRS,
) -> NDArray[np.float64]:
    """Covered share of each grid by exact polygons: buffer each part by R, union, intersect, area ratio.

    The reference for the raster path (tests, verification); seconds for a township-day, not for requests.

    Parameters
    ----------
    grid_geoms_lonlat : sequence of Polygon/MultiPolygon (or None)
    tracks_parts_lonlat : iterable of (n, 2) arrays
        Every unbroken part of every kept track as lon/lat rows; a one-fix part covers a disk.
    radius_m : float
    crs : pyproj.CRS
        Metric CRS to measure in (``RasterSpec.crs``).

    Returns
    -------
    ndarray of float64
        0.0 for empty or missing grids.
    """
    to_m = Transformer.from_crs(WGS84_LONLAT, crs, always_xy=True)

    def project(lonlat: NDArray[np.float64]) -> NDArray[np.float64]:
        x_m, y_m = to_m.transform(lonlat[:, 0], lonlat[:, 1])
        return np.column_stack([x_m, y_m])

    parts = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in tracks_parts_lonlat]
    parts = [project(p) for p in parts if p.shape[0] > 0]
    lines = [shapely.LineString(p) if p.shape[0] >= 2 else shapely.Point(p[0]) for p in parts]
    covered = shapely.union_all(shapely.buffer(np.asarray(lines, dtype=object), radius_m, quad_segs=32))
    geoms = np.asarray(grid_geoms_lonlat, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ratio = np.zeros(geoms.size)
    grids_m = shapely.transform(geoms[present], project)
    area_m2 = shapely.area(grids_m)
    covered_m2 = shapely.area(shapely.intersection(grids_m, covered))
    ratio[present] = np.divide(covered_m2, area_m2, out=np.zeros(area_m2.size), where=area_m2 > 0)
    return ratio
