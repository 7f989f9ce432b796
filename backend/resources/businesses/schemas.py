"""Schemas for the business register: one business, the list's filters, the import and its per-row report."""
from __future__ import annotations

import marshmallow as ma

from ...extensions.api import Schema
from ..cases.schemas import LAT, LON
from ...models import RISK_GRADES



class BusinessSchema(Schema):
    id = ma.fields.Int(dump_only=True)
    credit_code = ma.fields.Str(required=True, validate=ma.validate.Length(1, 40),
                                metadata={"description": "统一社会信用代码, 18 characters with its GB 32100-2015 "
                                                         "check character (spaces are dropped)"})
    name = ma.fields.Str(required=True, validate=ma.validate.Length(1, 200))
    legal_rep = ma.fields.Str(load_default="", validate=ma.validate.Length(max=64))
    phone = ma.fields.Str(load_default="", validate=ma.validate.Length(max=32))
    address = ma.fields.Str(load_default="", validate=ma.validate.Length(max=200))
    lon = ma.fields.Float(required=True, **LON)
    lat = ma.fields.Float(required=True, **LAT)
    crs = ma.fields.Str(load_only=True, load_default="wgs84", validate=ma.validate.OneOf(["wgs84", "gcj02"]),
                        metadata={"description": "gcj02: the position was read off a Gaode or Tencent map and is "
                                                 "converted to WGS-84"})
    industry = ma.fields.Str(load_default="", validate=ma.validate.Length(max=64))
    scenario_code = ma.fields.Str(load_default=None, allow_none=True, validate=ma.validate.Length(1, 32))
    risk_grade = ma.fields.Str(load_default="B", validate=ma.validate.OneOf(RISK_GRADES),
                               metadata={"description": "credit-risk grade, A (lowest risk) to E"})
    annual_cap = ma.fields.Int(strict=True, load_default=2, validate=ma.validate.Range(0, 52),
                               metadata={"description": "inspections a year, all departments together"})
    grid_id = ma.fields.Int(dump_only=True, allow_none=True)
    village_id = ma.fields.Int(dump_only=True, allow_none=True)
    zone_id = ma.fields.Int(dump_only=True, allow_none=True)
    town_id = ma.fields.Int(dump_only=True, allow_none=True)
    active = ma.fields.Bool(dump_only=True)
    inspections_this_year = ma.fields.Int(dump_only=True)
    version = ma.fields.Int(dump_only=True)


class BusinessQuerySchema(Schema):
    q = ma.fields.Str(validate=ma.validate.Length(1, 100), metadata={"description": "name, code or address"})
    industry = ma.fields.Str(validate=ma.validate.Length(1, 64))
    risk_grade = ma.fields.Str(validate=ma.validate.OneOf(RISK_GRADES))
    scenario = ma.fields.Str(validate=ma.validate.Length(1, 32))
    area = ma.fields.Int(metadata={"description": "a grid, village, zone or town id"})


class HistoryEntrySchema(Schema):
    id = ma.fields.Int(strict=True)
    kind = ma.fields.Str()
    status = ma.fields.Str()
    due_on = ma.fields.Date()
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    scenario = ma.fields.Str()
    departments = ma.fields.List(ma.fields.Str())
    plan_id = ma.fields.Int(strict=True, allow_none=True)
    failed = ma.fields.Int(strict=True)


class BusinessDetailSchema(BusinessSchema):
    history = ma.fields.List(ma.fields.Nested(HistoryEntrySchema), dump_only=True,
                             metadata={"description": "every inspection of this business, all departments, newest "
                                                      "first"})


class RegisterImportSchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE

    file = ma.fields.Raw(metadata={"type": "string", "format": "binary",
                                   "description": "CSV (UTF-8 or GB18030) or XLSX; first row the headings "
                                                  "(名称, 统一社会信用代码, 法定代表人, 地址, 经度, 纬度, 行业, 信用风险等级, ...)"})
    crs = ma.fields.Str(load_default="wgs84", validate=ma.validate.OneOf(["wgs84", "gcj02"]),
                        metadata={"description": "the positions' system when a row has no 坐标系 column"})
    existing = ma.fields.Str(load_default="update", validate=ma.validate.OneOf(["update", "skip", "reject"]),
                             metadata={"description": "a code already in the register: update it, skip the row, or "
                                                      "reject the file"})


class RowProblemSchema(Schema):
    field = ma.fields.Str()
    message = ma.fields.Str()


class RowReportSchema(Schema):
    row = ma.fields.Int(strict=True, metadata={"description": "the row's number in the spreadsheet"})
    credit_code = ma.fields.Str()
    name = ma.fields.Str()
    outcome = ma.fields.Str(metadata={"enum": ["created", "updated", "skipped", "rejected"]})
    problems = ma.fields.List(ma.fields.Nested(RowProblemSchema))


class ImportReportSchema(Schema):
    summary = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Int(strict=True))
    rows = ma.fields.List(ma.fields.Nested(RowReportSchema))
