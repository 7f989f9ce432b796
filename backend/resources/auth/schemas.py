"""Schemas for sign-in and tokens."""
from __future__ import annotations

import marshmallow as ma

from ...extensions.api import Schema
from ..users.schemas import UserSchema


class LoginSchema(Schema):
    username = ma.fields.Str(required=True, validate=ma.validate.Length(1, 64))
    password = ma.fields.Str(required=True, load_only=True, validate=ma.validate.Length(1, 256))


class RefreshSchema(Schema):
    refresh_token = ma.fields.Str(required=True, validate=ma.validate.Length(1, 256))


class TokenPairSchema(Schema):
    access_token = ma.fields.Str()
    refresh_token = ma.fields.Str()
    token_type = ma.fields.Str(dump_default="Bearer")
    expires_in = ma.fields.Int()
    refresh_expires_in = ma.fields.Int()
    user = ma.fields.Nested(UserSchema)
