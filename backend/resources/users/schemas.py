"""Schemas for users: what is shown, and what an admin may set."""
from __future__ import annotations

import marshmallow as ma

from ...extensions.api import Schema
from ...models import ROLES


class RefSchema(Schema):
    id = ma.fields.Int()
    name = ma.fields.Str()


class UserSchema(Schema):
    id = ma.fields.Int(dump_only=True)
    username = ma.fields.Str()
    display_name = ma.fields.Str()
    phone = ma.fields.Str(allow_none=True)
    roles = ma.fields.List(ma.fields.Str())
    squad = ma.fields.Nested(RefSchema, allow_none=True)
    village = ma.fields.Nested(RefSchema, allow_none=True)
    department = ma.fields.Nested(RefSchema, allow_none=True)
    certificate_no = ma.fields.Str(allow_none=True)
    certificate_expires_on = ma.fields.Date(allow_none=True)
    active = ma.fields.Bool()


class UserPublicSchema(Schema):
    """What a colleague sees: no phone, no certificate details."""

    id = ma.fields.Int()
    username = ma.fields.Str()
    display_name = ma.fields.Str()
    roles = ma.fields.List(ma.fields.Str())
    squad = ma.fields.Nested(RefSchema, allow_none=True)
    active = ma.fields.Bool()


_role = ma.fields.Str(validate=ma.validate.OneOf(ROLES))


class UserCreateSchema(Schema):
    username = ma.fields.Str(required=True, validate=[ma.validate.Length(2, 64), ma.validate.Regexp(r"^[A-Za-z0-9_.-]+$")])
    display_name = ma.fields.Str(required=True, validate=ma.validate.Length(1, 64))
    password = ma.fields.Str(required=True, load_only=True)
    phone = ma.fields.Str(allow_none=True, validate=ma.validate.Length(max=32))
    roles = ma.fields.List(_role, required=True, validate=ma.validate.Length(min=1))
    squad_id = ma.fields.Int(allow_none=True)
    village_id = ma.fields.Int(allow_none=True)
    department_id = ma.fields.Int(allow_none=True)
    certificate_no = ma.fields.Str(allow_none=True, validate=ma.validate.Length(max=64))
    certificate_expires_on = ma.fields.Date(allow_none=True)


class UserUpdateSchema(Schema):
    display_name = ma.fields.Str(validate=ma.validate.Length(1, 64))
    phone = ma.fields.Str(allow_none=True, validate=ma.validate.Length(max=32))
    roles = ma.fields.List(_role, validate=ma.validate.Length(min=1))
    squad_id = ma.fields.Int(allow_none=True)
    village_id = ma.fields.Int(allow_none=True)
    department_id = ma.fields.Int(allow_none=True)
    certificate_no = ma.fields.Str(allow_none=True, validate=ma.validate.Length(max=64))
    certificate_expires_on = ma.fields.Date(allow_none=True)
    active = ma.fields.Bool()


class PasswordResetSchema(Schema):
    password = ma.fields.Str(required=True, load_only=True)


class UserQuerySchema(Schema):
    role = _role
    squad = ma.fields.Int()
    active = ma.fields.Bool()
    q = ma.fields.Str(validate=ma.validate.Length(max=64))
