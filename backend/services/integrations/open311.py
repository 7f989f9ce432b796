"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): hotlines and citizen apps read the categories as
services, post requests with an API key, and follow them. Ids and codes are strings; times carry their offset
(Asia/Shanghai). Public answers never name a reporter and show only copies without metadata."""
from __future__ import annotations

import math
import secrets
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ...errors import InvalidInput
from ...models import ApiKey, Case, CaseCategory, CaseEvidence, Department, Squad
from ..cases import intake
from ..cases.labels import STATUS_ZH
from ..core import audit

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_DAYS = 90  # the spec's default window for a request list
MAX_PAGE_SIZE = 200
RETRY_WINDOW = timedelta(minutes=10)  # the same request posted again within this is answered, not duplicated


def local_iso(at: datetime | None) -> str | None:
    return at.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if at else None


def service(category: CaseCategory) -> dict:
    return {"service_code": category.code, "service_name": category.name, "description": category.close_conditions,
            "metadata": False, "type": "realtime", "keywords": category.field, "group": category.field}


def services(session: Session) -> list[dict]:
    return [service(c) for c in session.scalars(select(CaseCategory).where(CaseCategory.active.is_(True))
                                                .order_by(CaseCategory.code))]


def _agency(session: Session, case: Case) -> str | None:
    if case.department_id:
        return session.scalar(select(Department.name).where(Department.id == case.department_id))
    if case.squad_id:
        return session.scalar(select(Squad.name).where(Squad.id == case.squad_id))
    return None


def public_request(session: Session, case: Case, base_url: str) -> dict:
    photo = session.scalar(select(CaseEvidence.evidence_id).where(CaseEvidence.case_id == case.id,
                                                                  CaseEvidence.stage == "before")
                           .order_by(CaseEvidence.id).limit(1))
    notes = STATUS_ZH.get(case.status, case.status)
    return {
        "service_request_id": str(case.id), "status": "open" if case.open else "closed", "status_notes": notes,
        "service_name": case.category.name, "service_code": case.category.code, "description": case.description,
        "agency_responsible": _agency(session, case), "service_notice": None,
        "requested_datetime": local_iso(case.reported_at), "updated_datetime": local_iso(case.updated_at),
        "expected_datetime": local_iso(case.handle_due_at), "address": case.address or None, "address_id": None,
        "zipcode": None, "lat": case.lat, "long": case.lon,
        "media_url": f"{base_url}/open311/v2/media/{photo}.jpg" if photo else None,
    }


def _parse_time(raw: str, name: str) -> datetime:
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("open311_bad_parameter", name=name) from None
    return at if at.tzinfo else at.replace(tzinfo=LOCAL_TZ)


def request_query(args: dict[str, str]) -> tuple[Select, int, int]:
    """The list's select from the spec's filters, and the page asked for."""
    stmt = select(Case)
    if args.get("service_request_id"):
        ids = [i.strip() for i in args["service_request_id"].split(",") if i.strip()]
        if not all(i.isdigit() and len(i) <= 9 for i in ids):
            raise InvalidInput("open311_bad_parameter", name="service_request_id")
        return stmt.where(Case.id.in_([int(i) for i in ids])), 1, MAX_PAGE_SIZE
    if args.get("service_code"):
        codes = [c.strip() for c in args["service_code"].split(",") if c.strip()]
        stmt = stmt.where(Case.category_id.in_(select(CaseCategory.id).where(CaseCategory.code.in_(codes))))
    end = _parse_time(args["end_date"], "end_date") if args.get("end_date") else datetime.now(UTC)
    start = _parse_time(args["start_date"], "start_date") if args.get("start_date") else end - timedelta(
        days=DEFAULT_DAYS)
    stmt = stmt.where(Case.reported_at >= start, Case.reported_at <= end)
    status = args.get("status")
    if status:
        wanted = {s.strip() for s in status.split(",")}
        if not wanted <= {"open", "closed"}:
            raise InvalidInput("open311_bad_parameter", name="status")
        if wanted == {"open"}:
            stmt = stmt.where(Case.open.is_(True))
        elif wanted == {"closed"}:
            stmt = stmt.where(Case.open.is_(False))
    page, size = _int(args.get("page"), 1, "page"), _int(args.get("page_size"), 50, "page_size")
    return stmt, page, min(size, MAX_PAGE_SIZE)


def _int(raw: str | None, default: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    if not (raw.isdigit() and 0 < int(raw) < 100_000):
        raise InvalidInput("open311_bad_parameter", name=name)
    return int(raw)


def post_request(session: Session, key: ApiKey, form: dict[str, str], client_addr: str | None) -> Case:
    """A request from an integration: a case with source open311, no user behind it, the caller kept private."""
    code = (form.get("service_code") or "").strip()
    if not code:
        raise InvalidInput("open311_missing", name="service_code")
    try:
        lat, lon = float(form.get("lat", "")), float(form.get("long", ""))
    except ValueError:
        raise InvalidInput("open311_position_required") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("open311_position_required")
    description = (form.get("description") or "")[:2000].replace("\x00", "")
    category = intake.category_by_code(session, code)
    recent = session.scalar(select(Case).where(
        Case.api_key_id == key.id, Case.category_id == category.id, Case.lon == lon, Case.lat == lat,
        Case.description == description, Case.reported_at >= datetime.now(UTC) - RETRY_WINDOW))
    if recent is not None:
        return recent  # the same request sent again (a client retrying after a timeout)
    name = " ".join(p for p in (form.get("last_name"), form.get("first_name")) if p)[:64] or None
    contact = (form.get("email") or form.get("phone") or "")[:120] or None
    token = secrets.token_urlsafe(32)
    case, _ = intake.report(session, None, intake.Report(
        client_id=token, category_code=code, lon=lon, lat=lat, source="open311", description=description,
        address=(form.get("address_string") or "")[:200].replace("\x00", ""), reporter_name=name,
        extra={"api_key": key.name, **({"media_url": form["media_url"][:500]} if form.get("media_url") else {})},
    ), client_addr)
    case.api_key_id, case.public_token, case.reporter_contact = key.id, token, contact
    audit.record(session, "open311.request", "case", case.id, actor_username=f"api-key:{key.name}",
                 client_addr=client_addr, after={"service_code": code})
    return case


def token_answer(case: Case) -> dict:
    return {"service_request_id": str(case.id), "token": case.public_token}


# --- XML -----------------------------------------------------------------------------------------------------

def _fill(node: ET.Element, value: Any, name: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(ET.SubElement(node, key), inner, key)
    elif isinstance(value, list):
        for inner in value:  # endpoints -> endpoint, formats -> format
            _fill(ET.SubElement(node, name[:-1] if name.endswith("s") else name), inner, name)
    elif value is not None:
        node.text = str(value).lower() if isinstance(value, bool) else str(value)


def to_xml(root: str, item: str, rows: list[dict]) -> bytes:
    top = ET.Element(root)
    for row in rows:
        _fill(top if root == item else ET.SubElement(top, item), row, item)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")


def discovery(base_url: str, changed: datetime) -> dict[str, Any]:
    return {"changeset": local_iso(changed), "contact": "", "key_service": "gridpatrol api-key create NAME",
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": f"{base_url}/open311/v2",
                           "changeset": local_iso(changed), "type": "production",
                           "formats": ["application/json", "text/xml"]}]}

