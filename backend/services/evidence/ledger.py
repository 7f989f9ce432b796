"""The evidence ledger: once a day ends (Asia/Shanghai), a Merkle root (merkle.py) of the evidence records the
server received that day is written into the audit chain, timestamped by a TSA when one is configured (RFC 3161,
timestamps.py), and carried in the next daily anchor, which is kept outside the database (core/anchors.py).

Then a record cannot be altered, added to a sealed day or removed without the day's root changing, and that root
is vouched for three times: by the hash chain, by the signed anchor, and by a timestamp authority's signature
over it.

A leaf covers what the phone fixed at capture: the record's id and client id, the camera file's SHA-256, time,
place, accuracy and uploader. Files that arrive later (the original on Wi-Fi) are checked against the capture hash,
which the leaf holds; derived copies (display, thumbnail, watermark) are checked against their recorded hashes.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ...models import AuditEntry, Evidence
from ..core import audit
from ..core.anchors import LOCAL_TZ
from . import merkle

log = logging.getLogger(__name__)

ACTION = "evidence.daily_root"
ENTITY = "evidence_day"
ALGORITHM = "RFC 9162 Merkle tree, SHA-256; leaf = canonical JSON of " \
            "[id, client_id, sha256, captured_at, lon, lat, accuracy_m, uploaded_by_id]"
_PG_SEAL_LOCK_KEY = 0x6772_6965  # "grie": one worker seals a day
# A day is sealed this long after it ends: a record stamped 23:59:59 may commit a few seconds later (its photo's
# copies are made in the same transaction), and a seal before that commit would leave it out of its day's root.
SEAL_GRACE = timedelta(minutes=15)
TIMESTAMPS_PER_SEAL = 7  # a long backlog (an upgrade, a long outage): the latest days are timestamped, not all


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), LOCAL_TZ)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def local_day(at: datetime) -> date:
    return at.astimezone(LOCAL_TZ).date()


def leaf_data(e: Evidence) -> bytes:
    captured = e.captured_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return audit.canonical_json([e.id, e.client_id, e.sha256, captured, e.lon, e.lat, e.accuracy_m,
                                 e.uploaded_by_id]).encode()


def records_of_day(session: Session, day: date) -> list[Evidence]:
    start, end = day_bounds(day)
    return list(session.scalars(select(Evidence).where(Evidence.created_at >= start, Evidence.created_at < end)
                                .order_by(Evidence.id)))


@dataclass
class DayRoot:
    day: date
    root: str  # hex
    count: int
    first_id: int | None = None
    last_id: int | None = None
    timestamp: str | None = None  # base64 DER of the TSA's TimeStampResp
    timestamp_error: str | None = None
    audit_id: int | None = field(default=None)

    def as_summary(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "root": self.root, "count": self.count, "first_id": self.first_id,
                "last_id": self.last_id, "algorithm": ALGORITHM, "timestamp": self.timestamp,
                "timestamp_error": self.timestamp_error}


def compute_day(session: Session, day: date) -> tuple[DayRoot, list[Evidence], list[bytes]]:
    records = records_of_day(session, day)
    leaves = [merkle.leaf_hash(leaf_data(e)) for e in records]
    root = DayRoot(day, merkle.tree_root(leaves).hex(), len(records),
                   records[0].id if records else None, records[-1].id if records else None)
    return root, records, leaves


def sealed_roots(session: Session, after_audit_id: int = 0) -> list[DayRoot]:
    """The day roots the chain holds, oldest first."""
    rows = session.execute(select(AuditEntry.id, AuditEntry.summary).where(
        AuditEntry.action == ACTION, AuditEntry.id > after_audit_id).order_by(AuditEntry.id)).all()
    return [_from_summary(row_id, summary) for row_id, summary in rows]


def sealed_root(session: Session, day: date) -> DayRoot | None:
    row = session.execute(select(AuditEntry.id, AuditEntry.summary).where(
        AuditEntry.action == ACTION, AuditEntry.entity_id == day.isoformat()).order_by(AuditEntry.id)
        .limit(1)).first()
    return None if row is None else _from_summary(*row)


def _from_summary(audit_id: int, summary: str) -> DayRoot:
    after = json.loads(summary)["after"]
    return DayRoot(date.fromisoformat(after["day"]), after["root"], after["count"], after.get("first_id"),
                   after.get("last_id"), after.get("timestamp"), after.get("timestamp_error"), audit_id)


def days_to_seal(session: Session, today: date) -> list[date]:
    """Every day before `today` since the last sealed one (or since the first evidence) that has no root yet:
    a server that was down over midnight seals the days it missed when it comes back."""
    last = session.scalar(select(AuditEntry.entity_id).where(AuditEntry.action == ACTION)
                          .order_by(AuditEntry.id.desc()).limit(1))
    if last is not None:
        start = date.fromisoformat(last) + timedelta(days=1)
    else:
        first = session.scalar(select(Evidence.created_at).order_by(Evidence.id).limit(1))
        if first is None:
            return []
        start = local_day(first)
    return [start + timedelta(days=i) for i in range((today - start).days)]


def sealable_today(now: datetime) -> date:
    """The first local day not yet over long enough to seal (`today` for seal and days_to_seal)."""
    return local_day(now - SEAL_GRACE)


def seal(session: Session, today: date, timestamper: Any = None) -> list[DayRoot]:
    """Root every unsealed day before `today` into the audit chain, timestamped by `timestamper` (a
    timestamps.Timestamper) when given. Commits. Returns the roots written (none when another worker did it).

    The TSA is asked before the lock is taken: the audit lock serialises every write of the app, and a slow TSA
    must not hold them up. Past days do not change, so a root computed before the lock is the one sealed."""
    pending = [compute_day(session, day)[0] for day in days_to_seal(session, today)]
    session.rollback()  # no read transaction held across the TSA's answer
    if not pending:
        return []
    if timestamper is not None:
        for n, root in enumerate(reversed(pending)):
            if n >= TIMESTAMPS_PER_SEAL:
                root.timestamp_error = "not timestamped: one of a backlog of days sealed at once"
                continue
            root.timestamp, root.timestamp_error = timestamper.stamp_safely(bytes.fromhex(root.root))
    _lock(session)
    already = set(days_to_seal(session, today))
    written = []
    for root in pending:
        if root.day not in already:
            continue  # another worker sealed it meanwhile
        audit.record(session, ACTION, ENTITY, root.day.isoformat(), actor_username="system",
                     after=root.as_summary())
        written.append(root)
        log.info("evidence ledger: %s sealed, %d records, root %s%s", root.day, root.count, root.root[:16],
                 "" if root.timestamp else f" (no timestamp: {root.timestamp_error or 'no TSA configured'})")
    session.commit()
    for root in written:
        found = sealed_root(session, root.day)
        root.audit_id = found.audit_id if found else None
    return written


def _lock(session: Session) -> None:
    """One sealer at a time. PostgreSQL: a transaction advisory lock. SQLite: the database's write lock, taken
    now with a write that changes nothing, so a second worker waits here and then sees the day sealed."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SEAL_LOCK_KEY})
    else:
        session.execute(text("UPDATE audit_log SET id = id WHERE id < 0"))


# --- proofs --------------------------------------------------------------------------------------------------

@dataclass
class Proof:
    """Where one record stands in the ledger."""

    evidence_id: int
    day: date
    sealed: bool
    leaf: str = ""
    index: int | None = None
    size: int | None = None
    path: list[str] = field(default_factory=list)
    recomputed_root: str | None = None  # from the database's records now
    sealed_root: DayRoot | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        root = self.sealed_root
        return {"day": self.day, "sealed": self.sealed, "leaf": self.leaf, "index": self.index,
                "size": self.size, "path": self.path, "root": root.root if root else None,
                "audit_entry_id": root.audit_id if root else None, "timestamped": bool(root and root.timestamp),
                "algorithm": ALGORITHM, "ok": self.ok, "problem": self.problem}


def prove(session: Session, evidence: Evidence) -> Proof:
    """The record's inclusion proof against its day's sealed root, and whether the day's records, as the database
    holds them now, still give that root."""
    day = local_day(evidence.created_at)
    sealed = sealed_root(session, day)
    proof = Proof(evidence.id, day, sealed is not None, sealed_root=sealed)
    current, records, leaves = compute_day(session, day)
    ids = [e.id for e in records]
    proof.recomputed_root = current.root
    if evidence.id not in ids:
        proof.problem = "the record is not among its day's records (its receive time was altered)"
        return proof
    index = ids.index(evidence.id)
    proof.leaf, proof.index, proof.size = leaves[index].hex(), index, len(leaves)
    proof.path = [h.hex() for h in merkle.inclusion_proof(leaves, index)]
    if sealed is None:
        return proof  # the day is not over, or not sealed yet: nothing to check against
    if sealed.count != len(leaves) or sealed.root != current.root:
        proof.problem = (f"the day's {len(leaves)} records no longer give the sealed root of {sealed.count} records: "
                         "a record of that day was altered, added or removed after it was sealed")
    return proof


def roots_for_anchor(session: Session, anchor_dir: str) -> list[dict[str, Any]]:
    """The day roots sealed since the newest anchor's head: what the next anchor carries outside the database."""
    from ..core.anchors import read_anchors

    after = max((a.head_id for a in read_anchors(anchor_dir, None) if a.head_id is not None), default=0)
    return [{**r.as_summary(), "audit_entry_id": r.audit_id} for r in sealed_roots(session, after)]
