"""Web Mercator (XYZ) tile pixels as lon/lat, and a minimal palette PNG encoder (no imaging library needed)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
from numpy.typing import NDArray

TILE_SIZE = 256


def tile_pixel_lonlat(z: int, x: int, y: int, size: int = TILE_SIZE) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lon/lat of each pixel centre of tile z/x/y, as (size, size) arrays, row 0 at the top (north)."""
    n = 2.0**z
    u = (x + (np.arange(size) + 0.5) / size) / n
    v = (y + (np.arange(size) + 0.5) / size) / n
    lon = u * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(np.pi * (1.0 - 2.0 * v))))
    return np.broadcast_to(lon[None, :], (size, size)), np.broadcast_to(lat[:, None], (size, size))


def tile_bounds_lonlat(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a tile."""
    n = 2.0**z
    west, east = x / n * 360.0 - 180.0, (x + 1) / n * 360.0 - 180.0
    north = float(np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * y / n)))))
    south = float(np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * (y + 1) / n)))))
    return west, south, east, north


def encode_palette_png(pixels: NDArray[np.uint8], palette_rgba: list[tuple[int, int, int, int]]) -> bytes:
    """An 8-bit indexed PNG: ``pixels`` holds palette indices (rows top to bottom); alpha goes in tRNS."""
    height, width = pixels.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = np.zeros((height, width + 1), dtype=np.uint8)  # filter byte 0 (None) before each row
    raw[:, 1:] = pixels
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)),
        chunk(b"PLTE", bytes(c for rgba in palette_rgba for c in rgba[:3])),
        chunk(b"tRNS", bytes(rgba[3] for rgba in palette_rgba)),
        chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
        chunk(b"IEND", b""),
    ])
