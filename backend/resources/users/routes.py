"""Users: scoped reads; admins create, update, deactivate and reset passwords. Users are never deleted."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import or_, select

from ...context import client_addr, current_user
from ...errors import NotFound
from ...extensions.api import Blueprint, link, links, page_of
from ...extensions.database import get_session
from ...models import User, UserRole
from ...policies import can_read_user_admin_fields, require_admin, scoped_users
from ...services.core import people
from .schemas import (
    PasswordResetSchema,
    UserCreateSchema,
    UserPublicSchema,
    UserQuerySchema,
    UserSchema,
    UserUpdateSchema,
)

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users (admins manage them)")


def _dump(viewer: User, user: User) -> dict:
    schema = UserSchema if can_read_user_admin_fields(viewer, user) else UserPublicSchema
    return schema().dump(user)


def _dumped(many: bool) -> dict:
    """The documented answer of routes that dump by hand (UserSchema or, for colleagues, its public subset)."""
    user = {"$ref": "#/components/schemas/User"}
    schema = {"type": "array", "items": user} if many else user
    return {"responses": {200: {"description": "Colleagues see fewer fields (no phone, no certificate)",
                                "content": {"application/json": {"schema": schema}}}}}


def _visible_user(user_id: int) -> User:
    session, viewer = get_session(), current_user()
    user = session.scalar(scoped_users(select(User).where(User.id == user_id), viewer))
    if user is None:
        raise NotFound()
    return user


@blp.route("")
class Users(MethodView):
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200)
    @blp.doc(**_dumped(many=True))
    @blp.paginate(page_size=100, max_page_size=500)
    def get(self, query, pagination_parameters):
        """Users the caller may see, by display name."""
        session, viewer = get_session(), current_user()
        stmt = scoped_users(select(User), viewer)
        if "role" in query:
            stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == query["role"])))
        if "squad" in query:
            stmt = stmt.where(User.squad_id == query["squad"])
        if "active" in query:
            stmt = stmt.where(User.active == query["active"])
        if query.get("q"):
            like = f"%{query['q']}%"
            stmt = stmt.where(or_(User.username.ilike(like), User.display_name.ilike(like)))
        users = page_of(session, stmt, pagination_parameters, User.id)
        return [_dump(viewer, u) for u in users]

    @blp.arguments(UserCreateSchema)
    @blp.doc(**links(201, get=link("/api/v1/users/{user_id}", "get", "The user", user_id="$response.body#/id"),
                     update=link("/api/v1/users/{user_id}", "patch", "Change them", user_id="$response.body#/id"),
                     password=link("/api/v1/users/{user_id}/password", "post", "Set their password",
                                   user_id="$response.body#/id")))
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a user (admins)."""
        session, actor = get_session(), current_user()
        require_admin(actor)
        user = people.create_user(session, actor, data, client_addr())
        session.commit()
        return user


@blp.route("/<int:user_id>")
class UserById(MethodView):
    @blp.etag
    @blp.response(200)
    @blp.doc(**_dumped(many=False))
    def get(self, user_id):
        """One user; phone and certificate only for the person, their squad leader, commanders and admins."""
        return _dump(current_user(), _visible_user(user_id))

    @blp.etag
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Update or deactivate (`active: false`) a user (admins; If-Match required)."""
        session, actor = get_session(), current_user()
        require_admin(actor)
        user = _visible_user(user_id)
        blp.check_etag(user, UserSchema)
        people.update_user(session, actor, user, data, client_addr())
        session.commit()
        return user


@blp.route("/<int:user_id>/password", methods=["POST"])
@blp.arguments(PasswordResetSchema)
@blp.response(204)
def reset_password(data, user_id):
    """Set a new password for a user (admins); their phones must sign in again."""
    session, actor = get_session(), current_user()
    require_admin(actor)
    people.reset_password(session, actor, _visible_user(user_id), data["password"], client_addr())
    session.commit()
