"""Schemas for inspection plans, their frozen pools and their draws."""
from __future__ import annotations

import marshmallow as ma

from ...extensions.api import Schema
from ...models import PLAN_KINDS, PLAN_STATUSES, RISK_GRADES


class SampleRuleSchema(Schema):
    count = ma.fields.Int(strict=True, validate=ma.validate.Range(1, 100000))
    ratio = ma.fields.Float(allow_nan=False, validate=ma.validate.Range(0, 1, min_inclusive=False))

    @ma.validates_schema
    def one_of(self, data, **_):
        if ("count" in data) == ("ratio" in data):
            raise ma.ValidationError("give count or ratio, not both", "count")


class TargetFilterSchema(Schema):
    industries = ma.fields.List(ma.fields.Str(validate=ma.validate.Length(1, 64)), validate=ma.validate.Length(max=50))
    area_ids = ma.fields.List(ma.fields.Int(strict=True), validate=ma.validate.Length(max=500))
    risk_grades = ma.fields.List(ma.fields.Str(validate=ma.validate.OneOf(RISK_GRADES)))
    only_scenario = ma.fields.Bool(metadata={"description": "only businesses of the plan's scenario (its code, or "
                                                           "one of its industries); default true"})


class PlanSchema(Schema):
    id = ma.fields.Int(dump_only=True)
    client_id = ma.fields.Str(required=True, validate=ma.validate.Length(8, 64),
                              metadata={"description": "made by the client; a retry returns the stored plan"})
    name = ma.fields.Str(required=True, validate=ma.validate.Length(1, 200))
    kind = ma.fields.Str(load_default="random", validate=ma.validate.OneOf(PLAN_KINDS),
                         metadata={"description": "random: 双随机 over the register; directed: named businesses"})
    enforcing_body = ma.fields.Str(required=True, validate=ma.validate.Length(1, 200),
                                   metadata={"description": "执法主体, printed on the notice"})
    task_source = ma.fields.Str(load_default="", validate=ma.validate.Length(max=200),
                                metadata={"description": "任务来源, e.g. 2027年度“双随机、一公开”抽查计划"})
    scenario = ma.fields.Str(required=True, load_only=True, validate=ma.validate.Length(1, 32),
                             metadata={"description": "the scenario's code; the plan keeps its current version"})
    scenario_code = ma.fields.Str(dump_only=True)
    scenario_version = ma.fields.Int(dump_only=True, attribute="scenario_version_number")
    target_filter = ma.fields.Nested(TargetFilterSchema, load_default=dict)
    business_ids = ma.fields.List(ma.fields.Int(strict=True), load_default=list, validate=ma.validate.Length(max=5000))
    sample = ma.fields.Dict(keys=ma.fields.Str(validate=ma.validate.OneOf(RISK_GRADES)),
                            values=ma.fields.Nested(SampleRuleSchema), load_default=dict,
                            metadata={"description": "per risk grade: {\"C\": {\"ratio\": 0.1}, \"D\": {\"count\": 5}}"})
    inspectors_per_target = ma.fields.Int(strict=True, load_default=2, validate=ma.validate.Range(2, 10))
    max_targets_per_inspector = ma.fields.Int(strict=True, load_default=None, allow_none=True,
                                              validate=ma.validate.Range(1, 10000))
    department_codes = ma.fields.List(ma.fields.Str(validate=ma.validate.Length(1, 32)), load_default=None,
                                      validate=ma.validate.Length(max=30),
                                      metadata={"description": "the inspector pool's departments; default: those "
                                                               "of the checklist's items"})
    include_town_officers = ma.fields.Bool(load_default=True)
    inspector_ids = ma.fields.List(ma.fields.Int(strict=True), load_default=list, validate=ma.validate.Length(max=2000),
                                   metadata={"description": "or the pool person by person"})
    recusal_rule_codes = ma.fields.List(ma.fields.Str(validate=ma.validate.Length(1, 32)), load_default=None,
                                        metadata={"description": "default: every active rule"})
    recent_days = ma.fields.Int(strict=True, load_default=180, validate=ma.validate.Range(1, 3650))
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)
    status = ma.fields.Str(dump_only=True, metadata={"enum": list(PLAN_STATUSES)})
    created_by_id = ma.fields.Int(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    approved_by_id = ma.fields.Int(dump_only=True, allow_none=True)
    approved_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    approval_note = ma.fields.Str(dump_only=True)
    frozen_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    pools_sha256 = ma.fields.Str(dump_only=True, allow_none=True)
    current_draw_id = ma.fields.Int(dump_only=True, allow_none=True)
    version = ma.fields.Int(dump_only=True)


class PlanQuerySchema(Schema):
    status = ma.fields.Str(validate=ma.validate.OneOf(PLAN_STATUSES))


class ApproveSchema(Schema):
    note = ma.fields.Str(load_default="", validate=ma.validate.Length(max=1000))


class PoolsSchema(Schema):
    pools_sha256 = ma.fields.Str()
    frozen_at = ma.fields.AwareDateTime()
    pools = ma.fields.Dict(metadata={"description": "the frozen document whose canonical JSON (UTF-8, keys sorted, "
                                                    "no spaces) hashes to pools_sha256"})


class DrawRequestSchema(Schema):
    seed = ma.fields.Str(required=True, validate=ma.validate.Length(1, 200),
                         metadata={"description": "from a public event after the freeze: dice rolled in public, a "
                                                  "published lottery number"})
    seed_source = ma.fields.Str(required=True, validate=ma.validate.Length(1, 500),
                                metadata={"description": "where the seed came from, for anyone to check"})
    reason = ma.fields.Str(load_default=None, validate=ma.validate.Length(1, 500),
                           metadata={"description": "a re-draw's reason (the earlier draw is kept)"})


class TeamMemberSchema(Schema):
    id = ma.fields.Int(strict=True)
    name = ma.fields.Str()


class DrawnTargetSchema(Schema):
    business_id = ma.fields.Int(strict=True)
    credit_code = ma.fields.Str()
    name = ma.fields.Str()
    grade = ma.fields.Str()
    inspectors = ma.fields.List(ma.fields.Nested(TeamMemberSchema))
    inspection_id = ma.fields.Int(strict=True, allow_none=True)


class DrawSchema(Schema):
    id = ma.fields.Int(strict=True)
    plan_id = ma.fields.Int(strict=True)
    seed = ma.fields.Str()
    seed_source = ma.fields.Str()
    algorithm = ma.fields.Str()
    pools_sha256 = ma.fields.Str()
    result_sha256 = ma.fields.Str()
    drawn_at = ma.fields.AwareDateTime()
    drawn_by_id = ma.fields.Int(strict=True)
    redraw_of_id = ma.fields.Int(strict=True, allow_none=True)
    redraw_reason = ma.fields.Str(allow_none=True)
    superseded_at = ma.fields.AwareDateTime(allow_none=True)
    public_url = ma.fields.Str(metadata={"description": "the page anyone may read (一公开)"})
    targets = ma.fields.List(ma.fields.Nested(DrawnTargetSchema))


class RecusalRuleSchema(Schema):
    id = ma.fields.Int(dump_only=True)
    code = ma.fields.Str(dump_only=True)
    kind = ma.fields.Str(dump_only=True, metadata={"enum": ["previous_inspector", "declared_conflict", "own_area"]})
    name = ma.fields.Str(validate=ma.validate.Length(1, 100))
    params = ma.fields.Dict(metadata={"description": "previous_inspector: {\"last\": n} inspections looked back"})
    active = ma.fields.Bool()


class RecusalRuleUpdateSchema(Schema):
    name = ma.fields.Str(validate=ma.validate.Length(1, 100))
    params = ma.fields.Dict(metadata={"description": "previous_inspector: {\"last\": n}, 1–10"})
    active = ma.fields.Bool()


class ConflictSchema(Schema):
    id = ma.fields.Int(dump_only=True)
    user_id = ma.fields.Int(strict=True, load_default=None, metadata={"description": "default: the caller"})
    business_id = ma.fields.Int(strict=True, required=True)
    reason = ma.fields.Str(required=True, validate=ma.validate.Length(1, 200),
                           metadata={"description": "e.g. 近亲属经营、曾在该单位任职"})
    declared_by_id = ma.fields.Int(dump_only=True, allow_none=True)
    declared_at = ma.fields.AwareDateTime(dump_only=True)
