"""A lon/lat -> metres projection over one town, evaluated as a polynomial fitted to PROJ.

The coverage raster's azimuthal equidistant projection on the WGS-84 ellipsoid costs PROJ a geodesic
inverse per point (about 1 µs; 2,000 fixes of a batch took 2 ms). Over a town-sized box the projection is so
smooth that a degree-5 polynomial in lon/lat reproduces it to well under a micrometre (0.0001 mm over
±0.6°, 65 km): the polynomial is fitted once per raster, its error is measured against PROJ on a dense
check lattice, and it is used only if that error is below ``TOLERANCE_M``. Points outside the fitted box go
through PROJ, as everything does when the fit is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

DEGREE = 5
TOLERANCE_M = 1e-5  # 0.01 mm: nothing downstream (10 m cells, GPS fixes) can tell the difference
_TERMS = tuple((i, j) for i in range(DEGREE + 1) for j in range(DEGREE + 1 - i))


@dataclass(frozen=True)
class FittedTransform:
    """``transform(lon, lat) -> (x, y)`` as PROJ's ``transformer`` would, fast inside the fitted box."""

    transformer: Transformer
    centre: tuple[float, float]  # lon, lat of the box centre
    half: tuple[float, float]  # half the box's width and height, degrees
    coef_x: NDArray[np.float64] | None  # None: the fit was refused, PROJ does everything
    coef_y: NDArray[np.float64] | None
    max_error_m: float

    def transform(self, lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        lon_a = np.asarray(lon, dtype=np.float64).ravel()
        lat_a = np.asarray(lat, dtype=np.float64).ravel()
        if self.coef_x is None or self.coef_y is None:  # both or neither
            return self._proj(lon_a, lat_a)
        u = (lon_a - self.centre[0]) / self.half[0]
        v = (lat_a - self.centre[1]) / self.half[1]
        terms = _monomials(u, v)
        x, y = terms @ self.coef_x, terms @ self.coef_y
        outside = ~((np.abs(u) <= 1.0) & (np.abs(v) <= 1.0))  # also NaN
        if outside.any():
            x[outside], y[outside] = self._proj(lon_a[outside], lat_a[outside])
        return x, y

    def _proj(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        x, y = self.transformer.transform(lon, lat)
        return np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()


def fit_transform(transformer: Transformer, bounds_lonlat: tuple[float, float, float, float]) -> FittedTransform:
    """Fit ``transformer`` (lon/lat in, metres out) over the lon/lat box ``bounds_lonlat``."""
    min_lon, min_lat, max_lon, max_lat = bounds_lonlat
    centre = ((min_lon + max_lon) / 2.0, (min_lat + max_lat) / 2.0)
    half = (max((max_lon - min_lon) / 2.0, 1e-6), max((max_lat - min_lat) / 2.0, 1e-6))
    # Least squares on Chebyshev nodes (well conditioned), checked on a denser uniform lattice with its edges.
    nodes = np.cos(np.linspace(0.0, np.pi, 4 * DEGREE + 1))
    u, v = (a.ravel() for a in np.meshgrid(nodes, nodes))
    x, y = transformer.transform(centre[0] + u * half[0], centre[1] + v * half[1])
    terms = _monomials(u, v)
    coef_x = np.linalg.lstsq(terms, np.asarray(x), rcond=None)[0]
    coef_y = np.linalg.lstsq(terms, np.asarray(y), rcond=None)[0]
    check = np.linspace(-1.0, 1.0, 61)
    cu, cv = (a.ravel() for a in np.meshgrid(check, check))
    px, py = transformer.transform(centre[0] + cu * half[0], centre[1] + cv * half[1])
    fitted = _monomials(cu, cv)
    error = float(np.max(np.hypot(fitted @ coef_x - px, fitted @ coef_y - py)))
    if not error <= TOLERANCE_M:  # also NaN: a box the projection cannot cover
        return FittedTransform(transformer, centre, half, None, None, error)
    return FittedTransform(transformer, centre, half, coef_x, coef_y, error)


def _monomials(u: NDArray[np.float64], v: NDArray[np.float64]) -> NDArray[np.float64]:
    """u**i * v**j for every term of total degree <= DEGREE, one column per term."""
    u_pow = [np.ones_like(u), u]
    v_pow = [np.ones_like(v), v]
    for _ in range(DEGREE - 1):
        u_pow.append(u_pow[-1] * u)
        v_pow.append(v_pow[-1] * v)
    return np.stack([u_pow[i] * v_pow[j] for i, j in _TERMS], axis=1)
