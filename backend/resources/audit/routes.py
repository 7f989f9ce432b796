"""GET /api/v1/audit: the trace of every change (commanders and admins)."""
from __future__ import annotations

import json

import marshmallow as ma
from flask import current_app
from sqlalchemy import select

from ...context import current_user
from ...extensions.api import Blueprint, Schema, page_of
from ...extensions.database import get_session
from ...models import AuditEntry
from ...policies import require_audit_reader
from ...services.core import anchors

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Audit log (全程留痕)")


class AuditQuerySchema(Schema):
    entity = ma.fields.Str()
    entity_id = ma.fields.Str()
    actor = ma.fields.Int()
    action = ma.fields.Str()


class AuditEntrySchema(Schema):
    id = ma.fields.Int()
    at = ma.fields.DateTime()
    actor_id = ma.fields.Int(allow_none=True)
    actor_username = ma.fields.Str(allow_none=True)
    action = ma.fields.Str()
    entity = ma.fields.Str()
    entity_id = ma.fields.Str(allow_none=True)
    summary = ma.fields.Function(lambda e: json.loads(e.summary))
    client_addr = ma.fields.Str(allow_none=True)
    row_hash = ma.fields.Str()


class ExportQuerySchema(Schema):
    from_id = ma.fields.Int(load_default=1, validate=ma.validate.Range(min=1))
    to_id = ma.fields.Int(validate=ma.validate.Range(min=1))


@blp.route("/export")
@blp.arguments(ExportQuerySchema, location="query")
@blp.response(200, description="gridpatrol-audit-export/1: rows exactly as hashed (at most 20,000 from from_id), "
                               "every signed anchor, the public key, and a signed head of the last row exported")
def export_audit(query):
    """The log as evidence: checkable without the database (services/core/anchors.py verify_export)."""
    require_audit_reader(current_user())
    settings = current_app.config["GRIDPATROL"]
    key = anchors.load_or_create_key(settings.audit_signing_key)
    return anchors.build_export(get_session(), key, settings.audit_anchor_dir, query["from_id"], query.get("to_id"))


@blp.route("")
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditEntrySchema(many=True))
@blp.paginate(page_size=100, max_page_size=1000)
def list_audit(query, pagination_parameters):
    """Newest first."""
    require_audit_reader(current_user())
    session = get_session()
    stmt = select(AuditEntry)
    for key, column in (("entity", AuditEntry.entity), ("entity_id", AuditEntry.entity_id),
                        ("actor", AuditEntry.actor_id), ("action", AuditEntry.action)):
        if key in query:
            stmt = stmt.where(column == query[key])
    return page_of(session, stmt, pagination_parameters, AuditEntry.id.desc())
