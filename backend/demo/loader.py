"""Load the demo town into an empty database: areas, squads, departments, demo accounts."""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.demo_town import build_demo_town
from geo.projection import geodesic_area_m2

from ..models import Area, Department, Squad, User, UserRole
from ..security import hash_password
from ..services.core import audit
from ..settings import DEMO_PASSWORD
from .businesses import load_businesses
from .people import DEPARTMENTS, chinese_names

log = logging.getLogger(__name__)

DEMO_ACCOUNTS = ("admin", "commander1", "leader1", "officer1", "supervisor1", "dept1")
OFFICERS_PER_SQUAD = 5
SQUAD_NAMES = ("第一中队", "第二中队", "第三中队", "第四中队")


def database_is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count(Area.id))) and not session.scalar(select(func.count(User.id)))


def _area(kind: str, name: str, code: str | None, geometry: BaseGeometry, parent: Area | None = None,
          **props: Any) -> Area:
    x0, y0, x1, y1 = geometry.bounds
    return Area(kind=kind, name=name, code=code, parent=parent, geom=from_shape(geometry, srid=4326),
                area_m2=geodesic_area_m2(geometry), min_lon=x0, min_lat=y0, max_lon=x1, max_lat=y1,
                properties=props)


def load_demo(session: Session) -> dict[str, int]:
    """Create the demo town in one transaction. The caller checks the database is empty."""
    town_plan = build_demo_town()
    town = _area("town", town_plan.name, town_plan.code, town_plan.outline, demo=True)
    zones = [_area("zone", z.name, z.code, z.geometry, town) for z in town_plan.zones]
    grids = [_area("grid", g.name, g.code, g.geometry, zones[g.zone_index]) for g in town_plan.grids]
    villages = [_area("village", v.name, v.code, v.geometry, town, centre_lonlat=list(v.centre_lonlat))
                for v in town_plan.villages]
    session.add_all([town, *zones, *grids, *villages])
    session.flush()

    squads = [Squad(name=name, areas=[zone]) for name, zone in zip(SQUAD_NAMES, zones)]
    departments = [Department(name=n, code=c, field=f) for n, c, f in DEPARTMENTS]
    session.add_all([*squads, *departments])
    session.flush()

    # One argon2 hash for every demo account: they share the published demo password anyway.
    password_hash = hash_password(DEMO_PASSWORD)
    names = iter(chinese_names(6 + 4 + 4 * OFFICERS_PER_SQUAD + len(villages) + len(departments)))
    users: list[User] = []

    def person(username: str, roles: list[str], certified: bool = False, **fields: Any) -> User:
        n = len(users) + 1
        user = User(username=username, display_name=next(names), password_hash=password_hash,
                    phone=f"1{3 + n % 6}{n:09d}"[:11], role_rows=[UserRole(role=r) for r in roles], **fields)
        if certified:
            user.certificate_no = f"13018120{n:05d}"
            user.certificate_expires_on = date(2028 + n % 3, 1 + n % 12, 1 + n % 28)
        users.append(user)
        return user

    person("admin", ["admin"])
    person("commander1", ["commander"], certified=True)
    for i, squad in enumerate(squads, start=1):
        person(f"leader{i}", ["squad_leader", "officer"], certified=True, squad_id=squad.id)
    for i in range(len(squads) * OFFICERS_PER_SQUAD):
        person(f"officer{i + 1}", ["officer"], certified=True, squad_id=squads[i // OFFICERS_PER_SQUAD].id)
    for i, village in enumerate(villages, start=1):
        person(f"supervisor{i}", ["supervisor"], village_id=village.id)
    for i, dept in enumerate(departments, start=1):
        person(f"dept{i}", ["department"], certified=True, department_id=dept.id)  # county inspectors hold 执法证
    session.add_all(users)
    session.flush()
    businesses = load_businesses(session, town_plan)
    counts = {"zones": len(zones), "grids": len(grids), "villages": len(villages), "squads": len(squads),
              "departments": len(departments), "users": len(users), "businesses": businesses}
    audit.record(session, "demo.load", "town", town.id, actor_username="system", after=counts)
    session.commit()
    log.info("demo town loaded: %s", counts)
    return counts
