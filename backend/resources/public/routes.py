"""Pages anyone may read, without signing in: a draw's record (一公开) with what is needed to re-run it, and the
page a business opens by scanning the team's code (亮码检查) to see who is inspecting, what, and the result, and to
rate the visit. Not part of /api/v1 (its own plain blueprint; the PWA's service worker leaves /public alone)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import orjson
from flask import Blueprint, Response, abort, redirect, request
from sqlalchemy import select

from ...extensions.database import get_session
from ...models import Department, Draw, Inspection, InspectionPlan, User
from ...services.inspections import inspectors as pool_rules
from ...services.inspections import onsite
from ...services.inspections.draw import ALGORITHM
from ...services.inspections.notice import TEMPLATES, templates

blp = Blueprint("public", __name__, url_prefix="/public")
STATUS_TEXT = {"assigned": "待检查", "in_progress": "检查中", "submitted": "已完成", "cancelled": "已取消"}
ALGORITHM_TEXT = (
    "Rivest SHA-256 counter sampler: draw_i = int(SHA-256(seed + ',' + str(i)), 16) mod N + 1, i = 1, 2, ... "
    "over UTF-8. Targets: each stratum in order, seed 'SEED:GRADE', without replacement (a position already drawn "
    "is skipped). Teams: one stream with seed 'SEED:inspectors' over `inspectors`, continuing from target to "
    "target in the targets' order; a drawn inspector already on the team, recused for the target (recusals: "
    "business id -> inspector ids) or at max_targets_per_inspector is skipped. pools_sha256 = SHA-256 of the pools' "
    "JSON with keys sorted and no spaces (UTF-8).")


def _css() -> str:
    return (TEMPLATES / "public.css").read_text(encoding="utf-8")


def _html(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
    return response


def _json(body: dict) -> Response:
    response = Response(orjson.dumps(body), mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"  # anyone may re-run a draw from another site
    return response


def _draw(draw_id: int) -> tuple[Draw, InspectionPlan]:
    session = get_session()
    record = session.get(Draw, draw_id)
    if record is None:
        abort(404)
    plan = session.get(InspectionPlan, record.plan_id)
    if plan is None:
        abort(404)
    return record, plan


def _local(iso: str | None) -> str:
    """An ISO time as Shanghai local time for people (the JSON keeps the exact UTC value)."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(onsite.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _replaced_by(record: Draw) -> int | None:
    return get_session().scalar(select(Draw.id).where(Draw.redraw_of_id == record.id))


@blp.get("/draws/<int:draw_id>.json")
def draw_json(draw_id: int) -> Response:
    record, plan = _draw(draw_id)
    return _json({
        "draw": {"id": record.id, "plan_id": record.plan_id, "seed": record.seed, "seed_source": record.seed_source,
                 "algorithm": record.algorithm, "algorithm_text": ALGORITHM_TEXT,
                 "drawn_at": record.drawn_at.isoformat(), "pools_sha256": record.pools_sha256,
                 "result_sha256": record.result_sha256, "redraw_of_id": record.redraw_of_id,
                 "redraw_reason": record.redraw_reason,
                 "superseded_at": record.superseded_at.isoformat() if record.superseded_at else None,
                 "replaced_by_id": _replaced_by(record)},
        "pools": plan.pools,
        "result": record.result,
    })


@blp.get("/draws/<int:draw_id>")
def draw_page(draw_id: int) -> Response:
    record, plan = _draw(draw_id)
    pools = plan.pools or {}
    names = {t["id"]: t["name"] for s in pools.get("strata", []) for t in s["targets"]}
    people = {p["id"]: p for p in pools.get("inspectors", [])}
    targets = [{"name": names.get(t["business_id"], ""), "credit_code": t["credit_code"], "grade": t["grade"],
                "inspectors": [people.get(i, {"name": str(i), "unit": "", "certificate_no": ""})
                               for i in t["inspector_ids"]]} for t in record.result["targets"]]
    body = templates().get_template("public_draw.html").render(
        css=_css(), id=record.id, plan=pools.get("plan", {}), frozen_at=_local(pools.get("frozen_at")),
        pools_sha256=record.pools_sha256, seed=record.seed, seed_source=record.seed_source,
        drawn_at=record.drawn_at.astimezone(onsite.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
        result_sha256=record.result_sha256, redraw_reason=record.redraw_reason, redraw_of_id=record.redraw_of_id,
        superseded=record.superseded_at is not None, replaced_by=_replaced_by(record), targets=targets,
        algorithm=ALGORITHM)
    return _html(body)


def _by_code(code: str) -> Inspection:
    inspection = get_session().scalar(select(Inspection).where(Inspection.public_code == code))
    if inspection is None or len(code) > 43:
        abort(404)
    return inspection


def _public(inspection: Inspection) -> dict:
    session = get_session()
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_([m.user_id for m in inspection.team])))}
    departments = {d.id: d for d in session.scalars(select(Department))}
    today = onsite.today()
    names = {u.id: {"name": u.display_name, "unit": pool_rules.unit_of(u, departments),
                    "certificate_no": u.certificate_no or "",
                    "valid": pool_rules.refusal(u, today) is None} for u in users.values()}
    return onsite.public_view(inspection, names)


def _body_of(inspection: Inspection) -> str:
    plan = get_session().get(InspectionPlan, inspection.plan_id) if inspection.plan_id else None
    view = _public(inspection)
    return templates().get_template("public_inspection.html").render(
        css=_css(), v=view, code=inspection.public_code, status_text=STATUS_TEXT[inspection.status],
        enforcing_body=plan.enforcing_body if plan else "乡镇综合行政执法队")


@blp.get("/inspections/<code>.json")
def inspection_json(code: str) -> Response:
    return _json(_public(_by_code(code)))


@blp.get("/inspections/<code>")
def inspection_page(code: str) -> Response:
    return _html(_body_of(_by_code(code)))


@blp.post("/inspections/<code>/rating")
def rate_inspection(code: str) -> Response:
    """The business's rating, from the page's form or as JSON {score 1-5, comment}; once."""
    inspection = _by_code(code)
    data = request.get_json(silent=True) if request.is_json else request.form
    if not isinstance(data, Mapping):
        data = {}
    try:
        score = int(data.get("score", ""))
    except (TypeError, ValueError):
        score = 0
    comment = str(data.get("comment") or "")[:500].replace("\x00", "")
    if not 1 <= score <= 5:
        return _json_error("rating_score", "评分应为 1 到 5 星", 400)
    from ...errors import Conflict
    try:
        onsite.rate(get_session(), inspection, score, comment)
    except Conflict as exc:
        return _json_error(exc.code, "本次检查已评价过，或尚未完成检查", 409)
    get_session().commit()
    if request.is_json:
        return _json({"rated": True})
    return redirect(f"/public/inspections/{code}", 303)  # type: ignore[return-value]


def _json_error(code: str, message: str, status: int) -> Response:
    response = _json({"code": code, "message": message, "details": {}})
    response.status_code = status
    return response
