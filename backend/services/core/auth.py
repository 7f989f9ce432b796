"""Sign-in: password check with lock-out, rotating refresh tokens, logout, password changes.

A failed attempt must be kept even though the request fails, so these return an Outcome instead of raising: the
route commits (the attempt, its audit entry, a revoked family) and then answers `outcome.result()`.

Races are closed with row locks held to the commit (PostgreSQL; SQLite's BEGIN IMMEDIATE already runs one writer
at a time): attempts at one name take that name's `login_locks` row, so failures are counted one at a time and
the lock holds at exactly `login_max_failures`; refreshes and logouts of one sign-in take the first row of its
token family, so one refresh of a token wins and a reuse revokes every token the family has, including one
issued by a refresh that was racing it.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from ...errors import DomainError, InvalidInput, Locked, NotAuthenticated
from ...extensions.database import dialect_insert
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
UNLOCKED = datetime(1970, 1, 1, tzinfo=UTC)  # locked_until of a name's row while it is not locked
FAILURES = ("failed", "inactive", "password_wrong")  # outcomes that count towards the lock
RESETS = ("success", "password_changed")  # outcomes after which earlier failures no longer count


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    user: User


@dataclass
class Outcome:
    """What an attempt came to: a value, or the error to answer once the attempt's record is committed."""

    value: object = None
    error: DomainError | None = None

    def result(self):
        if self.error is not None:
            raise self.error
        return self.value


def _now() -> datetime:
    return datetime.now(UTC)


def _normalise(username: str) -> str:
    return username.strip().lower()


def login(session: Session, settings: Settings, username: str, password: str, client_addr: str | None) -> Outcome:
    """Check the password; the same answer for an unknown user and a wrong password; every attempt audited.

    Failures are counted by the name typed, not by account, so a lock-out does not reveal whether a name exists.
    Exactly one password check on every path that checks one (unknown names against a dummy hash, deactivated
    accounts once): the time taken does not tell them apart. A locked name is answered without a check: the
    answer already says it is locked, and a flood at a locked name then costs no hashing.
    """
    name = _normalise(username)
    now = _now()
    locked_until = _claim_name(session, name)
    if locked_until > now:
        _attempt(session, name, "locked", client_addr)
        return Outcome(error=_locked(locked_until))
    user = session.scalar(select(User).where(func.lower(User.username) == name))
    right = verify_password(user.password_hash if user else None, password)
    if not right or user is None or not user.active:  # never right without a user (verify_password)
        _attempt(session, name, "inactive" if right else "failed", client_addr, user)
        _maybe_lock(session, settings, name, now)
        return Outcome(error=NotAuthenticated("invalid_credentials"))
    _attempt(session, name, "success", client_addr, user)
    session.execute(update(LoginLock).where(LoginLock.username == name).values(locked_until=UNLOCKED))
    return Outcome(_issue_pair(session, settings, user, str(uuid.uuid4()), client_addr))


def change_password(session: Session, settings: Settings, user: User, current_password: str, new_password: str,
                    client_addr: str | None) -> Outcome:
    """Change one's own password: wrong current passwords count towards the same lock as failed sign-ins (a
    stolen session must not be a way to guess the password), and a locked name is answered as sign-in answers."""
    name = _normalise(user.username)
    now = _now()
    locked_until = _claim_name(session, name)
    if locked_until > now:
        _attempt(session, name, "locked", client_addr, user, action="user.password_change_locked")
        return Outcome(error=_locked(locked_until))
    if not verify_password(user.password_hash, current_password):
        _attempt(session, name, "password_wrong", client_addr, user, action="user.password_change_failed")
        _maybe_lock(session, settings, name, now)
        return Outcome(error=InvalidInput("password_wrong", details={"fields": {"current_password": "wrong"}}))
    set_password(session, user, new_password)  # a rule broken: raised, nothing to keep
    _attempt(session, name, "password_changed", client_addr, user, action="user.password_changed")
    return Outcome()


def _claim_name(session: Session, name: str) -> datetime:
    """The name's locked_until, its row locked until commit (made on first use): one attempt at a time."""
    table = LoginLock.__table__
    stmt = (dialect_insert(session.get_bind().dialect.name, table).values(username=name, locked_until=UNLOCKED)
            .on_conflict_do_update(index_elements=[table.c.username], set_={"locked_until": table.c.locked_until})
            .returning(table.c.locked_until))
    return session.execute(stmt).scalar_one()


def _locked(until: datetime) -> Locked:
    return Locked(until=until.astimezone(SHANGHAI).strftime("%H:%M"), details={"locked_until": until.isoformat()})


def _attempt(session: Session, name: str, outcome: str, client_addr: str | None, user: User | None = None,
             action: str | None = None) -> None:
    session.add(LoginAttempt(username=name, outcome=outcome, client_addr=client_addr))
    audit.record(session, action or f"auth.login_{outcome}", "user", user.id if user else None, actor=user,
                 actor_username=name, client_addr=client_addr)


def _maybe_lock(session: Session, settings: Settings, name: str, now: datetime) -> None:
    window_start = now - timedelta(seconds=settings.login_window_s)
    last_reset = session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == name, LoginAttempt.outcome.in_(RESETS))
    )
    since = max(window_start, last_reset) if last_reset else window_start
    session.flush()
    failures = session.execute(
        select(func.count()).where(LoginAttempt.username == name, LoginAttempt.outcome.in_(FAILURES),
                                   LoginAttempt.at > since)
    ).scalar_one()
    if failures >= settings.login_max_failures:
        until = now + timedelta(seconds=settings.login_lock_s)
        session.execute(update(LoginLock).where(LoginLock.username == name).values(locked_until=until))
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


def _token_of_locked_family(session: Session, refresh_token: str) -> RefreshToken | None:
    """The presented token's row as it is once its family is locked (until commit), or None if unknown."""
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token)))
    if row is None:
        return None
    session.execute(select(RefreshToken.id).where(RefreshToken.family == row.family)
                    .order_by(RefreshToken.id).limit(1).with_for_update())
    session.refresh(row)  # a refresh that held the lock before us may have revoked it
    return row


def refresh(session: Session, settings: Settings, refresh_token: str, client_addr: str | None) -> Outcome:
    """Rotate: the presented token is revoked and a new one issued. A revoked token presented again
    means it was copied: the whole family (that login) is revoked."""
    now = _now()
    row = _token_of_locked_family(session, refresh_token)
    if row is None:
        return Outcome(error=NotAuthenticated("invalid_refresh_token"))
    if row.revoked_at is not None:
        _revoke(session, RefreshToken.family == row.family, now)
        audit.record(session, "auth.refresh_reuse", "user", row.user_id, actor_username=None, client_addr=client_addr)
        return Outcome(error=NotAuthenticated("invalid_refresh_token"))
    user = session.get(User, row.user_id)
    if row.expires_at <= now or user is None or not user.active:
        return Outcome(error=NotAuthenticated("invalid_refresh_token"))
    row.revoked_at = now
    return Outcome(_issue_pair(session, settings, user, row.family, client_addr))


def logout(session: Session, refresh_token: str, client_addr: str | None) -> None:
    row = _token_of_locked_family(session, refresh_token)
    if row is None or row.revoked_at is not None:
        return  # logging out twice is not an error
    _revoke(session, RefreshToken.family == row.family, _now())
    user = session.get(User, row.user_id)
    audit.record(session, "auth.logout", "user", row.user_id, actor=user, client_addr=client_addr)


def _revoke(session: Session, condition: ColumnElement[bool], now: datetime) -> None:
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
