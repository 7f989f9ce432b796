"""Tests for geo.demo_town: the demo town has the size and structure of the typical town in DOMAIN.md."""

from __future__ import annotations

import re

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon

from geo.demo_town import DemoTown, build_demo_town
from geo.projection import geodesic_area_m2


@pytest.fixture(scope="module")
def town() -> DemoTown:
    return build_demo_town()


def _areas_m2(geoms) -> np.ndarray:
    return np.array([geodesic_area_m2(g) for g in geoms])


def test_town_is_about_90_km2_on_the_hebei_plain(town):
    assert 88e6 <= geodesic_area_m2(town.outline) <= 92e6
    lon, lat = town.centre_lonlat
    assert 115.0 < lon < 116.0 and 37.8 < lat < 38.4
    assert town.outline.contains(shapely.Point(lon, lat))
    assert 2.5e6 <= geodesic_area_m2(town.built_up) <= 3.5e6
    assert town.town_geometry is town.outline
    assert re.fullmatch(r"\d{9}", town.code) and town.name.endswith("镇")


def test_everything_is_valid_wgs84_multipolygons(town):
    geoms = [town.outline, town.built_up] + [x.geometry for x in (*town.zones, *town.grids, *town.villages)]
    assert all(isinstance(g, MultiPolygon) and g.is_valid and not g.is_empty for g in geoms)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    assert 115.3 < minx and maxx < 115.8 and 37.9 < miny and maxy < 38.3


def test_four_zones_tile_the_town(town):
    assert len(town.zones) == 4 and all(z.name.endswith("片区") for z in town.zones)
    zones = [z.geometry for z in town.zones]
    union_m2 = geodesic_area_m2(shapely.union_all(zones))
    assert union_m2 == pytest.approx(geodesic_area_m2(town.outline), rel=1e-6)
    assert _areas_m2(zones).sum() == pytest.approx(union_m2, rel=1e-6)
    # The built-up centre is where the zones meet: each squad has a share of the streets.
    assert all(geodesic_area_m2(shapely.intersection(z, town.built_up)) > 0.2e6 for z in zones)


def test_grids_lie_in_one_zone_and_tile_it(town):
    assert len(town.grids) >= 200
    for zone_index, zone in enumerate(town.zones):
        grids = [g.geometry for g in town.grids if g.zone_index == zone_index]
        zone_m2 = geodesic_area_m2(zone.geometry)
        outside_m2 = _areas_m2(shapely.difference(grids, zone.geometry))
        assert outside_m2.max() < 1.0  # float noise only
        assert geodesic_area_m2(shapely.union_all(grids)) == pytest.approx(zone_m2, rel=1e-3)
        assert _areas_m2(grids).sum() == pytest.approx(zone_m2, rel=1e-3)  # no overlaps either


def test_grids_are_small_in_the_centre_and_large_in_farmland(town):
    grid_geoms = [g.geometry for g in town.grids]
    areas_ha = _areas_m2(grid_geoms) / 1e4
    in_centre = shapely.within(shapely.point_on_surface(grid_geoms), town.built_up)
    assert in_centre.sum() >= 30
    assert np.median(areas_ha[in_centre]) < 10.0
    assert areas_ha[~in_centre].max() > 100.0
    assert areas_ha.min() >= 1.0  # slivers were merged


def test_76_villages_with_distinct_names_and_statistical_codes(town):
    villages = town.villages
    assert len(villages) == 76
    assert len({v.name for v in villages}) == 76 and all(v.name.endswith("村") for v in villages)
    assert len({v.code for v in villages}) == 76
    assert all(re.fullmatch(town.code + r"2\d\d", v.code) for v in villages)
    for village in villages:
        assert village.geometry.contains(shapely.Point(village.centre_lonlat))
    geoms = [v.geometry for v in villages]
    rural = shapely.difference(town.outline, town.built_up)
    assert geodesic_area_m2(shapely.union_all(geoms)) == pytest.approx(geodesic_area_m2(rural), rel=1e-3)
    assert _areas_m2(geoms).sum() == pytest.approx(geodesic_area_m2(rural), rel=1e-3)


def test_grid_codes_name_zone_and_grid(town):
    codes = [g.code for g in town.grids]
    assert len(set(codes)) == len(codes)
    for grid in town.grids:
        match = re.fullmatch(town.code + r"-(\d\d)(\d\d)", grid.code)
        assert match and int(match.group(1)) == grid.zone_index + 1 and int(match.group(2)) >= 1
        assert town.zones[grid.zone_index].code == f"{town.code}-{match.group(1)}"


def test_same_seed_same_town_other_seed_other_town(town):
    again = build_demo_town()
    assert [(g.code, g.geometry.wkb) for g in again.grids] == [(g.code, g.geometry.wkb) for g in town.grids]
    assert [(v.name, v.geometry.wkb) for v in again.villages] == [
        (v.name, v.geometry.wkb) for v in town.villages
    ]
    other = build_demo_town(seed=7)
    assert other.outline.wkb != town.outline.wkb
    assert 88e6 <= geodesic_area_m2(other.outline) <= 92e6
    assert len(other.villages) == 76 and len(other.grids) >= 200
