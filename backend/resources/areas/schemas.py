"""Schemas for areas: GeoJSON out, query and import parameters in."""
from __future__ import annotations

import marshmallow as ma

from ...extensions.api import Schema
from ...models import AREA_KINDS

_kind = ma.fields.Str(validate=ma.validate.OneOf(AREA_KINDS))


class AreaQuerySchema(Schema):
    kind = _kind
    parent = ma.fields.Int()


class LocateQuerySchema(Schema):
    lon = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180))
    lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90))


class ImportSchema(Schema):
    """The multipart upload: the GeoJSON file and how to read it."""

    class Meta:
        unknown = ma.EXCLUDE

    file = ma.fields.Raw(metadata={"type": "string", "format": "binary", "description": "GeoJSON FeatureCollection"})
    kind = ma.fields.Str(required=True, validate=ma.validate.OneOf(AREA_KINDS))
    parent = ma.fields.Int(allow_none=True)
    name_property = ma.fields.Str(validate=ma.validate.Length(1, 64))
    code_property = ma.fields.Str(validate=ma.validate.Length(1, 64))


class AreaRefSchema(Schema):
    id = ma.fields.Int()
    name = ma.fields.Str()
    code = ma.fields.Str(allow_none=True)


class LocateSchema(Schema):
    grid = ma.fields.Nested(AreaRefSchema, allow_none=True)
    zone = ma.fields.Nested(AreaRefSchema, allow_none=True)
    village = ma.fields.Nested(AreaRefSchema, allow_none=True)
    town = ma.fields.Nested(AreaRefSchema, allow_none=True)


class ImportResultSchema(Schema):
    created_ids = ma.fields.List(ma.fields.Int())
    rejected = ma.fields.List(ma.fields.Dict())
    repaired = ma.fields.List(ma.fields.Dict())
    source_crs = ma.fields.Str()
