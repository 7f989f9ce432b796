"""Tile maths and the palette PNG encoder, checked against independent formulas and a decoder."""
from __future__ import annotations

import numpy as np
import pytest

from geo.coverage import grid_cell_index, raster_spec_for_bounds
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
