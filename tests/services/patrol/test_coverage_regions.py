"""Which region (own raster, own projection) a grid's coverage is counted in."""
from __future__ import annotations

from backend.services.patrol.coverage_regions import TILE_DEG, region_of


def test_a_grid_of_a_town_counts_in_its_town():
    assert region_of(42, 115.55, 38.10) == 42


def test_grids_under_no_town_are_grouped_by_the_tile_they_lie_in():
    here = region_of(None, 115.55, 38.10)
    assert here < 0  # never an area id
    assert region_of(None, 115.551, 38.101) == here  # a neighbouring grid
    assert region_of(None, 115.55 + TILE_DEG, 38.10) != here  # 28 km east: its own raster
    assert region_of(None, -122.44, 37.76) != here
    # every tile of the globe has its own key
    keys = {region_of(None, -180 + TILE_DEG * (c + 0.5), -90 + TILE_DEG * (r + 0.5)) for r in (0, 1, 719) for c in
            (0, 1, 1439)}
    assert len(keys) == 9
