"""Schemas for inspections on site: the list, one inspection, check-in, item results, signature and submission."""
from __future__ import annotations

import marshmallow as ma

from ...extensions.api import Schema
from ..cases.schemas import LAT, LON
from ..inspection_catalogue.schemas import VersionItemSchema as CheckItemSchema  # an item as a version copied it
from ...models import INSPECTION_KINDS, INSPECTION_STATUSES, RESULTS



class InspectionQuerySchema(Schema):
    mine = ma.fields.Bool(metadata={"description": "only where the caller is on the team"})
    status = ma.fields.List(ma.fields.Str(validate=ma.validate.OneOf(INSPECTION_STATUSES)))
    kind = ma.fields.Str(validate=ma.validate.OneOf(INSPECTION_KINDS))
    plan = ma.fields.Int()
    business = ma.fields.Int()


class BusinessBriefSchema(Schema):
    id = ma.fields.Int(strict=True)
    credit_code = ma.fields.Str()
    name = ma.fields.Str()
    address = ma.fields.Str()
    legal_rep = ma.fields.Str()
    lon = ma.fields.Float()
    lat = ma.fields.Float()


class TeamMemberDetailSchema(Schema):
    id = ma.fields.Int(strict=True)
    name = ma.fields.Str()
    unit = ma.fields.Str()
    certificate_no = ma.fields.Str(allow_none=True)
    certificate_expires_on = ma.fields.Date(allow_none=True)
    position = ma.fields.Int(strict=True)


class ResultSchema(Schema):
    item_code = ma.fields.Str()
    result = ma.fields.Str(metadata={"enum": list(RESULTS)})
    note = ma.fields.Str()
    evidence_ids = ma.fields.List(ma.fields.Int(strict=True))
    rectify_by = ma.fields.Date(allow_none=True)
    case_id = ma.fields.Int(strict=True, allow_none=True)


class InspectionSchema(Schema):
    id = ma.fields.Int(strict=True)
    plan_id = ma.fields.Int(strict=True, allow_none=True)
    kind = ma.fields.Str(metadata={"enum": list(INSPECTION_KINDS)})
    parent_id = ma.fields.Int(strict=True, allow_none=True)
    status = ma.fields.Str(metadata={"enum": list(INSPECTION_STATUSES)})
    due_on = ma.fields.Date()
    business = ma.fields.Nested(BusinessBriefSchema)
    scenario = ma.fields.Str()
    scenario_version = ma.fields.Int(strict=True)
    departments = ma.fields.List(ma.fields.Str())
    item_count = ma.fields.Int(strict=True)
    team = ma.fields.List(ma.fields.Nested(TeamMemberDetailSchema))
    checked_in_at = ma.fields.AwareDateTime(allow_none=True)
    check_in_distance_m = ma.fields.Float(allow_none=True)
    check_in_flagged = ma.fields.Bool()
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    notice_no = ma.fields.Str(allow_none=True)
    failed = ma.fields.Int(strict=True)
    public_code = ma.fields.Str(allow_none=True, metadata={
        "description": "the team's code for 亮码检查 (the business scans /public/inspections/{code}); only the "
                       "team and their leaders see it"})
    version = ma.fields.Int(strict=True)


class InspectionDetailSchema(InspectionSchema):
    items = ma.fields.List(ma.fields.Nested(CheckItemSchema), metadata={"description": "what is checked, in order"})
    results = ma.fields.List(ma.fields.Nested(ResultSchema))
    signer_name = ma.fields.Str(allow_none=True)
    signature = ma.fields.Dict(allow_none=True)
    rating = ma.fields.Int(strict=True, allow_none=True)
    reinspection_ids = ma.fields.List(ma.fields.Int(strict=True))


class CheckInSchema(Schema):
    lon = ma.fields.Float(required=True, **LON)
    lat = ma.fields.Float(required=True, **LAT)
    accuracy_m = ma.fields.Float(load_default=None, allow_nan=False, validate=ma.validate.Range(0, 100000))
    at = ma.fields.AwareDateTime(load_default=None, metadata={"description": "when the phone checked in (offline: "
                                                                            "sent later); default now"})


class ResultInputSchema(Schema):
    item_code = ma.fields.Str(required=True, validate=ma.validate.Length(1, 32))
    result = ma.fields.Str(required=True, validate=ma.validate.OneOf(RESULTS),
                           metadata={"description": "pass 合格, fail 不合格, na 不涉及"})
    note = ma.fields.Str(load_default="", validate=ma.validate.Length(max=2000))
    evidence = ma.fields.List(ma.fields.Int(strict=True), load_default=list, validate=ma.validate.Length(max=20))
    evidence_client_ids = ma.fields.List(ma.fields.Str(validate=ma.validate.Length(8, 64)), load_default=list,
                                         validate=ma.validate.Length(max=20),
                                         metadata={"description": "or the caller's own photos by client id"})
    rectify_by = ma.fields.Date(load_default=None, metadata={"description": "a failure's deadline; default: today "
                                                                            "plus the item's rectification days"})


class ResultsSchema(Schema):
    results = ma.fields.List(ma.fields.Nested(ResultInputSchema), required=True,
                             validate=ma.validate.Length(1, 300))


class PointSchema(Schema):
    x = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(-10000, 10000))
    y = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(-10000, 10000))
    t = ma.fields.Int(strict=True, required=True, validate=ma.validate.Range(0, 86_400_000),
                      metadata={"description": "milliseconds after started_at when the pen was there"})


class SignatureSchema(Schema):
    width = ma.fields.Int(strict=True, required=True, validate=ma.validate.Range(50, 4000))
    height = ma.fields.Int(strict=True, required=True, validate=ma.validate.Range(30, 4000))
    started_at = ma.fields.AwareDateTime(required=True, metadata={"description": "when the pen first touched"})
    strokes = ma.fields.List(ma.fields.List(ma.fields.Nested(PointSchema), validate=ma.validate.Length(max=5000)),
                             required=True, validate=ma.validate.Length(max=200))


class SubmitSchema(Schema):
    client_id = ma.fields.Str(required=True, validate=ma.validate.Length(8, 64),
                              metadata={"description": "made by the phone; a retried submission is applied once"})
    results = ma.fields.List(ma.fields.Nested(ResultInputSchema), load_default=list,
                             validate=ma.validate.Length(max=300),
                             metadata={"description": "the last results, saved before the submission"})
    signature = ma.fields.Nested(SignatureSchema, load_default=None, allow_none=True,
                                 metadata={"description": "the representative's strokes with their times"})
    signer_name = ma.fields.Str(load_default="", validate=ma.validate.Length(max=64))
    signed_at = ma.fields.AwareDateTime(load_default=None, metadata={
        "description": "when the representative signed on the phone (offline: sent later); dates the record, the "
                       "notice and the default deadlines; default now"})
    refused_to_sign = ma.fields.Bool(load_default=False)
    refusal_note = ma.fields.Str(load_default="", validate=ma.validate.Length(max=500))


class CaseFromItemSchema(Schema):
    item_code = ma.fields.Str(required=True, validate=ma.validate.Length(1, 32))
    client_id = ma.fields.Str(required=True, validate=ma.validate.Length(8, 64))
    category = ma.fields.Str(load_default=None, validate=ma.validate.Length(1, 32),
                             metadata={"description": "the case category; default: the item's"})


class CaseLinkSchema(Schema):
    case_id = ma.fields.Int(strict=True)
    created = ma.fields.Bool()


class StatsQuerySchema(Schema):
    year = ma.fields.Int(validate=ma.validate.Range(2000, 2100))


class InspectionStatsSchema(Schema):
    year = ma.fields.Int(strict=True)
    businesses_inspected = ma.fields.Int(strict=True)
    inspections = ma.fields.Int(strict=True)
    joint = ma.fields.Int(strict=True)
    single_department = ma.fields.Int(strict=True)
    joint_share = ma.fields.Float(allow_none=True)
    visits_per_business = ma.fields.Float(allow_none=True)
    department_visits_replaced = ma.fields.Int(strict=True, metadata={"description": "separate visits the joint ones stood in for "
                                                                        "(one per department a visit covered)"})
    visits_per_business_without_joint = ma.fields.Float(allow_none=True)
    per_business = ma.fields.List(ma.fields.Dict())
    items = ma.fields.List(ma.fields.Dict(), metadata={"description": "failure rate per item"})
    scenarios = ma.fields.List(ma.fields.Dict(), metadata={"description": "failure rate per scenario"})
    reinspections_due = ma.fields.Int(strict=True)
    reinspections_on_time = ma.fields.Int(strict=True)
    reinspections_on_time_rate = ma.fields.Float(allow_none=True)
