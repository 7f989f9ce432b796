"""Cases (问题处置): report, the cycle's actions through one endpoint, the list and map, one case with its timeline;
and the catalogue they run on (categories, the whistle list, the working calendar)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Response, current_app
from flask.views import MethodView
from sqlalchemy import Select, and_, extract, or_, select
from sqlalchemy.orm import Session

from ...context import client_addr, current_user
from ...errors import InvalidInput, NotFound
from ...extensions.api import Blueprint, link, links, page_of
from ...extensions.database import get_session
from ...models import CalendarDay, Case, CaseAction, CaseCategory, CaseEvidence, Evidence, User, WhistleMatter
from ...policies import require_admin
from ...policies.cases import require_case_reporter, scoped_cases
from ...services.cases import calendar as calendar_data
from ...services.cases import cycle, inbox, intake, overdue, stats
from ...services.notifications import outbox as notices
from .schemas import (
    ActionSchema, CalendarDaySchema, CalendarQuerySchema, CalendarYearSchema, CaseActionRequestSchema, CaseCreatedSchema,
    CaseDetailSchema, CaseMapQuerySchema, CaseMapSchema, CaseStatsSchema, StatsQuerySchema, CaseQuerySchema, CaseReportSchema, CaseSchema, CategorySchema,
    DuplicateSchema, InboxItemSchema, NearbyQuerySchema, parse_bbox, WhistleMatterSchema,
)

blp = Blueprint("cases", __name__, url_prefix="/api/v1", description="Cases (问题处置) and their catalogue")
MAP_LIMIT = 5000


def _links(pointer: str) -> dict:
    p = "/api/v1/cases/{case_id}"
    return {"get": link(p, "get", "The case with its timeline", case_id=pointer),
            "act": link(f"{p}/actions", "post", "Take the next step", case_id=pointer)}


def _with_overdue(cases: list[Case]) -> list[Case]:
    now = datetime.now(UTC)
    for case in cases:
        case.overdue_now = overdue.flags_of(case, now)  # type: ignore[attr-defined]
    return cases


def visible_case(session: Session, user: User, case_id: int, *, for_update: bool = False) -> Case:
    stmt = scoped_cases(select(Case).where(Case.id == case_id), user)
    if for_update:
        stmt = stmt.with_for_update(of=Case)
    case = session.scalar(stmt)
    if case is None:
        raise NotFound("case_not_found")
    return case


def _duplicates(session: Session, user: User, category: CaseCategory, lon: float, lat: float, source: str,
                exclude_id: int | None = None) -> list[dict]:
    found = intake.possible_duplicates(session, category, lon, lat, source, exclude_id=exclude_id, limit=50)
    visible = set(session.scalars(scoped_cases(select(Case.id).where(Case.id.in_([n.case.id for n in found])),
                                               user))) if found else set()
    shown = [n for n in found if n.case.id in visible][:intake.DUPLICATES_SHOWN]
    photos = dict(session.execute(
        select(CaseEvidence.case_id, CaseEvidence.evidence_id)
        .where(CaseEvidence.case_id.in_([n.case.id for n in shown]), CaseEvidence.stage == "before")
        .order_by(CaseEvidence.id.desc())).all()) if shown else {}
    return [{"id": n.case.id, "status": n.case.status, "distance_m": round(n.distance_m, 1),
             "reported_at": n.case.reported_at, "description": n.case.description,
             "photo_url": f"/api/v1/evidence/{photos[n.case.id]}/files/display" if n.case.id in photos else None}
            for n in shown]


def _filtered(stmt: Select[Any], query: dict, user: User) -> Select[Any]:
    if query.get("status"):
        stmt = stmt.where(Case.status.in_(query["status"]))
    if "category" in query:
        stmt = stmt.where(Case.category_id == select(CaseCategory.id).where(CaseCategory.code == query["category"])
                          .scalar_subquery())
    if "area" in query:
        a = query["area"]
        stmt = stmt.where(or_(Case.grid_id == a, Case.village_id == a, Case.zone_id == a, Case.town_id == a))
    for name, column in (("squad", Case.squad_id), ("department", Case.department_id),
                         ("assignee", Case.assignee_id), ("source", Case.source), ("open", Case.open)):
        if name in query:
            stmt = stmt.where(column == query[name])
    if "overdue" in query:
        rule = overdue.overdue_now(datetime.now(UTC))
        stmt = stmt.where(rule if query["overdue"] else ~rule)
    if "reported_from" in query:
        stmt = stmt.where(Case.reported_at >= query["reported_from"])
    if "reported_to" in query:
        stmt = stmt.where(Case.reported_at < query["reported_to"])
    if "q" in query:
        words = f"%{query['q']}%"
        stmt = stmt.where(or_(Case.description.like(words), Case.address.like(words)))
    if query.get("mine"):
        stmt = stmt.where(or_(Case.reported_by_id == user.id, Case.assignee_id == user.id))
    return stmt


@blp.route("/cases")
class Cases(MethodView):
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CaseSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, query, pagination_parameters):
        """Cases the caller may see, newest report first, with filters."""
        user = current_user()
        stmt = _filtered(scoped_cases(select(Case), user), query, user)
        return _with_overdue(page_of(get_session(), stmt, pagination_parameters, Case.reported_at.desc(),
                                     Case.id.desc()))

    @blp.arguments(CaseReportSchema)
    @blp.doc(**links(201, **_links("$response.body#/id")))
    @blp.response(201, CaseCreatedSchema)
    @blp.alt_response(200, schema=CaseCreatedSchema, description="A retry: the case this client id reported")
    def post(self, data):
        """Report a problem: the server fills grid, village, zone, town, squad and the time limits, and answers with
        the open cases of the category nearby that may be the same matter."""
        session, user = get_session(), current_user()
        require_case_reporter(user)
        source = data["source"] or intake.default_source(user)
        report = intake.Report(
            client_id=data["client_id"], category_code=data["category"], lon=data["lon"], lat=data["lat"],
            source=source, description=data["description"], address=data["address"],
            accuracy_m=data["accuracy_m"], reporter_name=data["reporter_name"],
            evidence_ids=tuple(data["evidence"]) + intake.own_evidence_ids(session, user, data["evidence_client_ids"]),
            reported_at=data["reported_at"])
        case, created = intake.report(session, user, report, client_addr())
        if created:
            notices.on_report(session, current_app.config["GRIDPATROL"], case)
        session.commit()
        case.possible_duplicates = _duplicates(  # type: ignore[attr-defined]
            session, user, case.category, case.lon, case.lat, case.source, exclude_id=case.id)
        return _with_overdue([case])[0], 201 if created else 200


@blp.route("/cases/map")
@blp.arguments(CaseMapQuerySchema, location="query")
@blp.response(200, CaseMapSchema)
def case_map(query):
    """The same filters as the list, as GeoJSON points for the map (at most 5,000, newest first): each feature's
    id is the case's, its properties the status, the category's code, the report time, the overdue flags and the
    squad."""
    user, session = current_user(), get_session()
    stmt = _filtered(scoped_cases(select(Case), user), query, user)
    if "bbox" in query:
        x0, y0, x1, y1 = parse_bbox(query["bbox"])
        stmt = stmt.where(Case.lon.between(x0, x1), Case.lat.between(y0, y1))
    # plain rows, not ORM objects, the overdue tests in SQL (no datetimes to convert), written with orjson, not
    # through the schema: a town's open cases are thousands of points (5,000 through the ORM and marshmallow:
    # about 250 ms)
    now = datetime.now(UTC)
    running = and_(Case.open.is_(True), Case.status != "parked")
    columns = (Case.id, Case.lon, Case.lat, Case.status, Case.reported_at, Case.squad_id, CaseCategory.code,
               and_(running, overdue.respond_overdue(now)).label("respond"),
               and_(running, overdue.report_in_overdue(now)).label("report_in"),
               and_(running, overdue.handle_overdue(now)).label("handle"))
    # the Core connection, not the ORM session's execute: no ORM row loading for columns
    rows = session.connection().execute(
        stmt.join(CaseCategory, CaseCategory.id == Case.category_id).with_only_columns(*columns)
        .order_by(Case.reported_at.desc(), Case.id.desc()).limit(MAP_LIMIT + 1)).all()
    # the category's name is in the catalogue the phone keeps (GET /case-categories): not repeated per point
    features = [{"type": "Feature", "id": cid, "geometry": {"type": "Point", "coordinates": [lon, lat]},
                 "properties": {"status": status, "category": code, "reported_at": reported.isoformat(),
                                "overdue": [f for f, late in (("respond", r), ("report_in", w), ("handle", h)) if late],
                                "squad_id": squad}}
                for cid, lon, lat, status, reported, squad, code, r, w, h in rows[:MAP_LIMIT]]
    body = {"type": "FeatureCollection", "features": features, "truncated": len(rows) > MAP_LIMIT}
    return Response(orjson.dumps(body), mimetype="application/json")


@blp.route("/cases/nearby")
@blp.arguments(NearbyQuerySchema, location="query")
@blp.response(200, DuplicateSchema(many=True))
def nearby(query):
    """Before sending a report: the open cases of that category nearby that may be the same matter."""
    session, user = get_session(), current_user()
    category = intake.category_by_code(session, query["category"])
    return _duplicates(session, user, category, query["lon"], query["lat"], intake.default_source(user))


@blp.route("/cases/<int:case_id>")
@blp.response(200, CaseDetailSchema)
def get_case(case_id):
    """One case with its whole timeline (who, when, where, which evidence) and its evidence by stage."""
    session = get_session()
    case = visible_case(session, current_user(), case_id)
    return _detail(session, case)


def _detail(session: Session, case: Case) -> Case:
    timeline = list(session.scalars(select(CaseAction).where(CaseAction.case_id == case.id).order_by(CaseAction.id)))
    names = dict(session.execute(select(User.id, User.display_name)
                                 .where(User.id.in_({a.actor_id for a in timeline if a.actor_id}))).all())
    for action in timeline:
        action.actor_name = names.get(action.actor_id or 0)  # type: ignore[attr-defined]
    case.timeline = timeline  # type: ignore[attr-defined]
    case.evidence = case.evidence_links  # type: ignore[attr-defined]
    linked = {e.evidence_id for e in case.evidence_links}
    checks: dict[int, dict] = dict(session.execute(select(Evidence.id, Evidence.checks)
                                                   .where(Evidence.id.in_(linked))).all())
    for item in case.evidence_links:
        item.content_credentials = (checks.get(item.evidence_id) or {}).get("c2pa")  # type: ignore[attr-defined]
    case.co_reporter_ids = sorted(cycle.co_reporters(session, case))  # type: ignore[attr-defined]
    case.close_conditions = case.category.close_conditions  # type: ignore[attr-defined]
    return _with_overdue([case])[0]


@blp.route("/cases/<int:case_id>/actions", methods=["POST"])
@blp.arguments(CaseActionRequestSchema)
@blp.response(201, ActionSchema)
@blp.alt_response(200, schema=ActionSchema, description="A retry: the action this client id recorded")
def act(data, case_id):
    """Take a step of the cycle: accept, reject, dispatch, whistle, acknowledge, handle, verify, close, rework;
    the exceptions extend, return, park (a handler asks, a leader approves with `approve`), resume; merge a
    duplicate into its original. A move the case's status does not allow is a 409, one the caller may not take a
    403, each with the reason."""
    session, user = get_session(), current_user()
    case = visible_case(session, user, case_id, for_update=True)
    request = cycle.ActionRequest(
        action=data["action"], client_id=data["client_id"], lon=data["lon"], lat=data["lat"],
        accuracy_m=data["accuracy_m"], note=data["note"],
        evidence_ids=tuple(data["evidence"]) + intake.own_evidence_ids(session, user, data["evidence_client_ids"]),
        reason=data["reason"], squad_id=data["squad_id"], assignee_id=data["assignee_id"], matter=data["matter"],
        needs_works=data["needs_works"], passed=data["passed"], minutes=data["minutes"], approve=data["approve"],
        into=data["into"])
    if (data["lon"] is None) != (data["lat"] is None):
        raise InvalidInput("validation_error", details={"fields": {"lon": ["give lon and lat together"]}})
    action, created = cycle.apply(session, current_app.config["GRIDPATROL"], user, case, request, client_addr())
    session.commit()
    action.actor_name = user.display_name  # type: ignore[attr-defined]
    return action, 201 if created else 200


@blp.route("/case-categories")
@blp.response(200, CategorySchema(many=True))
def categories():
    """The categories one may report (问题类别), with their limits and close conditions."""
    return list(get_session().scalars(select(CaseCategory).where(CaseCategory.active.is_(True))
                                      .order_by(CaseCategory.code)))


@blp.route("/whistle-matters")
@blp.response(200, WhistleMatterSchema(many=True))
def whistle_matters():
    """The whistle list (吹哨事项清单): each matter's department and report-in limit."""
    return list(get_session().scalars(select(WhistleMatter).where(WhistleMatter.active.is_(True))
                                      .order_by(WhistleMatter.code)))


@blp.route("/calendar")
@blp.arguments(CalendarQuerySchema, location="query")
@blp.response(200, CalendarDaySchema(many=True))
def calendar(query):
    """Days that are not what their weekday says: holidays and make-up working days (调休)."""
    stmt = select(CalendarDay).order_by(CalendarDay.day)
    if "year" in query:
        stmt = stmt.where(extract("year", CalendarDay.day) == query["year"])
    return list(get_session().scalars(stmt))


@blp.route("/calendar/<int:year>", methods=["PUT"])
@blp.arguments(CalendarYearSchema)
@blp.response(200, CalendarDaySchema(many=True))
def replace_calendar_year(data, year):
    """Replace a year's holidays and make-up working days (admins), e.g. when the State Council's notice for next
    year comes out: its provisional statutory days give way. Limits already set on cases are kept."""
    user = current_user()
    require_admin(user)
    if not 2000 <= year <= 2100:
        raise NotFound()
    session = get_session()
    rows = calendar_data.replace_year(session, year, data["days"], user, client_addr())
    session.commit()
    return rows


@blp.route("/stats/cases")
@blp.arguments(StatsQuerySchema, location="query")
@blp.response(200, CaseStatsSchema)
def case_stats(query):
    """Figures over the cases reported in a period that the caller may see, in all and by squad, grid, category
    or department: counts, the standard ratios (立案率, 派遣率, 结案率, 按期结案率, 按期处置率, 返工率, 延期率,
    吹哨响应率) and the median minutes to respond and to close."""
    user = current_user()
    stmt = _filtered(scoped_cases(select(Case), user), query, user)
    return stats.case_stats(get_session(), stmt, query["by"], datetime.now(UTC))


@blp.route("/inbox")
@blp.response(200, InboxItemSchema(many=True))
def my_inbox():
    """What waits for the caller: cases dispatched to me or whistled to my department, to accept, dispatch,
    approve, verify or close; overdue first, then by limit."""
    return inbox.inbox(get_session(), current_user(), datetime.now(UTC))
