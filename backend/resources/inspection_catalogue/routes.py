"""Inspection items owned by departments and the scenario checklists that combine them, versioned: a new version
copies the items' text, and an inspection keeps the version it used."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ...context import client_addr, current_user
from ...errors import Conflict, InvalidInput, NotFound
from ...extensions.api import Blueprint, link, links
from ...extensions.database import get_session
from ...models import InspectionItem, Scenario, ScenarioVersion
from ...policies.inspections import require_item_writer, require_scenario_writer
from ...services.core import audit
from ...services.inspections import catalogue
from .schemas import (
    ItemQuerySchema, ItemSchema, ItemStatusSchema, NewVersionSchema, ScenarioDetailSchema, ScenarioSchema,
)

blp = Blueprint("inspection_catalogue", __name__, url_prefix="/api/v1",
                description="Inspection items (检查事项) and scenario checklists (场景清单)")


@blp.route("/inspection-items")
class Items(MethodView):
    @blp.arguments(ItemQuerySchema, location="query")
    @blp.response(200, ItemSchema(many=True))
    def get(self, query):
        """Every item, by code, with filters."""
        stmt = select(InspectionItem).order_by(InspectionItem.code)
        if "department" in query:
            stmt = stmt.where(InspectionItem.department_code == query["department"])
        if "status" in query:
            stmt = stmt.where(InspectionItem.status == query["status"])
        if "q" in query:
            words = f"%{query['q']}%"
            stmt = stmt.where(or_(InspectionItem.name.like(words), InspectionItem.legal_basis.like(words)))
        return list(get_session().scalars(stmt))

    @blp.arguments(ItemSchema)
    @blp.doc(**links(201, get=link("/api/v1/inspection-items/{item_id}", "get", "The item",
                                   item_id="$response.body#/id")))
    @blp.response(201, ItemSchema)
    def post(self, data):
        """Add an item (admins; a department's liaison for their own department)."""
        session, user = get_session(), current_user()
        require_item_writer(user, data["department_code"])
        catalogue.check_department(session, data["department_code"])
        item = InspectionItem(**data)
        try:
            with session.begin_nested():
                session.add(item)
        except IntegrityError as exc:
            raise Conflict("duplicate", field="事项编码", value=data["code"]) from exc
        audit.record(session, "inspection_item.create", "inspection_item", item.id, actor=user,
                     client_addr=client_addr(), after={"code": item.code, "status": item.status})
        session.commit()
        return item, 201


def _item(item_id: int) -> InspectionItem:
    item = get_session().get(InspectionItem, item_id)
    if item is None:
        raise NotFound()
    return item


@blp.route("/inspection-items/<int:item_id>")
@blp.response(200, ItemSchema)
def get_item(item_id):
    """One item."""
    return _item(item_id)


@blp.route("/inspection-items/<int:item_id>/status", methods=["POST"])
@blp.arguments(ItemStatusSchema)
@blp.response(200, ItemSchema)
def set_item_status(data, item_id):
    """Publish or retire an item. Checklist versions already made keep their copy of it."""
    session, user = get_session(), current_user()
    item = _item(item_id)
    require_item_writer(user, item.department_code)
    before = item.status
    if data["status"] == "draft" and before != "draft":
        raise Conflict("item_back_to_draft")
    item.status = data["status"]
    item.version += 1
    audit.record(session, "inspection_item.status", "inspection_item", item.id, actor=user,
                 client_addr=client_addr(), before={"status": before}, after={"status": item.status})
    session.commit()
    return item


@blp.route("/scenarios")
@blp.response(200, ScenarioSchema(many=True))
def list_scenarios():
    """The scenario checklists with their current version's size and departments."""
    session = get_session()
    return [catalogue.describe(session, s) for s in session.scalars(
        select(Scenario).where(Scenario.active.is_(True)).order_by(Scenario.id))]


def _scenario(scenario_id: int) -> Scenario:
    scenario = get_session().get(Scenario, scenario_id)
    if scenario is None:
        raise NotFound()
    return scenario


@blp.route("/scenarios/<int:scenario_id>")
@blp.response(200, ScenarioDetailSchema)
def get_scenario(scenario_id):
    """One checklist: the current version's items and every version made."""
    return _detail(_scenario(scenario_id))


def _detail(scenario: Scenario) -> dict:
    session = get_session()
    out = catalogue.describe(session, scenario)
    versions = list(session.scalars(select(ScenarioVersion).where(ScenarioVersion.scenario_id == scenario.id)
                                    .order_by(ScenarioVersion.version)))
    out["items"] = next(v.items for v in versions if v.version == scenario.current_version)
    out["versions"] = [{"version": v.version, "created_at": v.created_at.isoformat(), "note": v.note,
                        "items": [i["code"] for i in v.items]} for v in versions]
    return out


@blp.route("/scenarios/<int:scenario_id>/versions", methods=["POST"])
@blp.arguments(NewVersionSchema)
@blp.response(201, ScenarioDetailSchema)
def new_version(data, scenario_id):
    """A new version of the checklist from published items (admins and commanders); plans made from now on use it,
    inspections already planned keep theirs."""
    session, user = get_session(), current_user()
    require_scenario_writer(user)
    scenario = _scenario(scenario_id)
    if len(set(data["items"])) != len(data["items"]):
        raise InvalidInput("scenario_items_repeated")
    version = catalogue.new_version(session, scenario, data["items"], data["note"], user)
    audit.record(session, "scenario.version", "scenario", scenario.id, actor=user, client_addr=client_addr(),
                 after={"version": version.version, "items": data["items"]})
    session.commit()
    return _detail(scenario), 201
