"""The coverage map as PNG tiles: each pixel shows the 10 m cell under it, covered or not, inside the grids asked
for. Tiles rather than cells as GeoJSON: one 256×256 tile is 1–4 KB whatever the zoom, while a 176 ha grid alone
has 17,600 cells (≈ 2 MB of GeoJSON) and a town 900,000."""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date

import numpy as np
from sqlalchemy.orm import Session

from geo.coords import gcj02_to_wgs84
from geo.coverage import cells_of_lonlat
from geo.tiles import encode_palette_png, tile_bounds_lonlat, tile_pixel_lonlat

from . import coverage

# Palette index = cell state from coverage.cell_states: outside, uncovered (red), covered (green).
PALETTE = [(0, 0, 0, 0), (229, 57, 53, 120), (67, 160, 71, 110)]
_EMPTY_TILE = encode_palette_png(np.zeros((256, 256), dtype=np.uint8), PALETTE)
_states: OrderedDict = OrderedDict()  # a few recent (query, data version) -> per-cell state arrays
_states_lock = threading.Lock()
_STATES_KEPT = 8


def render_tile(session: Session, z: int, x: int, y: int, grid_ids: list[int], day_from: date, day_to: date,
                squad_id: int | None, officer_id: int | None, gcj02: bool) -> bytes:
    raster = coverage.town_raster(session)
    if raster is None or not grid_ids:
        return _EMPTY_TILE
    if not _tile_touches_town(raster, z, x, y, gcj02):
        return _EMPTY_TILE
    state = _state(session, raster, grid_ids, day_from, day_to, squad_id, officer_id)
    lon, lat = tile_pixel_lonlat(z, x, y)
    if gcj02:  # the basemap's pixels are GCJ-02; our cells are WGS-84
        lon, lat = gcj02_to_wgs84(lon, lat)
    cells = cells_of_lonlat(raster.spec, np.ravel(lon), np.ravel(lat))
    pixels = np.where(cells >= 0, state[np.maximum(cells, 0)], 0).astype(np.uint8).reshape(256, 256)
    return encode_palette_png(pixels, PALETTE) if pixels.any() else _EMPTY_TILE


def _tile_touches_town(raster, z, x, y, gcj02) -> bool:
    west, south, east, north = tile_bounds_lonlat(z, x, y)
    pad = 0.01 if gcj02 else 0.0  # GCJ-02 shifts by up to ~700 m
    cx, cy = raster.spec.from_lonlat.transform([west - pad, east + pad, west - pad, east + pad],
                                               [south - pad, south - pad, north + pad, north + pad])
    spec = raster.spec
    return not (max(cx) < spec.origin_x_m or min(cx) > spec.origin_x_m + spec.width * spec.cell_size_m
                or max(cy) < spec.origin_y_m or min(cy) > spec.origin_y_m + spec.height * spec.cell_size_m)


def _state(session, raster, grid_ids, day_from, day_to, squad_id, officer_id) -> np.ndarray:
    key = (str(session.get_bind().url), raster.key, tuple(grid_ids), day_from, day_to, squad_id, officer_id,
           coverage.data_version(session))
    with _states_lock:
        if key in _states:
            _states.move_to_end(key)
            return _states[key]
    state = coverage.cell_states(session, raster, grid_ids, day_from, day_to, squad_id, officer_id)
    with _states_lock:
        _states[key] = state
        while len(_states) > _STATES_KEPT:
            _states.popitem(last=False)
    return state
