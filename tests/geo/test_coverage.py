"""Raster coverage against the exact polygon oracle, on the demo town with noisy, gappy random-walk tracks."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from geo.coverage import (
    CoverageAccumulator,
    GridCellIndex,
    RasterSpec,
    exact_coverage_by_grid,
    grid_cell_index,
    rasterize_track_coverage,
    raster_spec_for_bounds,
)
from geo.demo_town import DemoTown, build_demo_town
from geo.projection import WGS84_LONLAT, geodesic_area_m2

RADIUS_M = 30.0


@pytest.fixture(scope="module")
def town() -> DemoTown:
    return build_demo_town()


@pytest.fixture(scope="module")
def spec(town: DemoTown) -> RasterSpec:
    return raster_spec_for_bounds(town.outline.bounds, radius_m=RADIUS_M)


@pytest.fixture(scope="module")
def grids(town: DemoTown) -> NDArray[np.object_]:
    return np.array([g.geometry for g in town.grids], dtype=object)


@pytest.fixture(scope="module")
def index(spec: RasterSpec, grids: NDArray[np.object_]) -> GridCellIndex:
    return grid_cell_index(spec, grids)


def to_lonlat(spec: RasterSpec, x_m: NDArray[np.float64], y_m: NDArray[np.float64]
              ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lon, lat = Transformer.from_crs(spec.crs, WGS84_LONLAT, always_xy=True).transform(x_m, y_m)
    return np.asarray(lon), np.asarray(lat)


def town_box_m(spec: RasterSpec, town: DemoTown) -> tuple[float, float, float, float]:
    to_m = Transformer.from_crs(WGS84_LONLAT, spec.crs, always_xy=True)
    x, y = to_m.transform(*np.asarray(town.outline.exterior.coords if town.outline.geom_type == "Polygon"
                                      else shapely.get_coordinates(town.outline)).T)
    return float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y))


def random_tracks(spec: RasterSpec, town: DemoTown, seed: int, tracks: int, fixes: int
                  ) -> list[tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]]:
    """Walking and driving random walks (1 fix / 2-5 s) with 5-10 m GPS noise and a few signal gaps."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = town_box_m(spec, town)
    speed_mps = np.where(rng.random(tracks) < 0.5, 1.4, 8.0)[:, None] * rng.uniform(0.7, 1.3, (tracks, fixes))
    step_m = speed_mps * rng.uniform(2.0, 5.0, (tracks, fixes))
    heading = rng.uniform(0, 2 * np.pi, (tracks, 1)) + np.cumsum(rng.normal(0, 0.2, (tracks, fixes)), axis=1)
    start = rng.uniform((x0, y0), (x1, y1), size=(tracks, 2))
    x = start[:, :1] + np.cumsum(step_m * np.cos(heading), axis=1)
    y = start[:, 1:] + np.cumsum(step_m * np.sin(heading), axis=1)
    # Fold walks back into the town's box; GPS noise then still pushes some fixes beyond it.
    x = x0 + np.abs(np.mod(x - x0, 2 * (x1 - x0)) - (x1 - x0))
    y = y0 + np.abs(np.mod(y - y0, 2 * (y1 - y0)) - (y1 - y0))
    noise_m = rng.uniform(5.0, 10.0, (tracks, 1))
    x += rng.normal(0, 1, x.shape) * noise_m
    y += rng.normal(0, 1, y.shape) * noise_m
    breaks = rng.random((tracks, fixes)) < 4.0 / fixes
    breaks[:, 0] = True
    lon, lat = to_lonlat(spec, x, y)
    return [(lon[k], lat[k], breaks[k]) for k in range(tracks)]


def parts_lonlat(lon: NDArray[np.float64], lat: NDArray[np.float64], breaks: NDArray[np.bool_]
                 ) -> list[NDArray[np.float64]]:
    return np.split(np.column_stack([lon, lat]), np.flatnonzero(breaks[1:]) + 1)


def straight_track(spec: RasterSpec, x0_m: float, x1_m: float, y_m: float, step_m: float = 5.0
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = np.arange(x0_m, x1_m, step_m)
    return to_lonlat(spec, x, np.full(x.size, y_m))


def covered_near(spec: RasterSpec, covered: NDArray[np.uint8], x_m: float, y_m: float) -> bool:
    col = int((x_m - spec.origin_x_m) // spec.cell_size_m)
    row = int((y_m - spec.origin_y_m) // spec.cell_size_m)
    return bool(covered[row * spec.width + col] > 0)


def test_matches_exact_oracle_within_half_a_point(spec: RasterSpec, grids: NDArray[np.object_],
                                                  index: GridCellIndex, town: DemoTown) -> None:
    tracks = random_tracks(spec, town, seed=11, tracks=10, fixes=1_000)
    acc = CoverageAccumulator(spec, RADIUS_M)
    for lon, lat, breaks in tracks:
        acc.add_track("day", lon, lat, breaks)
    raster = acc.covered_ratio_by_grid(index)
    exact = exact_coverage_by_grid(grids, [p for t in tracks for p in parts_lonlat(*t)], RADIUS_M, spec.crs)

    touched = exact > 0
    assert touched.sum() > 40, "the tracks should reach a good share of the grids"
    error_pp = np.abs(raster - exact) * 100
    # Judged over touched grids only: untouched ones are trivially exact and would dilute the mean.
    assert error_pp[touched].mean() <= 0.5
    assert error_pp.max() <= 3.0
    # A grid the band passes just outside may show a sliver from the cells it shares with the band's neighbour
    # (the shares of a cell in the grid and in the band are measured apart); the server counts only grids the
    # lines came within R of (services.patrol.coverage_writer).
    assert np.all(raster[~touched] < 0.005)


def test_cells_hold_exactly_the_grid_areas(spec: RasterSpec, grids: NDArray[np.object_], index: GridCellIndex) -> None:
    exact_m2 = np.array([geodesic_area_m2(g) for g in grids])
    # The raster's grid areas are the polygons' areas in the town's equidistant projection: within 0.01 %.
    np.testing.assert_allclose(index.raster_area_m2, exact_m2, rtol=1e-4)
    # A tessellation: where grids share a cell, their shares add up to at most the whole cell.
    total = np.zeros(spec.cell_count)
    np.add.at(total, index.cell_ids, index.weights)
    assert total.max() <= 1.0 + 1e-9


def test_covered_m2_is_the_ratio_times_the_exact_area(spec: RasterSpec, grids: NDArray[np.object_],
                                                      index: GridCellIndex, town: DemoTown) -> None:
    lon, lat, breaks = random_tracks(spec, town, seed=5, tracks=1, fixes=500)[0]
    acc = CoverageAccumulator(spec, RADIUS_M)
    acc.add_track("d", lon, lat, breaks)
    area_m2 = np.array([geodesic_area_m2(g) for g in grids])
    np.testing.assert_allclose(acc.covered_m2_by_grid(index, area_m2), acc.covered_ratio_by_grid(index) * area_m2)


def test_a_gap_between_parts_covers_nothing(spec: RasterSpec, town: DemoTown) -> None:
    cx, cy = (spec.origin_x_m + spec.width * spec.cell_size_m / 2, spec.origin_y_m + spec.height * 5.0)
    west_lon, west_lat = straight_track(spec, cx - 1500, cx - 500, cy)
    east_lon, east_lat = straight_track(spec, cx + 500, cx + 1500, cy)
    lon, lat = np.concatenate([west_lon, east_lon]), np.concatenate([west_lat, east_lat])
    breaks = np.zeros(lon.size, dtype=bool)
    breaks[west_lon.size] = True

    covered = rasterize_track_coverage(spec, lon, lat, breaks, RADIUS_M)
    assert covered_near(spec, covered, cx - 1000, cy) and covered_near(spec, covered, cx + 1000, cy)
    for x_m in (cx - 400, cx, cx + 400):
        assert not covered_near(spec, covered, x_m, cy)
    # Without the break the same fixes are joined across the gap.
    joined = rasterize_track_coverage(spec, lon, lat, None, RADIUS_M)
    assert covered_near(spec, joined, cx, cy)


def test_fixes_past_the_east_edge_never_wrap_to_the_west(spec: RasterSpec) -> None:
    east_m = spec.origin_x_m + spec.width * spec.cell_size_m
    y_m = spec.origin_y_m + spec.height * spec.cell_size_m / 2
    # From inside the raster to 500 m past its east edge, with rows straddling: any wrap lands in column 0..k.
    lon, lat = straight_track(spec, east_m - 400, east_m + 500, y_m)
    lon_n, lat_n = to_lonlat(spec, np.full(200, east_m - 3.0), np.linspace(y_m - 500, y_m + 500, 200))
    covered = rasterize_track_coverage(spec, np.concatenate([lon, lon_n]), np.concatenate([lat, lat_n]),
                                       np.r_[np.zeros(lon.size, bool), True, np.zeros(199, bool)], RADIUS_M)
    grid = covered.reshape(spec.height, spec.width)
    assert grid[:, -60:].any(), "the part inside the raster is covered"
    assert not grid[:, : spec.width // 2].any()


def test_incremental_equals_one_shot_in_any_order(spec: RasterSpec, index: GridCellIndex, town: DemoTown) -> None:
    tracks = random_tracks(spec, town, seed=3, tracks=6, fixes=400)
    lon = np.concatenate([t[0] for t in tracks])
    lat = np.concatenate([t[1] for t in tracks])
    breaks = np.concatenate([t[2] for t in tracks])  # each track starts with a break
    one_shot = index.covered_ratio(rasterize_track_coverage(spec, lon, lat, breaks, RADIUS_M))

    orders = []
    for order in ([0, 1, 2, 3, 4, 5], [5, 3, 1, 0, 4, 2]):
        acc = CoverageAccumulator(spec, RADIUS_M)
        for k in order:
            acc.add_track("day", *tracks[k])
        orders.append(acc.covered_mask())
        # The same to 0.01 pp: where two tracks' bands meet, one shot may count a cell inside both bands whole
        # that the tracks one by one each measure on their edge.
        np.testing.assert_allclose(acc.covered_ratio_by_grid(index), one_shot, atol=1e-4)
    np.testing.assert_array_equal(orders[0], orders[1])  # the order of the tracks does not matter at all
    before = acc.covered_ratio_by_grid(index)
    acc.add_track("day", *tracks[2])  # a retried batch changes nothing
    np.testing.assert_array_equal(acc.covered_ratio_by_grid(index), before)


def test_an_empty_track_covers_nothing(spec: RasterSpec, index: GridCellIndex) -> None:
    assert not rasterize_track_coverage(spec, [], [], None, RADIUS_M).any()
    assert not rasterize_track_coverage(spec, [np.nan, np.nan], [np.nan, np.nan]).any()
    acc = CoverageAccumulator(spec, RADIUS_M)
    acc.add_track("day", [], [])
    assert np.all(acc.covered_ratio_by_grid(index) == 0.0)


def test_every_grid_a_track_passes_counts(spec: RasterSpec, grids: NDArray[np.object_],
                                          index: GridCellIndex) -> None:
    # A diagonal across the town: no grid is "assigned", and every one it passes must show coverage.
    x0, x1 = spec.origin_x_m, spec.origin_x_m + spec.width * spec.cell_size_m
    y0, y1 = spec.origin_y_m, spec.origin_y_m + spec.height * spec.cell_size_m
    t = np.linspace(0.0, 1.0, 3_000)
    lon, lat = to_lonlat(spec, x0 + t * (x1 - x0), y0 + t * (y1 - y0))
    ratio = index.covered_ratio(rasterize_track_coverage(spec, lon, lat, None, RADIUS_M))
    passed = shapely.intersects(grids, shapely.LineString(np.column_stack([lon, lat])))
    assert passed.sum() > 10
    assert np.all(ratio[passed] > 0)
    assert np.all(ratio[~passed] < 0.2)  # grids the line misses get at most the 30 m fringe


def test_a_lone_fix_covers_a_disk(spec: RasterSpec) -> None:
    cx = spec.origin_x_m + spec.width * spec.cell_size_m / 2 + 3.3
    cy = spec.origin_y_m + spec.height * spec.cell_size_m / 2 + 7.1
    lon, lat = to_lonlat(spec, np.array([cx]), np.array([cy]))
    covered = rasterize_track_coverage(spec, lon, lat, radius_m=RADIUS_M)
    # pi * 30² m², the rim measured cell by cell: the linear share is exact for a straight edge and a little
    # generous (about 1 %) around a circle of only three cells' radius.
    assert covered.sum(dtype=np.int64) / 255 * spec.cell_size_m**2 == pytest.approx(np.pi * RADIUS_M**2, rel=0.02)
    xs, ys = spec.cell_centres_m(np.flatnonzero(covered))
    # cells reach R plus half a cell's diagonal: a cell's corner may still lie within R
    assert np.hypot(xs - cx, ys - cy).max() <= RADIUS_M + spec.cell_size_m * 2**0.5 / 2 + 1e-6


def test_small_and_missing_grids(spec: RasterSpec, town: DemoTown) -> None:
    lon, lat = town.centre_lonlat
    sliver = shapely.box(lon, lat, lon + 2e-5, lat + 2e-5)  # ~2 m square: no cell centre inside
    index = grid_cell_index(spec, [sliver, None, shapely.Polygon()])
    assert index.cells_per_grid[0] >= 1 and index.cells_per_grid[1:].tolist() == [0, 0]
    covered = rasterize_track_coverage(spec, [lon], [lat], radius_m=RADIUS_M)
    assert index.covered_ratio(covered).tolist() == [1.0, 0.0, 0.0]


def test_radius_beyond_the_padding_is_refused(spec: RasterSpec) -> None:
    with pytest.raises(ValueError):
        rasterize_track_coverage(spec, [115.55], [38.1], radius_m=spec.max_radius_m + 1)
    with pytest.raises(ValueError):
        CoverageAccumulator(spec, radius_m=spec.max_radius_m * 2)
