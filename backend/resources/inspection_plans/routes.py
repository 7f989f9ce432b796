"""Inspection plans and their 双随机 draws: make, approve (the head of the enforcing body), freeze (the pools and
their SHA-256, published before the seed exists), draw from a public seed, re-draw with a reason; a draw's record;
the plan's export."""
from __future__ import annotations

import orjson
from flask import Response
from flask.views import MethodView
from sqlalchemy import select

from ...context import client_addr, current_user
from ...errors import Conflict, InvalidInput, NotAllowed, NotFound
from ...extensions.api import Blueprint, link, links
from ...extensions.database import get_session
from ...models import Business, Draw, Inspection, InspectionPlan, InspectorConflict, RecusalRule, User
from ...policies.inspections import may_read_plans, require_scenario_writer
from ...services.core import audit
from ...services.inspections import exports, plans
from sqlalchemy.exc import IntegrityError

from .schemas import (
    ApproveSchema, ConflictSchema, DrawRequestSchema, DrawSchema, PlanQuerySchema, PlanSchema, PoolsSchema,
    RecusalRuleSchema, RecusalRuleUpdateSchema,
)

blp = Blueprint("inspection_plans", __name__, url_prefix="/api/v1",
                description="Inspection plans (检查计划) and their 双随机 draws")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _links(pointer: str) -> dict:
    p = "/api/v1/inspection-plans/{plan_id}"
    return {"get": link(p, "get", "The plan", plan_id=pointer),
            "approve": link(f"{p}/approve", "post", "Approve it", plan_id=pointer),
            "freeze": link(f"{p}/freeze", "post", "Freeze its pools", plan_id=pointer)}


def _plan(plan_id: int, *, for_update: bool = False) -> InspectionPlan:
    user = current_user()
    if not may_read_plans(user):
        raise NotFound("plan_not_found")
    stmt = select(InspectionPlan).where(InspectionPlan.id == plan_id)
    if for_update:
        stmt = stmt.with_for_update(of=InspectionPlan)
    plan = get_session().scalar(stmt)
    if plan is None:
        raise NotFound("plan_not_found")
    return plan


def _out(plan: InspectionPlan) -> InspectionPlan:
    current = plans.current_draw(get_session(), plan.id)
    plan.current_draw_id = current.id if current else None  # type: ignore[attr-defined]
    plan.scenario_code = plan.scenario_version.scenario.code  # type: ignore[attr-defined]
    plan.scenario_version_number = plan.scenario_version.version  # type: ignore[attr-defined]
    return plan


@blp.route("/inspection-plans")
class Plans(MethodView):
    @blp.arguments(PlanQuerySchema, location="query")
    @blp.response(200, PlanSchema(many=True))
    def get(self, query):
        """Plans, newest first (squad leaders, commanders, admins)."""
        if not may_read_plans(current_user()):
            return []
        stmt = select(InspectionPlan).order_by(InspectionPlan.id.desc())
        if "status" in query:
            stmt = stmt.where(InspectionPlan.status == query["status"])
        return [_out(p) for p in get_session().scalars(stmt.limit(500))]

    @blp.arguments(PlanSchema)
    @blp.doc(**links(201, **_links("$response.body#/id")))
    @blp.response(201, PlanSchema)
    @blp.alt_response(200, schema=PlanSchema, description="A retry: the plan this client id made")
    def post(self, data):
        """Make a plan: a scenario, which businesses (a filter and a sample per risk grade, or named ones), how
        many inspectors each (at least 2, each with a certificate valid through the plan), from which departments,
        with which recusal rules."""
        session = get_session()
        plan, created = plans.create(session, current_user(), data, client_addr())
        session.commit()
        return _out(plan), 201 if created else 200


@blp.route("/inspection-plans/<int:plan_id>")
@blp.response(200, PlanSchema)
def get_plan(plan_id):
    """One plan."""
    return _out(_plan(plan_id))


@blp.route("/inspection-plans/<int:plan_id>/approve", methods=["POST"])
@blp.arguments(ApproveSchema)
@blp.response(200, PlanSchema)
def approve_plan(data, plan_id):
    """Approve the plan in advance (a commander, the head of the enforcing body, not its maker)."""
    session = get_session()
    plan = _plan(plan_id, for_update=True)
    plans.approve(session, plan, current_user(), data["note"], client_addr())
    session.commit()
    return _out(plan)


@blp.route("/inspection-plans/<int:plan_id>/freeze", methods=["POST"])
@blp.response(200, PoolsSchema)
def freeze_plan(plan_id):
    """Freeze the target and inspector pools (with the recusals and who is left out and why) and publish their
    SHA-256 before the seed exists."""
    session = get_session()
    plan = _plan(plan_id, for_update=True)
    plans.freeze(session, plan, current_user(), client_addr())
    session.commit()
    return {"pools_sha256": plan.pools_sha256, "frozen_at": plan.frozen_at, "pools": plan.pools}


@blp.route("/inspection-plans/<int:plan_id>/pools")
@blp.response(200, PoolsSchema)
def plan_pools(plan_id):
    """The frozen pools."""
    plan = _plan(plan_id)
    if plan.pools is None:
        raise Conflict("plan_not_frozen", status=plan.status)
    return {"pools_sha256": plan.pools_sha256, "frozen_at": plan.frozen_at, "pools": plan.pools}


@blp.route("/inspection-plans/<int:plan_id>/draw", methods=["POST"])
@blp.arguments(DrawRequestSchema)
@blp.doc(**links(201, get=link("/api/v1/draws/{draw_id}", "get", "The draw", draw_id="$response.body#/id")))
@blp.response(201, DrawSchema)
def draw_plan(data, plan_id):
    """Draw targets and teams from the seed (Rivest's SHA-256 sampler). The result is stored once and published;
    a second draw needs a reason and keeps the first."""
    session = get_session()
    plan = _plan(plan_id, for_update=True)
    record = plans.draw(session, plan, current_user(), data["seed"], data["seed_source"], data["reason"],
                        client_addr())
    session.commit()
    return _json(draw_view(record), 201)


@blp.route("/inspection-plans/<int:plan_id>/cancel", methods=["POST"])
@blp.arguments(ApproveSchema)
@blp.response(200, PlanSchema)
def cancel_plan(data, plan_id):
    """Cancel a plan before any of its inspections has started."""
    session = get_session()
    plan = _plan(plan_id, for_update=True)
    plans.cancel(session, plan, current_user(), data["note"], client_addr())
    session.commit()
    return _out(plan)


@blp.route("/inspection-plans/<int:plan_id>/export.xlsx")
@blp.doc(responses={200: {"description": "The plan, its draws and its results as a workbook",
                          "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
def export_plan(plan_id):
    """The plan, every draw (with its seed and hashes) and every inspection's results, in one workbook."""
    plan = _plan(plan_id)
    body = exports.plan_workbook(get_session(), plan)
    return Response(body, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=plan-{plan.id}.xlsx", "X-Content-Type-Options": "nosniff"})


@blp.route("/draws/<int:draw_id>")
@blp.response(200, DrawSchema)
def get_draw(draw_id):
    """A draw's record: seed, source, hashes, targets and teams (public also at /public/draws/{id})."""
    if not may_read_plans(current_user()):
        raise NotFound("draw_not_found")
    record = get_session().get(Draw, draw_id)
    if record is None:
        raise NotFound("draw_not_found")
    return _json(draw_view(record))


def _json(body: dict, status: int = 200) -> Response:
    # written with orjson, not through the schema (the same fields): a county's draw is a thousand targets with
    # their teams, ~50 ms through marshmallow
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def draw_view(record: Draw) -> dict:
    session = get_session()
    plan = session.get(InspectionPlan, record.plan_id)
    assert plan is not None  # a draw's plan is never deleted
    names = {t["id"]: t["name"] for s in (plan.pools or {}).get("strata", []) for t in s["targets"]}
    people = {p["id"]: p["name"] for p in (plan.pools or {}).get("inspectors", [])}
    people |= dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_({i for t in record.result["targets"] for i in t["inspector_ids"]} - set(people)))).all())
    inspections = dict(session.execute(select(Inspection.business_id, Inspection.id).where(
        Inspection.draw_id == record.id, Inspection.kind == "initial")).all())
    return {"id": record.id, "plan_id": record.plan_id, "seed": record.seed, "seed_source": record.seed_source,
            "algorithm": record.algorithm, "pools_sha256": record.pools_sha256,
            "result_sha256": record.result_sha256, "drawn_at": record.drawn_at, "drawn_by_id": record.drawn_by_id,
            "redraw_of_id": record.redraw_of_id, "redraw_reason": record.redraw_reason,
            "superseded_at": record.superseded_at, "public_url": f"/public/draws/{record.id}",
            "targets": [{"business_id": t["business_id"], "credit_code": t["credit_code"],
                         "name": names.get(t["business_id"], ""), "grade": t["grade"],
                         "inspectors": [{"id": i, "name": people.get(i, "")} for i in t["inspector_ids"]],
                         "inspection_id": inspections.get(t["business_id"])}
                        for t in record.result["targets"]]}


@blp.route("/recusal-rules")
@blp.response(200, RecusalRuleSchema(many=True))
def list_recusal_rules():
    """The recusal rules (回避规则) a draw applies: the previous inspector, declared conflicts, the own squad's
    area (off by default)."""
    return list(get_session().scalars(select(RecusalRule).order_by(RecusalRule.id)))


@blp.route("/recusal-rules/<int:rule_id>", methods=["PATCH"])
@blp.arguments(RecusalRuleUpdateSchema)
@blp.response(200, RecusalRuleSchema)
def update_recusal_rule(data, rule_id):
    """Switch a rule on or off, rename it, or change its parameters (admins and commanders). Frozen plans keep
    the recusals they were frozen with."""
    session, user = get_session(), current_user()
    require_scenario_writer(user)
    rule = session.get(RecusalRule, rule_id)
    if rule is None:
        raise NotFound()
    if not data:
        raise InvalidInput("nothing_to_change")
    if "params" in data and rule.kind == "previous_inspector":
        last = data["params"].get("last")
        if not isinstance(last, int) or isinstance(last, bool) or not 1 <= last <= 10:
            raise InvalidInput("validation_error", details={"fields": {"params": ["last: 1–10"]}})
        data["params"] = {"last": last}
    elif "params" in data:
        data["params"] = {}
    before = {"name": rule.name, "params": rule.params, "active": rule.active}
    for key, value in data.items():
        setattr(rule, key, value)
    audit.record(session, "recusal_rule.update", "recusal_rule", rule.id, actor=user, client_addr=client_addr(),
                 before=before, after={"name": rule.name, "params": rule.params, "active": rule.active})
    session.commit()
    return rule


@blp.route("/inspector-conflicts")
class Conflicts(MethodView):
    @blp.response(200, ConflictSchema(many=True))
    def get(self):
        """Declared conflicts of interest: the caller's own; all of them for plan makers."""
        session, user = get_session(), current_user()
        stmt = select(InspectorConflict).order_by(InspectorConflict.id)
        if not may_read_plans(user):
            stmt = stmt.where(InspectorConflict.user_id == user.id)
        return list(session.scalars(stmt))

    @blp.arguments(ConflictSchema)
    @blp.response(201, ConflictSchema)
    @blp.alt_response(200, schema=ConflictSchema, description="Already declared: the stored declaration")
    def post(self, data):
        """Declare a conflict of interest (利害关系) with a business: the inspector is never drawn for it. Anyone for
        themselves; plan makers for anyone."""
        session, user = get_session(), current_user()
        person_id = data["user_id"] or user.id
        if person_id != user.id and not may_read_plans(user):
            raise NotAllowed()
        if session.get(User, person_id) is None:
            raise InvalidInput("inspector_unknown", id=person_id)
        if session.get(Business, data["business_id"]) is None:
            raise InvalidInput("business_unknown", ids=str(data["business_id"]))
        existing = session.scalar(select(InspectorConflict).where(
            InspectorConflict.user_id == person_id, InspectorConflict.business_id == data["business_id"]))
        if existing is not None:
            return existing, 200
        conflict = InspectorConflict(user_id=person_id, business_id=data["business_id"], reason=data["reason"],
                                     declared_by_id=user.id)
        try:
            with session.begin_nested():
                session.add(conflict)
        except IntegrityError:
            return session.scalar(select(InspectorConflict).where(
                InspectorConflict.user_id == person_id, InspectorConflict.business_id == data["business_id"])), 200
        audit.record(session, "inspector_conflict.declare", "inspector_conflict", conflict.id, actor=user,
                     client_addr=client_addr(), after={"user_id": person_id, "business_id": data["business_id"],
                                                       "reason": data["reason"]})
        session.commit()
        return conflict, 201
