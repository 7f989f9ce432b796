"""A deterministic demo township (outline, 4 zones, ~240 grids, 76 villages) for demos and tests.

The town is fictional (柳河镇) but lies on real farmland of the North China Plain in Hebei, near
lon 115.55, lat 38.10 (WGS-84), in the area of 深州市 whose county-level code 131182 its statistical
codes borrow. Sizes follow the typical town in docs: about 90 km², a built-up centre of about 3 km²,
4 zones (片区), grids from a few hectares in the centre to a few km² in farmland, 76 villages (行政村).

Everything is built in metres in a Lambert azimuthal equal-area CRS centred on the town, where planar
areas are true areas, and converted to WGS-84 lon/lat in one vectorized step at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import shapely
import shapely.affinity
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.projection import WGS84_LONLAT, local_equal_area_crs

__all__ = ["DemoGrid", "DemoTown", "DemoVillage", "DemoZone", "build_demo_town"]

TOWN_NAME = "柳河镇"
TOWN_CODE = "131182100"  # 9-digit township code: county 131182, "100" = first town (镇 codes are 100-199)
CENTRE_LONLAT_WGS84 = (115.55, 38.10)
TOWN_AREA_M2 = 90.0e6
BUILT_UP_AREA_M2 = 3.0e6
VILLAGE_COUNT = 76
SLIVER_AREA_M2 = 1.0e4  # grid pieces below 1 ha are merged into a neighbour: nobody patrols a 30 m strip
CENTRE_GRID_AREA_M2 = 5.0e4  # about 5 ha per grid in the built-up centre

# (name, code suffix, central direction in degrees counter-clockwise from east)
_ZONES = (("东片区", "01", 0.0), ("南片区", "02", 270.0), ("西片区", "03", 180.0), ("北片区", "04", 90.0))

# Village names in the style of central Hebei (surname + 庄/营/屯, direction and size prefixes).
_VILLAGE_NAMES = (
    "张家庄村", "东王庄村", "西王庄村", "小李庄村", "大李庄村", "后营村", "前营村", "南辛庄村", "北辛庄村",
    "赵家庄村", "刘官庄村", "陈家屯村", "杨家营村", "孙庄村", "周家庄村", "吴家庄村", "郑庄村", "冯家营村",
    "韩家庄村", "马庄村", "高家庄村", "许家屯村", "郭庄村", "何家庄村", "崔家庄村", "董家营村", "田庄村",
    "宋家庄村", "范庄村", "邢家庄村", "齐家营村", "贾庄村", "耿家庄村", "魏家屯村", "东辛庄村", "西辛庄村",
    "大王庄村", "小王庄村", "东张庄村", "西张庄村", "南刘庄村", "北刘庄村", "前赵庄村", "后赵庄村", "大杨庄村",
    "小杨庄村", "东孙庄村", "西孙庄村", "南马庄村", "北马庄村", "东高庄村", "西高庄村", "前郭庄村", "后郭庄村",
    "大陈庄村", "小陈庄村", "柳林村", "杨树屯村", "枣园村", "梨园村", "榆林庄村", "槐树营村", "河头村", "河西村",
    "堤口村", "渠南村", "井庄村", "三里庄村", "五里铺村", "八里屯村", "十里营村", "中营村", "新立庄村", "护驾庄村",
    "双井村", "石桥村", "白塔村", "红庙村", "东堤村", "官道村",
)


@dataclass(frozen=True)
class DemoZone:
    """A patrol zone (片区), one per squad."""

    name: str
    code: str
    geometry: MultiPolygon


@dataclass(frozen=True)
class DemoGrid:
    """A patrol grid (网格); ``zone_index`` points into ``DemoTown.zones``."""

    name: str
    code: str
    zone_index: int
    geometry: MultiPolygon


@dataclass(frozen=True)
class DemoVillage:
    """An administrative village (行政村) with its 12-digit statistical code and the village seat."""

    name: str
    code: str
    geometry: MultiPolygon
    centre_lonlat: tuple[float, float]


@dataclass(frozen=True)
class DemoTown:
    """The demo town; all geometry is WGS-84 lon/lat MultiPolygons."""

    name: str
    code: str
    outline: MultiPolygon
    zones: list[DemoZone]
    grids: list[DemoGrid]
    villages: list[DemoVillage]
    centre_lonlat: tuple[float, float]
    built_up: MultiPolygon

    @property
    def town_geometry(self) -> MultiPolygon:
        """The town outline (alias of ``outline``)."""
        return self.outline


def build_demo_town(seed: int = 2026) -> DemoTown:
    """Build the demo town; the same seed always gives the same town.

    Examples
    --------
    >>> town = build_demo_town()
    >>> len(town.zones), len(town.villages)
    (4, 76)
    """
    rng = np.random.default_rng(seed)
    outline_m = _blob(rng, vertex_count=120, area_m2=TOWN_AREA_M2, harmonics=(0.08, 0.06, 0.04, 0.03, 0.02),
                      stretch=1.18, roughness=0.012)
    built_up_m = _blob(rng, vertex_count=48, area_m2=BUILT_UP_AREA_M2, harmonics=(0.10, 0.06),
                       stretch=1.1, roughness=0.02)
    zones_m = _zones(rng, outline_m)
    grids_m, grid_zone = _grids(rng, outline_m, built_up_m, zones_m)
    # Rebuild each zone from its grids so zone borders carry every grid vertex: a straight zone edge and
    # the grid vertices on it would drift centimetres apart once projected to lon/lat.
    zones_m = np.array([shapely.union_all(grids_m[grid_zone == i]) for i in range(len(_ZONES))], dtype=object)
    villages_m, seats_m = _villages(rng, shapely.difference(outline_m, built_up_m))

    # One transform call for every geometry keeps shared edges identical after projection.
    local_crs = local_equal_area_crs(*CENTRE_LONLAT_WGS84)
    transformer = Transformer.from_crs(local_crs, WGS84_LONLAT, always_xy=True)

    def to_lonlat(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    everything_m = np.concatenate([[outline_m, built_up_m], zones_m, grids_m, villages_m])
    everything = _as_multipolygons(shapely.transform(everything_m, to_lonlat))
    outline, built_up = everything[0], everything[1]
    zones_ll = everything[2:6]
    grids_ll = everything[6:6 + len(grids_m)]
    villages_ll = everything[6 + len(grids_m):]
    seats_ll = to_lonlat(shapely.get_coordinates(seats_m))

    zones = [DemoZone(name, f"{TOWN_CODE}-{code}", geom) for (name, code, _), geom in zip(_ZONES, zones_ll)]
    grids = []
    for zone_index, (zone_name, zone_code, _) in enumerate(_ZONES):
        members = np.flatnonzero(grid_zone == zone_index)
        if len(members) > 99:
            raise AssertionError("grid codes have two digits per zone")
        for number, grid_index in enumerate(members, start=1):
            grids.append(DemoGrid(f"{zone_name}第{number}网格", f"{TOWN_CODE}-{zone_code}{number:02d}",
                                  zone_index, grids_ll[grid_index]))
    names = rng.permutation(np.array(_VILLAGE_NAMES))[:VILLAGE_COUNT]
    villages = [
        DemoVillage(str(name), f"{TOWN_CODE}{201 + i:03d}", geom, (float(lon), float(lat)))
        for i, (name, geom, (lon, lat)) in enumerate(zip(names, villages_ll, seats_ll))
    ]
    return DemoTown(TOWN_NAME, TOWN_CODE, outline, zones, grids, villages, CENTRE_LONLAT_WGS84, built_up)


# --- building blocks, all in metres -----------------------------------------------------------------------


def _blob(rng: np.random.Generator, vertex_count: int, area_m2: float, harmonics: tuple[float, ...],
          stretch: float, roughness: float) -> Polygon:
    """A star-shaped irregular outline around the origin scaled to an exact area.

    Star-shaped matters: a straight ray from the origin crosses its boundary exactly once (see _zones).
    """
    theta = np.linspace(0.0, 2.0 * np.pi, vertex_count, endpoint=False)
    theta += rng.uniform(-0.3, 0.3, vertex_count) * (2.0 * np.pi / vertex_count)
    radius = np.ones(vertex_count)
    for order, amplitude in enumerate(harmonics, start=2):
        radius += amplitude * np.cos(order * theta + rng.uniform(0.0, 2.0 * np.pi))
    radius *= 1.0 + rng.normal(0.0, roughness, vertex_count)
    # A slightly wider-than-tall town with a random orientation, like towns laid along a road or river.
    tilt = rng.uniform(0.0, np.pi)
    x = radius * np.cos(theta) * stretch
    y = radius * np.sin(theta) / stretch
    xy = np.column_stack([x * np.cos(tilt) - y * np.sin(tilt), x * np.sin(tilt) + y * np.cos(tilt)])
    polygon = Polygon(xy)
    factor = np.sqrt(area_m2 / polygon.area)
    return shapely.affinity.scale(polygon, factor, factor, origin=(0.0, 0.0))


def _zones(rng: np.random.Generator, outline_m: Polygon) -> NDArray[np.object_]:
    """Split the outline into 4 zones along jagged lines (field roads, ditches) meeting at the centre."""
    inner_radius_m = 0.8 * shapely.distance(shapely.Point(0.0, 0.0), outline_m.exterior)
    far_m = 3.0 * np.sqrt(outline_m.area)
    lines: list[LineString] = [outline_m.exterior]
    for _, _, direction_deg in _ZONES:
        # Zone borders run between zone directions, i.e. at 45° + k·90°, each turned a little.
        angle = np.radians(direction_deg + 45.0 + rng.uniform(-12.0, 12.0))
        along_m = np.linspace(0.0, inner_radius_m, 24)
        # The offset grows with distance so borders cannot cross near the centre where they meet.
        offset_m = np.cumsum(rng.normal(0.0, 1.0, along_m.size)) * 0.04 * along_m
        offset_m[0] = 0.0
        xy = np.column_stack([
            along_m * np.cos(angle) - offset_m * np.sin(angle),
            along_m * np.sin(angle) + offset_m * np.cos(angle),
        ])
        # Leave radially from the last point: with a star-shaped outline this crosses it exactly once.
        last = xy[-1]
        xy = np.vstack([xy, last / np.hypot(*last) * far_m])
        lines.append(shapely.LineString(xy))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(lines))))
    faces = faces[shapely.within(shapely.point_on_surface(faces), outline_m)]
    if len(faces) != len(_ZONES):
        raise AssertionError(f"expected {len(_ZONES)} zone faces, got {len(faces)}")
    # Match faces to zone directions by the angle of their centroid.
    centroids = shapely.get_coordinates(shapely.centroid(faces))
    face_deg = np.degrees(np.arctan2(centroids[:, 1], centroids[:, 0])) % 360.0
    order = [int(np.argmin(np.abs((face_deg - d + 180.0) % 360.0 - 180.0))) for _, _, d in _ZONES]
    if sorted(order) != list(range(len(_ZONES))):
        raise AssertionError("zone faces do not match zone directions")
    return faces[order]


def _grids(rng: np.random.Generator, outline_m: Polygon, built_up_m: Polygon,
           zones_m: NDArray[np.object_]) -> tuple[NDArray[np.object_], NDArray[np.int_]]:
    """Voronoi grids, dense in the centre and sparse in farmland, cut by zone borders, slivers merged."""
    built_up_radius_m = np.sqrt(BUILT_UP_AREA_M2 / np.pi)
    centre_count = int(round(BUILT_UP_AREA_M2 / CENTRE_GRID_AREA_M2))
    centre_xy = _sunflower(centre_count, 0.0, 1.05 * built_up_radius_m, log_spacing=False)
    # Outside the centre, seeds with density ∝ 1/r² (equal spacing in log r): grid area grows with the
    # square of the distance, from about 8 ha at the edge of the centre to about 2 km² at the town edge.
    inner_m = 1.2 * built_up_radius_m
    outer_m = 1.1 * float(np.max(np.hypot(*outline_m.exterior.xy)))
    farmland_count = 160
    farmland_xy = _sunflower(farmland_count, inner_m, outer_m, log_spacing=True)
    # Jitter by a third of the local seed spacing so the spiral pattern does not show.
    spacing_m = np.concatenate([
        np.full(centre_count, np.sqrt(CENTRE_GRID_AREA_M2)),
        np.hypot(*farmland_xy.T) * np.sqrt(2.0 * np.pi * np.log(outer_m / inner_m) / farmland_count),
    ])
    seeds = np.vstack([centre_xy, farmland_xy])
    seeds = seeds + rng.uniform(-0.33, 0.33, seeds.shape) * spacing_m[:, None]
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline_m.buffer(1000.0))
    )
    pieces, zone_of_piece = [], []
    for zone_index, zone in enumerate(zones_m):
        parts = shapely.get_parts(shapely.intersection(cells, zone))
        parts = parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0.0)]
        pieces.append(parts)
        zone_of_piece.append(np.full(len(parts), zone_index))
    grids = np.concatenate(pieces)
    grid_zone = np.concatenate(zone_of_piece)
    grids, grid_zone = _merge_slivers(grids, grid_zone)
    # Number grids from the centre outwards, then anticlockwise, so low numbers are the town streets.
    points = shapely.get_coordinates(shapely.point_on_surface(grids))
    ring = np.floor(np.hypot(points[:, 0], points[:, 1]) / 1000.0)
    angle = np.arctan2(points[:, 1], points[:, 0]) % (2.0 * np.pi)
    order = np.lexsort((angle, ring, grid_zone))
    return grids[order], grid_zone[order]


def _sunflower(count: int, inner_m: float, outer_m: float, log_spacing: bool) -> NDArray[np.float64]:
    """Evenly spread points in a disc or annulus (golden-angle spiral); log_spacing makes density ∝ 1/r²."""
    u = (np.arange(count) + 0.5) / count
    if log_spacing:
        radius = inner_m * (outer_m / inner_m) ** u
    else:
        radius = np.sqrt(inner_m**2 + u * (outer_m**2 - inner_m**2))
    theta = np.arange(count) * np.pi * (3.0 - np.sqrt(5.0))
    return np.column_stack([radius * np.cos(theta), radius * np.sin(theta)])


def _merge_slivers(
    pieces: NDArray[np.object_], group: NDArray[np.int_]
) -> tuple[NDArray[np.object_], NDArray[np.int_]]:
    """Merge pieces under SLIVER_AREA_M2 into the neighbour of the same group sharing the longest border."""
    pieces = pieces.copy()
    alive = np.ones(len(pieces), dtype=bool)
    for index in np.argsort(shapely.area(pieces)):
        if shapely.area(pieces[index]) >= SLIVER_AREA_M2:
            break
        candidates = np.flatnonzero(alive & (group == group[index]))
        candidates = candidates[candidates != index]
        borders = shapely.boundary(pieces[candidates])
        shared_m = shapely.length(shapely.intersection(pieces[index].boundary, borders))
        if len(candidates) == 0 or shared_m.max() <= 0.0:
            continue  # an isolated piece: keep it rather than glue it across a gap
        target = candidates[int(np.argmax(shared_m))]
        pieces[target] = _clean_union(pieces[target], pieces[index])
        alive[index] = False
    return pieces[alive], group[alive]


def _clean_union(a: Polygon, b: Polygon) -> BaseGeometry:
    """Union of two pieces of one tiling; drops float-noise slivers the union may leave behind (a MultiPolygon
    when the pieces do not touch)."""
    merged = shapely.union(a, b)
    if merged.geom_type == "Polygon":
        return merged
    parts = shapely.get_parts(merged)
    areas = shapely.area(parts)
    return parts[int(np.argmax(areas))] if areas.max() > 0.999 * merged.area else merged


def _villages(rng: np.random.Generator, region_m: BaseGeometry) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """76 village territories tiling the region (town minus built-up centre), and the village seats."""
    minx, miny, maxx, maxy = region_m.bounds
    candidates = rng.uniform((minx, miny), (maxx, maxy), (VILLAGE_COUNT * 4, 2))
    inside = shapely.contains_xy(region_m, candidates[:, 0], candidates[:, 1])
    # cast, here and below: shapely returns an array for array input; its stubs cannot tell that from a scalar
    seats = cast("NDArray[np.object_]", shapely.points(candidates[inside][:VILLAGE_COUNT]))
    # A few Lloyd steps turn random seeds into evenly sized, compact villages.
    for _ in range(4):
        cells = _voronoi_cells_for(seats, region_m)
        moved = shapely.centroid(cells)
        moved = np.where(shapely.within(moved, region_m), moved, shapely.point_on_surface(cells))
        seats = moved
    cells = _voronoi_cells_for(seats, region_m)
    # A cell next to the centre may be cut in two by it: the village keeps the part holding its seat,
    # the cut-off part joins the neighbour it shares most border with.
    parts, owner = shapely.get_parts(cells, return_index=True)
    main = shapely.within(seats[owner], parts)
    villages = parts[main]
    for orphan in parts[~main]:
        shared_m = shapely.length(shapely.intersection(orphan.boundary, shapely.boundary(villages)))
        target = int(np.argmax(shared_m))
        villages[target] = _clean_union(villages[target], orphan)
    # Codes run clockwise from north, as village lists in town records usually do.
    xy = shapely.get_coordinates(seats)
    order = np.argsort((np.pi / 2.0 - np.arctan2(xy[:, 1], xy[:, 0])) % (2.0 * np.pi))
    return villages[order], seats[order]


def _voronoi_cells_for(seats: NDArray[np.object_], region_m: BaseGeometry) -> NDArray[np.object_]:
    """Voronoi cells of the seats clipped to the region, in the order of the seats."""
    frame = region_m.envelope.buffer(1000.0)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seats), extend_to=frame))
    seat_index, cell_index = shapely.STRtree(cells).query(seats, predicate="within")
    ordered = np.empty(len(seats), dtype=object)
    ordered[seat_index] = cells[cell_index]
    return shapely.intersection(ordered, region_m)


def _as_multipolygons(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Every geometry as a MultiPolygon (a Polygon becomes a one-part MultiPolygon)."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    return cast("NDArray[np.object_]", shapely.multipolygons(parts, indices=index))
