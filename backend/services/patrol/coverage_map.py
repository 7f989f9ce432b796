"""The coverage map as PNG tiles: each pixel shows the 10 m cell under it, covered or not, inside the grids asked
for. Tiles rather than cells as GeoJSON: one 256×256 tile is 1–4 KB whatever the zoom, while a 176 ha grid alone
has 17,600 cells (≈ 2 MB of GeoJSON) and a town 900,000. A tile over several towns draws each from its own raster."""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from geo.coords import gcj02_to_wgs84
from geo.coverage import cells_of_lonlat
from geo.tiles import encode_palette_png, tile_bounds_lonlat, tile_pixel_lonlat

from . import coverage_reader
from .coverage_regions import RegionRaster, region_map, region_raster

# Palette index = cell state from coverage_reader.cell_states: outside, uncovered (red), covered (green). Opaque
# enough to read over a basemap; the PWA draws these instead of the grid fill at cell zooms.
PALETTE = [(0, 0, 0, 0), (229, 57, 53, 120), (67, 160, 71, 110)]
_EMPTY_TILE = encode_palette_png(np.zeros((256, 256), dtype=np.uint8), PALETTE)
_states: OrderedDict = OrderedDict()  # a few recent (region, query, data version) -> per-cell state arrays
_states_lock = threading.Lock()
_STATES_KEPT = 8


def render_tile(session: Session, z: int, x: int, y: int, grid_ids: list[int], day_from: date, day_to: date,
                squad_id: int | None, officer_id: int | None, gcj02: bool) -> bytes:
    if not grid_ids:
        return _EMPTY_TILE
    lon, lat = tile_pixel_lonlat(z, x, y)
    if gcj02:  # the basemap's pixels are GCJ-02; our cells are WGS-84
        lon, lat = gcj02_to_wgs84(lon, lat)
    lon, lat = np.ravel(lon), np.ravel(lat)
    pixels: NDArray[np.uint8] = np.zeros(lon.size, dtype=np.uint8)
    for region_id, grids in region_map(session).regions_of(grid_ids).items():
        raster = region_raster(session, region_id)
        if raster is None or not _tile_touches(raster, z, x, y, gcj02):
            continue
        state = _state(session, raster, grids, day_from, day_to, squad_id, officer_id)
        cells = cells_of_lonlat(raster.spec, lon, lat)
        np.maximum(pixels, np.where(cells >= 0, state[np.maximum(cells, 0)], 0).astype(np.uint8), out=pixels)
    pixels = pixels.reshape(256, 256)
    return encode_palette_png(pixels, PALETTE) if pixels.any() else _EMPTY_TILE


def _tile_touches(raster: RegionRaster, z: int, x: int, y: int, gcj02: bool) -> bool:
    west, south, east, north = tile_bounds_lonlat(z, x, y)
    pad = 0.01 if gcj02 else 0.0  # GCJ-02 shifts by up to ~700 m
    cx, cy = raster.spec.from_lonlat.transform([west - pad, east + pad, west - pad, east + pad],
                                               [south - pad, south - pad, north + pad, north + pad])
    x0, y0, x1, y1 = raster.spec.bounds_m
    return not (max(cx) < x0 or min(cx) > x1 or max(cy) < y0 or min(cy) > y1)


def _state(session: Session, raster: RegionRaster, grid_ids: list[int], day_from: date, day_to: date,
           squad_id: int | None, officer_id: int | None) -> np.ndarray:
    key = (str(session.get_bind().engine.url), raster.key, tuple(grid_ids), day_from, day_to, squad_id, officer_id,
           coverage_reader.data_version(session))
    with _states_lock:
        if key in _states:
            _states.move_to_end(key)
            return _states[key]
    state = coverage_reader.cell_states(session, raster, grid_ids, day_from, day_to, squad_id, officer_id)
    with _states_lock:
        _states[key] = state
        while len(_states) > _STATES_KEPT:
            _states.popitem(last=False)
    return state
