"""Append to the hash-chained audit log, and verify the chain."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...extensions.plain_sql import defer_plain, fetch_plain
from ...models import GENESIS_HASH, AuditEntry, User

_PG_AUDIT_LOCK_KEY = 0x6772_6964  # "grid": serialises appends on PostgreSQL


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_row_hash(entry: AuditEntry) -> str:
    payload = canonical_json([
        entry.prev_hash, _timestamp(entry.at), entry.actor_id, entry.actor_username, entry.action, entry.entity,
        entry.entity_id, entry.summary, entry.client_addr,
    ])
    return hashlib.sha256(payload.encode()).hexdigest()


def record(
    session: Session,
    action: str,
    entity: str,
    entity_id: object = None,
    *,
    actor: User | None = None,
    actor_username: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
    client_addr: str | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction, so the change and its trace commit together.

    Appends are serialised (on PostgreSQL by an advisory lock held to commit; SQLite's writer holds the file), so
    the chain never forks. The batch path sends these statements with its deferred writes (extensions.plain_sql)."""
    if session.get_bind().dialect.name == "postgresql":
        defer_plain(session, "SELECT pg_advisory_xact_lock(:key)", {"key": _PG_AUDIT_LOCK_KEY})
    session.flush()  # give new rows their ids before they are named in the log
    last = fetch_plain(session, "SELECT row_hash FROM audit_log ORDER BY id DESC LIMIT 1")
    prev = last[0][0] if last else GENESIS_HASH
    entry = AuditEntry(
        at=datetime.now(UTC),
        actor_id=actor.id if actor else None,
        actor_username=actor.username if actor else actor_username,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        summary=canonical_json({"before": before, "after": after}),
        client_addr=client_addr,
        prev_hash=prev,
    )
    entry.row_hash = compute_row_hash(entry)
    # Plain SQL: every write has an audit entry, and the ORM's bookkeeping for one row cost more than the statement.
    defer_plain(session, _INSERT, {name: getattr(entry, name) for name in _COLUMNS})
    return entry


_COLUMNS = ("at", "actor_id", "actor_username", "action", "entity", "entity_id", "summary", "client_addr",
            "prev_hash", "row_hash")
_INSERT = f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + c for c in _COLUMNS)})"


@dataclass
class ChainReport:
    rows_checked: int
    first_broken_id: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify_chain(session: Session, batch_size: int = 5000) -> ChainReport:
    """Walk the log in id order; name the first row whose link or content does not match."""
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch_size)
        ).all()
        if not rows:
            return ChainReport(checked, None, None)
        for row in rows:
            if row.prev_hash != expected_prev:
                return ChainReport(checked, row.id, "prev_hash does not match the previous row")
            if compute_row_hash(row) != row.row_hash:
                return ChainReport(checked, row.id, "row content does not match its hash")
            expected_prev = row.row_hash
            checked += 1
            last_id = row.id
        session.expunge_all()
