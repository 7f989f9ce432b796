"""Inspections on site: the officer's list, one inspection with its checklist, check-in, item results (the draft),
submission with the signature, the one-time notice and the on-site record as PDF, a failed item handed to the
case cycle, and the year's figures."""
from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from sqlalchemy import select

from ...context import client_addr, current_user
from ...errors import NotFound
from ...extensions.api import Blueprint, link
from ...extensions.database import get_session
from ...models import Department, Inspection, InspectionInspector, User
from ...policies import sees_everything
from ...policies.inspections import scoped_inspections
from ...services.inspections import figures, notice, onsite
from ...services.inspections import inspectors as pool_rules
from ...services.notifications import outbox as notices
from .schemas import (
    CaseFromItemSchema, CaseLinkSchema, CheckInSchema, InspectionDetailSchema, InspectionQuerySchema,
    InspectionSchema, InspectionStatsSchema, ResultsSchema, StatsQuerySchema, SubmitSchema,
)

blp = Blueprint("inspections", __name__, url_prefix="/api/v1",
                description="Inspections on site (综合查一次): check-in, results, signature, notice")
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


def _links(pointer: str) -> dict:
    p = "/api/v1/inspections/{inspection_id}"
    return {"get": link(p, "get", "The inspection", inspection_id=pointer)}


def visible_inspection(inspection_id: int, *, for_update: bool = False) -> Inspection:
    stmt = scoped_inspections(select(Inspection).where(Inspection.id == inspection_id), current_user())
    if for_update:
        stmt = stmt.with_for_update(of=Inspection)
    inspection = get_session().scalar(stmt)
    if inspection is None:
        raise NotFound("inspection_not_found")
    return inspection


def _views(inspections: list[Inspection]) -> list[dict]:
    session, user = get_session(), current_user()
    ids = {m.user_id for i in inspections for m in i.team}
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    departments = {d.id: d for d in session.scalars(select(Department))}
    out = []
    for i in inspections:
        team_ids = {m.user_id for m in i.team}
        may_see_code = user.id in team_ids or sees_everything(user) or (
            user.has_role("squad_leader") and any(people[m].squad_id == user.squad_id for m in team_ids if m in people))
        out.append({
            "id": i.id, "plan_id": i.plan_id, "kind": i.kind, "parent_id": i.parent_id, "status": i.status,
            "due_on": i.due_on, "business": i.business, "scenario": i.scenario_version.scenario.name,
            "scenario_version": i.scenario_version.version, "departments": i.departments,
            "item_count": len(i.item_codes),
            "team": [{"id": m.user_id, "name": people[m.user_id].display_name,
                      "unit": pool_rules.unit_of(people[m.user_id], departments),
                      "certificate_no": people[m.user_id].certificate_no,
                      "certificate_expires_on": people[m.user_id].certificate_expires_on, "position": m.position}
                     for m in i.team if m.user_id in people],
            "checked_in_at": i.checked_in_at, "check_in_distance_m": i.check_in_distance_m,
            "check_in_flagged": i.check_in_flagged, "submitted_at": i.submitted_at, "notice_no": i.notice_no,
            "failed": sum(1 for r in i.results if r.result == "fail"),
            "public_code": i.public_code if may_see_code else None, "version": i.version})
    return out


def _detail(inspection: Inspection) -> dict:
    out = _views([inspection])[0]
    items = {i["code"]: i for i in inspection.scenario_version.items}
    out["items"] = [items[c] for c in inspection.item_codes if c in items]
    out["results"] = inspection.results
    out["signer_name"] = inspection.signer_name
    out["signature"] = inspection.signature
    out["rating"] = inspection.rating
    out["reinspection_ids"] = list(get_session().scalars(select(Inspection.id).where(
        Inspection.parent_id == inspection.id).order_by(Inspection.id)))
    return out


@blp.route("/inspections")
class Inspections(MethodView):
    @blp.arguments(InspectionQuerySchema, location="query")
    @blp.response(200, InspectionSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, query, pagination_parameters):
        """Inspections the caller may see, soonest due first; `mine` for the officer's own list (drawn
        inspections and re-inspections)."""
        session, user = get_session(), current_user()
        stmt = scoped_inspections(select(Inspection), user)
        if query.get("mine"):
            stmt = stmt.where(Inspection.id.in_(select(InspectionInspector.inspection_id)
                                                .where(InspectionInspector.user_id == user.id)))
        if query.get("status"):
            stmt = stmt.where(Inspection.status.in_(query["status"]))
        for name, column in (("kind", Inspection.kind), ("plan", Inspection.plan_id),
                             ("business", Inspection.business_id)):
            if name in query:
                stmt = stmt.where(column == query[name])
        from ...extensions.api import page_of
        rows = page_of(session, stmt, pagination_parameters, Inspection.due_on, Inspection.id)
        return _views(rows)


@blp.route("/inspections/<int:inspection_id>")
@blp.response(200, InspectionDetailSchema)
def get_inspection(inspection_id):
    """One inspection: the business, the team, the checklist's items (the version it uses), the results so far."""
    return _detail(visible_inspection(inspection_id))


@blp.route("/inspections/<int:inspection_id>/check-in", methods=["POST"])
@blp.arguments(CheckInSchema)
@blp.response(200, InspectionDetailSchema)
def check_in(data, inspection_id):
    """Check in on arrival (a team member): the position is kept, and flagged when farther from the business than
    INSPECTION_CHECKIN_MAX_M (200 m). A retry keeps the first check-in."""
    session = get_session()
    inspection = visible_inspection(inspection_id, for_update=True)
    onsite.check_in(session, inspection, current_user(), data["lon"], data["lat"], data["accuracy_m"],
                    current_app.config["GRIDPATROL"].inspection_checkin_max_m, client_addr(), at=data["at"])
    session.commit()
    return _detail(inspection)


def _item_results(data: list[dict]) -> list[onsite.ItemResult]:
    return [onsite.ItemResult(item_code=r["item_code"], result=r["result"], note=r["note"],
                              evidence_ids=tuple(r["evidence"]), evidence_client_ids=tuple(r["evidence_client_ids"]),
                              rectify_by=r["rectify_by"]) for r in data]


@blp.route("/inspections/<int:inspection_id>/results", methods=["PUT"])
@blp.arguments(ResultsSchema)
@blp.response(200, InspectionDetailSchema)
def put_results(data, inspection_id):
    """Save item results (the draft): each item's result replaced by the one sent. 不合格 needs a photo by the
    time of submission."""
    session = get_session()
    inspection = visible_inspection(inspection_id, for_update=True)
    onsite.save_results(session, inspection, current_user(), _item_results(data["results"]))
    session.commit()
    return _detail(inspection)


@blp.route("/inspections/<int:inspection_id>/submit", methods=["POST"])
@blp.arguments(SubmitSchema)
@blp.response(200, InspectionDetailSchema)
def submit(data, inspection_id):
    """Submit: every item has a result, every failure a photo, the representative has signed (or refused, with a
    note). The notice gets its number; failures get deadlines and a re-inspection task. A retry with the same
    client id answers the stored submission."""
    session, user = get_session(), current_user()
    inspection = visible_inspection(inspection_id, for_update=True)
    signed_at = onsite.signing_time(inspection, data["signed_at"])
    if data["results"] and inspection.status != "submitted":
        onsite.save_results(session, inspection, user, _item_results(data["results"]),
                            base_day=signed_at.astimezone(onsite.SHANGHAI).date())
    onsite.submit(session, inspection, user, client_id=data["client_id"], signature=data["signature"],
                  signer_name=data["signer_name"], refused_to_sign=data["refused_to_sign"],
                  refusal_note=data["refusal_note"], client_addr=client_addr(), at=signed_at)
    session.commit()
    return _detail(inspection)


def _pdf(inspection_id: int, which: str, name: str) -> Response:
    inspection = visible_inspection(inspection_id)
    body = notice.render(get_session(), inspection, which)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f"inline; filename={name}-{inspection.id}.pdf", "X-Content-Type-Options": "nosniff"})


@blp.route("/inspections/<int:inspection_id>/notice.pdf")
@blp.doc(responses={200: {"description": "The one-time notice (一次性告知书)", "content": PDF}})
def notice_pdf(inspection_id):
    """The one-time notice (一次性告知书) of a submitted inspection, as PDF."""
    return _pdf(inspection_id, "notice", "notice")


@blp.route("/inspections/<int:inspection_id>/record.pdf")
@blp.doc(responses={200: {"description": "The on-site record (现场检查笔录)", "content": PDF}})
def record_pdf(inspection_id):
    """The on-site record (现场检查笔录) of a submitted inspection, as PDF."""
    return _pdf(inspection_id, "record", "record")


@blp.route("/inspections/<int:inspection_id>/cases", methods=["POST"])
@blp.arguments(CaseFromItemSchema)
@blp.response(201, CaseLinkSchema)
@blp.alt_response(200, schema=CaseLinkSchema, description="A retry: the case this client id made")
def case_from_item(data, inspection_id):
    """Hand a failed item to the case cycle: a case at the business, with the item's photos."""
    session, user = get_session(), current_user()
    inspection = visible_inspection(inspection_id, for_update=True)
    case, created = onsite.case_from_failure(session, inspection, user, data["item_code"], data["client_id"],
                                             data["category"], client_addr())
    if created:
        notices.on_report(session, current_app.config["GRIDPATROL"], case)
    session.commit()
    return {"case_id": case.id, "created": created}, 201 if created else 200


@blp.route("/stats/inspections")
@blp.arguments(StatsQuerySchema, location="query")
@blp.response(200, InspectionStatsSchema)
def inspection_stats(query):
    """The year's figures: inspections per business (all departments together), joint versus single-department
    visits and the separate visits they replaced, failure rates per item and scenario, re-inspections on time."""
    user = current_user()
    if not (sees_everything(user) or user.has_role("squad_leader", "department")):
        raise NotFound()
    return figures.year_figures(get_session(), query.get("year") or onsite.today().year)
