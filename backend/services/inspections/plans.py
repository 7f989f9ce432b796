"""Plans and their draws: made, approved in advance by the head of the enforcing body, frozen (pools and hash
published before any seed exists), drawn once from a public seed, re-drawn only with a reason (the old draw kept).
The annual cap of each business holds across all departments and plans."""
from __future__ import annotations

import json
import math
import secrets
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import extract, func, insert, select, text, update
from sqlalchemy.orm import Session

from ...errors import Conflict, InvalidInput
from ...policies.inspections import require_plan_approver, require_plan_maker
from ...models import (
    Business, Department, Draw, Inspection, InspectionInspector, InspectionPlan, Scenario, ScenarioVersion, User,
)
from ..core import audit
from . import draw as drawing
from . import inspectors as pool_rules

COUNTED = ("assigned", "in_progress", "submitted")  # what uses up a business's annual cap
POOLS_FORMAT = "gridpatrol-draw-pools/1"
STATUS_NAMES = {"draft": "草稿", "approved": "审批", "frozen": "冻结", "drawn": "抽取", "cancelled": "取消"}


def scenario_version(session: Session, code: str) -> ScenarioVersion:
    version = session.scalar(select(ScenarioVersion).join(Scenario).where(
        Scenario.code == code, ScenarioVersion.version == Scenario.current_version))
    if version is None:
        raise InvalidInput("scenario_unknown", scenario=code)
    return version


def departments_of(version: ScenarioVersion) -> list[str]:
    return sorted({i["department_code"] for i in version.items})


def inspections_this_year(session: Session, year: int, business_ids: list[int] | None = None) -> Counter[int]:
    """Initial inspections (re-checks do not count) per business in the year, every department and plan."""
    stmt = (select(Inspection.business_id, func.count()).where(
        Inspection.kind == "initial", Inspection.status.in_(COUNTED),
        extract("year", Inspection.due_on) == year).group_by(Inspection.business_id))
    counts = Counter(dict(session.execute(stmt).all()))
    if business_ids is not None:
        wanted = set(business_ids)
        counts = Counter({b: n for b, n in counts.items() if b in wanted})
    return counts


# --- the pools -----------------------------------------------------------------------------------------------

def _targets(session: Session, plan: InspectionPlan) -> list[Business]:
    stmt = select(Business).where(Business.active.is_(True)).order_by(Business.credit_code)
    if plan.kind == "directed":
        return list(session.scalars(stmt.where(Business.id.in_(plan.business_ids))))
    f = plan.target_filter or {}
    if f.get("industries"):
        stmt = stmt.where(Business.industry.in_(f["industries"]))
    if f.get("risk_grades"):
        stmt = stmt.where(Business.risk_grade.in_(f["risk_grades"]))
    if f.get("area_ids"):
        ids = f["area_ids"]
        stmt = stmt.where(Business.grid_id.in_(ids) | Business.village_id.in_(ids) | Business.zone_id.in_(ids)
                          | Business.town_id.in_(ids))
    if f.get("only_scenario", True):
        scenario = plan.scenario_version.scenario
        stmt = stmt.where((Business.scenario_code == scenario.code)
                          | (Business.scenario_code.is_(None) & Business.industry.in_(scenario.industries or [""])))
    return list(session.scalars(stmt))


def _over_cap(session: Session, plan: InspectionPlan, businesses: list[Business]) -> list[Business]:
    done = inspections_this_year(session, plan.starts_on.year, [b.id for b in businesses])
    return [b for b in businesses if done.get(b.id, 0) >= b.annual_cap]


def cap_refusal(businesses: list[Business], year: int) -> Conflict:
    names = "、".join(b.name for b in businesses[:5]) + ("等" if len(businesses) > 5 else "")
    return Conflict("plan_over_annual_cap", names=names, year=year,
                    details={"businesses": [{"id": b.id, "name": b.name, "credit_code": b.credit_code,
                                             "annual_cap": b.annual_cap} for b in businesses]})


def sample_size(rule: dict, size: int) -> int:
    """A stratum's sample: a count, or a ratio rounded up (after rounding off float noise: 0.07 × 100 is
    7.000000000000001 and must draw 7, not 8); never more than the stratum holds."""
    wanted = rule["count"] if "count" in rule else math.ceil(round(rule["ratio"] * size, 9))
    return min(wanted, size)


def build_pools(session: Session, plan: InspectionPlan, now: datetime) -> dict:
    businesses = _targets(session, plan)
    over = _over_cap(session, plan, businesses)
    if plan.kind == "directed" and over:
        raise cap_refusal(over, plan.starts_on.year)
    over_ids = {b.id for b in over}
    eligible = [b for b in businesses if b.id not in over_ids]
    strata: list[dict[str, Any]] = []
    if plan.kind == "directed":
        strata.append({"grade": "*", "size": len(eligible), "sample": len(eligible),
                       "targets": [_target(b) for b in eligible]})
    else:
        for grade in sorted(plan.sample):
            listed = [b for b in eligible if b.risk_grade == grade]
            strata.append({"grade": grade, "size": len(listed), "sample": sample_size(plan.sample[grade], len(listed)),
                           "targets": [_target(b) for b in listed]})
    if not sum(s["sample"] for s in strata):
        raise Conflict("plan_no_targets")
    departments = {d.id: d for d in session.scalars(select(Department))}
    people: list[dict[str, Any]] = []
    left_out: list[dict[str, Any]] = []
    for user in pool_rules.candidates(session, plan):
        why = pool_rules.refusal(user, plan.ends_on)
        if why and plan.inspector_ids:
            raise InvalidInput(why, name=user.display_name)  # a pool named person by person: every one must be fit
        if why:
            left_out.append({"id": user.id, "name": user.display_name, "reason": why})
        else:
            people.append({"id": user.id, "name": user.display_name, "unit": pool_rules.unit_of(user, departments),
                           "certificate_no": user.certificate_no,
                           "certificate_expires_on": str(user.certificate_expires_on)})
    if len(people) < plan.inspectors_per_target:
        raise Conflict("plan_pool_too_small", needed=plan.inspectors_per_target, found=len(people))
    barred = pool_rules.recusals(session, pool_rules.active_rules(session, plan), eligible, [p["id"] for p in people])
    recent_since = now - timedelta(days=plan.recent_days)
    recent = sorted(set(session.scalars(select(Inspection.business_id).where(
        Inspection.status == "submitted", Inspection.submitted_at >= recent_since))) & {b.id for b in eligible})
    version = plan.scenario_version
    return {
        "format": POOLS_FORMAT,
        "plan": {"id": plan.id, "name": plan.name, "kind": plan.kind, "enforcing_body": plan.enforcing_body,
                 "task_source": plan.task_source, "starts_on": plan.starts_on.isoformat(),
                 "ends_on": plan.ends_on.isoformat(),
                 "scenario": {"code": version.scenario.code, "name": version.scenario.name,
                              "version": version.version}},
        "frozen_at": now.isoformat(),
        "strata": strata,
        "excluded": [{**_target(b), "reason": "annual_cap"} for b in over],
        "inspectors": people,
        "inspectors_left_out": left_out,
        "inspectors_per_target": plan.inspectors_per_target,
        "max_targets_per_inspector": plan.max_targets_per_inspector,
        "recusals": {str(b): sorted(ids) for b, ids in sorted(barred.items())},
        "recently_inspected": {"days": plan.recent_days, "business_ids": recent},
    }


def _target(b: Business) -> dict:
    return {"id": b.id, "credit_code": b.credit_code, "name": b.name}


# --- the steps -----------------------------------------------------------------------------------------------

def approve(session: Session, plan: InspectionPlan, user: User, note: str, client_addr: str | None) -> None:
    require_plan_approver(user)
    if plan.status != "draft":
        raise Conflict("plan_not_draft", status=STATUS_NAMES[plan.status])
    if plan.created_by_id == user.id:
        raise Conflict("plan_self_approval")
    if plan.kind == "directed":
        over = _over_cap(session, plan, list(session.scalars(select(Business).where(
            Business.id.in_(plan.business_ids)))))
        if over:
            raise cap_refusal(over, plan.starts_on.year)
    plan.status, plan.approved_by_id, plan.approved_at = "approved", user.id, datetime.now(UTC)
    plan.approval_note = note
    plan.version += 1
    audit.record(session, "plan.approve", "inspection_plan", plan.id, actor=user, client_addr=client_addr,
                 after={"note": note})


def freeze(session: Session, plan: InspectionPlan, user: User, client_addr: str | None) -> None:
    require_plan_maker(user)
    if plan.status != "approved":
        raise Conflict("plan_not_approved" if plan.status == "draft" else "plan_already_frozen", status=STATUS_NAMES[plan.status])
    now = datetime.now(UTC)
    plan.pools = build_pools(session, plan, now)
    plan.pools_sha256 = drawing.sha256_of(plan.pools)
    plan.frozen_at, plan.status = now, "frozen"
    plan.version += 1
    audit.record(session, "plan.freeze", "inspection_plan", plan.id, actor=user, client_addr=client_addr,
                 after={"pools_sha256": plan.pools_sha256,
                        "targets": sum(s["size"] for s in plan.pools["strata"]),
                        "inspectors": len(plan.pools["inspectors"])})


def current_draw(session: Session, plan_id: int) -> Draw | None:
    return session.scalar(select(Draw).where(Draw.plan_id == plan_id, Draw.superseded_at.is_(None)))


def draw(session: Session, plan: InspectionPlan, user: User, seed: str, seed_source: str, reason: str | None,
         client_addr: str | None) -> Draw:
    require_plan_maker(user)
    previous = current_draw(session, plan.id)
    if plan.status not in ("frozen", "drawn") or plan.pools is None or plan.pools_sha256 is None:
        raise Conflict("plan_not_frozen", status=STATUS_NAMES[plan.status])
    if previous is not None and not reason:
        raise Conflict("draw_exists", draw_id=previous.id)
    if previous is not None:
        started = session.scalar(select(func.count()).select_from(Inspection).where(
            Inspection.draw_id == previous.id, Inspection.status != "assigned"))
        if started:
            raise Conflict("redraw_after_start", count=started)
    if drawing.sha256_of(plan.pools) != plan.pools_sha256:  # the stored pools are what was published
        raise Conflict("pools_changed")
    try:
        drawn = drawing.run(plan.pools, seed)
    except drawing.DrawInfeasible as exc:
        raise Conflict("draw_infeasible", name=exc.business.get("name", "")) from exc
    now = datetime.now(UTC)
    if previous is not None:
        previous.superseded_at = now
        session.execute(update(Inspection).where(Inspection.draw_id == previous.id).values(status="cancelled"))
        session.flush()
    targets = [t.business["id"] for t in drawn]
    caps = dict(session.execute(select(Business.id, Business.annual_cap).where(Business.id.in_(targets))).all())
    done = inspections_this_year(session, plan.starts_on.year, targets)
    over_ids = [b for b in targets if done.get(b, 0) >= caps.get(b, 0)]
    if over_ids:  # inspected by someone else since the freeze
        raise cap_refusal(list(session.scalars(select(Business).where(Business.id.in_(over_ids)))),
                          plan.starts_on.year)
    result = drawing.result_document(plan.pools_sha256, seed, drawn)
    record = Draw(plan_id=plan.id, seed=seed, seed_source=seed_source, algorithm=drawing.ALGORITHM,
                  pools_sha256=plan.pools_sha256, result=result, result_sha256=drawing.sha256_of(result),
                  drawn_by_id=user.id, drawn_at=now, redraw_of_id=previous.id if previous else None,
                  redraw_reason=reason if previous else None)
    session.add(record)
    session.flush()
    version = plan.scenario_version
    codes, departments = [i["code"] for i in version.items], departments_of(version)
    _insert_inspections(session, plan, record, version.id, codes, departments, drawn, now)
    plan.status = "drawn"
    plan.version += 1
    audit.record(session, "plan.redraw" if previous else "plan.draw", "inspection_plan", plan.id, actor=user,
                 client_addr=client_addr,
                 after={"draw_id": record.id, "seed": seed, "seed_source": seed_source, "reason": reason,
                        "targets": len(drawn), "result_sha256": record.result_sha256})
    return record


def _insert_inspections(session: Session, plan: InspectionPlan, record: Draw, version_id: int, codes: list[str],
                        departments: list[str], drawn: list[drawing.DrawnTarget], now: datetime) -> None:
    """One inspection and its team per target, in bulk: a county's draw is a thousand targets. On PostgreSQL each
    table in one statement over arrays (unnest): executemany sent a thousand statements down the pipeline (~120 ms)
    and one INSERT ... VALUES of a thousand rows took psycopg 0.3 s to prepare."""
    business_ids = [t.business["id"] for t in drawn]
    codes_of = [secrets.token_urlsafe(16) for _ in drawn]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(
            "INSERT INTO inspections (plan_id, draw_id, business_id, scenario_version_id, kind, item_codes, "
            "departments, status, due_on, public_code, check_in_flagged, version, created_at, updated_at) "
            "SELECT :plan, :draw, t.b, :version, 'initial', CAST(:codes AS json), CAST(:departments AS json), "
            "'assigned', :due, t.c, false, 1, :now, :now "
            "FROM unnest(CAST(:businesses AS integer[]), CAST(:public AS text[])) AS t(b, c)"),
            {"plan": plan.id, "draw": record.id, "version": version_id, "codes": json.dumps(codes),
             "departments": json.dumps(departments), "due": plan.ends_on, "now": now, "businesses": business_ids,
             "public": codes_of})
    else:
        session.execute(insert(Inspection.metadata.tables["inspections"]), [
            {"plan_id": plan.id, "draw_id": record.id, "business_id": b, "scenario_version_id": version_id,
             "kind": "initial", "item_codes": codes, "departments": departments, "status": "assigned",
             "due_on": plan.ends_on, "public_code": c, "version": 1, "check_in_flagged": False, "created_at": now,
             "updated_at": now} for b, c in zip(business_ids, codes_of)])
    inspection_of = dict(session.execute(select(Inspection.business_id, Inspection.id).where(
        Inspection.draw_id == record.id)).all())
    team = [(inspection_of[t.business["id"]], u, n) for t in drawn for n, u in enumerate(t.inspector_ids, start=1)]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(
            "INSERT INTO inspection_inspectors (inspection_id, user_id, position) "
            "SELECT * FROM unnest(CAST(:i AS integer[]), CAST(:u AS integer[]), CAST(:p AS integer[]))"),
            {"i": [r[0] for r in team], "u": [r[1] for r in team], "p": [r[2] for r in team]})
    else:
        session.execute(insert(InspectionInspector.metadata.tables["inspection_inspectors"]),
                        [{"inspection_id": i, "user_id": u, "position": n} for i, u, n in team])


def validate_window(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise InvalidInput("plan_window_reversed")
    if starts_on.year != ends_on.year:
        raise InvalidInput("plan_window_one_year")


def create(session: Session, user: User, data: dict, client_addr: str | None) -> tuple[InspectionPlan, bool]:
    """(plan, created): the same client id returns the stored plan."""
    require_plan_maker(user)
    existing = session.scalar(select(InspectionPlan).where(InspectionPlan.created_by_id == user.id,
                                                           InspectionPlan.client_id == data["client_id"]))
    if existing is not None:
        return existing, False
    validate_window(data["starts_on"], data["ends_on"])
    version = scenario_version(session, data.pop("scenario"))
    if data["kind"] == "random" and not data["sample"]:
        raise InvalidInput("plan_sample_missing")
    if data["kind"] == "directed":
        if not data["business_ids"]:
            raise InvalidInput("plan_targets_missing")
        found = set(session.scalars(select(Business.id).where(Business.id.in_(data["business_ids"]))))
        unknown = sorted(set(data["business_ids"]) - found)
        if unknown:
            raise InvalidInput("business_unknown", ids=", ".join(map(str, unknown)))
    if data["department_codes"] is None:
        data["department_codes"] = departments_of(version)
    known = set(session.scalars(select(Department.code)))
    unknown_codes = [c for c in data["department_codes"] if c not in known]
    if unknown_codes:
        raise InvalidInput("department_unknown", department="、".join(unknown_codes))
    if data["inspector_ids"]:
        people = {u.id: u for u in session.scalars(select(User).where(User.id.in_(data["inspector_ids"])))}
        for user_id in data["inspector_ids"]:
            person = people.get(user_id)
            if person is None:
                raise InvalidInput("inspector_unknown", id=user_id)
            why = pool_rules.refusal(person, data["ends_on"])
            if why:
                raise InvalidInput(why, name=person.display_name)
    data["sample"] = {grade: dict(rule) for grade, rule in data["sample"].items()}
    plan = InspectionPlan(**data, scenario_id=version.scenario_id, scenario_version_id=version.id,
                          created_by_id=user.id, status="draft")
    plan.scenario_version = version
    session.add(plan)
    session.flush()
    audit.record(session, "plan.create", "inspection_plan", plan.id, actor=user, client_addr=client_addr,
                 after={"name": plan.name, "kind": plan.kind, "scenario": version.scenario.code,
                        "version": version.version})
    return plan, True


def cancel(session: Session, plan: InspectionPlan, user: User, reason: str, client_addr: str | None) -> None:
    require_plan_maker(user)
    if plan.status == "cancelled":
        return
    started = session.scalar(select(func.count()).select_from(Inspection).where(
        Inspection.plan_id == plan.id, Inspection.status.in_(("in_progress", "submitted"))))
    if started:
        raise Conflict("plan_cancel_after_start", count=started)
    for inspection in session.scalars(select(Inspection).where(Inspection.plan_id == plan.id)):
        inspection.status = "cancelled"
    plan.status = "cancelled"
    plan.version += 1
    audit.record(session, "plan.cancel", "inspection_plan", plan.id, actor=user, client_addr=client_addr,
                 after={"reason": reason})
