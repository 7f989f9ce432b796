"""Open311 GeoReport v2 at /open311/v2, each resource in .json and .xml, with the spec's error format
([{code, description}]). Reads are public; a POST needs an `api_key` (gridpatrol api-key create NAME)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, request
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from ...context import client_addr
from ...errors import DomainError, NotAllowed, NotFound
from ...extensions.database import get_session
from ...extensions.http_errors import status_of
from ...i18n import error_message
from ...models import Case, CaseCategory, CaseEvidence, Evidence
from ...services.evidence import files as evidence_files
from ...services.integrations import open311
from ...services.notifications import outbox as notices
from ...services.integrations.api_keys import key_for

blp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FORMAT = "<any(json,xml):fmt>"


def _base() -> str:
    return request.host_url.rstrip("/")


def _answer(fmt: str, root: str, item: str, rows: list[dict] | dict, status: int = 200) -> Response:
    if fmt == "xml":
        body = open311.to_xml(root, item, rows if isinstance(rows, list) else [rows])
        return Response(body, status=status, mimetype="text/xml")
    return Response(json.dumps(rows, ensure_ascii=False), status=status, mimetype="application/json")


def _lang() -> str:
    return "en" if (request.accept_languages.best_match(["zh-CN", "zh", "en"]) or "zh").startswith("en") else "zh-CN"


def _error(status: int, description: str) -> Response:
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return _answer(fmt, "errors", "error", [{"code": status, "description": description}], status)


@blp.errorhandler(DomainError)
def _domain_error(err: DomainError) -> Response:
    get_session().rollback()
    return _error(status_of(err), error_message(err, _lang()))


@blp.errorhandler(HTTPException)
def _http_error(err: HTTPException) -> Response:
    return _error(err.code or 500, err.description or err.name)


@blp.get(f"/discovery.{FORMAT}")
def discovery(fmt: str) -> Response:
    return _answer(fmt, "discovery", "discovery", open311.discovery(_base(), datetime(2026, 12, 3, tzinfo=UTC)))


@blp.get(f"/services.{FORMAT}")
def services(fmt: str) -> Response:
    return _answer(fmt, "services", "service", open311.services(get_session()))


@blp.get(f"/services/<code>.{FORMAT}")
def service_definition(code: str, fmt: str) -> Response:
    category = get_session().scalar(select(CaseCategory).where(CaseCategory.code == code,
                                                               CaseCategory.active.is_(True)))
    if category is None:
        raise NotFound("open311_no_service", service=code[:32])
    return _answer(fmt, "service_definition", "service_definition",
                   {"service_code": category.code, "attributes": []})


@blp.route(f"/requests.{FORMAT}", methods=["GET", "POST"])
def requests(fmt: str) -> Response:
    session = get_session()
    if request.method == "POST":
        form = {k: v for k, v in request.form.items()}
        key = key_for(session, form.get("api_key"))
        if key is None:
            raise NotAllowed("open311_api_key")
        case = open311.post_request(session, key, form, client_addr())
        notices.on_report(session, current_app.config["GRIDPATROL"], case)  # once per case, a retry included
        session.commit()
        answer = {"service_request_id": str(case.id), "token": case.public_token,
                  "service_notice": "已受理，将按时限处置", "account_id": None}
        return _answer(fmt, "service_requests", "request", [answer], 201)
    stmt, page, size = open311.request_query(request.args.to_dict())
    cases = session.scalars(stmt.order_by(Case.reported_at.desc(), Case.id.desc())
                            .limit(size).offset((page - 1) * size)).all()
    return _answer(fmt, "service_requests", "request", [open311.public_request(session, c, _base()) for c in cases])


@blp.get(f"/requests/<request_id>.{FORMAT}")
def one_request(request_id: str, fmt: str) -> Response:
    case = get_session().get(Case, int(request_id)) if request_id.isdigit() and len(request_id) <= 9 else None
    if case is None:
        raise NotFound("open311_no_request", request_id=request_id[:20])
    return _answer(fmt, "service_requests", "request", [open311.public_request(get_session(), case, _base())])


@blp.get(f"/tokens/<token>.{FORMAT}")
def token(token: str, fmt: str) -> Response:
    case = get_session().scalar(select(Case).where(Case.public_token == token[:43])) if len(token) <= 43 else None
    if case is None:
        raise NotFound("open311_no_token")
    return _answer(fmt, "service_requests", "request", [open311.token_answer(case)])


@blp.get("/media/<int:evidence_id>.jpg")
def media(evidence_id: int) -> Response:
    """The display copy of a case's "before" photo: the server's re-encoding, with no EXIF or other metadata."""
    session = get_session()
    linked = session.scalar(select(func.count()).select_from(CaseEvidence).where(
        CaseEvidence.evidence_id == evidence_id, CaseEvidence.stage == "before"))
    evidence = session.get(Evidence, evidence_id) if linked else None
    if evidence is None:
        raise NotFound("open311_no_media")
    return evidence_files.public_copy(current_app, evidence)
