"""Tests for geo.coords: WGS-84 <-> GCJ-02 against published values."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from geo.coords import gcj02_to_wgs84, wgs84_to_gcj02

_GEOD = Geod(ellps="WGS84")

# (wgs lon, wgs lat, gcj lon, gcj lat) from the test suite of googollee/eviltransform (python/test.py).
PUBLISHED_PAIRS = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]


def _distance_m(lon1, lat1, lon2, lat2):
    return _GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.mark.parametrize(("wgs_lon", "wgs_lat", "gcj_lon", "gcj_lat"), PUBLISHED_PAIRS)
def test_forward_matches_published_values(wgs_lon, wgs_lat, gcj_lon, gcj_lat):
    lon, lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
    assert _distance_m(lon, lat, gcj_lon, gcj_lat) < 0.05


@pytest.mark.parametrize(("wgs_lon", "wgs_lat", "gcj_lon", "gcj_lat"), PUBLISHED_PAIRS)
def test_inverse_recovers_wgs84_from_published_values(wgs_lon, wgs_lat, gcj_lon, gcj_lat):
    lon, lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert _distance_m(lon, lat, wgs_lon, wgs_lat) < 0.05


def test_tiananmen_offset_is_a_few_hundred_metres_and_round_trips():
    lon, lat = wgs84_to_gcj02(116.397128, 39.916527)
    assert isinstance(lon, float) and isinstance(lat, float)
    assert 450.0 < _distance_m(116.397128, 39.916527, lon, lat) < 650.0
    back_lon, back_lat = gcj02_to_wgs84(lon, lat)
    assert _distance_m(116.397128, 39.916527, back_lon, back_lat) < 0.5
    assert abs(back_lon - 116.397128) < 1e-7 and abs(back_lat - 39.916527) < 1e-7


@pytest.mark.parametrize(
    ("lon", "lat"), [(2.3522, 48.8566), (-122.4194, 37.7749), (139.69, 35.69), (151.21, -33.87)]
)
def test_outside_china_is_unchanged(lon, lat):
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_arrays_convert_element_wise_and_round_trip():
    rng = np.random.default_rng(7)
    lon = np.concatenate([rng.uniform(100.0, 125.0, 500), [2.3522]])
    lat = np.concatenate([rng.uniform(20.0, 45.0, 500), [48.8566]])
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    assert gcj_lon.shape == lon.shape
    for i in (0, 250, 499):
        assert (gcj_lon[i], gcj_lat[i]) == wgs84_to_gcj02(float(lon[i]), float(lat[i]))
    assert (gcj_lon[-1], gcj_lat[-1]) == (2.3522, 48.8566)
    back_lon, back_lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert np.max(np.abs(back_lon - lon)) < 1e-7 and np.max(np.abs(back_lat - lat)) < 1e-7
