"""The year's inspection figures: the point of 综合查一次 is fewer visits per business, so the figures say how many
visits each business had (all departments together) and how many separate department visits the joint ones
stood in for; also failure rates per item and scenario, and re-inspections done by their deadline."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Inspection, InspectionResult, Scenario, ScenarioVersion
from .onsite import SHANGHAI



def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def year_figures(session: Session, year: int) -> dict:
    start = datetime(year, 1, 1, tzinfo=SHANGHAI).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=SHANGHAI).astimezone(UTC)
    rows = session.execute(
        select(Inspection.id, Inspection.business_id, Inspection.departments, Scenario.code, Scenario.name)
        .join(ScenarioVersion, ScenarioVersion.id == Inspection.scenario_version_id)
        .join(Scenario, Scenario.id == ScenarioVersion.scenario_id)
        .where(Inspection.kind == "initial", Inspection.status == "submitted", Inspection.submitted_at >= start,
               Inspection.submitted_at < end)).all()
    ids = [r[0] for r in rows]
    visits = Counter(r[1] for r in rows)
    joint = [r for r in rows if len(r[2]) > 1]
    department_visits = sum(len(r[2]) for r in rows)
    results = session.execute(select(InspectionResult.inspection_id, InspectionResult.item_code,
                                     InspectionResult.result)
                              .where(InspectionResult.inspection_id.in_(ids))).all() if ids else []
    checked: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    failed_inspections: set[int] = set()
    for inspection_id, code, result in results:
        if result != "na":
            checked[code] += 1
        if result == "fail":
            failed[code] += 1
            failed_inspections.add(inspection_id)
    per_scenario: dict[str, dict] = defaultdict(lambda: {"inspections": 0, "failed": 0})
    for inspection_id, _b, _d, code, name in rows:
        s = per_scenario[code]
        s["code"], s["name"] = code, name
        s["inspections"] += 1
        s["failed"] += inspection_id in failed_inspections
    due = session.execute(select(Inspection.due_on, Inspection.submitted_at, Inspection.status).where(
        Inspection.kind == "reinspection", Inspection.status != "cancelled",
        Inspection.due_on >= date(year, 1, 1), Inspection.due_on < date(year + 1, 1, 1))).all()
    today = datetime.now(SHANGHAI).date()
    due_now = [d for d in due if d[0] <= today or d[2] == "submitted"]
    on_time = [d for d in due_now if d[1] is not None and d[1].astimezone(SHANGHAI).date() <= d[0]]
    return {
        "year": year,
        "businesses_inspected": len(visits),
        "inspections": len(rows),
        "joint": len(joint),
        "single_department": len(rows) - len(joint),
        "joint_share": _ratio(len(joint), len(rows)),
        "visits_per_business": _ratio(len(rows), len(visits)),
        "department_visits_replaced": department_visits - len(rows),
        "visits_per_business_without_joint": _ratio(department_visits, len(visits)),
        "per_business": [{"business_id": b, "visits": n} for b, n in visits.most_common(50)],
        "items": sorted(({"item_code": c, "checked": n, "failed": failed[c], "failure_rate": _ratio(failed[c], n)}
                         for c, n in checked.items()), key=lambda x: (-(x["failure_rate"] or 0), x["item_code"])),
        "scenarios": [{**s, "failure_rate": _ratio(s["failed"], s["inspections"])} for s in per_scenario.values()],
        "reinspections_due": len(due_now),
        "reinspections_on_time": len(on_time),
        "reinspections_on_time_rate": _ratio(len(on_time), len(due_now)),
    }
