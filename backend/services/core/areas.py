"""Areas: scoped reads as GeoJSON, boundary-file import, and locating a point."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from geoalchemy2.shape import from_shape
from shapely import Point, from_wkb
from shapely.geometry import mapping
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.projection import geodesic_area_m2
from geo.validate import GeoInputError, ParsedCollection, ParsedFeature, parse_boundary_collection

from ...errors import Conflict, InvalidInput, NotFound, Text
from ...models import Area, User
from ...policies import AreaScope, require_visible_area, scoped_areas
from . import audit

# Which kinds of parent each kind may hang under. A grid sits in a zone (片区), or directly under its town or street
# office (乡镇/街道) where the town has no zones; a village hangs under its town.
PARENT_KINDS: dict[str, tuple[str, ...] | None] = {
    "county": None, "town": ("county",), "zone": ("town",), "grid": ("zone", "town"), "village": ("town",),
}
NAME_KEYS = ("name", "NAME", "Name", "名称", "name_zh")

_AREA_COLUMNS = (Area.id, Area.kind, Area.name, Area.code, Area.parent_id, Area.area_m2)


def feature(row: Sequence[Any]) -> dict:
    area_id, kind, name, code, parent_id, area_m2, wkb = row
    return {
        "type": "Feature",
        "id": area_id,
        "geometry": mapping(from_wkb(bytes(wkb))),
        "properties": {"kind": kind, "name": name, "code": code, "parent_id": parent_id, "area_m2": round(area_m2, 1)},
    }


def list_features(session: Session, scope: AreaScope, *, kind: str | None, parent_id: int | None,
                  page: int, page_size: int) -> tuple[list[dict], int]:
    stmt = scoped_areas(select(*_AREA_COLUMNS, func.ST_AsBinary(Area.geom)), scope)
    count_stmt = scoped_areas(select(func.count(Area.id)), scope)
    if kind:
        stmt, count_stmt = stmt.where(Area.kind == kind), count_stmt.where(Area.kind == kind)
    if parent_id is not None:
        stmt, count_stmt = stmt.where(Area.parent_id == parent_id), count_stmt.where(Area.parent_id == parent_id)
    total = session.scalar(count_stmt)
    rows = session.execute(stmt.order_by(Area.id).limit(page_size).offset((page - 1) * page_size)).all()
    return [feature(r) for r in rows], total


def get_feature(session: Session, scope: AreaScope, area_id: int) -> dict:
    require_visible_area(scope, area_id)
    row = session.execute(select(*_AREA_COLUMNS, func.ST_AsBinary(Area.geom)).where(Area.id == area_id)).first()
    if row is None:
        raise NotFound()
    return feature(row)


def locate(session: Session, scope: AreaScope, lon: float, lat: float) -> dict[str, dict | None]:
    """The visible grid, zone, village and town containing the point (boundaries count as inside)."""
    point = Point(lon, lat)
    stmt = scoped_areas(
        select(Area.id, Area.kind, Area.name, Area.code, func.ST_AsBinary(Area.geom)).where(
            Area.min_lon <= lon, Area.max_lon >= lon, Area.min_lat <= lat, Area.max_lat >= lat,
            Area.kind.in_(("grid", "zone", "village", "town")),
        ), scope,
    ).order_by(Area.id)
    found: dict[str, dict | None] = {"grid": None, "zone": None, "village": None, "town": None}
    for area_id, kind, name, code, wkb in session.execute(stmt):
        if found[kind] is None and from_wkb(bytes(wkb)).covers(point):
            found[kind] = {"id": area_id, "name": name, "code": code}
    return found


@dataclass
class ImportResult:
    created_ids: list[int]
    repaired: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    source_crs: str = "EPSG:4326"


def import_boundaries(session: Session, actor: User, raw: bytes, *, kind: str, parent_id: int | None,
                      name_property: str | None, code_property: str | None, filename: str | None,
                      client_addr: str | None) -> ImportResult:
    """All or nothing: any invalid feature rejects the whole file with every reason listed."""
    parent = _check_parent(session, kind, parent_id)
    try:
        parsed: ParsedCollection = parse_boundary_collection(raw, name_property=name_property)
    except GeoInputError as exc:
        raise InvalidInput(exc.code, text=Text(exc.message_zh, exc.message_en), details=exc.details) from exc
    if parsed.problems:
        rejected = [{"index": p.index, "name": p.name, "code": p.code, "message": Text(p.message_zh, p.message_en)}
                    for p in parsed.problems]
        raise InvalidInput("import_rejected", count=len(rejected), details={"rejected": rejected})
    if not parsed.features:
        raise InvalidInput("no_features")

    rows = [_area_row(f, kind, parent, name_property, code_property) for f in parsed.features]
    _check_codes_unique(session, kind, rows)
    session.add_all(rows)
    session.flush()
    created_ids = [r.id for r in rows]
    repaired = [
        {"index": f.index, "name": r.name,
         "repairs": [{"code": x.code, "message": Text(x.message_zh, x.message_en)} for x in f.repairs]}
        for f, r in zip(parsed.features, rows) if f.repairs
    ]
    audit.record(session, "area.import", "area", None, actor=actor, client_addr=client_addr, after={
        "file": filename, "kind": kind, "parent_id": parent_id, "count": len(rows), "ids": created_ids,
        "source_crs": parsed.source_crs, "repaired": len(repaired),
    })
    return ImportResult(created_ids, repaired, [], parsed.source_crs)


def _check_parent(session: Session, kind: str, parent_id: int | None) -> Area | None:
    if parent_id is None:
        return None
    parent = session.get(Area, parent_id)
    allowed = PARENT_KINDS[kind]
    if parent is None or (allowed is not None and parent.kind not in allowed):
        raise InvalidInput("invalid_parent", details={"fields": {"parent": "invalid"}})
    return parent


def _area_row(f: ParsedFeature, kind: str, parent: Area | None, name_property: str | None,
              code_property: str | None) -> Area:
    props = f.properties or {}
    name = _first(props, (name_property,) if name_property else NAME_KEYS) or f"{kind}-{f.index + 1}"
    code = _first(props, (code_property,)) if code_property else None
    x0, y0, x1, y1 = f.geometry.bounds
    return Area(
        kind=kind, name=str(name)[:100], code=None if code is None else str(code)[:64],
        parent_id=parent.id if parent else None, geom=from_shape(f.geometry, srid=4326),
        area_m2=geodesic_area_m2(f.geometry), min_lon=x0, min_lat=y0, max_lon=x1, max_lat=y1,
        properties=_json_safe(props),
    )


def _first(props: dict, keys: Iterable[str | None]) -> object:
    for key in keys:
        if key and props.get(key) not in (None, ""):
            return props[key]
    return None


def _json_safe(props: dict) -> dict:
    return {str(k): v for k, v in props.items() if isinstance(v, (str, int, float, bool, type(None), list, dict))}


def _check_codes_unique(session: Session, kind: str, rows: list[Area]) -> None:
    codes = [r.code for r in rows if r.code is not None]
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise Conflict("duplicate", field="code", value=code, details={"fields": {"code": code}})
        seen.add(code)
    if codes:
        existing = session.scalar(select(Area.code).where(Area.kind == kind, Area.code.in_(codes)).limit(1))
        if existing:
            raise Conflict("duplicate", field="code", value=existing, details={"fields": {"code": existing}})
