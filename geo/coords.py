"""Conversion between WGS-84 and the GCJ-02 ("Mars") coordinates used by Chinese commercial basemaps."""

from __future__ import annotations

from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["gcj02_to_wgs84", "in_china_lonlat", "wgs84_to_gcj02"]

# Constants of the published GCJ-02 algorithm: Krasovsky 1940 semi-major axis and the
# eccentricity squared that the algorithm uses (it is the WGS-84 value, as in the original code).
_KRASOVSKY_A_M = 6378245.0
_ECC2 = 0.00669342162296594323

# The rectangle every public implementation uses for "outside China": there the offset is not applied,
# so basemaps abroad line up with WGS-84 and conversions must leave points as they are.
_CHINA_LON_MIN, _CHINA_LON_MAX = 72.004, 137.8347
_CHINA_LAT_MIN, _CHINA_LAT_MAX = 0.8293, 55.8271

# The inverse stops when a step moves the point by less than this (1e-8 deg is about 1 mm),
# comfortably inside the 1e-7 deg the backend asks for.
_INVERSE_TOLERANCE_DEG = 1e-8
_INVERSE_MAX_ITERATIONS = 30

# what a conversion returns: floats for scalars in, arrays otherwise (the overloads below say which)
_LonLat = tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]]


def in_china_lonlat(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where the GCJ-02 offset applies (inside the conventional China rectangle)."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    return (
        (lon_a >= _CHINA_LON_MIN) & (lon_a <= _CHINA_LON_MAX)
        & (lat_a >= _CHINA_LAT_MIN) & (lat_a <= _CHINA_LAT_MAX)
    )


def _offset_deg(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """GCJ-02 minus WGS-84, in degrees, evaluated at a WGS-84 position (zero outside China)."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad_lat = np.radians(lat)
    magic = 1.0 - _ECC2 * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A_M * (1.0 - _ECC2)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A_M / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = in_china_lonlat(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


@overload
def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> _LonLat:
    """Shift WGS-84 lon/lat to GCJ-02 for display on AMap/Tencent basemaps.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 degrees; arrays are converted element-wise.

    Returns
    -------
    (lon, lat)
        GCJ-02 degrees, floats for float input, arrays otherwise. Points outside China come back unchanged.

    Examples
    --------
    >>> wgs84_to_gcj02(2.35, 48.85)  # Paris: no offset
    (2.35, 48.85)
    """
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    dlon, dlat = _offset_deg(lon_a, lat_a)
    return _like_input(lon, lat, lon_a + dlon, lat_a + dlat)


@overload
def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> _LonLat:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration (error well below 1e-7 degrees).

    The forward offset has no closed-form inverse; since it varies slowly (tens of metres per km),
    ``wgs = gcj - offset(wgs)`` converges in a few steps. Points outside China come back unchanged.
    """
    gcj_lon = np.asarray(lon, dtype=float)
    gcj_lat = np.asarray(lat, dtype=float)
    wgs_lon, wgs_lat = gcj_lon.copy(), gcj_lat.copy()
    for _ in range(_INVERSE_MAX_ITERATIONS):
        dlon, dlat = _offset_deg(wgs_lon, wgs_lat)
        next_lon, next_lat = gcj_lon - dlon, gcj_lat - dlat
        step_deg = np.maximum(np.abs(next_lon - wgs_lon), np.abs(next_lat - wgs_lat))
        wgs_lon, wgs_lat = next_lon, next_lat
        if not np.any(step_deg >= _INVERSE_TOLERANCE_DEG):
            break
    return _like_input(lon, lat, wgs_lon, wgs_lat)


def _like_input(
    lon_in: ArrayLike, lat_in: ArrayLike, lon_out: NDArray[np.float64], lat_out: NDArray[np.float64]
) -> _LonLat:
    """Return plain floats when the caller passed scalars, arrays otherwise."""
    if np.ndim(lon_in) == 0 and np.ndim(lat_in) == 0:
        return float(lon_out), float(lat_out)
    return lon_out, lat_out
