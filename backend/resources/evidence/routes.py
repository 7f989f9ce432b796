"""Evidence: the multipart upload (integrations, small files; phones use /api/v1/uploads for the large ones), the
record, its files (only to who may see it, never sniffed), and a check of every stored hash."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ...context import client_addr, current_user
from ...errors import NotFound
from ...extensions.api import Blueprint, link, links, page_of
from ...extensions.database import get_session
from ...models import UPLOADED_ROLES, Evidence
from ...policies import require_evidence_uploader, scoped_evidence
from ...services.evidence import files as evidence_files
from ...services.evidence import ledger
from ...services.evidence.intake import Declaration, declare, receive_file, visible_evidence
from .schemas import EvidenceQuerySchema, EvidenceSchema, EvidenceUploadSchema, VerifySchema

blp = Blueprint("evidence", __name__, url_prefix="/api/v1/evidence", description="Evidence (证据): photos")


def _links(pointer: str) -> dict:
    p = "/api/v1/evidence/{evidence_id}"
    return {"get": link(p, "get", "The record", evidence_id=pointer),
            "verify": link(f"{p}/verify", "get", "Recompute its hashes", evidence_id=pointer)}


@blp.route("")
class EvidenceList(MethodView):
    @blp.arguments(EvidenceQuerySchema, location="query")
    @blp.response(200, EvidenceSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    def get(self, query, pagination_parameters):
        """Evidence the caller may see, newest capture first."""
        stmt = scoped_evidence(select(Evidence), current_user())
        if "client_id" in query:
            stmt = stmt.where(Evidence.client_id == query["client_id"])
        if "uploaded_by" in query:
            stmt = stmt.where(Evidence.uploaded_by_id == query["uploaded_by"])
        return page_of(get_session(), stmt, pagination_parameters, Evidence.captured_at.desc(), Evidence.id.desc())

    @blp.arguments(EvidenceUploadSchema, location="multipart")
    @blp.doc(**links(201, **_links("$response.body#/id")))
    @blp.response(201, EvidenceSchema)
    @blp.alt_response(200, schema=EvidenceSchema, description="A retry, or the record's next file: the stored record")
    def post(self, form):
        """Declare a photo (client_id, captured_at, lon, lat, accuracy_m, sha256) with or without its file. The
        original must hash to `sha256`. Same client_id and declaration: the stored record; another declaration
        under that client_id: 409. Refused files (not an image, SVG, truncated, too large) store nothing."""
        session, user = get_session(), current_user()
        require_evidence_uploader(user)
        upload = form.get("file")
        data = upload.read() if isinstance(upload, FileStorage) else None
        role = form["role"]
        expected = form["expected"]
        if expected is None:
            expected = [r for r in UPLOADED_ROLES if r != role] if data is not None else list(UPLOADED_ROLES)
        declaration = Declaration(client_id=form["client_id"], captured_at=form["captured_at"],
                                  sha256=form["sha256"], lon=form["lon"], lat=form["lat"],
                                  accuracy_m=form["accuracy_m"], expected=tuple(expected))
        with session.begin_nested():  # a refused file leaves no record either
            evidence, created = declare(session, user, declaration, client_addr())
            if data is not None:
                receive_file(session, evidence_files.storage(current_app), current_app.config["GRIDPATROL"], user,
                             evidence, role, data, client_addr())
        session.commit()
        return evidence, 201 if created else 200


@blp.route("/<int:evidence_id>")
@blp.response(200, EvidenceSchema)
def get_evidence(evidence_id):
    """One record with its files, what EXIF said and how it agrees with the phone."""
    return visible_evidence(get_session(), current_user(), evidence_id)


_IMAGE = {"schema": {"type": "string", "format": "binary"}}


@blp.route("/<int:evidence_id>/files/<any(original,display,thumbnail,watermark):role>")
@blp.doc(responses={200: {"description": "The file's bytes: the original in its own type, the copies as JPEG",
                          "content": {t: _IMAGE for t in ("image/jpeg", "image/png", "image/webp", "image/heic")}}})
def get_file(evidence_id, role):
    """A file of the record: original (byte for byte), display (1920 px), thumbnail (320 px) or watermark (the
    display copy with time, place and officer burned in, 水印相机)."""
    session = get_session()
    evidence = visible_evidence(session, current_user(), evidence_id)
    stored = evidence.file(role)
    if stored is None and role == "watermark":
        stored = evidence_files.ensure_watermark(current_app, session, evidence)
    if stored is None:
        raise NotFound("evidence_file_missing")
    return evidence_files.send(current_app, stored)


@blp.route("/<int:evidence_id>/verify")
@blp.response(200, VerifySchema)
def verify(evidence_id):
    """Read every stored file back and recompute its SHA-256: the original against the capture hash too; and the
    record's inclusion proof in its day's sealed Merkle root."""
    session = get_session()
    evidence = visible_evidence(session, current_user(), evidence_id)
    return {**evidence_files.verify(current_app, evidence), "ledger": ledger.prove(session, evidence).as_dict()}
