"""GET /api/v1/me and POST /api/v1/me/password."""
from __future__ import annotations

import marshmallow as ma
from sqlalchemy import select

from ...context import client_addr, current_user
from ...errors import InvalidInput
from ...extensions.api import Blueprint, Schema
from ...extensions.database import get_session
from ...models import Area
from ...policies import area_scope, scoped_areas
from ...security import verify_password
from ...services.core import audit, auth
from ..users.schemas import UserSchema

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in user")


class MeSchema(Schema):
    user = ma.fields.Nested(UserSchema)
    area_ids = ma.fields.List(ma.fields.Int())
    area_counts = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Int())


class PasswordChangeSchema(Schema):
    current_password = ma.fields.Str(required=True, load_only=True)
    new_password = ma.fields.Str(required=True, load_only=True)


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
    """Change one's own password; every refresh token of the user is revoked."""
    session, user = get_session(), current_user()
    if not verify_password(user.password_hash, body["current_password"]):
        raise InvalidInput("password_wrong", details={"fields": {"current_password": "wrong"}})
    auth.set_password(session, user, body["new_password"])
    audit.record(session, "user.password_changed", "user", user.id, actor=user, client_addr=client_addr())
    session.commit()
