"""Reading and checking uploaded boundary files (GeoJSON FeatureCollections of polygons) into WGS-84.

File-level problems raise :class:`GeoInputError`. Problems of single features never raise: the feature is
left out and reported as a :class:`FeatureProblem`, so an administrator can fix one bad polygon without
losing the rest. Unambiguous ring defects are repaired and reported as :class:`Repair` entries.

Codes
-----
File (``GeoInputError.code``): ``not_utf8``, ``not_json``, ``not_feature_collection``, ``unknown_crs``,
``unsupported_crs``, ``empty_collection``, ``too_many_features``.

Feature (``FeatureProblem.code``): ``not_polygon``, ``bad_coordinates``, ``out_of_range``, ``degenerate``,
``self_intersection``.

Repair (``Repair.code``): ``nul_removed`` (from properties), ``ring_closed``, ``duplicate_vertices_removed``, ``winding_normalized``,
``self_intersection_repaired``.

Feature numbers in messages are 1-based (``index + 1``), as a person counts; ``index`` fields are 0-based
positions in the file's ``features`` array.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError
from shapely.geometry import MultiPolygon, Polygon

from geo.projection import WGS84_LONLAT

__all__ = [
    "MAX_FEATURES",
    "SELF_INTERSECTION_MAX_AREA_CHANGE",
    "FeatureProblem",
    "GeoInputError",
    "ParsedCollection",
    "ParsedFeature",
    "Repair",
    "parse_boundary_collection",
]

MAX_FEATURES = 20000
# A self-intersecting ring is only repaired when make_valid keeps the area the author drew (the shoelace
# area) to within this fraction; beyond it the fix would be a guess about which lobe was meant.
# Real boundary files carry small inverted loops (Haidian's 马连洼街道: 0.7% of its area, +1.5% once filled as a
# map renders it), so 5%; a bow-tie whose lobes cancel out (shoelace area near zero) is still rejected.
SELF_INTERSECTION_MAX_AREA_CHANGE = 0.05
# Property keys tried, in order, to name a feature in messages when the caller names none.
NAME_PROPERTIES = ("name", "NAME", "名称")

_NO_CRS_TEXT = "OGC:CRS84"  # RFC 7946: a GeoJSON file without "crs" is WGS-84 lon/lat.


class GeoInputError(Exception):
    """The uploaded file as a whole cannot be read as a boundary collection."""

    def __init__(self, code: str, message_zh: str, message_en: str, details: dict[str, Any] | None = None):
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.details: dict[str, Any] = details or {}


@dataclass
class Repair:
    """A defect that was fixed automatically because the fix is unambiguous."""

    code: str
    message_zh: str
    message_en: str


@dataclass
class FeatureProblem:
    """A feature left out of the import, and why."""

    index: int
    name: str | None
    code: str
    message_zh: str
    message_en: str


@dataclass
class ParsedFeature:
    """An accepted feature: a valid, oriented MultiPolygon in WGS-84 lon/lat."""

    index: int
    geometry: MultiPolygon
    properties: dict[str, Any]
    repairs: list[Repair] = field(default_factory=list)


@dataclass
class ParsedCollection:
    """Result of reading one file: accepted features, rejected ones, and the CRS the file declared."""

    features: list[ParsedFeature]
    problems: list[FeatureProblem]
    source_crs: str


class _FeatureRejected(Exception):
    """Internal: one feature cannot be used; carries the reason without the feature's label."""

    def __init__(self, code: str, reason_zh: str, reason_en: str):
        super().__init__(reason_en)
        self.code = code
        self.reason_zh = reason_zh
        self.reason_en = reason_en


@dataclass
class _SourceCrs:
    text: str
    declared: bool
    transformer: Transformer | None  # None when coordinates are already WGS-84 lon/lat


def parse_boundary_collection(raw: bytes | str, name_property: str | None = None) -> ParsedCollection:
    """Read a GeoJSON FeatureCollection of polygons, reprojected to WGS-84 lon/lat.

    Parameters
    ----------
    raw : bytes or str
        The uploaded file; bytes must be UTF-8 (a BOM is accepted).
    name_property : str, optional
        Property naming each feature in messages; by default ``name``, ``NAME`` or ``名称``.

    Returns
    -------
    ParsedCollection
        Accepted features in file order, each a MultiPolygon with shells counter-clockwise and holes
        clockwise, Z dropped; problems for the features left out.

    Raises
    ------
    GeoInputError
        When the file is not UTF-8 JSON, not a FeatureCollection, declares an unknown or unsupported CRS,
        is empty, or has more than ``MAX_FEATURES`` features.
    """
    document = _load_json(raw)
    features = _feature_list(document)
    source = _source_crs(document)
    parsed: list[ParsedFeature] = []
    problems: list[FeatureProblem] = []
    for index, feature in enumerate(features):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        properties = properties if isinstance(properties, dict) else {}
        properties, had_nul = _without_nul(properties)
        name = _feature_name(properties, name_property)
        label_zh, label_en = _labels(index, name)
        try:
            geometry, reasons = _feature_geometry(feature, source)
        except _FeatureRejected as rejected:
            problems.append(
                FeatureProblem(
                    index=index,
                    name=name,
                    code=rejected.code,
                    message_zh=f"{label_zh}：{rejected.reason_zh}",
                    message_en=f"{label_en}: {rejected.reason_en}",
                )
            )
            continue
        if had_nul:
            reasons = [*reasons, ("nul_removed", "属性中的空字符（U+0000）已删除",
                                  "NUL characters (U+0000) were removed from the properties")]
        repairs = [Repair(code, f"{label_zh}：{zh}", f"{label_en}: {en}") for code, zh, en in reasons]
        parsed.append(ParsedFeature(index=index, geometry=geometry, properties=properties, repairs=repairs))
    return ParsedCollection(features=parsed, problems=problems, source_crs=source.text)


def _without_nul(value: Any) -> tuple[Any, bool]:
    """`value` with U+0000 removed from every string in it, keys included (no database text can hold it; GIS
    exports pad fixed-width DBF fields with it), and whether there was any."""
    if isinstance(value, str):
        return (value.replace("\x00", ""), True) if "\x00" in value else (value, False)
    if isinstance(value, dict):
        items = [(_without_nul(k), _without_nul(v)) for k, v in value.items()]
        return {k: v for (k, _), (v, _) in items}, any(kn or vn for (_, kn), (_, vn) in items)
    if isinstance(value, list):
        elements = [_without_nul(v) for v in value]
        return [v for v, _ in elements], any(n for _, n in elements)
    return value, False


# --- file level -------------------------------------------------------------------------------------------


def _load_json(raw: bytes | str) -> Any:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        try:
            text = bytes(raw).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise GeoInputError(
                "not_utf8",
                f"文件不是 UTF-8 编码（第 {exc.start} 字节处无法解码），请另存为 UTF-8 的 GeoJSON。",
                f"The file is not UTF-8 (cannot decode at byte {exc.start}); save it as UTF-8 GeoJSON.",
                {"byte_offset": exc.start},
            ) from exc
    else:
        text = raw
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise GeoInputError(
            "not_json",
            f"文件不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）。",
            f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).",
            {"line": exc.lineno, "column": exc.colno},
        ) from exc
    except RecursionError as exc:
        raise GeoInputError("not_json", "文件的 JSON 嵌套过深。", "The JSON is nested too deeply.") from exc


def _feature_list(document: Any) -> list[Any]:
    found_type = document.get("type") if isinstance(document, dict) else type(document).__name__
    features = document.get("features") if isinstance(document, dict) else None
    if found_type != "FeatureCollection" or not isinstance(features, list):
        raise GeoInputError(
            "not_feature_collection",
            f"文件不是 GeoJSON FeatureCollection（顶层类型为 {found_type!s}），请导出为包含多个面要素的要素集合。",
            f"The file is not a GeoJSON FeatureCollection (top-level type is {found_type!s}); "
            "export the boundaries as a FeatureCollection of polygon features.",
            {"type": found_type},
        )
    if not features:
        raise GeoInputError("empty_collection", "文件中没有任何要素。", "The file contains no features.")
    if len(features) > MAX_FEATURES:
        raise GeoInputError(
            "too_many_features",
            f"文件包含 {len(features)} 个要素，超过上限 {MAX_FEATURES} 个，请拆分后分批导入。",
            f"The file has {len(features)} features, more than the limit of {MAX_FEATURES}; "
            "split it and import in parts.",
            {"count": len(features), "limit": MAX_FEATURES},
        )
    return features


def _declared_crs_text(document: dict[str, Any]) -> str | None:
    """The CRS name from the pre-RFC 7946 ``crs`` member, or None when there is none."""
    member = document.get("crs")
    if member is None:
        return None
    if isinstance(member, str):  # not in any spec, but some tools write it
        return member
    if isinstance(member, dict):
        member_type = member.get("type")
        properties = member.get("properties")
        props = properties if isinstance(properties, dict) else {}
        if member_type == "name" and isinstance(props.get("name"), str):
            return str(props["name"])
        if str(member_type).lower() == "epsg" and props.get("code") is not None:  # GeoJSON 2008 draft form
            return f"EPSG:{props['code']}"
        if member_type == "link":
            raise GeoInputError(
                "unsupported_crs",
                "文件用链接（link）方式声明坐标系，无法识别；请改为 EPSG 代码声明，或导出为 WGS-84 经纬度。",
                "The file declares its CRS by link, which is not supported; declare an EPSG code "
                "or export in WGS-84 lon/lat.",
                {"crs": member},
            )
    raise GeoInputError(
        "unknown_crs",
        "文件的 crs 声明无法识别。",
        "The file's crs member cannot be understood.",
        {"crs": member},
    )


def _source_crs(document: dict[str, Any]) -> _SourceCrs:
    text = _declared_crs_text(document)
    if text is None:
        return _SourceCrs(_NO_CRS_TEXT, declared=False, transformer=None)
    try:
        crs = CRS.from_user_input(text)
    except CRSError as exc:
        raise GeoInputError(
            "unknown_crs",
            f"无法识别文件声明的坐标系“{text}”。",
            f"The declared coordinate reference system '{text}' is not known.",
            {"crs": text},
        ) from exc
    if not (crs.is_geographic or crs.is_projected):
        raise GeoInputError(
            "unsupported_crs",
            f"坐标系“{text}”不是地理坐标系或投影坐标系，无法转换为经纬度。",
            f"The CRS '{text}' is neither geographic nor projected and cannot be turned into lon/lat.",
            {"crs": text},
        )
    normalized = crs.to_string()
    if crs == WGS84_LONLAT or crs.to_epsg() == 4326:
        # EPSG:4326 officially means lat/lon, but GeoJSON positions are lon/lat whatever the file
        # declares; reading it as lon/lat is what every GeoJSON writer meant.
        return _SourceCrs(normalized, declared=True, transformer=None)
    try:
        transformer = Transformer.from_crs(crs, WGS84_LONLAT, always_xy=True)
    except ProjError as exc:
        raise GeoInputError(
            "unsupported_crs",
            f"无法从坐标系“{text}”转换到 WGS-84。",
            f"No transformation from '{text}' to WGS-84 is available.",
            {"crs": text},
        ) from exc
    return _SourceCrs(normalized, declared=True, transformer=transformer)


# --- feature level ----------------------------------------------------------------------------------------


def _feature_name(properties: dict[str, Any], name_property: str | None) -> str | None:
    keys = (name_property,) if name_property else NAME_PROPERTIES
    for key in keys:
        value = properties.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _labels(index: int, name: str | None) -> tuple[str, str]:
    if name is None:
        return f"第 {index + 1} 个要素", f"Feature {index + 1}"
    return f"第 {index + 1} 个要素「{name}」", f"Feature {index + 1} ({name})"


def _feature_geometry(feature: Any, source: _SourceCrs) -> tuple[MultiPolygon, list[tuple[str, str, str]]]:
    """Turn one GeoJSON feature into a valid MultiPolygon, or raise _FeatureRejected."""
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geometry, dict):
        geometry = {}  # refused just below, as having no geometry type
    geometry_type = geometry.get("type")
    if geometry_type not in ("Polygon", "MultiPolygon"):
        shown = geometry_type if geometry_type is not None else "无几何 / no geometry"
        raise _FeatureRejected(
            "not_polygon",
            f"几何类型为 {shown}，边界只接受 Polygon 或 MultiPolygon。",
            f"geometry type is {shown}; boundaries must be Polygon or MultiPolygon.",
        )
    coordinates = geometry.get("coordinates")
    polygons_coords = [coordinates] if geometry_type == "Polygon" else coordinates
    rings_per_polygon = _ring_arrays(polygons_coords)
    rings_per_polygon = _to_lonlat(rings_per_polygon, source)

    reasons: list[tuple[str, str, str]] = []
    closed = deduplicated = 0
    repaired: list[list[NDArray[np.float64]]] = []
    for rings in rings_per_polygon:
        fixed_rings = []
        for ring in rings:
            ring, was_closed, dropped = _repair_ring(ring)
            closed += was_closed
            deduplicated += dropped
            fixed_rings.append(ring)
        repaired.append(fixed_rings)
    if closed:
        reasons.append(("ring_closed", f"{closed} 个环首尾未闭合，已自动闭合。",
                        f"{closed} ring(s) were not closed; closed them."))
    if deduplicated:
        reasons.append(("duplicate_vertices_removed", f"删除了 {deduplicated} 个连续重复的顶点。",
                        f"removed {deduplicated} consecutive duplicate vertices."))

    signed_areas = [[_shoelace(ring) for ring in rings] for rings in repaired]
    # A zero shoelace area alone is not degenerate (a symmetric bow-tie has one); collinear points are.
    flat = [ring for rings in repaired for ring in rings]
    ring_of_point = np.repeat(np.arange(len(flat)), [len(ring) for ring in flat])
    ring_points = shapely.multipoints(np.concatenate(flat), indices=ring_of_point)
    hull_areas = shapely.area(shapely.convex_hull(ring_points))
    if np.any(hull_areas == 0.0):
        raise _FeatureRejected("degenerate", "有一个环的面积为零（所有顶点共线）。",
                               "a ring has zero area (all vertices on one line).")
    if any(areas[0] < 0 or any(a > 0 for a in areas[1:]) for areas in signed_areas):
        reasons.append(("winding_normalized", "环的方向不符合 GeoJSON 规定（外环逆时针、内环顺时针），已统一。",
                        "ring winding did not follow GeoJSON (outer counter-clockwise, holes clockwise); "
                        "normalized it."))
    # The area the author drew: each outer ring minus its holes, whatever their winding.
    drawn_area = sum(abs(areas[0]) - sum(abs(a) for a in areas[1:]) for areas in signed_areas)

    multipolygon = MultiPolygon([shapely.Polygon(rings[0], rings[1:]) for rings in repaired])
    if not shapely.is_valid(multipolygon):
        multipolygon = _repair_topology(multipolygon, drawn_area)
        reasons.append(("self_intersection_repaired", "边界自相交，已自动修复（面积变化小于 1%）。",
                        "the boundary intersected itself; repaired it (area changed by less than 1%)."))
    return shapely.orient_polygons(multipolygon, exterior_cw=False), reasons


def _ring_arrays(polygons_coords: Any) -> list[list[NDArray[np.float64]]]:
    """Nested GeoJSON coordinates as arrays of (x, y) per ring; Z and further ordinates are dropped."""
    bad = _FeatureRejected("bad_coordinates", "坐标结构不正确（应为由数字坐标对组成的环）。",
                           "coordinates are malformed (expected rings of numeric positions).")
    if not isinstance(polygons_coords, list) or not polygons_coords:
        raise _FeatureRejected("degenerate", "几何中没有任何环。", "the geometry has no rings.")
    result = []
    for rings in polygons_coords:
        if not isinstance(rings, list) or not rings:
            raise _FeatureRejected("degenerate", "有一个面没有外环。", "a polygon has no outer ring.")
        arrays = []
        for ring in rings:
            try:
                array = np.asarray(ring, dtype=float)
            except (TypeError, ValueError):
                raise bad from None
            if array.ndim != 2 or array.shape[1] < 2 or array.shape[0] == 0:
                raise bad
            arrays.append(array[:, :2])
        result.append(arrays)
    return result


def _to_lonlat(
    rings_per_polygon: list[list[NDArray[np.float64]]], source: _SourceCrs
) -> list[list[NDArray[np.float64]]]:
    """Reproject all positions of one feature in a single call and check they are lon/lat on Earth."""
    flat = [ring for rings in rings_per_polygon for ring in rings]
    xy = np.concatenate(flat)
    if not np.all(np.isfinite(xy)):
        raise _FeatureRejected("out_of_range", "坐标中有非数字值（NaN 或无穷大）。",
                               "a coordinate is not a finite number (NaN or infinity).")
    if source.transformer is not None:
        lon, lat = source.transformer.transform(xy[:, 0], xy[:, 1])
        lonlat = np.column_stack([lon, lat])
    else:
        lonlat = xy
    outside = ~(np.isfinite(lonlat).all(axis=1)
                & (np.abs(lonlat[:, 0]) <= 180.0) & (np.abs(lonlat[:, 1]) <= 90.0))
    if np.any(outside):
        x, y = xy[np.argmax(outside)]
        if not source.declared:
            raise _FeatureRejected(
                "out_of_range",
                f"坐标 ({x:.6g}, {y:.6g}) 超出经纬度范围，看起来是投影坐标（米）；"
                "请在文件中声明坐标系（如 EPSG:32649），或导出为 WGS-84 经纬度。",
                f"coordinate ({x:.6g}, {y:.6g}) is outside lon/lat range and looks projected (metres); "
                "declare the CRS in the file (e.g. EPSG:32649) or export WGS-84 lon/lat.",
            )
        raise _FeatureRejected(
            "out_of_range",
            f"坐标 ({x:.6g}, {y:.6g}) 从 {source.text} 转换后不在经度 -180~180、纬度 -90~90 范围内。",
            f"coordinate ({x:.6g}, {y:.6g}) is outside lon -180..180 / lat -90..90 "
            f"after reprojection from {source.text}.",
        )
    split_at = np.cumsum([len(ring) for ring in flat])[:-1]
    pieces = iter(np.split(lonlat, split_at))
    return [[next(pieces) for _ in rings] for rings in rings_per_polygon]


def _repair_ring(ring: NDArray[np.float64]) -> tuple[NDArray[np.float64], bool, int]:
    """Close the ring and drop consecutive duplicates; returns (ring, was_closed, vertices_dropped)."""
    was_closed = not np.array_equal(ring[0], ring[-1])
    if was_closed:
        ring = np.vstack([ring, ring[:1]])
    keep = np.concatenate([[True], np.any(ring[1:] != ring[:-1], axis=1)])
    dropped = int(np.count_nonzero(~keep))
    ring = ring[keep]
    if len(ring) < 4:
        raise _FeatureRejected(
            "degenerate",
            f"有一个环只有 {len(ring)} 个位置（修复后），至少需要 4 个（含闭合点）。",
            f"a ring has only {len(ring)} positions after repair; "
            "at least 4 (including the closing one) are needed.",
        )
    return ring, was_closed, dropped


def _shoelace(ring: NDArray[np.float64]) -> float:
    """Signed planar area of a closed ring (positive when counter-clockwise)."""
    x, y = ring[:, 0], ring[:, 1]
    return float(0.5 * np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def _repair_topology(multipolygon: MultiPolygon, drawn_area: float) -> MultiPolygon:
    """make_valid, accepted only when it keeps the polygonal result and the drawn area (see module codes)."""
    reason = shapely.is_valid_reason(multipolygon)
    fixed = shapely.make_valid(multipolygon)
    parts = shapely.get_parts(fixed)
    polygonal = shapely.union_all(parts[np.isin(shapely.get_type_id(parts), (3, 6))])
    fixed_area = float(shapely.area(polygonal)) if not polygonal.is_empty else 0.0
    change = abs(fixed_area - drawn_area) / drawn_area if drawn_area > 0 else float("inf")
    if fixed_area == 0.0 or change >= SELF_INTERSECTION_MAX_AREA_CHANGE:
        shown = f"{change:.1%}" if np.isfinite(change) else ">100%"
        raise _FeatureRejected(
            "self_intersection",
            f"边界自相交或环的关系不正确（{reason}），自动修复会使面积变化 {shown}，无法确定原意，请修正后重新导入。",
            f"the boundary intersects itself or its rings are inconsistent ({reason}); an automatic repair "
            f"would change its area by {shown}, so the intended shape is unclear. Fix it and import again.",
        )
    if isinstance(polygonal, Polygon):
        return MultiPolygon([polygonal])
    # cast: the union of polygonal parts that is not a Polygon is a MultiPolygon; the stubs say BaseGeometry
    return cast(MultiPolygon, polygonal)
