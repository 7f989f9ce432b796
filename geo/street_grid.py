"""Synthetic street-grid towns: square blocks bounded by streets, and phone tracks that walk those streets.

Real urban grids (网格) of a street office are small blocks (about 1 ha) whose edges are the streets officers
walk, so a track runs along a grid's edge, along the edge two grids share, and turns at their corners. Tests and
benchmarks build such towns anywhere on Earth with these functions; the geometry is exact in a local azimuthal
equidistant projection and returned in WGS-84 lon/lat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from geo.coverage import local_equidistant_crs
from geo.projection import WGS84_LONLAT

__all__ = ["StreetGrid", "street_grid", "street_walk"]


@dataclass(frozen=True)
class StreetGrid:
    """Blocks of a street grid: ``blocks[k]`` is row ``k // cols``, column ``k % cols`` (rows northwards)."""

    centre_lonlat: tuple[float, float]
    block_m: float
    rows: int
    cols: int
    rotation_deg: float
    blocks: list[Polygon]  # WGS-84 lon/lat

    @property
    def outline(self) -> BaseGeometry:
        """The whole grid as one polygon (a town or street office boundary holding every block)."""
        return shapely.union_all(self.blocks)

    def corner_lonlat(self, row: int, col: int) -> tuple[float, float]:
        """The street corner at lattice point (row, col), 0 <= row <= rows, 0 <= col <= cols."""
        lon, lat = _to_lonlat(self, np.array([col * self.block_m]), np.array([row * self.block_m]))
        return float(lon[0]), float(lat[0])


def _transformers(centre_lonlat: tuple[float, float]) -> tuple[Transformer, Transformer]:
    crs = local_equidistant_crs(*centre_lonlat)
    return (Transformer.from_crs(WGS84_LONLAT, crs, always_xy=True),
            Transformer.from_crs(crs, WGS84_LONLAT, always_xy=True))


def _local_xy(grid: StreetGrid, u_m: NDArray[np.float64], v_m: NDArray[np.float64]
              ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Grid coordinates (metres from the south-west corner along the grid's axes) to projected metres."""
    a = math.radians(grid.rotation_deg)
    u0, v0 = u_m - grid.cols * grid.block_m / 2, v_m - grid.rows * grid.block_m / 2
    return u0 * math.cos(a) - v0 * math.sin(a), u0 * math.sin(a) + v0 * math.cos(a)


def _to_lonlat(grid: StreetGrid, u_m: NDArray[np.float64], v_m: NDArray[np.float64]
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    _, to_lonlat = _transformers(grid.centre_lonlat)
    return to_lonlat.transform(*_local_xy(grid, u_m, v_m))


def street_grid(centre_lonlat: tuple[float, float], rows: int, cols: int, block_m: float = 100.0,
                rotation_deg: float = 0.0) -> StreetGrid:
    """``rows`` x ``cols`` square blocks of ``block_m`` metres centred on a lon/lat point, turned by
    ``rotation_deg`` (counter-clockwise from east), each block's edges densified every 10 m so its lon/lat polygon
    follows the straight street."""
    grid = StreetGrid(centre_lonlat, float(block_m), rows, cols, float(rotation_deg), [])
    _, to_lonlat = _transformers(centre_lonlat)
    blocks = []
    for row in range(rows):
        for col in range(cols):
            square = shapely.segmentize(box(col * block_m, row * block_m, (col + 1) * block_m, (row + 1) * block_m),
                                        10.0)
            u, v = np.asarray(square.exterior.coords).T
            lon, lat = to_lonlat.transform(*_local_xy(grid, u, v))
            blocks.append(Polygon(np.column_stack([lon, lat])))
    return StreetGrid(centre_lonlat, float(block_m), rows, cols, float(rotation_deg), blocks)


def street_walk(grid: StreetGrid, corners: list[tuple[int, int]], *, start_unix_s: float, speed_mps: float = 1.4,
                interval_s: float = 1.0, offset_m: float = 0.0, noise_m: float = 0.0, seed: int = 0
                ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """A phone's fixes (t, lon, lat) walking from street corner to street corner in order (each step along one
    street: same row or same column), every ``interval_s`` at ``speed_mps``.

    ``offset_m`` walks beside the street's centre line (positive: to the walker's left), as on a pavement; ``noise_m``
    adds Gaussian GPS noise of that standard deviation to each fix.
    """
    path_u, path_v = [], []
    for (r0, c0), (r1, c1) in zip(corners[:-1], corners[1:], strict=True):
        if r0 != r1 and c0 != c1:
            raise ValueError(f"a street runs along a row or a column: {(r0, c0)} -> {(r1, c1)}")
        length_m = (abs(r1 - r0) + abs(c1 - c0)) * grid.block_m
        n = max(1, int(round(length_m / (speed_mps * interval_s))))
        s = np.arange(n) / n
        du, dv = (c1 - c0) * grid.block_m, (r1 - r0) * grid.block_m
        norm = math.hypot(du, dv)
        left_u, left_v = -dv / norm * offset_m, du / norm * offset_m
        path_u.append(c0 * grid.block_m + s * du + left_u)
        path_v.append(r0 * grid.block_m + s * dv + left_v)
    r_end, c_end = corners[-1]
    u = np.concatenate([*path_u, [c_end * grid.block_m]])
    v = np.concatenate([*path_v, [r_end * grid.block_m]])
    if noise_m:
        rng = np.random.default_rng(seed)
        u = u + rng.normal(0.0, noise_m, u.size)
        v = v + rng.normal(0.0, noise_m, v.size)
    lon, lat = _to_lonlat(grid, u, v)
    t = start_unix_s + np.arange(u.size, dtype=np.float64) * interval_s
    return t, lon, lat
