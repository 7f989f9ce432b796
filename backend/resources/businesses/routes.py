"""The business register (检查对象名录库): list, one business with its inspections by every department, add one,
import a CSV or XLSX register (every row or none, with a report per row)."""
from __future__ import annotations

from dataclasses import asdict

from flask.views import MethodView
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from ...context import client_addr, current_user
from ...errors import Conflict, InvalidInput, NotFound, Unprocessable
from ...extensions.api import Blueprint, link, links, page_of
from ...extensions.database import get_session
from ...extensions.http_errors import localized
from ...models import Business, Inspection, Scenario
from ...policies.inspections import require_register_writer, scoped_businesses, scoped_inspections
from ...services.core import audit
from ...services.inspections import plans, register
from .schemas import BusinessDetailSchema, BusinessQuerySchema, BusinessSchema, ImportReportSchema, RegisterImportSchema

blp = Blueprint("businesses", __name__, url_prefix="/api/v1/businesses",
                description="The business register (检查对象名录库)")


def visible_business(business_id: int) -> Business:
    session, user = get_session(), current_user()
    business = session.scalar(scoped_businesses(session, select(Business).where(Business.id == business_id), user))
    if business is None:
        raise NotFound("business_not_found")
    return business


@blp.route("")
class Businesses(MethodView):
    @blp.arguments(BusinessQuerySchema, location="query")
    @blp.response(200, BusinessSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, query, pagination_parameters):
        """The register, by credit code, with filters."""
        session, user = get_session(), current_user()
        stmt = scoped_businesses(session, select(Business), user)
        if "q" in query:
            words = f"%{query['q']}%"
            stmt = stmt.where(or_(Business.name.like(words), Business.credit_code.like(words),
                                  Business.address.like(words)))
        for name, column in (("industry", Business.industry), ("risk_grade", Business.risk_grade),
                             ("scenario", Business.scenario_code)):
            if name in query:
                stmt = stmt.where(column == query[name])
        if "area" in query:
            a = query["area"]
            stmt = stmt.where(or_(Business.grid_id == a, Business.village_id == a, Business.zone_id == a,
                                  Business.town_id == a))
        rows = page_of(session, stmt, pagination_parameters, Business.credit_code)
        return _with_counts(rows)

    @blp.arguments(BusinessSchema)
    @blp.doc(**links(201, get=link("/api/v1/businesses/{business_id}", "get", "The business",
                                   business_id="$response.body#/id")))
    @blp.response(201, BusinessSchema)
    def post(self, data):
        """Add one business (commanders and admins); its grid, village, zone and town come from the position."""
        session, user = get_session(), current_user()
        require_register_writer(user)
        code, problem = register.check_code(data["credit_code"])
        if problem:
            raise InvalidInput("validation_error", details={"fields": {"credit_code": [problem]}})
        if data["scenario_code"] and not session.scalar(select(Scenario.id).where(Scenario.code == data["scenario_code"])):
            raise InvalidInput("scenario_unknown", scenario=data["scenario_code"])
        lon, lat = register.to_wgs84(data["lon"], data["lat"], data.pop("crs"))
        areas = register.AreaLocator(session).place([(lon, lat)])[0]
        if areas["town"] is None and areas["grid"] is None:
            raise InvalidInput("business_outside_area")
        business = Business(**{**data, "credit_code": code, "lon": lon, "lat": lat}, grid_id=areas["grid"],
                            village_id=areas["village"], zone_id=areas["zone"], town_id=areas["town"])
        try:
            with session.begin_nested():
                session.add(business)
        except IntegrityError as exc:
            raise Conflict("duplicate", field="统一社会信用代码", value=code) from exc
        audit.record(session, "business.create", "business", business.id, actor=user, client_addr=client_addr(),
                     after={"credit_code": code, "name": business.name})
        session.commit()
        return _with_counts([business])[0], 201


def _with_counts(rows: list[Business]) -> list[Business]:
    if not rows:
        return rows
    from ...services.inspections.onsite import today
    counts = plans.inspections_this_year(get_session(), today().year, [b.id for b in rows])
    for b in rows:
        b.inspections_this_year = counts.get(b.id, 0)  # type: ignore[attr-defined]
    return rows


@blp.route("/<int:business_id>")
@blp.response(200, BusinessDetailSchema)
def get_business(business_id):
    """One business with its history of inspections across all departments, newest first."""
    session = get_session()
    business = _with_counts([visible_business(business_id)])[0]
    history = []
    # only the inspections the caller may see (policies.inspections): the register is wider than the results
    for inspection in session.scalars(scoped_inspections(select(Inspection).where(
            Inspection.business_id == business.id), current_user()).order_by(Inspection.id.desc())):
        history.append({"id": inspection.id, "kind": inspection.kind, "status": inspection.status,
                        "due_on": inspection.due_on, "submitted_at": inspection.submitted_at,
                        "scenario": inspection.scenario_version.scenario.name,
                        "departments": inspection.departments, "plan_id": inspection.plan_id,
                        "failed": sum(1 for r in inspection.results if r.result == "fail")})
    business.history = history  # type: ignore[attr-defined]
    return business


@blp.route("/import", methods=["POST"])
@blp.arguments(RegisterImportSchema, location="multipart")
@blp.response(201, ImportReportSchema)
def import_register(form):
    """Import a register from CSV or XLSX (commanders and admins). Every row is checked (credit code and its check
    character, name, position inside the towns served, duplicates in the file); when any row is rejected nothing
    is written and the answer (422) lists every row with its reasons."""
    session, user = get_session(), current_user()
    require_register_writer(user)
    upload = form.get("file")
    if not isinstance(upload, FileStorage):
        raise InvalidInput("file_required", details={"fields": {"file": "required"}})
    report = register.import_register(session, upload.read(), upload.filename or "", crs=form["crs"],
                                      existing=form["existing"])
    body = {"summary": report.summary(), "rows": [asdict(r) for r in localized(report.rows)]}
    if report.count("rejected"):
        session.rollback()
        raise Unprocessable("register_rejected", count=report.count("rejected"), details=body)
    audit.record(session, "business.import", "business", None, actor=user, client_addr=client_addr(),
                 after={"file": upload.filename, **report.summary()})
    session.commit()
    return body, 201
