"""API keys for integrations: made and revoked by an admin; only a hash is stored, the key is shown once."""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, NotFound
from ...models import ApiKey
from ..core import audit


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str, actor_username: str = "cli") -> tuple[ApiKey, str]:
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict("duplicate", field="name", value=name)
    key = "gp_" + secrets.token_urlsafe(32)
    row = ApiKey(name=name, key_hash=_hash(key), prefix=key[:8])
    session.add(row)
    session.flush()
    audit.record(session, "api_key.create", "api_key", row.id, actor_username=actor_username,
                 after={"name": name, "prefix": row.prefix})
    return row, key


def revoke_key(session: Session, name: str, actor_username: str = "cli") -> ApiKey:
    row = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is None:
        raise NotFound()
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        audit.record(session, "api_key.revoke", "api_key", row.id, actor_username=actor_username,
                     after={"name": name})
    return row


def key_for(session: Session, key: str | None) -> ApiKey | None:
    """The live key this secret names, or None."""
    if not key:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(key), ApiKey.revoked_at.is_(None)))
    if row is not None:
        row.last_used_at = datetime.now(UTC)
    return row
