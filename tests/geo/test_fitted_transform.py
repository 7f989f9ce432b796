"""The fitted projection gives PROJ's metres: within 0.01 mm inside its box, PROJ's own outside it."""
import numpy as np
from pyproj import Transformer

from geo.coverage import local_equidistant_crs, raster_spec_for_bounds, to_metres
from geo.fitted_transform import TOLERANCE_M, fit_transform
from geo.projection import WGS84_LONLAT


def _proj(lon0, lat0):
    return Transformer.from_crs(WGS84_LONLAT, local_equidistant_crs(lon0, lat0), always_xy=True)


def test_inside_the_box_it_matches_proj_to_a_hundredth_of_a_millimetre():
    transformer = _proj(115.55, 38.1)
    fitted = fit_transform(transformer, (115.2, 37.8, 115.9, 38.4))  # 60 x 67 km, larger than any township
    assert fitted.coef_x is not None and fitted.max_error_m < TOLERANCE_M
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(115.2, 115.9, 20_000), rng.uniform(37.8, 38.4, 20_000)
    x, y = fitted.transform(lon, lat)
    px, py = transformer.transform(lon, lat)
    assert np.max(np.hypot(x - px, y - py)) < TOLERANCE_M


def test_outside_the_box_and_for_missing_values_it_is_proj():
    transformer = _proj(115.55, 38.1)
    fitted = fit_transform(transformer, (115.5, 38.05, 115.6, 38.15))
    lon = np.array([115.55, 116.9, 115.55, np.nan])
    lat = np.array([38.10, 38.10, 36.0, 38.1])
    x, y = fitted.transform(lon, lat)
    px, py = transformer.transform(lon, lat)
    np.testing.assert_array_equal(x[1:], px[1:])
    np.testing.assert_array_equal(y[1:], py[1:])
    assert abs(x[0] - px[0]) < TOLERANCE_M and abs(y[0] - py[0]) < TOLERANCE_M


def test_a_box_no_polynomial_can_follow_is_refused_and_proj_does_everything():
    transformer = _proj(0.0, 0.0)
    fitted = fit_transform(transformer, (-170.0, -80.0, 170.0, 80.0))  # nearly the whole Earth
    assert fitted.coef_x is None and not fitted.max_error_m < TOLERANCE_M
    lon, lat = np.array([10.0, -120.0]), np.array([5.0, 60.0])
    np.testing.assert_array_equal(fitted.transform(lon, lat), transformer.transform(lon, lat))


def test_the_raster_projects_fixes_through_the_fit_on_the_town_and_proj_off_it():
    spec = raster_spec_for_bounds((115.45, 38.02, 115.68, 38.21))
    assert spec.fitted_from_lonlat.coef_x is not None
    lon, lat = np.array([115.5, 115.6, 118.0]), np.array([38.1, 38.2, 38.1])
    x, y = to_metres(spec, lon, lat)
    px, py = spec.from_lonlat.transform(lon, lat)
    assert np.max(np.hypot(x - px, y - py)) < TOLERANCE_M
    assert (x[2], y[2]) == (px[2], py[2])
