"""Each grid's cells with the exact share of each cell inside it, and covered areas summed from them."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from geo.coverage import cells_of_lonlat, grid_cell_index, raster_spec_for_bounds
from geo.grid_cells import cell_fractions


def _shares_by_shapely(rings_uv, width: int, height: int) -> np.ndarray:
    polygon = Polygon(rings_uv[0], rings_uv[1:])
    out = np.zeros((height, width))
    for r in range(height):
        for c in range(width):
            out[r, c] = polygon.intersection(box(c, r, c + 1, r + 1)).area
    return out


@pytest.mark.parametrize("seed", range(6))
def test_cell_shares_are_the_exact_overlap_of_cell_and_polygon(seed):
    """Against shapely's own intersection of every cell square: random star-shaped polygons with a hole, edges at
    every angle, vertices on cell corners and edges along cell lines included."""
    rng = np.random.default_rng(seed)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 24))
    radius = rng.uniform(4, 9, angles.size)
    shell = np.column_stack([10 + radius * np.cos(angles), 10 + radius * np.sin(angles)])
    shell[::5] = np.round(shell[::5])  # some vertices on cell corners
    hole = np.array([[9.0, 9.0], [11.0, 9.0], [11.0, 11.5], [9.0, 11.5]])  # edges along cell lines
    polygon = shapely.normalize(Polygon(shell, [hole]))
    rings = [np.asarray(polygon.exterior.coords), *(np.asarray(r.coords) for r in polygon.interiors)]
    got = cell_fractions(rings, 21, 21)
    np.testing.assert_allclose(got, _shares_by_shapely(rings, 21, 21), atol=1e-9)
    assert got.sum() == pytest.approx(polygon.area, rel=1e-12)


def test_grid_areas_in_cells_are_the_polygon_areas_and_shared_cells_split():
    spec = raster_spec_for_bounds((115.5, 38.0, 115.52, 38.01))
    west, east = box(115.5, 38.0, 115.50731, 38.01), box(115.50731, 38.0, 115.52, 38.01)  # an edge mid-cell
    index = grid_cell_index(spec, [west, east])
    exact_m2 = shapely.area(shapely.transform(np.array([west, east]), spec.lonlat_to_metres_rows))
    np.testing.assert_allclose(index.raster_area_m2, exact_m2, rtol=1e-9)
    shared = np.intersect1d(index.cell_ids[:index.offsets[1]], index.cell_ids[index.offsets[1]:])
    assert shared.size > 50  # the cells along the common edge belong to both
    total = np.zeros(spec.cell_count)
    np.add.at(total, index.cell_ids, index.weights)
    # split between them, none counted twice (the two at the ends also lie partly outside both boxes)
    assert np.all(total[shared] <= 1.0 + 1e-9)
    assert np.isclose(total[shared], 1.0, atol=1e-9).sum() >= shared.size - 2


def test_cells_and_their_grids_are_found_for_points():
    spec = raster_spec_for_bounds((115.5, 38.0, 115.52, 38.01))
    index = grid_cell_index(spec, [box(115.5, 38.0, 115.51, 38.01), box(115.51, 38.0, 115.52, 38.01)])
    cells = cells_of_lonlat(spec, [115.505, 115.515, 115.6, np.nan], [38.005, 38.005, 38.005, 38.0])
    assert (cells[:2] >= 0).all() and (cells[2:] == -1).all()
    assert index.grid_of_cells(cells).tolist() == [0, 1, -1, -1]
    coverage = np.zeros(spec.cell_count, dtype=np.uint8)
    coverage[cells[0]] = 255
    assert index.covered_cells(coverage).tolist() == [1.0, 0.0]


def _plain_sums(index, coverage) -> list[float]:
    return [float((coverage[index.cell_ids[index.offsets[g]:index.offsets[g + 1]]]
                   * index.weights[index.offsets[g]:index.offsets[g + 1]]).sum() / 255) for g in range(index.grid_count)]


@pytest.mark.parametrize("window", [None, (0.3, 0.35), (0.0, 0.02), (0.98, 1.0), (0.5, 0.5001)])
@pytest.mark.parametrize("density", [0.0, 0.001, 0.5, 1.0])
def test_covered_cells_counts_each_grid_exactly_at_any_density(density, window):
    """The one-pass sums over whole cells plus the weighted border cells agree with a plain per-grid sum, where grids
    overlap, are missing, or are round (rows of every length)."""
    spec = raster_spec_for_bounds((115.5, 38.0, 115.52, 38.01))
    grids = [box(115.5, 38.0, 115.51, 38.01), box(115.505, 38.0, 115.52, 38.005), None,
             box(115.515, 38.006, 115.52, 38.01),  # overlapping, missing and plain grids
             Point(115.51, 38.005).buffer(0.003), Point(115.5, 38.01).buffer(0.002)]  # round, over the others
    index = grid_cell_index(spec, grids)
    rng = np.random.default_rng(4)
    coverage = np.where(rng.random(spec.cell_count) < density, rng.integers(1, 256, spec.cell_count), 0).astype(np.uint8)
    if window is not None:  # a batch's lines: covered cells only in a stretch of the raster (or at its very ends)
        start, stop = (int(f * spec.cell_count) for f in window)
        coverage[:start] = coverage[stop:] = 0
    np.testing.assert_allclose(index.covered_cells(coverage), _plain_sums(index, coverage), rtol=1e-12, atol=1e-9)
    assert index.covered_ratio(coverage)[2] == 0.0


def test_covered_cells_counts_a_single_cell_at_the_edges_of_grid_rows():
    """One covered cell, at the first or the last cell of a grid's row (where the raster's pieces are cut), counts
    for every grid holding it, by its share, and for no other."""
    spec = raster_spec_for_bounds((115.5, 38.0, 115.52, 38.01))
    grids = [box(115.5, 38.0, 115.51, 38.01), box(115.505, 38.0, 115.52, 38.005), Point(115.51, 38.005).buffer(0.003)]
    index = grid_cell_index(spec, grids)
    holders: dict[int, dict[int, float]] = {}
    for g in range(len(grids)):
        span = slice(index.offsets[g], index.offsets[g + 1])
        for cell, share in zip(index.cell_ids[span].tolist(), index.weights[span].tolist(), strict=True):
            holders.setdefault(cell, {})[g] = share
    row_edges = [c for c in holders if c - 1 not in holders or c + 1 not in holders]
    assert len(row_edges) > 50
    for cell in row_edges:
        coverage = np.zeros(spec.cell_count, dtype=np.uint8)
        coverage[cell] = 255
        got = index.covered_cells(coverage)
        np.testing.assert_allclose(got, [holders[cell].get(g, 0.0) for g in range(len(grids))], atol=1e-12,
                                   err_msg=str(cell))


def test_a_sliver_grid_gets_the_cells_it_overlaps():
    spec = raster_spec_for_bounds((115.5, 38.0, 115.52, 38.01))
    sliver = box(115.51, 38.005, 115.51002, 38.00502)  # ~2 m square, inside one cell or across a few
    index = grid_cell_index(spec, [sliver, None, shapely.Polygon()])
    assert index.cells_per_grid[0] >= 1 and index.cells_per_grid[1:].tolist() == [0, 0]
    area_m2 = shapely.area(shapely.transform(sliver, spec.lonlat_to_metres_rows))
    assert index.raster_area_m2[0] == pytest.approx(area_m2, rel=1e-9)
