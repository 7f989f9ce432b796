"""Who may inspect (持证上岗): enforcement staff with a certificate valid on the day; village supervisors, auxiliary
staff and grid workers never. And the recusal rules (回避) as pairs of business and inspector."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    Business, Department, Inspection, InspectionInspector, InspectorConflict, RecusalRule, User, squad_areas,
)
from ...models.inspections import InspectionPlan

INSPECTOR_ROLES = ("officer", "squad_leader", "commander", "department")
NEVER_INSPECT = ("supervisor",)  # 村执法监督员: not enforcement staff


def refusal(user: User, on: date) -> str | None:
    """Why this person may not inspect on that day (a message code), or None."""
    if user.has_role(*NEVER_INSPECT):
        return "inspector_is_supervisor"
    if not user.active or not user.has_role(*INSPECTOR_ROLES):
        return "inspector_not_staff"
    if not user.certificate_no or user.certificate_expires_on is None:
        return "inspector_no_certificate"
    if user.certificate_expires_on < on:
        return "inspector_certificate_expired"
    return None


def unit_of(user: User, departments: dict[int, Department]) -> str:
    if user.department_id and user.department_id in departments:
        return departments[user.department_id].name
    return "乡镇综合行政执法队"


def candidates(session: Session, plan: InspectionPlan) -> list[User]:
    """The pool before the certificate checks: named people, or the plan's departments (and the town's officers)."""
    if plan.inspector_ids:
        return list(session.scalars(select(User).where(User.id.in_(plan.inspector_ids)).order_by(User.id)))
    codes = list(plan.department_codes)
    dept_ids = list(session.scalars(select(Department.id).where(Department.code.in_(codes)))) if codes else []
    users = list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)))
    return [u for u in users
            if (u.department_id in dept_ids and u.has_role("department"))
            or (plan.include_town_officers and u.squad_id is not None and u.department_id is None
                and u.has_role("officer", "squad_leader"))]


def active_rules(session: Session, plan: InspectionPlan) -> list[RecusalRule]:
    rules = list(session.scalars(select(RecusalRule).order_by(RecusalRule.id)))
    if plan.recusal_rule_codes is None:
        return [r for r in rules if r.active]
    return [r for r in rules if r.code in plan.recusal_rule_codes]


def recusals(session: Session, rules: list[RecusalRule], businesses: list[Business],
             inspector_ids: Iterable[int]) -> dict[int, set[int]]:
    """business id → the inspectors who must not inspect it."""
    people = set(inspector_ids)
    business_ids = [b.id for b in businesses]
    barred: dict[int, set[int]] = defaultdict(set)
    for rule in rules:
        if rule.kind == "previous_inspector":
            last = int(rule.params.get("last", 1))
            for business_id, team in _previous_teams(session, business_ids, last).items():
                barred[business_id] |= team & people
        elif rule.kind == "declared_conflict":
            wanted = set(business_ids)
            for user_id, business_id in session.execute(
                    select(InspectorConflict.user_id, InspectorConflict.business_id)):
                if user_id in people and business_id in wanted:
                    barred[business_id].add(user_id)
        elif rule.kind == "own_area":
            squads_of_area: dict[int, set[int]] = defaultdict(set)
            for squad_id, area_id in session.execute(select(squad_areas.c.squad_id, squad_areas.c.area_id)):
                squads_of_area[area_id].add(squad_id)
            members: dict[int, set[int]] = defaultdict(set)
            for user_id, squad_id in session.execute(select(User.id, User.squad_id).where(User.squad_id.is_not(None))):
                if user_id in people and squad_id is not None:
                    members[squad_id].add(user_id)
            for b in businesses:
                for area_id in (b.grid_id, b.zone_id, b.town_id):
                    for squad_id in squads_of_area.get(area_id or 0, ()):
                        barred[b.id] |= members[squad_id]
    return {b: ids for b, ids in barred.items() if ids}


def _previous_teams(session: Session, business_ids: list[int], last: int) -> dict[int, set[int]]:
    """The teams of each business's last `last` submitted inspections."""
    rows = session.execute(
        select(Inspection.id, Inspection.business_id, InspectionInspector.user_id)
        .join(InspectionInspector, InspectionInspector.inspection_id == Inspection.id)
        .where(Inspection.status == "submitted")  # all, filtered here: a register of 20,000 is too long for IN
        .order_by(Inspection.business_id, Inspection.submitted_at.desc(), Inspection.id.desc())).all()
    kept: dict[int, list[int]] = defaultdict(list)
    teams: dict[int, set[int]] = defaultdict(set)
    wanted = set(business_ids)
    for inspection_id, business_id, user_id in rows:
        if business_id not in wanted:
            continue
        seen = kept[business_id]
        if inspection_id not in seen:
            if len(seen) >= last:
                continue
            seen.append(inspection_id)
        teams[business_id].add(user_id)
    return teams
