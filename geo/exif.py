"""What a photo's EXIF says about where, when and with what it was taken, read defensively: real files carry GPS
in several encodings (rationals, floats, byte strings), empty GPS blocks, wrong value types and no EXIF at all.
EXIF only corroborates the phone's own record (position and time at the shutter), so nothing here raises: a value
that cannot be read is None.

>>> round(dms_to_degrees((43.0, 28.0, 2.814), "N"), 7)
43.4674483
>>> round(dms_to_degrees((3.0, 43.0, 29.11), "W"), 7)
-3.7247528
>>> dms_to_degrees((91.0, 0.0, 0.0), "N") is None
True
>>> dms_to_degrees("garbage", "N") is None
True
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from PIL import Image

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_ORIENTATION = 0x0112
TAG_SOFTWARE = 0x0131
TAG_DATETIME_ORIGINAL = 0x9003
TAG_DATETIME_DIGITIZED = 0x9004
TAG_OFFSET_TIME_ORIGINAL = 0x9011
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 1, 2, 3, 4
GPS_ALT_REF, GPS_ALT = 5, 6
GPS_TIME, GPS_DATE = 7, 29


@dataclass(frozen=True)
class ExifFacts:
    """What EXIF told, each None when absent or unreadable. `taken_at` is aware when the file gave its offset
    (OffsetTimeOriginal) or GPS time; `taken_at_local` is the camera's wall clock as written."""

    lon: float | None = None
    lat: float | None = None
    altitude_m: float | None = None
    taken_at: datetime | None = None
    taken_at_local: str | None = None
    time_source: str | None = None  # "offset" (DateTimeOriginal + OffsetTimeOriginal), "gps", "assumed_local"
    make: str | None = None
    model: str | None = None
    software: str | None = None
    orientation: int | None = None
    has_exif: bool = False

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["taken_at"] = self.taken_at.isoformat() if self.taken_at else None
        return out


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", "").strip()
    return cleaned or None


def dms_to_degrees(dms: Any, ref: Any) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds), or from a single decimal value, signed by N/S/E/W."""
    if isinstance(dms, (tuple, list)):
        parts = [_number(p) for p in dms]
        if not 1 <= len(parts) <= 3 or any(p is None or p < 0 for p in parts):
            return None
        values = [p for p in parts if p is not None] + [0.0, 0.0]
        degrees = values[0] + values[1] / 60 + values[2] / 3600
    else:
        single = _number(dms)
        if single is None:
            return None
        degrees = single
    ref_text = (_text(ref) or "").upper()[:1]
    if ref_text in ("S", "W"):
        degrees = -abs(degrees)
    limit = 90.0 if ref_text in ("N", "S") else 180.0
    return degrees if abs(degrees) <= limit else None


def _gps_time(gps: dict[int, Any]) -> datetime | None:
    date_text, hms = _text(gps.get(GPS_DATE)), gps.get(GPS_TIME)
    if not date_text or not isinstance(hms, (tuple, list)) or len(hms) != 3:
        return None
    parts = [_number(p) for p in hms]
    if any(p is None for p in parts):
        return None
    h, m, s = (p for p in parts if p is not None)
    try:
        day = datetime.strptime(date_text, "%Y:%m:%d").replace(tzinfo=UTC)
        return day + timedelta(hours=h, minutes=m, seconds=s)
    except ValueError:
        return None


def _offset(text: str | None) -> timezone | None:
    if not text or len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes)) if hours <= 14 and minutes < 60 else None


def _wall_clock(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


EDITORS = ("photoshop", "lightroom", "gimp", "snapseed", "picsart", "meitu", "美图", "醒图", "polarr", "pixelmator",
           "affinity", "canva", "faceu", "b612", "水印")


def edited_by(software: str | None) -> bool:
    """Whether EXIF's Software names a photo editor (a phone's firmware version does not).

    >>> edited_by("Adobe Photoshop CC (Macintosh)"), edited_by("8.3"), edited_by(None)
    (True, False, False)
    """
    return bool(software) and any(name in (software or "").lower() for name in EDITORS)


def read_exif(image: Image.Image, local_tz: tzinfo) -> ExifFacts:
    """The facts of `image`'s EXIF. A wall-clock time without its offset is read in `local_tz` (the deployment's
    zone: a phone writes its own local time) unless GPS time, which is UTC, is there."""
    try:
        exif = image.getexif()
    except Exception:  # Pillow raises several types on corrupt EXIF blocks
        return ExifFacts()
    if not exif:
        return ExifFacts()
    try:
        sub: dict[int, Any] = dict(exif.get_ifd(EXIF_IFD))
    except Exception:
        sub = {}
    try:
        gps: dict[int, Any] = dict(exif.get_ifd(GPS_IFD))
    except Exception:
        gps = {}
    lat = dms_to_degrees(gps.get(GPS_LAT), gps.get(GPS_LAT_REF)) if GPS_LAT in gps else None
    lon = dms_to_degrees(gps.get(GPS_LON), gps.get(GPS_LON_REF)) if GPS_LON in gps else None
    if lat is None or lon is None or (lat == 0.0 and lon == 0.0):  # (0, 0) is a phone with no fix, not the Gulf of Guinea
        lat = lon = None
    altitude = _number(gps.get(GPS_ALT))
    if altitude is not None and gps.get(GPS_ALT_REF) in (1, b"\x01"):
        altitude = -altitude

    # Not DateTime (0x0132): that is when software last saved the file, not when the shutter fired.
    local_text = _text(sub.get(TAG_DATETIME_ORIGINAL)) or _text(sub.get(TAG_DATETIME_DIGITIZED))
    wall = _wall_clock(local_text)
    offset = _offset(_text(sub.get(TAG_OFFSET_TIME_ORIGINAL)))
    gps_time = _gps_time(gps)
    taken_at: datetime | None
    if wall is not None and offset is not None:
        taken_at, source = wall.replace(tzinfo=offset).astimezone(UTC), "offset"
    elif gps_time is not None:
        taken_at, source = gps_time, "gps"
    elif wall is not None:
        taken_at, source = wall.replace(tzinfo=local_tz).astimezone(UTC), "assumed_local"
    else:
        taken_at, source = None, None
    orientation = exif.get(TAG_ORIENTATION)
    return ExifFacts(
        lon=lon, lat=lat, altitude_m=altitude, taken_at=taken_at, taken_at_local=local_text if wall else None,
        time_source=source, make=_text(exif.get(TAG_MAKE)), model=_text(exif.get(TAG_MODEL)),
        software=_text(exif.get(TAG_SOFTWARE)),
        orientation=orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else None,
        has_exif=True,
    )
