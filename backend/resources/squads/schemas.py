"""Schemas for squads."""
from __future__ import annotations

import marshmallow as ma

from ...extensions.api import Schema


class MemberSchema(Schema):
    id = ma.fields.Int()
    username = ma.fields.Str()
    display_name = ma.fields.Str()
    roles = ma.fields.List(ma.fields.Str())


class SquadSchema(Schema):
    id = ma.fields.Int(dump_only=True)
    name = ma.fields.Str()
    active = ma.fields.Bool()
    area_ids = ma.fields.Method("_area_ids")
    leaders = ma.fields.List(ma.fields.Nested(MemberSchema), dump_only=True)
    members = ma.fields.List(ma.fields.Nested(MemberSchema), dump_only=True)

    def _area_ids(self, squad):
        return [a.id for a in squad.areas]


class SquadCreateSchema(Schema):
    name = ma.fields.Str(required=True, validate=ma.validate.Length(1, 100))
    area_ids = ma.fields.List(ma.fields.Int(), load_default=list)


class SquadUpdateSchema(Schema):
    name = ma.fields.Str(validate=ma.validate.Length(1, 100))
    area_ids = ma.fields.List(ma.fields.Int())
    active = ma.fields.Bool()
