"""Sign-in: password check with lock-out, rotating refresh tokens, logout, password changes."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...errors import Locked, NotAuthenticated
from ...models import LoginAttempt, LoginLock, RefreshToken, User
from ...security import (
    check_password_rules,
    hash_password,
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
    password_stamp,
    verify_password,
)
from ...settings import Settings
from . import audit

SHANGHAI = timezone(timedelta(hours=8))


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    user: User


def _now() -> datetime:
    return datetime.now(UTC)


def _normalise(username: str) -> str:
    return username.strip().lower()


def login(session: Session, settings: Settings, username: str, password: str, client_addr: str | None) -> TokenPair:
    """Check the password; the same answer for an unknown user and a wrong password; every attempt audited.

    Failures are counted by the name typed, not by account, so a lock-out does not reveal whether a name exists.
    """
    name = _normalise(username)
    now = _now()
    lock = session.get(LoginLock, name)
    if lock and lock.locked_until > now:
        _attempt(session, name, "locked", client_addr)
        session.commit()
        raise Locked(until=lock.locked_until.astimezone(SHANGHAI).strftime("%H:%M"),
                     details={"locked_until": lock.locked_until.isoformat()})
    user = session.scalar(select(User).where(func.lower(User.username) == name))
    if not verify_password(user.password_hash if user else None, password) or not user.active:
        outcome = "inactive" if user is not None and not user.active and verify_password(user.password_hash, password) \
            else "failed"
        _attempt(session, name, outcome, client_addr, user)
        _maybe_lock(session, settings, name, now)
        session.commit()
        raise NotAuthenticated("invalid_credentials")
    _attempt(session, name, "success", client_addr, user)
    session.query(LoginLock).filter(LoginLock.username == name).delete()
    pair = _issue_pair(session, settings, user, str(uuid.uuid4()), client_addr)
    session.commit()
    return pair


def _attempt(session: Session, name: str, outcome: str, client_addr: str | None, user: User | None = None) -> None:
    session.add(LoginAttempt(username=name, outcome=outcome, client_addr=client_addr))
    audit.record(session, f"auth.login_{outcome}", "user", user.id if user else None, actor=user,
                 actor_username=name, client_addr=client_addr)


def _maybe_lock(session: Session, settings: Settings, name: str, now: datetime) -> None:
    window_start = now - timedelta(seconds=settings.login_window_s)
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == name, LoginAttempt.outcome == "success")
    )
    since = max(window_start, last_success) if last_success else window_start
    session.flush()
    failures = session.scalar(
        select(func.count()).where(
            LoginAttempt.username == name, LoginAttempt.outcome.in_(("failed", "inactive")), LoginAttempt.at > since
        )
    )
    if failures >= settings.login_max_failures:
        until = now + timedelta(seconds=settings.login_lock_s)
        lock = session.get(LoginLock, name)
        if lock:
            lock.locked_until = until
        else:
            session.add(LoginLock(username=name, locked_until=until))
        audit.record(session, "auth.account_locked", "user", None, actor_username=name,
                     after={"locked_until": until.isoformat()})


def _issue_pair(session: Session, settings: Settings, user: User, family: str, client_addr: str | None) -> TokenPair:
    now = _now()
    token, token_hash = new_refresh_token()
    session.add(RefreshToken(
        user_id=user.id, token_hash=token_hash, family=family, issued_at=now,
        expires_at=now + timedelta(seconds=settings.refresh_token_ttl_s), client_addr=client_addr,
    ))
    access = issue_access_token(settings.secret_key, user.id, settings.access_token_ttl_s,
                                password_stamp(user.password_changed_at), now)
    return TokenPair(access, token, settings.access_token_ttl_s, settings.refresh_token_ttl_s, user)


def refresh(session: Session, settings: Settings, refresh_token: str, client_addr: str | None) -> TokenPair:
    """Rotate: the presented token is revoked and a new one issued. A revoked token presented again
    means it was copied: the whole family (that login) is revoked."""
    now = _now()
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token)))
    if row is None:
        raise NotAuthenticated("invalid_refresh_token")
    if row.revoked_at is not None:
        _revoke(session, RefreshToken.family == row.family, now)
        audit.record(session, "auth.refresh_reuse", "user", row.user_id, actor_username=None, client_addr=client_addr)
        session.commit()
        raise NotAuthenticated("invalid_refresh_token")
    user = session.get(User, row.user_id)
    if row.expires_at <= now or user is None or not user.active:
        raise NotAuthenticated("invalid_refresh_token")
    row.revoked_at = now
    pair = _issue_pair(session, settings, user, row.family, client_addr)
    session.commit()
    return pair


def logout(session: Session, refresh_token: str, client_addr: str | None) -> None:
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token)))
    if row is None or row.revoked_at is not None:
        return  # logging out twice is not an error
    _revoke(session, RefreshToken.family == row.family, _now())
    user = session.get(User, row.user_id)
    audit.record(session, "auth.logout", "user", row.user_id, actor=user, client_addr=client_addr)
    session.commit()


def _revoke(session: Session, condition, now: datetime) -> None:
    session.execute(
        update(RefreshToken).where(condition, RefreshToken.revoked_at.is_(None)).values(revoked_at=now)
    )


def set_password(session: Session, user: User, new_password: str) -> None:
    """Set a password and revoke every refresh token of the user (every phone signs in again)."""
    check_password_rules(user.username, new_password)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = _now()
    user.version += 1
    _revoke(session, RefreshToken.user_id == user.id, _now())
