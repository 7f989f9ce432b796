"""A new case: where it is (grid, village, zone, town, squad, filled by the server from the position), its time
limits, its "before" evidence, and the open cases nearby that may be the same matter."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...errors import Conflict, InvalidInput
from ...models import Case, CaseAction, CaseCategory, CaseEvidence, Evidence, User, squad_areas
from ...policies import AreaScope, scoped_evidence
from ..core import audit
from ..core.areas import locate
from . import clock
from geo.projection import geodesic_distance_m

# Default duplicate radius per reporter: an officer's or leader's report is checked wider (they see the whole
# street), a supervisor's or the public's narrower (a village lane). A category may set its own.
DUPLICATE_RADIUS_M = {"patrol": 1000.0, "inspection": 1000.0, "supervisor": 250.0, "hotline": 250.0, "open311": 250.0}
DUPLICATES_SHOWN = 5
_M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class Report:
    client_id: str
    category_code: str
    lon: float
    lat: float
    source: str
    description: str = ""
    address: str = ""
    accuracy_m: float | None = None
    evidence_ids: tuple[int, ...] = ()
    reporter_name: str | None = None
    reported_at: datetime | None = None  # when the phone saw it (offline reports arrive later); else now
    extra: dict = field(default_factory=dict)


def default_source(user: User) -> str:
    """A village supervisor's report is a supervisor's; anyone else's on the ground a patrol's."""
    return "supervisor" if user.has_role("supervisor") and not user.has_role("officer", "squad_leader") else "patrol"


def category_by_code(session: Session, code: str) -> CaseCategory:
    category = session.scalar(select(CaseCategory).where(CaseCategory.code == code, CaseCategory.active.is_(True)))
    if category is None:
        raise InvalidInput("case_category_unknown", category=code)
    return category


def squad_for(session: Session, *area_ids: int | None) -> int | None:
    """The squad assigned the most specific of these areas (grid, then zone, then town)."""
    for area_id in area_ids:
        if area_id is None:
            continue
        squad = session.scalar(select(squad_areas.c.squad_id).where(squad_areas.c.area_id == area_id)
                               .order_by(squad_areas.c.squad_id).limit(1))
        if squad is not None:
            return squad
    return None


def report(session: Session, user: User | None, r: Report, client_addr: str | None) -> tuple[Case, bool]:
    """(case, created). The same client id with the same report: the stored case; with another: 409."""
    existing = _by_client_id(session, user, r)
    if existing is not None:
        return existing, False
    category = category_by_code(session, r.category_code)
    places = locate(session, AreaScope(True, frozenset()), r.lon, r.lat)
    if places["town"] is None and places["grid"] is None:
        raise InvalidInput("case_outside_area")
    ids = {kind: (place or {}).get("id") for kind, place in places.items()}
    evidence = visible_evidence_in_order(session, user, r.evidence_ids)
    now = datetime.now(UTC)
    reported_at = min(r.reported_at or now, now)
    calendar = clock.load_calendar(session)
    case = Case(
        client_id=r.client_id, source=r.source, category_id=category.id, description=r.description,
        address=r.address, lon=r.lon, lat=r.lat, accuracy_m=r.accuracy_m, grid_id=ids["grid"],
        village_id=ids["village"], zone_id=ids["zone"], town_id=ids["town"],
        squad_id=squad_for(session, ids["grid"], ids["zone"], ids["town"]),
        reported_by_id=user.id if user else None, reporter_name=r.reporter_name, status="reported", open=True,
        reported_at=reported_at, overdue="",
        respond_due_at=clock.add(reported_at, category.respond_minutes, category.clock, calendar),
        handle_due_at=clock.add(reported_at, category.handle_minutes, category.clock, calendar))
    try:
        with session.begin_nested():  # the unique (reporter, client id) decides between racing retries
            session.add(case)
    except IntegrityError:
        existing = _by_client_id(session, user, r)
        if existing is None:
            raise
        return existing, False
    action = CaseAction(case_id=case.id, action="report", actor_id=user.id if user else None, at=reported_at,
                        lon=r.lon, lat=r.lat, accuracy_m=r.accuracy_m, from_status=None, to_status="reported",
                        note=r.description, data={"source": r.source, **r.extra},
                        evidence_ids=[e.id for e in evidence])
    session.add(action)
    session.flush()
    for item in evidence:
        session.add(CaseEvidence(case_id=case.id, evidence_id=item.id, stage="before", action_id=action.id))
    audit.record(session, "case.report", "case", case.id, actor=user,
                 actor_username=None if user else r.source, client_addr=client_addr,
                 after={"client_id": r.client_id, "category": category.code, "lon": r.lon, "lat": r.lat,
                        "source": r.source, "evidence": [e.id for e in evidence]})
    return case, True


def _by_client_id(session: Session, user: User | None, r: Report) -> Case | None:
    if user is None:
        return None  # Open311 requests are made idempotent by their own layer
    existing = session.scalar(select(Case).where(Case.reported_by_id == user.id, Case.client_id == r.client_id))
    if existing is None:
        return None
    first = session.scalar(select(CaseAction).where(CaseAction.case_id == existing.id,
                                                    CaseAction.action == "report"))
    differing = [name for name, same in (
        ("category", existing.category.code == r.category_code),
        ("lon", math.isclose(existing.lon, r.lon, abs_tol=1e-9)),
        ("lat", math.isclose(existing.lat, r.lat, abs_tol=1e-9)),
        ("description", existing.description == r.description),
        ("evidence_ids", first is None or sorted(first.evidence_ids) == sorted(r.evidence_ids)),
    ) if not same]
    if differing:
        raise Conflict("case_report_differs", details={"fields": differing})
    return existing


def own_evidence_ids(session: Session, user: User, client_ids: list[str]) -> tuple[int, ...]:
    """The ids of the caller's own evidence records named by their client ids, in the order given."""
    if not client_ids:
        return ()
    found = dict(session.execute(select(Evidence.client_id, Evidence.id).where(
        Evidence.client_id.in_(set(client_ids)), Evidence.uploaded_by_id == user.id)).all())
    missing = [c for c in client_ids if c not in found]
    if missing:
        raise InvalidInput("case_evidence_unknown", ids=", ".join(missing))
    return tuple(dict.fromkeys(found[c] for c in client_ids))


def visible_evidence_in_order(session: Session, user: User | None, evidence_ids: tuple[int, ...]) -> list[Evidence]:
    """Evidence the caller may attach to a report or a step: what they can see (their own photos, their squad's
    for a leader, a visible case's), in the order given; anything else is a 400 naming the ids."""
    if not evidence_ids:
        return []
    if user is None:
        raise InvalidInput("case_evidence_unknown", ids=", ".join(map(str, evidence_ids)))
    found = session.scalars(scoped_evidence(select(Evidence).where(Evidence.id.in_(set(evidence_ids))), user)).all()
    missing = sorted(set(evidence_ids) - {e.id for e in found})
    if missing:
        raise InvalidInput("case_evidence_unknown", ids=", ".join(map(str, missing)))
    return sorted(found, key=lambda e: evidence_ids.index(e.id))


@dataclass(frozen=True)
class Nearby:
    case: Any  # a row with the case's id, status, reported_at, description, lon, lat
    distance_m: float


def possible_duplicates(session: Session, category: CaseCategory, lon: float, lat: float, source: str,
                        exclude_id: int | None = None, limit: int = DUPLICATES_SHOWN) -> list[Nearby]:
    """Open cases of the same category within the category's (or the reporter's) radius, nearest first. One
    indexed query (category, open, lon, lat) for the box around the point; the circle is cut here."""
    radius = category.duplicate_radius_m or DUPLICATE_RADIUS_M.get(source, 250.0)
    dlat = radius / _M_PER_DEG_LAT
    dlon = radius / (_M_PER_DEG_LAT * max(0.01, math.cos(math.radians(lat))))
    stmt = select(Case.id, Case.lon, Case.lat, Case.status, Case.reported_at, Case.description).where(
        Case.category_id == category.id, Case.open.is_(True),
        Case.lon.between(lon - dlon, lon + dlon), Case.lat.between(lat - dlat, lat + dlat))
    if exclude_id is not None:
        stmt = stmt.where(Case.id != exclude_id)
    near = [Nearby(row, d) for row in session.execute(stmt)
            if (d := geodesic_distance_m(lon, lat, row.lon, row.lat)) <= radius]
    return sorted(near, key=lambda n: (n.distance_m, n.case.id))[:limit]
