"""The signed-in user of the current request, authenticated once before every /api/v1 handler."""
from __future__ import annotations

from flask import current_app, g, request
from sqlalchemy.orm import joinedload, lazyload

from .errors import NotAuthenticated
from .extensions.database import get_session
from .models import User
from .security import decode_access_token, password_stamp

# Endpoints reachable without a token; everything else under /api/v1 requires one (deny by default).
PUBLIC_ENDPOINTS = {"auth.login", "auth.refresh", "auth.logout", "config.get_config", "uploads.discover"}


_USER_OPTIONS = (joinedload(User.role_rows), lazyload(User.village), lazyload(User.department))


def authenticate_request() -> None:
    if not request.path.startswith("/api/v1/") or request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise NotAuthenticated()
    claims = decode_access_token(current_app.config["SECRET_KEY"], header[7:].strip())
    # The roles in the same query (a join), not a second one: this runs before every request. Village and
    # department load only where a request reads them (eager loaders cost ~1 ms here even when they are null).
    user = get_session().get(User, int(claims["sub"]), options=_USER_OPTIONS)
    # A token issued before the last password change, or for a deactivated user, is no longer valid.
    if user is None or not user.active or claims["pwd"] != password_stamp(user.password_changed_at):
        raise NotAuthenticated("invalid_token")
    g.user = user


def current_user() -> User:
    return g.user


def client_addr() -> str | None:
    # The columns that keep it hold 64 characters; a forwarded address from a trusted proxy is not checked.
    return request.remote_addr[:64] if request.remote_addr else None
