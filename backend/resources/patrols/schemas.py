"""Schemas for patrols and batches of GPS fixes."""
from __future__ import annotations

import marshmallow as ma

from ...extensions.api import Schema

MAX_FIXES_PER_BATCH = 5000


class PatrolStartSchema(Schema):
    client_id = ma.fields.Str(required=True, validate=ma.validate.Length(8, 64))
    started_at = ma.fields.AwareDateTime(required=True)
    grid_ids = ma.fields.List(ma.fields.Int(), load_default=list, validate=ma.validate.Length(max=500))


class FixSchema(Schema):
    t = ma.fields.AwareDateTime(required=True)
    lon = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(-180, 180))
    lat = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(-90, 90))
    accuracy_m = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(0, 100000))
    speed_mps = ma.fields.Float(allow_none=True, allow_nan=False, validate=ma.validate.Range(0, 1000))
    heading_deg = ma.fields.Float(allow_none=True, allow_nan=False, validate=ma.validate.Range(0, 360))
    altitude_m = ma.fields.Float(allow_none=True, allow_nan=False, validate=ma.validate.Range(-1000, 10000))
    is_mock = ma.fields.Bool(load_default=False)


class PointsBatchSchema(Schema):
    batch_id = ma.fields.Str(required=True, validate=ma.validate.Length(8, 64))
    points = ma.fields.List(ma.fields.Nested(FixSchema), required=True,
                            validate=ma.validate.Length(1, MAX_FIXES_PER_BATCH))


class PatrolEndSchema(Schema):
    ended_at = ma.fields.AwareDateTime(load_default=None)


class BatchAnswerSchema(Schema):
    batch_id = ma.fields.Str()
    received = ma.fields.Int()
    accepted = ma.fields.Int()
    dropped = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Int())
    point_count = ma.fields.Int()


class PatrolSchema(Schema):
    id = ma.fields.Int()
    client_id = ma.fields.Str()
    officer_id = ma.fields.Int()
    squad_id = ma.fields.Int(allow_none=True)
    started_at = ma.fields.DateTime()
    ended_at = ma.fields.DateTime(allow_none=True)
    grid_ids = ma.fields.List(ma.fields.Int())
    raw_count = ma.fields.Int()
    point_count = ma.fields.Int()
    distance_m = ma.fields.Float()
    duration_s = ma.fields.Float()
    moving_time_s = ma.fields.Float()
    dropped = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Int())
    gaps = ma.fields.List(ma.fields.Dict())
    flags = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Int())


class PatrolQuerySchema(Schema):
    officer = ma.fields.Int()
    squad = ma.fields.Int()
    active = ma.fields.Bool()


class GpxImportFormSchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE  # the file part arrives separately

    officer = ma.fields.Str(required=True, validate=ma.validate.Length(1, 64), metadata={"description": "username or id"})


class GpxImportFileSchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE

    file = ma.fields.Raw(metadata={"type": "string", "format": "binary"})


class GpxImportAnswerSchema(Schema):
    patrol_id = ma.fields.Int()
    stored = ma.fields.Int()
    kept = ma.fields.Int()
    dropped = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Int())
    gaps = ma.fields.List(ma.fields.Dict())
