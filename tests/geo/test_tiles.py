"""Tile maths and the palette PNG encoder, checked against independent formulas and a decoder."""
from __future__ import annotations

import numpy as np
import pytest

from geo.coverage import cells_of_lonlat, grid_cell_index, raster_spec_for_bounds
from geo.tiles import encode_palette_png, tile_bounds_lonlat, tile_pixel_lonlat
from tests.resources.test_coverage import decode_png


def test_tile_pixels_lie_inside_their_tile_and_match_the_slippy_map_formula():
    z, x, y = 15, 26899, 12503  # over Hebei, near the demo town
    west, south, east, north = tile_bounds_lonlat(z, x, y)
    lon, lat = tile_pixel_lonlat(z, x, y)
    assert lon.shape == lat.shape == (256, 256)
    assert west < lon.min() < lon.max() < east and south < lat.min() < lat.max() < north
    assert lat[0, 0] > lat[-1, 0]  # row 0 is the northern edge
    # Inverse of the standard slippy-map formula for the tile's north-west corner.
    n = 2**z
    assert west == pytest.approx(x / n * 360 - 180)
    assert north == pytest.approx(np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * y / n)))))


def test_palette_png_round_trips():
    pixels = np.zeros((256, 256), dtype=np.uint8)
    pixels[10:20, 30:200] = 1
    pixels[100:, :50] = 2
    data = encode_palette_png(pixels, [(0, 0, 0, 0), (255, 0, 0, 128), (0, 255, 0, 128)])
    assert np.array_equal(decode_png(data), pixels)
    assert len(data) < 2000  # a few flat regions compress to almost nothing


def test_rasters_with_one_centre_share_one_lattice():
    """A grid's cells (row-major, so its bitmaps' bit order) do not depend on the bounds of the whole town."""
    from shapely.geometry import box

    grid = box(115.55, 38.10, 115.56, 38.105)
    small = raster_spec_for_bounds((115.54, 38.09, 115.57, 38.11), centre_lonlat=(115.5, 38.0))
    large = raster_spec_for_bounds((115.40, 37.90, 115.70, 38.30), centre_lonlat=(115.5, 38.0))
    cells_small = grid_cell_index(small, [grid]).cell_ids
    cells_large = grid_cell_index(large, [grid]).cell_ids
    assert cells_small.size == cells_large.size > 0

    def lattice(spec, cells):
        row, col = np.divmod(cells, spec.width)
        return np.column_stack([spec.origin_x_m / spec.cell_size_m + col, spec.origin_y_m / spec.cell_size_m + row])

    assert np.array_equal(lattice(small, cells_small), lattice(large, cells_large))


def test_cells_and_their_grids_are_found_for_points():
    from shapely.geometry import box

    spec = raster_spec_for_bounds((115.5, 38.0, 115.52, 38.01))
    index = grid_cell_index(spec, [box(115.5, 38.0, 115.51, 38.01), box(115.51, 38.0, 115.52, 38.01)])
    cells = cells_of_lonlat(spec, [115.505, 115.515, 115.6, np.nan], [38.005, 38.005, 38.005, 38.0])
    assert (cells[:2] >= 0).all() and (cells[2:] == -1).all()
    assert index.grid_of_cells(cells).tolist() == [0, 1, -1, -1]
    mask = np.zeros(spec.cell_count, dtype=bool)
    mask[cells[0]] = True
    assert index.covered_cells(mask).tolist() == [1, 0]


@pytest.mark.parametrize("window", [None, (0.3, 0.35), (0.0, 0.02), (0.98, 1.0), (0.5, 0.5001)])
@pytest.mark.parametrize("density", [0.0, 0.001, 0.5, 1.0])
def test_covered_cells_counts_each_grid_exactly_at_any_density(density, window):
    """Summing the raster's pieces between grid-row edges agrees with a plain per-grid sum, where grids overlap,
    are missing, or are round (rows of every length)."""
    from shapely.geometry import Point, box

    spec = raster_spec_for_bounds((115.5, 38.0, 115.52, 38.01))
    grids = [box(115.5, 38.0, 115.51, 38.01), box(115.505, 38.0, 115.52, 38.005), None,
             box(115.515, 38.006, 115.52, 38.01),  # overlapping, missing and plain grids
             Point(115.51, 38.005).buffer(0.003), Point(115.5, 38.01).buffer(0.002)]  # round, over the others
    index = grid_cell_index(spec, grids)
    mask = np.random.default_rng(4).random(spec.cell_count) < density
    if window is not None:  # a batch's lines: set cells only in a stretch of the raster (or at its very ends)
        start, stop = (int(f * spec.cell_count) for f in window)
        mask[:start] = mask[stop:] = False
    expected = [int(mask[index.cell_ids[index.offsets[g]:index.offsets[g + 1]]].sum()) for g in range(len(grids))]
    assert index.covered_cells(mask).tolist() == expected
    assert index.covered_ratio(mask)[2] == 0.0


def test_covered_cells_counts_a_single_cell_at_the_edges_of_grid_rows():
    """One set cell, at the first or the last cell of a grid's row (where the raster's pieces are cut), counts for
    every grid holding it and for no other."""
    from shapely.geometry import Point, box

    spec = raster_spec_for_bounds((115.5, 38.0, 115.52, 38.01))
    grids = [box(115.5, 38.0, 115.51, 38.01), box(115.505, 38.0, 115.52, 38.005), Point(115.51, 38.005).buffer(0.003)]
    index = grid_cell_index(spec, grids)
    holders = {}
    for g in range(len(grids)):
        for cell in index.cell_ids[index.offsets[g]:index.offsets[g + 1]].tolist():
            holders.setdefault(cell, set()).add(g)
    row_edges = [c for c in holders if c - 1 not in holders or c + 1 not in holders]
    assert len(row_edges) > 50
    for cell in row_edges:
        mask = np.zeros(spec.cell_count, dtype=bool)
        mask[cell] = True
        assert index.covered_cells(mask).tolist() == [int(g in holders[cell]) for g in range(len(grids))], cell
