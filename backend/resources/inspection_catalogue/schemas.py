"""Schemas for inspection items (检查事项) and scenario checklists (场景清单) with their versions."""
from __future__ import annotations

import marshmallow as ma

from ...extensions.api import Schema
from ...models import ITEM_STATUSES


class ItemSchema(Schema):
    id = ma.fields.Int(dump_only=True)
    code = ma.fields.Str(required=True, validate=ma.validate.Regexp(r"^[A-Z0-9][A-Z0-9-]{1,31}$"),
                         metadata={"description": "e.g. SCJG-001"})
    department_code = ma.fields.Str(required=True, validate=ma.validate.Length(1, 32))
    name = ma.fields.Str(required=True, validate=ma.validate.Length(1, 200))
    legal_basis = ma.fields.Str(required=True, validate=ma.validate.Length(1, 4000))
    method = ma.fields.Str(load_default="现场查看", validate=ma.validate.Length(1, 64))
    rectify_days = ma.fields.Int(strict=True, load_default=15, validate=ma.validate.Range(1, 365))
    case_category_code = ma.fields.Str(load_default=None, allow_none=True, validate=ma.validate.Length(1, 32))
    status = ma.fields.Str(load_default="draft", validate=ma.validate.OneOf(ITEM_STATUSES),
                           metadata={"description": "only published items go into a checklist"})
    version = ma.fields.Int(dump_only=True)


class ItemQuerySchema(Schema):
    department = ma.fields.Str(validate=ma.validate.Length(1, 32))
    status = ma.fields.Str(validate=ma.validate.OneOf(ITEM_STATUSES))
    q = ma.fields.Str(validate=ma.validate.Length(1, 100))


class ItemStatusSchema(Schema):
    status = ma.fields.Str(required=True, validate=ma.validate.OneOf(ITEM_STATUSES))


class VersionItemSchema(Schema):
    code = ma.fields.Str()
    department_code = ma.fields.Str()
    name = ma.fields.Str()
    legal_basis = ma.fields.Str()
    method = ma.fields.Str()
    rectify_days = ma.fields.Int(strict=True)
    case_category_code = ma.fields.Str(allow_none=True)


class ScenarioSchema(Schema):
    id = ma.fields.Int(strict=True)
    code = ma.fields.Str()
    name = ma.fields.Str()
    lead_department_code = ma.fields.Str()
    industries = ma.fields.List(ma.fields.Str())
    description = ma.fields.Str()
    current_version = ma.fields.Int(strict=True)
    item_count = ma.fields.Int(strict=True)
    departments = ma.fields.List(ma.fields.Str())


class ScenarioDetailSchema(ScenarioSchema):
    items = ma.fields.List(ma.fields.Nested(VersionItemSchema), metadata={"description": "the current version's"})
    versions = ma.fields.List(ma.fields.Dict(), metadata={"description": "[{version, created_at, note, items}]"})


class NewVersionSchema(Schema):
    items = ma.fields.List(ma.fields.Str(validate=ma.validate.Length(1, 32)), required=True,
                           validate=ma.validate.Length(1, 200), metadata={"description": "item codes, in order"})
    note = ma.fields.Str(load_default="", validate=ma.validate.Length(max=500))
