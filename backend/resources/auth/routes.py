"""POST /api/v1/auth/login, /refresh, /logout."""
from __future__ import annotations

from flask import current_app

from ...context import client_addr
from ...extensions.api import Blueprint
from ...extensions.database import get_session
from ...services.core import auth
from .schemas import LoginSchema, RefreshSchema, TokenPairSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-in and tokens")


def _settings():
    return current_app.config["GRIDPATROL"]


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
def login(body):
    """Sign in with username and password. Five failures in 15 minutes lock the name for 15 minutes."""
    return auth.login(get_session(), _settings(), body["username"], body["password"], client_addr())


@blp.route("/refresh", methods=["POST"])
@blp.arguments(RefreshSchema)
@blp.response(200, TokenPairSchema)
def refresh(body):
    """Exchange a refresh token for a new pair; the old refresh token stops working."""
    return auth.refresh(get_session(), _settings(), body["refresh_token"], client_addr())


@blp.route("/logout", methods=["POST"])
@blp.arguments(RefreshSchema)
@blp.response(204)
def logout(body):
    """Revoke this sign-in's refresh tokens."""
    auth.logout(get_session(), body["refresh_token"], client_addr())
