"""The catalogue: items (only published ones go into a checklist) and scenario versions that copy their text."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import InvalidInput
from ...models import Department, InspectionItem, Scenario, ScenarioVersion, User

SNAPSHOT_KEYS = ("code", "department_code", "name", "legal_basis", "method", "rectify_days", "case_category_code")


def snapshot(item: InspectionItem) -> dict:
    return {k: getattr(item, k) for k in SNAPSHOT_KEYS}


def check_department(session: Session, code: str) -> None:
    if not session.scalar(select(Department.id).where(Department.code == code)):
        raise InvalidInput("department_unknown", department=code)


def current(session: Session, scenario: Scenario) -> ScenarioVersion:
    return session.scalars(select(ScenarioVersion).where(
        ScenarioVersion.scenario_id == scenario.id, ScenarioVersion.version == scenario.current_version)).one()


def describe(session: Session, scenario: Scenario) -> dict:
    version = current(session, scenario)
    return {"id": scenario.id, "code": scenario.code, "name": scenario.name,
            "lead_department_code": scenario.lead_department_code, "industries": scenario.industries,
            "description": scenario.description, "current_version": scenario.current_version,
            "item_count": len(version.items),
            "departments": sorted({i["department_code"] for i in version.items})}


def new_version(session: Session, scenario: Scenario, codes: list[str], note: str, user: User) -> ScenarioVersion:
    items = {i.code: i for i in session.scalars(select(InspectionItem).where(InspectionItem.code.in_(codes)))}
    unknown = [c for c in codes if c not in items]
    if unknown:
        raise InvalidInput("inspection_item_unknown", codes="、".join(unknown))
    unpublished = [c for c in codes if items[c].status != "published"]
    if unpublished:
        raise InvalidInput("inspection_item_unpublished", codes="、".join(unpublished))
    number = (session.scalar(select(func.max(ScenarioVersion.version))
                             .where(ScenarioVersion.scenario_id == scenario.id)) or 0) + 1
    version = ScenarioVersion(scenario_id=scenario.id, version=number, items=[snapshot(items[c]) for c in codes],
                              note=note, created_by_id=user.id)
    session.add(version)
    scenario.current_version = number
    session.flush()
    return version
