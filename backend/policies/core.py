"""Who may read what of the shared core: areas (by role and area), people, squads, departments, the audit log."""
from __future__ import annotations

from dataclasses import dataclass

from shapely import from_wkb
from sqlalchemy import Select, false, func, select, true
from sqlalchemy.orm import Session

from ..errors import NotAllowed, NotFound
from ..models import Area, Department, Squad, User, squad_areas

SEE_ALL_ROLES = ("admin", "commander")
AREA_WRITERS = ("admin", "commander")
ADMINS = ("admin",)
# A grid counts as part of a village when this share of the grid (or the village) lies inside it;
# shared edges with float noise do not count.
VILLAGE_OVERLAP_MIN_RATIO = 0.01


@dataclass(frozen=True)
class AreaScope:
    all: bool
    area_ids: frozenset[int]

    def allows(self, area_id: int) -> bool:
        return self.all or area_id in self.area_ids


def sees_everything(user: User) -> bool:
    return user.has_role(*SEE_ALL_ROLES)


def area_scope(session: Session, user: User) -> AreaScope:
    if sees_everything(user):
        return AreaScope(True, frozenset())
    ids: set[int] = set()
    if user.has_role("officer", "squad_leader") and user.squad_id:
        ids |= _squad_area_ids(session, user.squad_id)
    if user.has_role("supervisor") and user.village_id:
        ids |= village_area_ids(session, user.village_id)
    return AreaScope(False, frozenset(ids))


def _squad_area_ids(session: Session, squad_id: int) -> set[int]:
    assigned = set(session.scalars(select(squad_areas.c.area_id).where(squad_areas.c.squad_id == squad_id)))
    return assigned | descendant_ids(session, assigned)


def descendant_ids(session: Session, roots: set[int]) -> set[int]:
    found: set[int] = set()
    frontier = set(roots)
    while frontier:  # the tree is at most five levels deep: a handful of queries
        children = set(session.scalars(select(Area.id).where(Area.parent_id.in_(frontier)))) - found
        found |= children
        frontier = children
    return found


def village_area_ids(session: Session, village_id: int) -> set[int]:
    village = session.execute(
        select(Area.id, func.ST_AsBinary(Area.geom), Area.min_lon, Area.min_lat, Area.max_lon, Area.max_lat)
        .where(Area.id == village_id, Area.kind == "village")
    ).first()
    if village is None:
        return set()
    _, wkb, x0, y0, x1, y1 = village
    village_geom = from_wkb(bytes(wkb))
    candidates = session.execute(
        select(Area.id, func.ST_AsBinary(Area.geom)).where(
            Area.kind == "grid", Area.min_lon <= x1, Area.max_lon >= x0, Area.min_lat <= y1, Area.max_lat >= y0
        )
    ).all()
    ids = {village_id}
    for grid_id, grid_wkb in candidates:
        grid_geom = from_wkb(bytes(grid_wkb))
        overlap = village_geom.intersection(grid_geom).area
        if overlap >= VILLAGE_OVERLAP_MIN_RATIO * min(grid_geom.area, village_geom.area):
            ids.add(grid_id)
    return ids


def scoped_areas(stmt: Select, scope: AreaScope) -> Select:
    """Restrict a select over Area to what the scope allows."""
    if scope.all:
        return stmt.where(true())
    if not scope.area_ids:
        return stmt.where(false())
    return stmt.where(Area.id.in_(scope.area_ids))


def require_visible_area(scope: AreaScope, area_id: int) -> None:
    # Outside the caller's areas is "not found", so ids cannot be probed.
    if not scope.allows(area_id):
        raise NotFound()


def require_area_writer(user: User) -> None:
    if not user.has_role(*AREA_WRITERS):
        raise NotAllowed()


def require_admin(user: User) -> None:
    if not user.has_role(*ADMINS):
        raise NotAllowed()


def require_audit_reader(user: User) -> None:
    """The audit log: commanders and admins."""
    if not sees_everything(user):
        raise NotAllowed()


def grids_under(session: Session, scope: AreaScope, area_id: int | None) -> Select:
    """A select of the grids the scope may see, under `area_id` when given: a grid itself, a village's grids (by
    overlap), or every grid below a zone, town or county (grids sit in zones or directly under their town). The
    area must be visible, or hold some of the caller's areas (a leader asking for their town's grids)."""
    stmt = scoped_areas(select(Area.id, Area.name, Area.code).where(Area.kind == "grid"), scope)
    if area_id is None:
        return stmt
    kind = session.scalar(select(Area.kind).where(Area.id == area_id))
    under = ({area_id} if kind == "grid" else village_area_ids(session, area_id) if kind == "village"
             else descendant_ids(session, {area_id}))
    if not (scope.allows(area_id) or (kind != "village" and not scope.area_ids.isdisjoint(under))):
        raise NotFound()  # outside the caller's areas is "not found", so ids cannot be probed
    return stmt.where(Area.id.in_(under))


# --- users, squads, departments -------------------------------------------------------------------------

def scoped_users(stmt: Select, user: User) -> Select:
    if sees_everything(user):
        return stmt
    if user.has_role("squad_leader", "officer") and user.squad_id:
        return stmt.where((User.squad_id == user.squad_id) | (User.id == user.id))
    return stmt.where(User.id == user.id)


def can_read_user_admin_fields(viewer: User, target: User) -> bool:
    """Phone and certificate details: the person, their squad leader, commanders and admins."""
    if sees_everything(viewer) or viewer.id == target.id:
        return True
    return viewer.has_role("squad_leader") and viewer.squad_id is not None and viewer.squad_id == target.squad_id


def scoped_squads(stmt: Select, user: User) -> Select:
    if sees_everything(user):
        return stmt
    if user.has_role("squad_leader", "officer") and user.squad_id:
        return stmt.where(Squad.id == user.squad_id)
    return stmt.where(false())


def scoped_departments(stmt: Select, user: User) -> Select:
    # Town staff see every department they could whistle; a liaison sees only their own department.
    if sees_everything(user) or user.has_role("officer", "squad_leader", "supervisor"):
        return stmt
    if user.department_id:
        return stmt.where(Department.id == user.department_id)
    return stmt.where(false())
