"""Schemas for coverage per grid, grids not visited for N days, and the coverage map tiles."""
from __future__ import annotations

import marshmallow as ma

from ...extensions.api import Schema

MAX_PERIOD_DAYS = 366


class CoverageFilterSchema(Schema):
    area = ma.fields.Int(metadata={"description": "only grids under (or, for a village, overlapping) this area"})
    squad = ma.fields.Int()
    officer = ma.fields.Int()


class CoverageQuerySchema(CoverageFilterSchema):
    date_from = ma.fields.Date(data_key="from", metadata={"description": "local date, default today"})
    date_to = ma.fields.Date(data_key="to", metadata={"description": "local date, default = from"})

    @ma.validates_schema
    def _period(self, data, **kwargs):
        if "date_from" in data and "date_to" in data:
            days = (data["date_to"] - data["date_from"]).days
            if days < 0:
                raise ma.ValidationError("to is before from", "to")
            if days >= MAX_PERIOD_DAYS:
                raise ma.ValidationError(f"at most {MAX_PERIOD_DAYS} days", "to")


class TileQuerySchema(CoverageQuerySchema):
    crs = ma.fields.Str(load_default="wgs84", validate=ma.validate.OneOf(["wgs84", "gcj02"]),
                        metadata={"description": "the basemap's datum: gcj02 for Gaode/AMap and Tencent"})


class UnvisitedQuerySchema(CoverageFilterSchema):
    days = ma.fields.Int(load_default=7, validate=ma.validate.Range(1, 3650))


class GridCoverageSchema(Schema):
    grid_id = ma.fields.Int()
    name = ma.fields.Str()
    code = ma.fields.Str(allow_none=True)
    area_m2 = ma.fields.Float()
    covered_ratio = ma.fields.Float(metadata={"description": "0..1"})
    covered_m2 = ma.fields.Float()
    patrols = ma.fields.Int()
    officers = ma.fields.Int()
    last_visited_at = ma.fields.DateTime(allow_none=True)


class CoverageSchema(Schema):
    date_from = ma.fields.Date(data_key="from")
    date_to = ma.fields.Date(data_key="to")
    items = ma.fields.List(ma.fields.Nested(GridCoverageSchema))


class UnvisitedGridSchema(Schema):
    grid_id = ma.fields.Int()
    name = ma.fields.Str()
    code = ma.fields.Str(allow_none=True)
    last_visited_at = ma.fields.DateTime(allow_none=True)
    days_since = ma.fields.Int(allow_none=True, metadata={"description": "whole days; null: never visited"})


class UnvisitedSchema(Schema):
    days = ma.fields.Int()
    items = ma.fields.List(ma.fields.Nested(UnvisitedGridSchema))
