"""Raster cells of each grid with the exact share of each cell inside the grid, and per-grid covered areas.

A grid owns every cell its polygon overlaps, weighted by the overlapping share of the cell: 1 inside, the exact
fraction on the border. Counting whole cells by their centres moves a grid's border by up to half a cell, which on
a 1 ha grid whose edge is the street an officer walks is a 5 m strip of fully covered ground: several percentage
points of error. With the weights, a grid's raster area is its polygon's area, and two grids sharing an edge
split the cells along it between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from geo.raster import RasterSpec

FULL = 255  # a cell wholly covered (geo.track_cover.FULL)

__all__ = ["GridCellIndex", "cell_fractions", "grid_cell_index"]

# Shares this close to 0 or 1 are float noise of the accumulation, not real slivers of a cell.
_SHARE_EPS = 1e-6


@dataclass(frozen=True)
class GridCellIndex:
    """Cells of each grid: grid ``g`` owns ``cell_ids[offsets[g]:offsets[g + 1]]`` (sorted) with the share of each
    cell inside it in ``weights`` (0 < w <= 1).

    Covered figures take a per-cell coverage in 0..255 (geo.track_cover: the share of the cell within R of a
    track, times 255) and sum share x coverage per grid. Built once per town and raster.
    """

    cell_ids: NDArray[np.int32]  # int32 and float32: a town's million entries in 8 MB (a county keeps 10-20 towns)
    offsets: NDArray[np.int64]
    weights: NDArray[np.float32]
    cell_area_m2: float

    @property
    def grid_count(self) -> int:
        return int(self.offsets.size - 1)

    @cached_property
    def cells_per_grid(self) -> NDArray[np.int64]:
        return np.diff(self.offsets)

    @cached_property
    def area_cells(self) -> NDArray[np.float64]:
        """Each grid's area in cells (the sum of its shares)."""
        return _sum_per_grid(self.weights.astype(np.float64), self.offsets)

    @property
    def raster_area_m2(self) -> NDArray[np.float64]:
        """Grid areas as the raster sees them: the polygon areas in the raster's projection."""
        return self.area_cells * self.cell_area_m2

    def prepare(self) -> GridCellIndex:
        """Build the lookup tables of covered_cells now (when a server starts) rather than in its first query."""
        _ = self._full, self._partial, self._longest_piece
        return self

    def covered_cells(self, coverage: NDArray[np.uint8]) -> NDArray[np.float64]:
        """Covered area of each grid in cells, from a per-cell coverage over the raster (0..255, see above).

        Cells wholly inside their grid are summed in one pass over the raster (the sums of the pieces between the
        edges of the grids' runs of consecutive cells); border cells are weighted one by one.
        """
        if self.cell_ids.size == 0:
            return np.zeros(self.grid_count)
        cuts, piece, grid = self._full
        values = coverage.view(np.uint8)
        out = np.zeros(self.grid_count)
        if piece.size:
            # 16-bit sums are half the time of 32 and hold a piece of up to 257 whole cells (a grid row 2.5 km wide)
            dtype = np.uint16 if self._longest_piece * FULL < 2**16 else np.uint32
            sums = np.add.reduceat(values, cuts[:-1], dtype=dtype).astype(np.float64)
            sums[-1] = float(values[cuts[-2]:cuts[-1]].sum(dtype=np.int64))  # reduceat's last piece runs to the end
            out += np.bincount(grid, weights=sums[piece], minlength=self.grid_count)
        border_cells, border_weights, border_starts, border_grids = self._partial
        if border_cells.size:  # grouped by grid: one pass of sums, not a scatter of every border cell
            out[border_grids] += np.add.reduceat(values[border_cells] * border_weights, border_starts, dtype=np.float64)
        return out / 255.0

    def covered_ratio(self, coverage: NDArray[np.uint8]) -> NDArray[np.float64]:
        """Covered share (0..1) of each grid (0.0 for a grid without cells)."""
        area = self.area_cells
        ratio = np.divide(self.covered_cells(coverage), area, out=np.zeros(area.size), where=area > 0)
        return np.minimum(ratio, 1.0, out=ratio)  # float32 shares: a whole grid may sum to 1 + 3e-8

    def _owner(self) -> NDArray[np.int32]:
        """The grid of each entry of cell_ids (computed when needed: a town's million entries are 4 MB)."""
        return np.repeat(np.arange(self.grid_count, dtype=np.int32), self.cells_per_grid)

    @cached_property
    def _full(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Runs of consecutive whole cells of each grid, the raster cut at every run's start and end, and for each
        (piece, grid) pair a piece of a run belongs to: piece k is [cuts[k], cuts[k + 1])."""
        whole = self.weights >= 1.0
        ids, owner = self.cell_ids[whole], self._owner()[whole]
        if ids.size == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        starts_at = np.flatnonzero(np.concatenate([[True], (np.diff(ids) != 1) | (np.diff(owner) != 0)]))
        starts = ids[starts_at]
        ends = starts + np.diff(np.append(starts_at, ids.size))
        cuts = np.unique(np.concatenate([starts, ends]))
        first, last = np.searchsorted(cuts, starts), np.searchsorted(cuts, ends)
        spans = last - first
        piece = np.repeat(first, spans) + (np.arange(spans.sum()) - np.repeat(np.cumsum(spans) - spans, spans))
        return cuts, piece, np.repeat(owner[starts_at], spans)

    @cached_property
    def _longest_piece(self) -> int:
        """Cells in the longest piece a grid reads (pieces between grids may be longer; no grid reads those)."""
        cuts, piece, _grid = self._full
        return int((cuts[piece + 1] - cuts[piece]).max()) if piece.size else 0

    @cached_property
    def _partial(self) -> tuple[NDArray[np.int32], NDArray[np.float32], NDArray[np.int64], NDArray[np.int64]]:
        """The border cells (in grid order) with their shares, where each grid's run of them starts, and its grid."""
        border = self.weights < 1.0
        owner = self._owner()[border]
        starts = np.flatnonzero(np.concatenate([[True], np.diff(owner) != 0])) if owner.size else owner.astype(np.int64)
        return self.cell_ids[border], self.weights[border], starts, owner[starts].astype(np.int64)

    @cached_property
    def _cells_sorted(self) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float32]]:
        # by cell, the largest share first: where grids share a cell, the grid holding most of it owns it
        order = np.lexsort((-self.weights, self.cell_ids))
        return self.cell_ids[order], self._owner()[order], self.weights[order]

    def grid_of_cells(self, cells: ArrayLike) -> NDArray[np.int64]:
        """The grid holding most of each raster cell, -1 outside every grid."""
        sorted_cells, owner, _ = self._cells_sorted
        cells_a = np.asarray(cells, dtype=np.int64)
        if sorted_cells.size == 0:
            return np.full(cells_a.shape, -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(sorted_cells, cells_a), sorted_cells.size - 1)
        return np.where(sorted_cells[at] == cells_a, owner[at], -1)

    def cells_of(self, grids: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The cells of these grid positions, with their shares (a cell of two grids appears twice)."""
        g = np.asarray(grids, dtype=np.int64)
        if g.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        lengths = self.cells_per_grid[g]
        at = np.repeat(self.offsets[g], lengths) + (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths,
                                                                                          lengths))
        return self.cell_ids[at], self.weights[at]


def _sum_per_grid(values: NDArray[np.float64], offsets: NDArray[np.int64]) -> NDArray[np.float64]:
    sums: NDArray[np.float64] = np.concatenate([[0.0], np.cumsum(values)])
    return sums[offsets[1:]] - sums[offsets[:-1]]


def cell_fractions(rings_uv: Sequence[NDArray[np.float64]], width: int, height: int) -> NDArray[np.float64]:
    """Exact share of each unit cell of a ``height`` x ``width`` window inside a polygon given by its rings in cell
    units (u = column, v = row, the window's corner at 0, 0), any orientation as long as holes run opposite to
    their shell (shapely.normalize does that).

    Every edge is cut where it crosses a cell row or column; each piece adds the signed area it bounds to its
    right, within its cell and across the rest of the row, which a sum along the row then collects (the
    accumulation of anti-aliased font rasterisers): exact for straight edges, one pass over the edges.
    """
    acc = np.zeros((height, width + 2))
    u0s, v0s, u1s, v1s = [], [], [], []
    for ring in rings_uv:
        u0s.append(ring[:-1, 0])
        v0s.append(ring[:-1, 1])
        u1s.append(ring[1:, 0])
        v1s.append(ring[1:, 1])
    if not u0s:
        return acc[:, :width]
    u0, v0, u1, v1 = (np.concatenate(a) for a in (u0s, v0s, u1s, v1s))
    moving = v0 != v1  # flat edges bound no area to their right
    u0, v0, u1, v1 = u0[moving], v0[moving], u1[moving], v1[moving]
    # Parameters where each edge crosses an integer u or v, plus its ends.
    t_parts = [np.zeros(u0.size), np.ones(u0.size)]
    edge_parts = [np.arange(u0.size), np.arange(u0.size)]
    for a0, a1 in ((u0, u1), (v0, v1)):
        lo, hi = np.minimum(a0, a1), np.maximum(a0, a1)
        first = np.floor(lo) + 1
        count = np.maximum(np.ceil(hi) - first, 0).astype(np.int64)
        edge = np.repeat(np.arange(a0.size), count)
        k = np.repeat(first, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
        t_parts.append((k - a0[edge]) / (a1[edge] - a0[edge]))
        edge_parts.append(edge)
    t = np.concatenate(t_parts)
    edge = np.concatenate(edge_parts)
    order = np.lexsort((t, edge))
    t, edge = t[order], edge[order]
    same = edge[1:] == edge[:-1]
    ta, tb, e = t[:-1][same], t[1:][same], edge[:-1][same]
    du, dv = u1[e] - u0[e], v1[e] - v0[e]
    dy = (tb - ta) * dv
    mid_u = u0[e] + (ta + tb) / 2 * du
    mid_v = v0[e] + (ta + tb) / 2 * dv
    col = np.floor(mid_u).astype(np.int64)
    row = np.floor(mid_v).astype(np.int64)
    inside_row = (row >= 0) & (row < height)
    col, row, dy, frac = np.clip(col, -1, width), row[inside_row], dy[inside_row], (mid_u - np.floor(mid_u))[inside_row]
    col = col[inside_row]
    # Column -1 (an edge left of the window) shifts into the window's first cell: the whole row to its right counts.
    left = col < 0
    frac = np.where(left, 0.0, frac)
    col = np.where(left, 0, col)
    flat = row * (width + 2) + col
    np.add.at(acc.ravel(), flat, dy * (1.0 - frac))
    np.add.at(acc.ravel(), flat + 1, dy * frac)
    return np.cumsum(acc, axis=1)[:, :width]


def grid_cell_index(spec: RasterSpec, grid_geoms_lonlat: Sequence[BaseGeometry] | NDArray[np.object_]
                    ) -> GridCellIndex:
    """Assign raster cells to grids with the exact share of each cell inside each grid polygon.

    Empty or missing geometries get no cells; any other grid, however small or thin, gets the cells it overlaps.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from geo.raster import raster_spec_for_bounds
    >>> spec = raster_spec_for_bounds((115.5, 38.0, 115.51, 38.01))
    >>> index = grid_cell_index(spec, [box(115.5, 38.0, 115.505, 38.01), None, shapely.Polygon()])
    >>> index.grid_count, index.cells_per_grid[1:].tolist()
    (3, [0, 0])
    """
    geoms = np.asarray(grid_geoms_lonlat, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    cs = spec.cell_size_m
    owners, cells, weights = [], [], []
    for g in np.flatnonzero(present):
        polygon_m = shapely.normalize(shapely.transform(geoms[g], spec.lonlat_to_metres_rows))
        x0, y0, x1, y1 = polygon_m.bounds
        col0 = max(int(np.floor((x0 - spec.origin_x_m) / cs)), 0)
        row0 = max(int(np.floor((y0 - spec.origin_y_m) / cs)), 0)
        col1 = min(int(np.ceil((x1 - spec.origin_x_m) / cs)), spec.width)
        row1 = min(int(np.ceil((y1 - spec.origin_y_m) / cs)), spec.height)
        if col1 <= col0 or row1 <= row0:
            continue
        rings = [(np.asarray(r.coords) - (spec.origin_x_m + col0 * cs, spec.origin_y_m + row0 * cs)) / cs
                 for p in shapely.get_parts(polygon_m) for r in (p.exterior, *p.interiors)]
        share = cell_fractions(rings, col1 - col0, row1 - row0)
        rows, cols = np.nonzero(share > _SHARE_EPS)
        w = np.minimum(share[rows, cols], 1.0)
        w[w > 1.0 - _SHARE_EPS] = 1.0
        owners.append(np.full(rows.size, g))
        cells.append((rows + row0) * spec.width + cols + col0)
        weights.append(w)
    if owners:
        owner, cell, weight = np.concatenate(owners), np.concatenate(cells), np.concatenate(weights)
    else:
        owner, cell, weight = (np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0),)
    order = np.lexsort((cell, owner))
    offsets = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=geoms.size))]).astype(np.int64)
    if spec.cell_count >= 2**31:
        raise ValueError("a raster of 2^31 cells or more: is this one town?")
    return GridCellIndex(cell[order].astype(np.int32), offsets, weight[order].astype(np.float32), cs * cs)
