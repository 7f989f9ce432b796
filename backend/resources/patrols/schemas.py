"""Schemas for patrols and batches of GPS fixes."""
from __future__ import annotations

import marshmallow as ma

from ...extensions.api import Schema

MAX_FIXES_PER_BATCH = 5000


class PatrolStartSchema(Schema):
    client_id = ma.fields.Str(required=True, validate=ma.validate.Length(8, 64))
    started_at = ma.fields.AwareDateTime(required=True)
    task_id = ma.fields.Int(load_default=None, metadata={"description": "the task (排班) patrolled: its grids and "
                                                                        "shift end apply"})
    grid_ids = ma.fields.List(ma.fields.Int(), load_default=list, validate=ma.validate.Length(max=500))


class FixSchema(Schema):
    """One fix as documented; batches are checked by services.patrol.fixes.parse_fixes with these same rules."""

    t = ma.fields.AwareDateTime(required=True)
    lon = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(-180, 180))
    lat = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(-90, 90))
    accuracy_m = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(0, 100000))
    speed_mps = ma.fields.Float(allow_none=True, allow_nan=False, validate=ma.validate.Range(0, 1000))
    heading_deg = ma.fields.Float(allow_none=True, allow_nan=False, validate=ma.validate.Range(0, 360))
    altitude_m = ma.fields.Float(allow_none=True, allow_nan=False, validate=ma.validate.Range(-1000, 10000))
    is_mock = ma.fields.Bool(load_default=False)


class FixList(ma.fields.List):
    """A list of fixes, documented as FixSchema items but checked column-wise by services.patrol.fixes (marshmallow
    per item cost 140 ms for 2,000 fixes)."""

    def __init__(self, **kwargs):
        super().__init__(ma.fields.Nested(FixSchema), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise ma.ValidationError("Not a valid list.")
        return value


class PointsBatchSchema(Schema):
    batch_id = ma.fields.Str(required=True, validate=ma.validate.Length(8, 64))
    points = FixList(required=True, validate=ma.validate.Length(1, MAX_FIXES_PER_BATCH))


class PatrolEndSchema(Schema):
    ended_at = ma.fields.AwareDateTime(load_default=None)


class BatchAnswerSchema(Schema):
    batch_id = ma.fields.Str()
    received = ma.fields.Int()
    accepted = ma.fields.Int()
    dropped = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Int())
    point_count = ma.fields.Int()
    ended_at = ma.fields.Str(allow_none=True, metadata={"description": "set once the patrol has ended (by the officer "
                                                                       "or the server): fixes after it (+60 s) are "
                                                                       "off duty"})
    end_reason = ma.fields.Str(allow_none=True)


class PatrolSchema(Schema):
    id = ma.fields.Int()
    client_id = ma.fields.Str()
    officer_id = ma.fields.Int()
    squad_id = ma.fields.Int(allow_none=True)
    started_at = ma.fields.DateTime()
    ended_at = ma.fields.DateTime(allow_none=True)
    end_reason = ma.fields.Str(allow_none=True, metadata={
        "description": "null while running; user | idle (no batch for PATROL_IDLE_END_S) | shift_end | superseded "
                       "| import"})
    last_seen_at = ma.fields.DateTime(allow_none=True, metadata={"description": "the start or the last batch"})
    grid_ids = ma.fields.List(ma.fields.Int())
    task_id = ma.fields.Int(allow_none=True)
    shift_ends_at = ma.fields.DateTime(allow_none=True)
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


class GpxImportSchema(Schema):
    """The multipart upload: the GPX file and whose patrol it is."""

    class Meta:
        unknown = ma.EXCLUDE

    file = ma.fields.Raw(metadata={"type": "string", "format": "binary", "description": "GPX 1.0 or 1.1"})
    officer = ma.fields.Str(required=True, validate=ma.validate.Length(1, 64), metadata={"description": "username or id"})


class GpxImportAnswerSchema(Schema):
    patrol_id = ma.fields.Int()
    stored = ma.fields.Int()
    kept = ma.fields.Int()
    dropped = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Int())
    gaps = ma.fields.List(ma.fields.Dict())


class TrackQuerySchema(Schema):
    format = ma.fields.Str(load_default="geojson", validate=ma.validate.OneOf(["geojson", "gpx", "kml"]))


class GridShareSchema(Schema):
    grid_id = ma.fields.Int()
    covered_ratio = ma.fields.Float()
    covered_m2 = ma.fields.Float()


class PatrolCoverageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(GridShareSchema))


class PositionsQuerySchema(Schema):
    squad = ma.fields.Int()


class PositionSchema(Schema):
    officer_id = ma.fields.Int()
    officer_name = ma.fields.Str(allow_none=True)
    patrol_id = ma.fields.Int()
    active = ma.fields.Bool()
    t = ma.fields.DateTime()
    lon = ma.fields.Float()
    lat = ma.fields.Float()
    accuracy_m = ma.fields.Float(allow_none=True)


class PositionsSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(PositionSchema))
