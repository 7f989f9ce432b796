"""Tests for geo.projection: geodesic areas of real boundary files against an independent truth."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from pyproj import Proj
from shapely.geometry import Polygon, box, shape

from geo.projection import geodesic_area_m2, to_wgs84_transformer, utm_crs_for
from geo.validate import parse_boundary_collection

EXPECTED_COUNTS = {"haidian": 29, "seoul": 424, "san_francisco": 37}


def _equal_area_truth_m2(geom_lonlat: shapely.Geometry) -> float:
    """Area by a different route: project to a LAEA CRS centred on the feature, take the planar area."""
    lon, lat = geom_lonlat.centroid.coords[0]
    # pyproj.Proj rather than a Transformer: building a CRS per feature would cost 25 ms each.
    to_laea = Proj(f"+proj=laea +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m")
    projected = shapely.transform(geom_lonlat, lambda xy: np.column_stack(to_laea(xy[:, 0], xy[:, 1])))
    return float(projected.area)


@pytest.mark.parametrize("key", sorted(EXPECTED_COUNTS))
def test_geodesic_area_of_every_real_feature_matches_equal_area_projection(boundary_bytes, key):
    features = json.loads(boundary_bytes[key])["features"]
    assert len(features) == EXPECTED_COUNTS[key]
    for index, feature in enumerate(features):
        geom = shape(feature["geometry"])
        truth_m2 = _equal_area_truth_m2(geom)
        assert geodesic_area_m2(geom) == pytest.approx(truth_m2, rel=0.005), (key, index)


def test_tsinghua_file_reprojects_from_utm_into_beijing_with_its_area(boundary_bytes):
    raw = boundary_bytes["tsinghua"]
    utm_polygon = shape(json.loads(raw)["features"][0]["geometry"])
    parsed = parse_boundary_collection(raw)
    assert parsed.source_crs == "EPSG:32649"
    (feature,) = parsed.features
    lon, lat = feature.geometry.centroid.coords[0]
    assert lon == pytest.approx(116.32, abs=0.05) and lat == pytest.approx(40.00, abs=0.05)
    area_m2 = geodesic_area_m2(feature.geometry)
    assert area_m2 == pytest.approx(utm_polygon.area, rel=0.005)
    # The file uses zone 49 five degrees east of its central meridian, where UTM inflates areas by ~0.4%;
    # corrected by the projection's areal scale the two must agree much more closely.
    areal_scale = Proj("EPSG:32649").get_factors(lon, lat).areal_scale
    assert area_m2 == pytest.approx(utm_polygon.area / areal_scale, rel=5e-4)


def test_geodesic_area_subtracts_holes_and_ignores_winding():
    shell = [(116.0, 40.0), (116.02, 40.0), (116.02, 40.02), (116.0, 40.02)]
    hole = [(116.005, 40.005), (116.015, 40.005), (116.015, 40.015), (116.005, 40.015)]
    solid = geodesic_area_m2(Polygon(shell))
    holed = geodesic_area_m2(Polygon(shell, [hole]))
    assert holed == pytest.approx(0.75 * solid, rel=1e-3)
    assert geodesic_area_m2(Polygon(shell[::-1], [hole])) == pytest.approx(holed)
    square = box(116.0, 40.0, 116.01, 40.01)
    clockwise_square = Polygon(box(116.02, 40.0, 116.03, 40.01).exterior.coords[::-1])
    two_parts = shapely.MultiPolygon([square, clockwise_square])
    assert geodesic_area_m2(two_parts) == pytest.approx(2 * geodesic_area_m2(square), rel=1e-3)


@pytest.mark.parametrize("geom", [None, Polygon(), shapely.MultiPolygon(), shapely.Point(116.0, 40.0)])
def test_geodesic_area_is_zero_for_nothing(geom):
    assert geodesic_area_m2(geom) == 0.0


def test_to_wgs84_transformer_reads_urn_and_epsg_and_returns_lon_lat():
    for text in ("EPSG:32649", "urn:ogc:def:crs:EPSG::32649"):
        lon, lat = to_wgs84_transformer(text).transform(954219.8889, 4442967.642)
        assert 116.0 < lon < 116.5 and 39.8 < lat < 40.2
    lon, lat = to_wgs84_transformer("urn:ogc:def:crs:OGC:1.3:CRS84").transform(116.3, 40.0)
    assert (lon, lat) == pytest.approx((116.3, 40.0))


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (116.3, 40.0, 32650), (115.55, 38.1, 32650), (111.0, 30.0, 32649),
        (-122.4, 37.8, 32610), (151.2, -33.9, 32756), (180.0, 0.0, 32660),
    ],
)
def test_utm_crs_for_picks_the_zone(lon, lat, epsg):
    assert utm_crs_for(lon, lat).to_epsg() == epsg
