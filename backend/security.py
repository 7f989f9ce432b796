"""Passwords (argon2), access tokens (JWT) and refresh tokens (random, stored hashed)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import InvalidInput, NotAuthenticated
from .settings import DEMO_PASSWORD

MIN_PASSWORD_LENGTH = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): ~40 ms on a 2-core server instead of the library
# default's ~400 ms, which would make sign-in slow and lock-out floods cheap. verify() reads the parameters from
# each stored hash, so raising them later keeps old hashes working.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verifying against this when the user does not exist keeps the timing of both failures alike.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def check_password_rules(username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password_too_short", details={"fields": {"password": "too_short"}}, min=MIN_PASSWORD_LENGTH)
    if password.strip().lower() == username.strip().lower():
        raise InvalidInput("password_is_username", details={"fields": {"password": "equals_username"}})
    if password == DEMO_PASSWORD:  # published in the README: never a real password
        raise InvalidInput("password_is_demo", details={"fields": {"password": "demo_password"}})


def password_stamp(changed_at: datetime) -> int:
    """Microseconds of the last password change: carried in access tokens so a change revokes them exactly."""
    return (changed_at - _EPOCH) // timedelta(microseconds=1)


def issue_access_token(secret: str, user_id: int, ttl_s: int, pwd_stamp: int, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    claims = {"sub": str(user_id), "iat": int(now.timestamp()), "exp": int((now + timedelta(seconds=ttl_s)).timestamp()),
              "typ": "access", "pwd": pwd_stamp}
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_access_token(secret: str, token: str) -> dict:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "iat", "sub", "pwd"]})
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("token_expired") from exc
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("invalid_token") from exc
    if claims.get("typ") != "access":
        raise NotAuthenticated("invalid_token")
    return claims


def new_refresh_token() -> tuple[str, str]:
    """A new opaque refresh token and the hash that is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
