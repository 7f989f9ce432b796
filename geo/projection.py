"""Geodesic measures on the WGS-84 ellipsoid and coordinate reference system helpers."""

from __future__ import annotations

import math

import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry.base import BaseGeometry

__all__ = [
    "WGS84_LONLAT",
    "geodesic_area_m2",
    "geodesic_distance_m",
    "local_equal_area_crs",
    "to_wgs84_transformer",
    "utm_crs_for",
]

# OGC:CRS84 is WGS-84 with lon/lat axis order, i.e. what GeoJSON and our database store.
WGS84_LONLAT = CRS.from_user_input("OGC:CRS84")

_GEOD_WGS84 = Geod(ellps="WGS84")


def geodesic_distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance in metres between two WGS-84 points on the ellipsoid.

    >>> round(geodesic_distance_m(116.0, 40.0, 116.0, 40.001), 1)
    111.0
    >>> geodesic_distance_m(116.0, 40.0, 116.0, 40.0)
    0.0
    """
    _, _, distance = _GEOD_WGS84.inv(lon1, lat1, lon2, lat2)
    return float(distance)


def geodesic_area_m2(geom: BaseGeometry | None) -> float:
    """Area of a lon/lat polygon on the WGS-84 ellipsoid, in square metres.

    Parameters
    ----------
    geom : Polygon, MultiPolygon or None
        Geometry in WGS-84 lon/lat degrees. Holes are subtracted.

    Returns
    -------
    float
        Non-negative area in m². ``0.0`` for ``None``, empty and non-polygonal geometries.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> round(geodesic_area_m2(box(116.0, 40.0, 116.01, 40.01)))
    948099
    >>> geodesic_area_m2(None), geodesic_area_m2(shapely.Polygon())
    (0.0, 0.0)
    """
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        return 0.0
    # pyproj sums signed ring areas, so a clockwise shell next to a counter-clockwise one would cancel;
    # orienting every part first (shell CCW, holes CW) makes each part count positively and holes subtract.
    oriented = shapely.orient_polygons(geom, exterior_cw=False)
    area_m2, _perimeter_m = _GEOD_WGS84.geometry_area_perimeter(oriented)
    return float(abs(area_m2))


def to_wgs84_transformer(crs_text: str) -> Transformer:
    """Transformer from ``crs_text`` (``EPSG:32649``, an OGC URN, WKT, ...) to WGS-84 lon/lat.

    ``always_xy=True`` so input is (easting, northing) or (lon, lat) and output is (lon, lat) whatever
    axis order the CRS definition declares.

    Raises
    ------
    pyproj.exceptions.CRSError
        If the text does not name a known CRS.
    """
    source_crs = CRS.from_user_input(crs_text)
    return Transformer.from_crs(source_crs, WGS84_LONLAT, always_xy=True)


def utm_crs_for(lon: float, lat: float) -> CRS:
    """The WGS-84 / UTM zone CRS (EPSG:326xx north, 327xx south) containing a lon/lat point.

    Examples
    --------
    >>> utm_crs_for(116.3, 40.0).to_epsg()
    32650
    >>> utm_crs_for(-122.4, 37.8).to_epsg()
    32610
    """
    if not (math.isfinite(lon) and math.isfinite(lat)) or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"not a WGS-84 lon/lat position: {lon!r}, {lat!r}")
    # lon = 180 belongs to zone 60, not to a non-existent zone 61.
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def local_equal_area_crs(lon: float, lat: float) -> CRS:
    """A Lambert azimuthal equal-area CRS centred on a lon/lat point, in metres.

    Planar areas in it are true ellipsoidal areas; distances are close to true within tens of km
    of the centre, which is what town-sized work needs.
    """
    return CRS.from_proj4(
        f"+proj=laea +lat_0={lat:.9f} +lon_0={lon:.9f} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    )
