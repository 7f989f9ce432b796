"""On site: check in near the business, record item results with photos for every failure, the representative's
signature as strokes with their times, and the submission (once, whatever the retries). At submission the notice
gets its number, each failure its rectification deadline, and a re-inspection task lands in the team's lists."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pyproj import Geod
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, InvalidInput, NotAllowed
from ...models import Case, Inspection, InspectionInspector, InspectionResult, User
from ..cases import intake
from ..core import audit
from . import inspectors as pool_rules

SHANGHAI = ZoneInfo("Asia/Shanghai")
_GEOD = Geod(ellps="WGS84")
MAX_STROKES, MAX_POINTS = 200, 20_000


def today() -> date:
    return datetime.now(SHANGHAI).date()


def require_on_team(inspection: Inspection, user: User) -> None:
    if user.id not in {m.user_id for m in inspection.team}:
        raise NotAllowed("inspection_team_only")


def require_open(inspection: Inspection) -> None:
    if inspection.status == "submitted":
        raise Conflict("inspection_submitted")
    if inspection.status == "cancelled":
        raise Conflict("inspection_cancelled")


def check_in(session: Session, inspection: Inspection, user: User, lon: float, lat: float,
             accuracy_m: float | None, limit_m: float, client_addr: str | None,
             at: datetime | None = None) -> Inspection:
    """The first check-in stands (a retry changes nothing); farther than the limit from the business is flagged."""
    require_on_team(inspection, user)
    if inspection.checked_in_at is not None:
        return inspection
    require_open(inspection)
    why = pool_rules.refusal(user, today())
    if why:
        raise Conflict(why, name=user.display_name)
    _, _, distance = _GEOD.inv(lon, lat, inspection.business.lon, inspection.business.lat)
    now = datetime.now(UTC)
    # an offline check-in arrives later: the phone's time stands, never in the future nor before the draw
    inspection.checked_in_at = max(min(at or now, now), inspection.created_at)
    inspection.check_in_lon, inspection.check_in_lat, inspection.check_in_accuracy_m = lon, lat, accuracy_m
    inspection.check_in_distance_m = round(float(distance), 1)
    inspection.check_in_flagged = distance > limit_m
    inspection.status = "in_progress"
    inspection.version += 1
    audit.record(session, "inspection.check_in", "inspection", inspection.id, actor=user, client_addr=client_addr,
                 after={"lon": lon, "lat": lat, "accuracy_m": accuracy_m, "distance_m": inspection.check_in_distance_m,
                        "flagged": inspection.check_in_flagged})
    return inspection


@dataclass(frozen=True)
class ItemResult:
    item_code: str
    result: str
    note: str = ""
    evidence_ids: tuple[int, ...] = ()
    evidence_client_ids: tuple[str, ...] = ()
    rectify_by: date | None = None


def signing_time(inspection: Inspection, at: datetime | None) -> datetime:
    """The phone's time of signing, never in the future nor before the check-in (or the draw)."""
    now = datetime.now(UTC)
    return max(min(at or now, now), inspection.checked_in_at or inspection.created_at)


def save_results(session: Session, inspection: Inspection, user: User, results: list[ItemResult],
                 base_day: date | None = None) -> None:
    """The draft: each item's result replaced by the latest the team sent. Default deadlines run from `base_day`
    (the day of signing, for a submission sent later), else today."""
    require_on_team(inspection, user)
    require_open(inspection)
    items = {i["code"]: i for i in inspection.scenario_version.items}
    unknown = [r.item_code for r in results if r.item_code not in inspection.item_codes]
    if unknown:
        raise InvalidInput("inspection_item_unknown", codes="、".join(unknown))
    stored = {r.item_code: r for r in inspection.results}
    for r in results:
        ids = tuple(r.evidence_ids) + intake.own_evidence_ids(session, user, list(r.evidence_client_ids))
        evidence = [e.id for e in intake.visible_evidence_in_order(session, user, tuple(dict.fromkeys(ids)))] \
            if ids else []
        rectify_by = None
        if r.result == "fail":
            if r.rectify_by is not None and r.rectify_by < today():
                raise InvalidInput("inspection_deadline_past", item=r.item_code)
            rectify_by = r.rectify_by or (base_day or today()) + timedelta(
                days=int(items[r.item_code].get("rectify_days") or 15))
        row = stored.get(r.item_code)
        if row is None:
            row = InspectionResult(item_code=r.item_code, result=r.result)
            inspection.results.append(row)
            stored[r.item_code] = row
        row.result, row.note, row.evidence_ids, row.rectify_by = r.result, r.note, evidence, rectify_by
        row.updated_by_id = user.id
    if inspection.status == "assigned":
        inspection.status = "in_progress"
    inspection.version += 1


def _check_signature(signature: dict | None, refused: bool) -> None:
    if refused:
        return
    strokes = (signature or {}).get("strokes") or []
    points = sum(len(s) for s in strokes)
    if not strokes or not any(len(s) >= 2 for s in strokes):
        raise InvalidInput("inspection_signature_missing")
    if len(strokes) > MAX_STROKES or points > MAX_POINTS:
        raise InvalidInput("inspection_signature_too_long")
    for stroke in strokes:
        times = [p["t"] for p in stroke]
        if times != sorted(times):
            raise InvalidInput("inspection_signature_times")


def submit(session: Session, inspection: Inspection, user: User, *, client_id: str, signature: dict | None,
           signer_name: str, refused_to_sign: bool, refusal_note: str, client_addr: str | None,
           at: datetime | None = None) -> bool:
    """True when this call submitted it; False for a retry of the same submission."""
    require_on_team(inspection, user)
    if inspection.status == "submitted":
        if inspection.submit_client_id == client_id:
            return False
        raise Conflict("inspection_submitted")
    require_open(inspection)
    if inspection.checked_in_at is None:
        raise Conflict("inspection_not_checked_in")
    done = {r.item_code: r for r in inspection.results}
    missing = [c for c in inspection.item_codes if c not in done]
    if missing:
        raise Conflict("inspection_items_missing", count=len(missing), details={"items": missing})
    unproven = [c for c, r in done.items() if r.result == "fail" and not r.evidence_ids]
    if unproven:
        raise Conflict("inspection_fail_without_photo", codes="、".join(unproven), details={"items": unproven})
    members = session.scalars(select(User).where(User.id.in_([m.user_id for m in inspection.team]))).all()
    valid_team = [u for u in members if pool_rules.refusal(u, today()) is None]
    if len(valid_team) < 2:
        raise Conflict("inspection_team_certificates")
    _check_signature(signature, refused_to_sign)
    if refused_to_sign and not refusal_note.strip():
        raise InvalidInput("inspection_refusal_note")
    now = at or datetime.now(UTC)  # the signing time: the record, the notice's date and number follow it
    kept = dict(signature or {})
    if kept.get("started_at") is not None:
        kept["started_at"] = kept["started_at"].isoformat()
    inspection.signature = {**kept, "refused": refused_to_sign, "refusal_note": refusal_note}
    inspection.signer_name = signer_name or None
    inspection.submit_client_id, inspection.submitted_at, inspection.submitted_by_id = client_id, now, user.id
    inspection.status = "submitted"
    inspection.version += 1
    session.flush()
    inspection.notice_no = f"综查告〔{now.astimezone(SHANGHAI).year}〕{inspection.id:06d}号"
    failed = [r for r in inspection.results if r.result == "fail"]
    if failed:
        session.add(Inspection(
            plan_id=inspection.plan_id, draw_id=inspection.draw_id, business_id=inspection.business_id,
            scenario_version_id=inspection.scenario_version_id, kind="reinspection", parent_id=inspection.id,
            item_codes=[r.item_code for r in failed], departments=inspection.departments, status="assigned",
            due_on=max(r.rectify_by or today() for r in failed), public_code=secrets.token_urlsafe(16),
            team=[InspectionInspector(user_id=m.user_id, position=m.position) for m in inspection.team]))
    audit.record(session, "inspection.submit", "inspection", inspection.id, actor=user, client_addr=client_addr,
                 after={"client_id": client_id, "failed": [r.item_code for r in failed],
                        "notice_no": inspection.notice_no, "refused_to_sign": refused_to_sign})
    return True


def case_from_failure(session: Session, inspection: Inspection, user: User, item_code: str, client_id: str,
                      category_code: str | None, client_addr: str | None) -> tuple[Case, bool]:
    """A failed item handed to the case cycle, at the business's position, with the item's photos."""
    require_on_team(inspection, user)
    row = next((r for r in inspection.results if r.item_code == item_code), None)
    if row is None or row.result != "fail":
        raise Conflict("inspection_item_not_failed", item=item_code)
    item = next(i for i in inspection.scenario_version.items if i["code"] == item_code)
    category = category_code or item.get("case_category_code")
    if not category:
        raise InvalidInput("inspection_case_category")
    business = inspection.business
    case, created = intake.report(session, user, intake.Report(
        client_id=client_id, category_code=category, lon=business.lon, lat=business.lat, source="inspection",
        description=f"{business.name}：{item['name']}不合格。{row.note}".strip(), address=business.address,
        evidence_ids=tuple(row.evidence_ids), extra={"inspection_id": inspection.id, "item_code": item_code}),
        client_addr)
    if row.case_id is None:
        row.case_id = case.id
    return case, created


def public_view(inspection: Inspection, names: dict[int, Any]) -> dict:
    """What the business sees when it scans the team's code (亮码检查): who, which items, and later the result."""
    items = {i["code"]: i for i in inspection.scenario_version.items}
    results = {r.item_code: r for r in inspection.results}
    submitted = inspection.status == "submitted"
    return {
        "status": inspection.status,
        "kind": inspection.kind,
        "business": inspection.business.name,
        "due_on": inspection.due_on.isoformat(),
        "inspectors": [names[m.user_id] for m in inspection.team if m.user_id in names],
        "items": [{"code": c, "name": items[c]["name"], "department_code": items[c]["department_code"],
                   "legal_basis": items[c]["legal_basis"],
                   "result": results[c].result if submitted and c in results else None,
                   "rectify_by": str(results[c].rectify_by)
                   if submitted and c in results and results[c].rectify_by else None}
                  for c in inspection.item_codes if c in items],
        "submitted_at": inspection.submitted_at.isoformat() if inspection.submitted_at else None,
        "notice_no": inspection.notice_no,
        "rated": inspection.rating is not None,
    }


def rate(session: Session, inspection: Inspection, score: int, comment: str) -> None:
    if inspection.status != "submitted":
        raise Conflict("inspection_rate_after_submit")
    if inspection.rating is not None:
        raise Conflict("inspection_already_rated")
    inspection.rating, inspection.rating_comment, inspection.rated_at = score, comment, datetime.now(UTC)
    audit.record(session, "inspection.rate", "inspection", inspection.id, actor_username="business",
                 after={"score": score})
