"""The one-time notice (一次性告知书) and the on-site record (现场检查笔录) as PDF: HTML laid out by WeasyPrint with
the deployment's CJK font (Noto Sans CJK SC from fonts-noto-cjk), embedded as a subset of the glyphs used."""
from __future__ import annotations

import base64
import logging
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import Conflict
from ...models import Department, Evidence, Inspection, InspectionPlan, User
from . import inspectors as pool_rules
from .onsite import SHANGHAI

logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # eight INFO lines a PDF otherwise
TEMPLATES = Path(__file__).resolve().parent / "templates"
RESULT_NAMES = {"pass": "合格", "fail": "不合格", "na": "不涉及"}


@cache
def templates() -> Environment:
    """The inspection templates (notices, records, the public pages)."""
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def _day(moment: datetime | None) -> str:
    return _day_of(moment.astimezone(SHANGHAI).date()) if moment else ""


def _minute(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else ""


def signature_svg(signature: dict | None) -> str | None:
    """The strokes as a vector picture (a data URI), drawn as they were written."""
    strokes = (signature or {}).get("strokes") or []
    if not strokes:
        return None
    width, height = signature.get("width") or 300, signature.get("height") or 150  # type: ignore[union-attr]
    paths = []
    for stroke in strokes:
        if not stroke:
            continue
        d = f"M{stroke[0]['x']:.1f} {stroke[0]['y']:.1f}" + "".join(f"L{p['x']:.1f} {p['y']:.1f}" for p in stroke[1:])
        paths.append(f'<path d="{d}"/>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}"><g fill="none" stroke="#000" stroke-width="2.5" stroke-linecap="round" '
           f'stroke-linejoin="round">{"".join(paths)}</g></svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def context(session: Session, inspection: Inspection) -> dict[str, Any]:
    if inspection.status != "submitted":
        raise Conflict("inspection_not_submitted")
    plan = session.get(InspectionPlan, inspection.plan_id) if inspection.plan_id else None
    version = inspection.scenario_version
    items = {i["code"]: i for i in version.items}
    departments = {d.code: d for d in session.scalars(select(Department))}
    dept_by_id = {d.id: d for d in departments.values()}
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_([m.user_id for m in inspection.team])))}
    team = [{"name": people[m.user_id].display_name, "certificate_no": people[m.user_id].certificate_no or "—",
             "unit": pool_rules.unit_of(people[m.user_id], dept_by_id)} for m in inspection.team]
    submitted = inspection.submitted_at
    year = submitted.astimezone(SHANGHAI).year if submitted else inspection.due_on.year
    count = session.scalar(select(func.count()).select_from(Inspection).where(
        Inspection.business_id == inspection.business_id, Inspection.kind == "initial",
        Inspection.status == "submitted", Inspection.submitted_at <= submitted,
        func.extract("year", Inspection.due_on) == year)) or 1
    results = {r.item_code: r for r in inspection.results}
    evidence_ids = sorted({e for r in inspection.results for e in r.evidence_ids})
    evidence = {e.id: e for e in session.scalars(select(Evidence).where(Evidence.id.in_(evidence_ids)))} \
        if evidence_ids else {}
    failed = [{"name": items[c]["name"], "note": results[c].note, "legal_basis": items[c]["legal_basis"],
               "department": departments[items[c]["department_code"]].name
               if items[c]["department_code"] in departments else items[c]["department_code"],
               "rectify_by": _day_of(results[c].rectify_by)}
              for c in inspection.item_codes if c in results and results[c].result == "fail"]
    deadlines = [d for c in inspection.item_codes if c in results and results[c].result == "fail"
                 and (d := results[c].rectify_by) is not None]
    signature = inspection.signature or {}
    dept_names = [departments[c].name if c in departments else c for c in inspection.departments]
    return {
        "notice_no": inspection.notice_no or "",
        "record_no": (inspection.notice_no or "").replace("综查告", "综查录"),
        "business": inspection.business,
        "enforcing_body": plan.enforcing_body if plan else "乡镇综合行政执法队",
        "task_source": (plan.task_source or plan.name) if plan else "日常监管",
        "checked_on": _day(inspection.checked_in_at or submitted),
        "signed_on": _day(submitted),
        "joint": len(inspection.departments) > 1,
        "scenario": version.scenario.name,
        "scenario_version": version.version,
        "departments": "、".join(dept_names),
        "item_count": len(inspection.item_codes),
        "year": year,
        "count_this_year": count,
        "failed": failed,
        "reinspect_on": _day_of(max(deadlines)) if deadlines else "",
        "team": team,
        "signature_svg": signature_svg(signature),
        "signer_name": inspection.signer_name,
        "refused": bool(signature.get("refused")),
        "refusal_note": signature.get("refusal_note", ""),
        "started_at": _minute(inspection.checked_in_at),
        "ended_at": _minute(submitted),
        "check_in": f"{inspection.check_in_lon:.6f}, {inspection.check_in_lat:.6f}"
        if inspection.check_in_lon is not None else "—",
        "distance_m": f"{inspection.check_in_distance_m:.0f}" if inspection.check_in_distance_m is not None else "—",
        "flagged": inspection.check_in_flagged,
        "rows": [{"name": items[c]["name"], "method": items[c].get("method", ""),
                  "result": RESULT_NAMES.get(results[c].result, "") if c in results else "",
                  "note": results[c].note if c in results else "",
                  "evidence": [{"id": e, "sha256": evidence[e].sha256 or "",
                                "captured_at": _minute(evidence[e].captured_at)}
                               for e in (results[c].evidence_ids if c in results else []) if e in evidence]}
                 for c in inspection.item_codes if c in items],
    }


def _day_of(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def render(session: Session, inspection: Inspection, which: str = "notice") -> bytes:
    from PIL import ImageFile
    from weasyprint import HTML  # imported on the first notice: it loads Pango

    ImageFile.LOAD_TRUNCATED_IMAGES = False  # WeasyPrint's import turns it on for the whole process: evidence refuses truncated photos

    html = templates().get_template(f"{which}.html").render(css=(TEMPLATES / "base.css").read_text(encoding="utf-8"),
                                                       **context(session, inspection))
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
