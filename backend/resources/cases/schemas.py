"""Schemas for cases: the report, an action, the case with its timeline, the list's filters, the catalogue."""
from __future__ import annotations

from typing import Any

import marshmallow as ma

from ...extensions.api import Schema
from ...models import CASE_ACTIONS, CASE_SOURCES, CASE_STATUSES
from ..evidence.schemas import ContentCredentialsSchema

CLIENT_ID = ma.fields.Str(required=True, validate=ma.validate.Length(8, 64),
                          metadata={"description": "made by the phone; retries with it never duplicate"})
LON: dict[str, Any] = {"allow_nan": False, "validate": ma.validate.Range(-180, 180)}
LAT: dict[str, Any] = {"allow_nan": False, "validate": ma.validate.Range(-90, 90)}
INTERNAL_SOURCES = [s for s in CASE_SOURCES if s != "open311"]  # Open311 reports come through /open311


class CaseReportSchema(Schema):
    client_id = CLIENT_ID
    category = ma.fields.Str(required=True, validate=ma.validate.Length(1, 32),
                             metadata={"description": "the category's code (GET /api/v1/case-categories)"})
    lon = ma.fields.Float(required=True, **LON)
    lat = ma.fields.Float(required=True, **LAT)
    accuracy_m = ma.fields.Float(load_default=None, allow_nan=False, validate=ma.validate.Range(0, 100000))
    description = ma.fields.Str(load_default="", validate=ma.validate.Length(max=2000))
    address = ma.fields.Str(load_default="", validate=ma.validate.Length(max=200))
    evidence = ma.fields.List(ma.fields.Int(), load_default=list, validate=ma.validate.Length(max=20),
                              metadata={"description": "ids of the caller's evidence records (the \"before\" photos)"})
    evidence_client_ids = ma.fields.List(
        ma.fields.Str(validate=ma.validate.Length(8, 64)), load_default=list, validate=ma.validate.Length(max=20),
        metadata={"description": "or the client ids of the caller's own evidence records: a phone that reported "
                                 "offline knows its photos by these"})
    source = ma.fields.Str(load_default=None, validate=ma.validate.OneOf(INTERNAL_SOURCES),
                           metadata={"description": "default: supervisor for a village supervisor, else patrol"})
    reporter_name = ma.fields.Str(load_default=None, validate=ma.validate.Length(max=64),
                                  metadata={"description": "a hotline caller's name: never shown publicly"})
    reported_at = ma.fields.AwareDateTime(load_default=None,
                                          metadata={"description": "when the phone saw it (an offline report)"})


class CaseActionRequestSchema(Schema):
    action = ma.fields.Str(required=True, validate=ma.validate.OneOf([a for a in CASE_ACTIONS
                                                                       if a not in ("report", "escalate")]))
    client_id = ma.fields.Str(load_default=None, validate=ma.validate.Length(8, 64),
                              metadata={"description": "made by the phone: a retried action is applied once"})
    lon = ma.fields.Float(load_default=None, **LON)
    lat = ma.fields.Float(load_default=None, **LAT)
    accuracy_m = ma.fields.Float(load_default=None, allow_nan=False, validate=ma.validate.Range(0, 100000))
    note = ma.fields.Str(load_default="", validate=ma.validate.Length(max=2000))
    evidence = ma.fields.List(ma.fields.Int(), load_default=list, validate=ma.validate.Length(max=20))
    evidence_client_ids = ma.fields.List(ma.fields.Str(validate=ma.validate.Length(8, 64)), load_default=list,
                                         validate=ma.validate.Length(max=20),
                                         metadata={"description": "or the caller's own evidence by client id"})
    reason = ma.fields.Str(load_default=None, validate=ma.validate.Length(1, 500),
                           metadata={"description": "reject, return, park, extend"})
    squad_id = ma.fields.Int(load_default=None, metadata={"description": "dispatch: the squad"})
    assignee_id = ma.fields.Int(load_default=None, metadata={"description": "dispatch: the officer"})
    matter = ma.fields.Str(load_default=None, validate=ma.validate.Length(1, 32),
                           metadata={"description": "whistle: the whistle matter's code"})
    needs_works = ma.fields.Bool(load_default=None, metadata={"description": "acknowledge: handling needs works"})
    passed = ma.fields.Bool(load_default=None, metadata={"description": "verify: fixed (true) or not (false)"})
    minutes = ma.fields.Int(load_default=None, validate=ma.validate.Range(1, 525600),
                            metadata={"description": "extend: minutes on the category's clock"})
    approve = ma.fields.Bool(load_default=None,
                             metadata={"description": "extend, return, park: a leader's answer to a request"})
    into = ma.fields.Int(load_default=None, metadata={"description": "merge: the original case's id"})


class ActionSchema(Schema):
    id = ma.fields.Int()
    action = ma.fields.Str(metadata={"enum": list(CASE_ACTIONS)})
    actor_id = ma.fields.Int(allow_none=True)
    actor_name = ma.fields.Str(allow_none=True)
    at = ma.fields.AwareDateTime()
    lon = ma.fields.Float(allow_none=True)
    lat = ma.fields.Float(allow_none=True)
    accuracy_m = ma.fields.Float(allow_none=True)
    from_status = ma.fields.Str(allow_none=True)
    to_status = ma.fields.Str()
    note = ma.fields.Str()
    data = ma.fields.Dict()
    evidence_ids = ma.fields.List(ma.fields.Int())


class CaseEvidenceSchema(Schema):
    evidence_id = ma.fields.Int()
    stage = ma.fields.Str(metadata={"enum": ["before", "after", "verify"]})
    display_url = ma.fields.Method("_display")
    thumbnail_url = ma.fields.Method("_thumb")
    watermark_url = ma.fields.Method("_watermark")
    content_credentials = ma.fields.Nested(
        ContentCredentialsSchema, allow_none=True, dump_default=None,
        metadata={"description": "the photo's C2PA content credentials (as on the evidence record); null: none"})

    def _display(self, link):
        return f"/api/v1/evidence/{link.evidence_id}/files/display"

    def _thumb(self, link):
        return f"/api/v1/evidence/{link.evidence_id}/files/thumbnail"

    def _watermark(self, link):
        return f"/api/v1/evidence/{link.evidence_id}/files/watermark"


class CategoryRefSchema(Schema):
    code = ma.fields.Str()
    name = ma.fields.Str()
    field = ma.fields.Str()


class CaseSchema(Schema):
    id = ma.fields.Int()
    client_id = ma.fields.Str()
    source = ma.fields.Str(metadata={"enum": list(CASE_SOURCES)})
    category = ma.fields.Nested(CategoryRefSchema)
    description = ma.fields.Str()
    address = ma.fields.Str()
    lon = ma.fields.Float()
    lat = ma.fields.Float()
    accuracy_m = ma.fields.Float(allow_none=True)
    grid_id = ma.fields.Int(allow_none=True)
    village_id = ma.fields.Int(allow_none=True)
    zone_id = ma.fields.Int(allow_none=True)
    town_id = ma.fields.Int(allow_none=True)
    squad_id = ma.fields.Int(allow_none=True)
    reported_by_id = ma.fields.Int(allow_none=True)
    status = ma.fields.Str(metadata={"enum": list(CASE_STATUSES)})
    open = ma.fields.Bool()
    assignee_id = ma.fields.Int(allow_none=True)
    department_id = ma.fields.Int(allow_none=True)
    needs_works = ma.fields.Bool()
    pending = ma.fields.Dict(allow_none=True, metadata={"description": "an exception request awaiting approval"})
    merged_into_id = ma.fields.Int(allow_none=True)
    rework_count = ma.fields.Int()
    extension_count = ma.fields.Int()
    reported_at = ma.fields.AwareDateTime()
    accepted_at = ma.fields.AwareDateTime(allow_none=True)
    dispatched_at = ma.fields.AwareDateTime(allow_none=True)
    acknowledged_at = ma.fields.AwareDateTime(allow_none=True)
    handled_at = ma.fields.AwareDateTime(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    respond_due_at = ma.fields.AwareDateTime(allow_none=True)
    report_in_due_at = ma.fields.AwareDateTime(allow_none=True)
    handle_due_at = ma.fields.AwareDateTime(allow_none=True)
    overdue = ma.fields.List(ma.fields.Str(), attribute="overdue_now",
                             metadata={"description": "limits run over now: respond, report_in, handle"})
    escalated_at = ma.fields.AwareDateTime(allow_none=True)
    version = ma.fields.Int()


class DuplicateSchema(Schema):
    id = ma.fields.Int()
    status = ma.fields.Str()
    distance_m = ma.fields.Float()
    reported_at = ma.fields.AwareDateTime()
    description = ma.fields.Str()
    photo_url = ma.fields.Str(allow_none=True, metadata={"description": "the first photo, display size"})


class CaseCreatedSchema(CaseSchema):
    possible_duplicates = ma.fields.List(ma.fields.Nested(DuplicateSchema),
                                         metadata={"description": "open cases of the category nearby, nearest 5"})


class CaseDetailSchema(CaseSchema):
    timeline = ma.fields.List(ma.fields.Nested(ActionSchema))
    evidence = ma.fields.List(ma.fields.Nested(CaseEvidenceSchema))
    co_reporter_ids = ma.fields.List(ma.fields.Int())
    close_conditions = ma.fields.Str()


class CaseQuerySchema(Schema):
    status = ma.fields.List(ma.fields.Str(validate=ma.validate.OneOf(CASE_STATUSES)))
    category = ma.fields.Str(validate=ma.validate.Length(1, 32))
    area = ma.fields.Int(metadata={"description": "a grid, village, zone or town id"})
    squad = ma.fields.Int()
    department = ma.fields.Int()
    assignee = ma.fields.Int()
    overdue = ma.fields.Bool()
    open = ma.fields.Bool()
    source = ma.fields.Str(validate=ma.validate.OneOf(CASE_SOURCES))
    reported_from = ma.fields.AwareDateTime()
    reported_to = ma.fields.AwareDateTime()
    q = ma.fields.Str(validate=ma.validate.Length(1, 100), metadata={"description": "words in description or address"})
    mine = ma.fields.Bool(metadata={"description": "reported by me, or given to me"})


BBOX_MESSAGE = "Give min_lon,min_lat,max_lon,max_lat: four numbers in degrees, each min below its max."


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    try:
        x0, y0, x1, y1 = (float(v) for v in raw.split(","))
    except ValueError:
        raise ma.ValidationError(BBOX_MESSAGE) from None
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):  # also false for NaN
        raise ma.ValidationError(BBOX_MESSAGE)
    return x0, y0, x1, y1


class CaseMapQuerySchema(CaseQuerySchema):
    bbox = ma.fields.Str(metadata={"description": "min_lon,min_lat,max_lon,max_lat (WGS-84 degrees)"},
                         validate=[ma.validate.Length(max=100), parse_bbox])


class CategorySchema(Schema):
    code = ma.fields.Str()
    name = ma.fields.Str()
    field = ma.fields.Str()
    default_department_code = ma.fields.Str(allow_none=True)
    whistleable = ma.fields.Bool()
    close_conditions = ma.fields.Str()
    clock = ma.fields.Str(metadata={"enum": ["natural", "working"]})
    respond_minutes = ma.fields.Int()
    handle_minutes = ma.fields.Int()
    works_minutes = ma.fields.Int(allow_none=True)
    duplicate_radius_m = ma.fields.Float(allow_none=True)


class WhistleMatterSchema(Schema):
    code = ma.fields.Str()
    name = ma.fields.Str()
    field = ma.fields.Str()
    department_code = ma.fields.Str()
    report_in_minutes = ma.fields.Int()
    clock = ma.fields.Str(metadata={"enum": ["natural", "working"]})


class CalendarDaySchema(Schema):
    day = ma.fields.Date()
    kind = ma.fields.Str(metadata={"enum": ["rest", "work"]})
    name = ma.fields.Str()
    provisional = ma.fields.Bool()


class CalendarEntrySchema(Schema):
    day = ma.fields.Date(required=True)
    kind = ma.fields.Str(required=True, validate=ma.validate.OneOf(["rest", "work"]),
                         metadata={"description": "rest: a public holiday; work: a make-up working day (调休上班)"})
    name = ma.fields.Str(required=True, validate=ma.validate.Length(1, 32), metadata={"description": "元旦, 春节, ..."})


class CalendarYearSchema(Schema):
    days = ma.fields.List(ma.fields.Nested(CalendarEntrySchema), required=True,
                          validate=ma.validate.Length(1, 200), metadata={
                              "description": "every holiday and make-up working day of the year, as the State "
                                             "Council's notice sets them"})


class CalendarQuerySchema(Schema):
    year = ma.fields.Int(validate=ma.validate.Range(2000, 2100))


class NearbyQuerySchema(Schema):
    category = ma.fields.Str(required=True, validate=ma.validate.Length(1, 32))
    lon = ma.fields.Float(required=True, **LON)
    lat = ma.fields.Float(required=True, **LAT)


class CaseMapSchema(Schema):
    type = ma.fields.Str(metadata={"enum": ["FeatureCollection"]})
    features = ma.fields.List(ma.fields.Dict(), metadata={"description": "Point features (id: the case's) with "
                                                                         "status, category, reported_at, overdue, "
                                                                         "squad_id"})
    truncated = ma.fields.Bool(metadata={"description": "more cases matched than the map shows (5,000)"})


class StatsQuerySchema(Schema):
    reported_from = ma.fields.AwareDateTime(metadata={"description": "the period's start (reports from)"})
    reported_to = ma.fields.AwareDateTime(metadata={"description": "the period's end (reports before)"})
    by = ma.fields.Str(load_default="none", validate=ma.validate.OneOf(
        ["none", "squad", "grid", "category", "department", "day", "week", "month"]), metadata={
        "description": "groups: by squad, grid, category or department, or by the day, ISO week or month of the "
                       "report (Beijing time; the key is 20261203, 202649 or 202612, the name 2026-12-03, 2026-W49 "
                       "or 2026-12)"})
    category = ma.fields.Str(validate=ma.validate.Length(1, 32))
    area = ma.fields.Int()
    squad = ma.fields.Int()
    department = ma.fields.Int()
    source = ma.fields.Str(validate=ma.validate.OneOf(CASE_SOURCES))


class FiguresSchema(Schema):
    counts = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Int())
    ratios = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Float(allow_none=True),
                            metadata={"description": "立案率 acceptance_rate, 派遣率 dispatch_rate, 结案率 close_rate, "
                                                     "按期结案率 close_in_time_rate, 按期处置率 handle_in_time_rate, "
                                                     "返工率 rework_rate, 延期率 extension_rate, "
                                                     "吹哨响应率 whistle_response_rate; null when nothing to divide by"})
    median_minutes = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Float(allow_none=True))


class GroupFiguresSchema(FiguresSchema):
    key = ma.fields.Int(allow_none=True)
    name = ma.fields.Str(allow_none=True)


class CaseStatsSchema(Schema):
    group_by = ma.fields.Str()
    total = ma.fields.Nested(FiguresSchema)
    groups = ma.fields.List(ma.fields.Nested(GroupFiguresSchema))


class InboxItemSchema(Schema):
    case_id = ma.fields.Int()
    need = ma.fields.Str(metadata={"enum": ["acknowledge", "handle", "accept", "dispatch", "approve", "close",
                                            "verify"], "description": "the step waiting for the caller"})
    status = ma.fields.Str()
    category = ma.fields.Str()
    description = ma.fields.Str()
    reported_at = ma.fields.AwareDateTime()
    due_at = ma.fields.AwareDateTime(allow_none=True)
    overdue = ma.fields.List(ma.fields.Str())
    due_soon = ma.fields.Bool(metadata={"description": "within two hours of its limit"})
    pending = ma.fields.Dict(allow_none=True)
