"""Read GPX 1.0/1.1 files (tracks, segments, routes) into numpy arrays of fixes, refusing unsafe or broken files."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.parsers import expat

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "GPX_NAMESPACES",
    "HDOP_UERE_M",
    "MAX_GPX_BYTES",
    "MAX_GPX_POINTS",
    "GpxError",
    "GpxTrackSet",
    "parse_gpx",
]

GPX_NAMESPACES = ("http://www.topografix.com/GPX/1/0", "http://www.topografix.com/GPX/1/1", "")

# 200,000 fixes is more than two days at 1 Hz; a single upload beyond that is a mistake or an attack.
MAX_GPX_POINTS = 200_000
# About 300 bytes per verbose fix at the point limit; checked before parsing so a huge body costs nothing.
MAX_GPX_BYTES = 64 * 1024 * 1024

# User equivalent range error of a consumer receiver, about 5 m: horizontal accuracy ~ HDOP x UERE.
# It is a rough estimate, but it lets the same accuracy rule judge phones (which report accuracy) and
# loggers (which report only HDOP).
HDOP_UERE_M = 5.0

# Extension elements some apps use for an explicit horizontal accuracy in metres (OsmAnd `hacc`, others).
_ACCURACY_TAGS = frozenset({"hacc", "accuracy", "horizontal_accuracy"})


class GpxError(Exception):
    """The uploaded file as a whole cannot be read as GPX."""

    def __init__(self, code: str, message_zh: str, message_en: str, details: dict[str, Any] | None = None):
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.details: dict[str, Any] = details or {}


@dataclass(frozen=True)
class GpxTrackSet:
    """All fixes of a GPX file in file order, one array entry per fix; NaN where a field is absent.

    ``segment`` numbers the non-empty segments (each ``trkseg`` and each ``rte``) 0, 1, 2, ... in file
    order; ``track`` numbers the ``trk``/``rte`` elements they came from.
    """

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    t_unix_s: NDArray[np.float64]
    ele_m: NDArray[np.float64]
    hdop: NDArray[np.float64]
    sat: NDArray[np.float64]
    speed_mps: NDArray[np.float64]
    accuracy_m: NDArray[np.float64]
    segment: NDArray[np.int64]
    track: NDArray[np.int64]
    version: str

    @property
    def point_count(self) -> int:
        return int(self.lon.size)

    @property
    def segment_count(self) -> int:
        return int(self.segment.max()) + 1 if self.segment.size else 0


def parse_gpx(raw: bytes) -> GpxTrackSet:
    """Parse a GPX 1.0 or 1.1 document (or one without namespace) into arrays of fixes.

    Every ``trk/trkseg/trkpt`` is read, and each ``rte`` becomes one segment of its ``rtept``. Waypoints
    (``wpt``) are not part of a track and are ignored. Times become UTC unix seconds (a time without an
    offset is taken as UTC, as the GPX schema says); a missing or unreadable time is NaN and is left for
    :func:`geo.tracks.clean_track` to drop.

    Raises
    ------
    GpxError
        ``too_large``, ``doctype_refused``, ``not_xml``, ``not_gpx``, ``no_points``, ``too_many_points``,
        ``bad_coordinates``, ``out_of_range``.

    Examples
    --------
    >>> doc = b'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
    >>> doc += b'<trkpt lat="40.0" lon="116.3"><time>2024-05-01T08:00:00Z</time><hdop>2</hdop></trkpt>'
    >>> doc += b'</trkseg></trk></gpx>'
    >>> s = parse_gpx(doc)
    >>> s.point_count, float(s.t_unix_s[0]), float(s.accuracy_m[0])
    (1, 1714550400.0, 10.0)
    """
    if len(raw) > MAX_GPX_BYTES:
        raise GpxError(
            "too_large",
            f"文件过大（{len(raw) // (1024 * 1024)} MB），GPX 文件不能超过 {MAX_GPX_BYTES // (1024 * 1024)} MB。",
            f"The file is too large ({len(raw) // (1024 * 1024)} MB); GPX files may be at most "
            f"{MAX_GPX_BYTES // (1024 * 1024)} MB.",
        )
    _refuse_doctype(raw)
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:  # the pre-pass already caught most of these; this keeps the guarantee
        raise _not_xml(str(exc)) from exc
    namespace, local = _split_tag(root.tag)
    if local != "gpx" or namespace not in GPX_NAMESPACES:
        raise GpxError(
            "not_gpx",
            "这不是 GPX 文件（根元素应为 GPX 1.0 或 1.1 的 <gpx>）。",
            f"This is not a GPX file: the root element is <{local}> in namespace '{namespace}', "
            "expected <gpx> of GPX 1.0 or 1.1.",
        )
    return _read_points(root, namespace)


def _refuse_doctype(raw: bytes) -> None:
    """Reject any DOCTYPE (and so any ENTITY) before ElementTree sees the document.

    A GPX file never needs a DTD, and internal entities are how "billion laughs" expansion works. The
    check runs expat itself rather than searching the bytes, so it also holds for UTF-16 files.
    """
    parser = expat.ParserCreate()

    def refuse(*_args: object) -> None:
        raise GpxError(
            "doctype_refused",
            "文件包含 DOCTYPE 或实体声明，出于安全原因不予导入。",
            "The file contains a DOCTYPE or entity declaration, which is refused for safety.",
        )

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        raise _not_xml(str(exc)) from exc


def _not_xml(reason: str) -> GpxError:
    return GpxError(
        "not_xml",
        f"文件不是有效的 XML，无法作为 GPX 读取（{reason}）。",
        f"The file is not valid XML and cannot be read as GPX ({reason}).",
    )


def _split_tag(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _read_points(root: ET.Element, namespace: str) -> GpxTrackSet:
    q = f"{{{namespace}}}" if namespace else ""
    # Collected as plain lists and turned into arrays once: the XML tree is walked in Python anyway.
    cols: dict[str, list[float]] = {k: [] for k in ("lon", "lat", "t", "ele", "hdop", "sat", "speed", "acc")}
    segment_ids: list[int] = []
    track_ids: list[int] = []

    # (track element, list of point lists) in file order: trk -> its trkseg, rte -> itself as one segment.
    groups: list[list[list[ET.Element]]] = []
    for child in root:
        if child.tag == f"{q}trk":
            groups.append([seg.findall(f"{q}trkpt") for seg in child.findall(f"{q}trkseg")])
        elif child.tag == f"{q}rte":
            groups.append([child.findall(f"{q}rtept")])

    total = sum(len(points) for group in groups for points in group)
    if total == 0:
        raise GpxError(
            "no_points",
            "GPX 文件中没有任何轨迹点（trkpt）或路线点（rtept）。",
            "The GPX file contains no track points (trkpt) or route points (rtept).",
        )
    if total > MAX_GPX_POINTS:
        raise GpxError(
            "too_many_points",
            f"GPX 文件有 {total} 个点，超过上限 {MAX_GPX_POINTS}；请分段导出后再导入。",
            f"The GPX file has {total} points, more than the limit of {MAX_GPX_POINTS}; "
            "export it in parts and import them one by one.",
            {"points": total},
        )

    tags = {name: f"{q}{name}" for name in ("time", "ele", "hdop", "sat", "speed", "extensions")}
    segment = 0
    for track, group in enumerate(groups):
        for points in group:
            if not points:
                continue  # an empty trkseg would otherwise burn a segment number and hide nothing
            for pt in points:
                lon, lat = _coordinates(pt, len(cols["lon"]))
                cols["lon"].append(lon)
                cols["lat"].append(lat)
                cols["t"].append(_time_s(pt.findtext(tags["time"])))
                cols["ele"].append(_number(pt.findtext(tags["ele"])))
                cols["hdop"].append(_number(pt.findtext(tags["hdop"])))
                cols["sat"].append(_number(pt.findtext(tags["sat"])))
                cols["speed"].append(_number(pt.findtext(tags["speed"])))
                cols["acc"].append(_explicit_accuracy_m(pt.find(tags["extensions"])))
                segment_ids.append(segment)
                track_ids.append(track)
            segment += 1

    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}
    _check_ranges(arrays["lon"], arrays["lat"])
    accuracy_m = np.where(np.isnan(arrays["acc"]), arrays["hdop"] * HDOP_UERE_M, arrays["acc"])
    return GpxTrackSet(
        lon=arrays["lon"],
        lat=arrays["lat"],
        t_unix_s=arrays["t"],
        ele_m=arrays["ele"],
        hdop=arrays["hdop"],
        sat=arrays["sat"],
        speed_mps=arrays["speed"],
        accuracy_m=accuracy_m,
        segment=np.asarray(segment_ids, dtype=np.int64),
        track=np.asarray(track_ids, dtype=np.int64),
        version=root.get("version", ""),
    )


def _coordinates(pt: ET.Element, index: int) -> tuple[float, float]:
    try:
        lon = float(pt.attrib["lon"])
        lat = float(pt.attrib["lat"])
    except (KeyError, ValueError) as exc:
        raise GpxError(
            "bad_coordinates",
            f"第 {index + 1} 个点缺少经纬度或经纬度不是数字。",
            f"Point {index + 1} has a missing or non-numeric lat/lon.",
            {"index": index},
        ) from exc
    return lon, lat


def _check_ranges(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> None:
    # NaN/inf fail the comparisons too, so they are reported as out of range.
    bad = ~((lon >= -180.0) & (lon <= 180.0) & (lat >= -90.0) & (lat <= 90.0))
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise GpxError(
            "out_of_range",
            f"第 {index + 1} 个点的坐标超出范围（纬度 {lat[index]}，经度 {lon[index]}）：纬度应在 -90 到 90 之间，"
            "经度应在 -180 到 180 之间。",
            f"Point {index + 1} has coordinates out of range (lat {lat[index]}, lon {lon[index]}): latitude "
            "must be within -90..90 and longitude within -180..180.",
            {"index": index, "count": int(bad.sum())},
        )


def _number(text: str | None) -> float:
    if text is None:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def _time_s(text: str | None) -> float:
    """ISO 8601 (``Z``, ``+08:00``, any number of fraction digits) to UTC unix seconds; NaN if unreadable."""
    if not text:
        return math.nan
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return math.nan
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # GPX times are UTC by definition
    try:
        moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is past year 9999 in UTC: no time can be read back from it
        return math.nan
    # Fractions beyond microseconds (7-digit .NET times) are truncated by fromisoformat: far below GPS noise.
    return moment.timestamp()


def _explicit_accuracy_m(extensions: ET.Element | None) -> float:
    if extensions is None:
        return math.nan
    for element in extensions.iter():
        if _split_tag(element.tag)[1].lower() in _ACCURACY_TAGS:
            value = _number(element.text)
            if math.isfinite(value) and value >= 0:
                return value
    return math.nan
