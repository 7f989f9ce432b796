"""POST /api/v1/auth/login, /refresh, /logout. A failed attempt is committed before it is answered (its record
and audit entry, or a revoked token family, must outlive the refusal)."""
from __future__ import annotations

from flask import current_app

from ...context import client_addr
from ...extensions.api import PUBLIC, Blueprint, link
from ...extensions.database import get_session
from ...services.core import auth
from .schemas import LoginSchema, RefreshSchema, TokenPairSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-in and tokens")


def _settings():
    return current_app.config["GRIDPATROL"]


_TOKEN = {"refresh_token": "$response.body#/refresh_token"}
_SESSION_LINKS = {
    "refresh": link("/api/v1/auth/refresh", "post", "Exchange the refresh token", request_body=_TOKEN),
    "logout": link("/api/v1/auth/logout", "post", "End this sign-in", request_body=_TOKEN),
}


@blp.route("/login", methods=["POST"])
@blp.doc(**PUBLIC, responses={200: {"links": _SESSION_LINKS}})
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
def login(body):
    """Sign in with username and password. Five failures in 15 minutes lock the name for 15 minutes."""
    session = get_session()
    outcome = auth.login(session, _settings(), body["username"], body["password"], client_addr())
    session.commit()
    return outcome.result()


@blp.route("/refresh", methods=["POST"])
@blp.doc(**PUBLIC, responses={200: {"links": _SESSION_LINKS}})
@blp.arguments(RefreshSchema)
@blp.response(200, TokenPairSchema)
def refresh(body):
    """Exchange a refresh token for a new pair; the old refresh token stops working. Presenting a used token again
    ends the whole sign-in (every token it led to)."""
    session = get_session()
    outcome = auth.refresh(session, _settings(), body["refresh_token"], client_addr())
    session.commit()
    return outcome.result()


@blp.route("/logout", methods=["POST"])
@blp.doc(**PUBLIC)
@blp.arguments(RefreshSchema)
@blp.response(204)
def logout(body):
    """Revoke this sign-in's refresh tokens."""
    session = get_session()
    auth.logout(session, body["refresh_token"], client_addr())
    session.commit()
