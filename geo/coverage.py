"""Grid patrol coverage: which share of each grid lies within R metres of kept track lines, per period, and the
exact polygon computation it is checked against.

The pieces: geo.raster (the town's lattice in a local projection), geo.grid_cells (each grid's cells with the
share of each cell inside it), geo.track_cover (the share of each cell within R of a track). This module adds a
per-period accumulator and the exact oracle, and re-exports the pieces.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from geo.grid_cells import GridCellIndex, cell_fractions, grid_cell_index
from geo.projection import WGS84_LONLAT
from geo.raster import (
    DEFAULT_CELL_SIZE_M, DEFAULT_RADIUS_M, RasterSpec, cells_of_lonlat, cells_of_metres, local_equidistant_crs,
    raster_spec_for_bounds, to_metres,
)
from geo.track_cover import FULL, CoverageWindow, track_coverage, track_coverage_lonlat

__all__ = [
    "DEFAULT_CELL_SIZE_M",
    "DEFAULT_RADIUS_M",
    "FULL",
    "CoverageAccumulator",
    "CoverageWindow",
    "GridCellIndex",
    "RasterSpec",
    "cell_fractions",
    "cells_of_lonlat",
    "cells_of_metres",
    "exact_coverage_by_grid",
    "grid_cell_index",
    "local_equidistant_crs",
    "rasterize_track_coverage",
    "raster_spec_for_bounds",
    "to_metres",
    "track_coverage",
    "track_coverage_lonlat",
]


def rasterize_track_coverage(spec: RasterSpec, lon: ArrayLike, lat: ArrayLike, breaks_before: ArrayLike | None = None,
                             radius_m: float = DEFAULT_RADIUS_M) -> NDArray[np.uint8]:
    """The share (0..255) of every raster cell within ``radius_m`` of a track's kept lines (geo.track_cover), as
    one flat array over the whole raster.

    Examples
    --------
    >>> spec = raster_spec_for_bounds((115.5, 38.0, 115.51, 38.01))
    >>> int(rasterize_track_coverage(spec, [], []).sum())
    0
    """
    return track_coverage_lonlat(spec, lon, lat, breaks_before, radius_m).full(spec)


class CoverageAccumulator:
    """Covered shares per period (normally a day), updated batch by batch as tracks arrive.

    Each period holds one coverage per cell (0..255), so a query costs the same whatever the number of patrols
    behind it, and a week is the maximum of 7 days. Adding is idempotent and order-free (maximum).
    """

    def __init__(self, spec: RasterSpec, radius_m: float = DEFAULT_RADIUS_M) -> None:
        if radius_m > spec.max_radius_m:
            raise ValueError(f"radius_m {radius_m} exceeds the {spec.max_radius_m} m the raster is padded for")
        self.spec = spec
        self.radius_m = radius_m
        self.periods: dict[Hashable, NDArray[np.uint8]] = {}

    def add_track(self, period: Hashable, lon: ArrayLike, lat: ArrayLike,
                  breaks_before: ArrayLike | None = None) -> None:
        """Add one batch of kept fixes (see :func:`geo.track_cover.track_coverage`) to ``period``."""
        self.add_window(period, track_coverage_lonlat(self.spec, lon, lat, breaks_before, self.radius_m))

    def add_window(self, period: Hashable, window: CoverageWindow) -> None:
        current = self.periods.get(period)
        if current is None:
            current = self.periods[period] = np.zeros(self.spec.cell_count, dtype=np.uint8)
        window.max_into(self.spec, current)

    def covered_mask(self, periods: Iterable[Hashable] | None = None) -> NDArray[np.uint8]:
        """Coverage per cell (0..255) over ``periods`` (all when ``None``; unknown periods cover nothing)."""
        keys = self.periods.keys() if periods is None else periods
        found = [self.periods[k] for k in keys if k in self.periods]
        if not found:
            return np.zeros(self.spec.cell_count, dtype=np.uint8)
        return np.maximum.reduce(found) if len(found) > 1 else found[0].copy()

    def covered_ratio_by_grid(self, grid_index: GridCellIndex,
                              periods: Iterable[Hashable] | None = None) -> NDArray[np.float64]:
        """Covered share (0..1) of each grid over ``periods``."""
        return grid_index.covered_ratio(self.covered_mask(periods))

    def covered_m2_by_grid(self, grid_index: GridCellIndex, grid_area_m2: ArrayLike,
                           periods: Iterable[Hashable] | None = None) -> NDArray[np.float64]:
        """Covered area per grid: the raster ratio times the exact (geodesic) grid area passed in.

        The raster's grid areas are the polygons' areas in the local projection, true to about 1e-6.
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
