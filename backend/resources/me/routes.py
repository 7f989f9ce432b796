"""GET /api/v1/me and POST /api/v1/me/password."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app
from sqlalchemy import select

from ...context import client_addr, current_user
from ...extensions.api import Blueprint, Schema
from ...extensions.database import get_session
from ...models import Area
from ...policies import area_scope, scoped_areas
from ...services.core import auth
from ..users.schemas import UserSchema

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in user")


class MeSchema(Schema):
    user = ma.fields.Nested(UserSchema)
    area_ids = ma.fields.List(ma.fields.Int())
    area_counts = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Int())


class PasswordChangeSchema(Schema):
    current_password = ma.fields.Str(required=True, load_only=True, validate=ma.validate.Length(1, 256))
    new_password = ma.fields.Str(required=True, load_only=True, validate=ma.validate.Length(max=256))


@blp.route("")
@blp.response(200, MeSchema)
def me():
    """The user, their roles, squad, and the areas they may see."""
    session, user = get_session(), current_user()
    rows = session.execute(scoped_areas(select(Area.id, Area.kind), area_scope(session, user)).order_by(Area.id)).all()
    counts: dict[str, int] = {}
    for _, kind in rows:
        counts[kind] = counts.get(kind, 0) + 1
    return {"user": user, "area_ids": [area_id for area_id, _ in rows], "area_counts": counts}


@blp.route("/password", methods=["POST"])
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
def change_password(body):
    """Change one's own password; every refresh token of the user is revoked. Wrong current passwords count
    towards the sign-in lock (five in 15 minutes lock the name, 423 as at sign-in)."""
    session, user = get_session(), current_user()
    outcome = auth.change_password(session, current_app.config["GRIDPATROL"], user, body["current_password"],
                                   body["new_password"], client_addr())
    session.commit()
    outcome.result()
