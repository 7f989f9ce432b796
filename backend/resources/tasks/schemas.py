"""Schemas for patrol tasks (排班)."""
from __future__ import annotations

import re

import marshmallow as ma

from ...extensions.api import Schema

HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class TaskCreateSchema(Schema):
    client_id = ma.fields.Str(required=True, validate=ma.validate.Length(8, 64))
    officer_id = ma.fields.Int(required=True)
    date = ma.fields.Date(required=True, metadata={"description": "local (Asia/Shanghai) date"})
    shift_start = ma.fields.Str(required=True, validate=ma.validate.Regexp(HH_MM), metadata={"example": "08:30"})
    shift_end = ma.fields.Str(required=True, validate=ma.validate.Regexp(HH_MM),
                              metadata={"description": "not after shift_start: the next day (night shift)"})
    grid_ids = ma.fields.List(ma.fields.Int(), required=True, validate=ma.validate.Length(1, 200))
    coverage_target = ma.fields.Float(load_default=0.8, validate=ma.validate.Range(0.05, 1.0))
    min_visits = ma.fields.Int(load_default=1, validate=ma.validate.Range(1, 20))
    note = ma.fields.Str(load_default="", validate=ma.validate.Length(max=500))


class GridProgressSchema(Schema):
    grid_id = ma.fields.Int()
    covered_ratio = ma.fields.Float()
    visits = ma.fields.Int()


class ProgressSchema(Schema):
    covered_ratio = ma.fields.Float()
    visits = ma.fields.Int(metadata={"description": "the fewest visits of any of the task's grids"})
    met = ma.fields.Bool()
    grids = ma.fields.List(ma.fields.Nested(GridProgressSchema))


class TaskSchema(Schema):
    id = ma.fields.Int()
    client_id = ma.fields.Str()
    officer_id = ma.fields.Int()
    officer_name = ma.fields.Str(allow_none=True)
    squad_id = ma.fields.Int(allow_none=True)
    date = ma.fields.Date()
    shift_start = ma.fields.Str()
    shift_end = ma.fields.Str()
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    grid_ids = ma.fields.List(ma.fields.Int())
    coverage_target = ma.fields.Float()
    min_visits = ma.fields.Int()
    note = ma.fields.Str()
    progress = ma.fields.Nested(ProgressSchema)
    created_by_id = ma.fields.Int()
    created_at = ma.fields.DateTime()


class TaskQuerySchema(Schema):
    date = ma.fields.Date()
    date_from = ma.fields.Date(data_key="from")
    date_to = ma.fields.Date(data_key="to")
    officer = ma.fields.Int()
    squad = ma.fields.Int()


class MyTasksQuerySchema(Schema):
    date = ma.fields.Date(metadata={"description": "default: today (Asia/Shanghai)"})


class TaskListSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(TaskSchema))
