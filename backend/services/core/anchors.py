"""Anchors of the audit chain: the chain's head, signed (Ed25519) with a key kept outside the database and written to
a directory outside it, so that whoever can rewrite the database (its owner, a restored dump) cannot also rewrite
what the head was. The verifier (audit.verify_chain) checks every anchor against the rows.

Ed25519 rather than an HMAC: verifying needs only the public key, which can be handed to an auditor or printed
in an export; with an HMAC every verifier would hold the secret and could forge anchors as well.

An anchor is one JSON file, `format` gridpatrol-audit-anchor/1. The signature covers every other field of the
document, whatever they are, so later releases can add fields (the evidence work adds a timestamped daily
Merkle root) without a new format: a verifier checks the signature over all of them and reads what it knows.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import AuditEntry
from .audit import ChainReport, compute_row_hash, verify_chain

FORMAT = "gridpatrol-audit-anchor/1"
LOCAL_TZ = timezone(timedelta(hours=8))  # anchors are daily by the township's day (Asia/Shanghai)
log = logging.getLogger(__name__)


def canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- keys ----------------------------------------------------------------------------------------------------

def load_or_create_key(path: str | Path) -> Ed25519PrivateKey:
    """The signing key at `path` (PEM, PKCS#8), made on first use with mode 0600."""
    path = Path(path)
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    if not create_exclusively(path, pem, 0o600):  # another worker made it first: theirs is the key
        return load_or_create_key(path)
    log.warning("audit anchors: new signing key written to %s; keep a copy of it (and of its public key) "
                "outside this server", path)
    return key


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(text: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(text.encode() if isinstance(text, str) else text)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def create_exclusively(path: Path, data: bytes, mode: int) -> bool:
    """Write a new file whole or not at all: False if `path` exists. Written aside and linked into place, so a
    reader (another worker, the verifier) never sees it half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(aside, mode)
        os.link(aside, path)
        return True
    except FileExistsError:
        return False
    finally:
        aside.unlink(missing_ok=True)


# --- signed heads --------------------------------------------------------------------------------------------

def head_row(session: Session) -> AuditEntry | None:
    return session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))


def signed_head(key: Ed25519PrivateKey, row: AuditEntry | None, now: datetime | None = None,
                **extra: Any) -> dict[str, Any]:
    """A signed statement of the chain's head: the last row's id, hash and time (null for an empty log)."""
    now = now or datetime.now(UTC)
    doc = {"format": FORMAT, "day": now.astimezone(LOCAL_TZ).date().isoformat(), "written_at": _utc(now),
           "head": None if row is None else {"id": row.id, "row_hash": row.row_hash, "at": _utc(row.at)},
           "key_id": key_id(key.public_key()), **extra}
    doc["signature"] = base64.b64encode(key.sign(canonical(doc))).decode()
    return doc


def signature_ok(doc: dict, public_key: Ed25519PublicKey) -> bool:
    body = {k: v for k, v in doc.items() if k != "signature"}
    try:
        public_key.verify(base64.b64decode(doc.get("signature", ""), validate=True), canonical(body))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return doc.get("format") == FORMAT


def write_anchor(session: Session, key: Ed25519PrivateKey, directory: str | Path, *, daily: bool = False,
                 now: datetime | None = None, **extra: Any) -> Path | None:
    """Write the chain's head to `directory`. `daily`: as `<day>.json`, once a day whoever writes first (several
    workers may try); otherwise a new file named by its time, whenever asked (the CLI, a cron job). `extra`
    fields are signed with the head (the evidence ledger's day roots).
    Returns the file written, or None when the day's anchor was already there."""
    now = now or datetime.now(UTC)
    doc = signed_head(key, head_row(session), now, **extra)
    name = f"{doc['day']}.json" if daily else f"{now.astimezone(UTC):%Y-%m-%dT%H%M%S.%fZ}.json"
    path = Path(directory) / name
    if create_exclusively(path, json.dumps(doc, ensure_ascii=False, indent=1).encode() + b"\n", 0o444):
        return path  # read-only: an anchor is never rewritten
    if daily:
        return None
    raise FileExistsError(path)


def has_daily_anchor(directory: str | Path, day: date) -> bool:
    return (Path(directory) / f"{day.isoformat()}.json").exists()


@dataclass
class Anchor:
    name: str
    doc: dict | None  # None: not JSON at all
    signature_ok: bool
    head_id: int | None = field(default=None)
    head_hash: str | None = field(default=None)

    @property
    def written_at(self) -> str:
        return (self.doc or {}).get("written_at") or ""


def read_anchors(directory: str | Path, public_key: Ed25519PublicKey | None) -> list[Anchor]:
    """Every anchor file in `directory`, each with whether its signature verifies with `public_key`."""
    out = []
    for path in sorted(Path(directory).glob("*.json")) if Path(directory).is_dir() else []:
        out.append(anchor_of(path.name, path.read_bytes(), public_key))
    return out


def anchor_of(name: str, raw: bytes | dict, public_key: Ed25519PublicKey | None) -> Anchor:
    try:
        doc = raw if isinstance(raw, dict) else json.loads(raw)
    except ValueError:
        return Anchor(name, None, False)
    if not isinstance(doc, dict):
        return Anchor(name, None, False)
    ok = public_key is not None and signature_ok(doc, public_key)
    signed = doc.get("head")
    head = signed if isinstance(signed, dict) else {}
    head_id = head.get("id") if isinstance(head.get("id"), int) else None
    return Anchor(name, doc, ok, head_id, head.get("row_hash"))


# --- verifying ----------------------------------------------------------------------------------------------

@dataclass
class AnchoredReport:
    """The chain's own check (audit.verify_chain) and the anchors'. When something after the last good anchor
    was truncated or rewritten, `first_unvouched_id` is the first row after that anchor: from there on, nothing
    the log says can be trusted."""

    chain: ChainReport
    anchors_checked: int = 0
    last_good: str | None = None
    first_unvouched_id: int | None = None
    problem: str | None = None
    unanchored_rows: int = 0

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.problem is None

    @property
    def first_broken_id(self) -> int | None:
        return self.chain.first_broken_id if not self.chain.ok else self.first_unvouched_id


def verify_anchored(session: Session, anchors: list[Anchor], public_key: Ed25519PublicKey | None) -> AnchoredReport:
    report = AnchoredReport(verify_chain(session))
    if not report.chain.ok:
        return report  # the chain itself names the row where it breaks
    if anchors and public_key is None:
        report.problem = "no public key to check the anchors with (AUDIT_SIGNING_KEY or AUDIT_VERIFY_KEY)"
        report.first_unvouched_id = session.scalar(select(func.min(AuditEntry.id))) or 1
        return report
    ids = [a.head_id for a in anchors if a.head_id is not None]
    heads = dict(session.execute(select(AuditEntry.id, AuditEntry.row_hash).where(AuditEntry.id.in_(ids))).all())
    last_id = session.scalar(select(func.max(AuditEntry.id)))
    good: Anchor | None = None
    for anchor in sorted(anchors, key=lambda a: (a.head_id or 0, a.written_at)):
        report.anchors_checked += 1
        if not anchor.signature_ok:
            report.problem = f"anchor {anchor.name}: its signature does not verify (altered, or not signed by our key)"
        elif anchor.head_id is None:
            continue  # it anchored an empty log
        elif anchor.head_id not in heads:
            report.problem = (f"anchor {anchor.name} names row {anchor.head_id}, which is gone "
                              f"(the log now ends at row {last_id}): rows were removed")
        elif heads[anchor.head_id] != anchor.head_hash:
            report.problem = f"row {anchor.head_id} is not the row anchor {anchor.name} signed: the log was rewritten"
        else:
            good = anchor
            continue
        break
    anchored_to = good.head_id if good and good.head_id is not None else 0  # a good anchor names a row
    if report.problem:
        report.first_unvouched_id = session.scalar(select(func.min(AuditEntry.id)).where(
            AuditEntry.id > anchored_to)) or anchored_to + 1
    report.last_good = good.name if good else None
    report.unanchored_rows = session.scalar(select(func.count()).where(AuditEntry.id > anchored_to)) or 0
    return report


# --- exports -------------------------------------------------------------------------------------------------

EXPORT_FORMAT = "gridpatrol-audit-export/1"
EXPORT_MAX_ROWS = 20_000
_ROW_FIELDS = ("id", "actor_id", "actor_username", "action", "entity", "entity_id", "summary", "client_addr",
               "prev_hash", "row_hash")


def build_export(session: Session, key: Ed25519PrivateKey, anchor_dir: str | Path, from_id: int, to_id: int | None,
                 now: datetime | None = None) -> dict:
    """Rows [from_id, to_id] exactly as hashed, every anchor, the public key, and a signed head of the last row
    exported: whoever holds the export can check it without the database."""
    stmt = select(AuditEntry).where(AuditEntry.id >= from_id).order_by(AuditEntry.id).limit(EXPORT_MAX_ROWS)
    if to_id is not None:
        stmt = stmt.where(AuditEntry.id <= to_id)
    rows = list(session.scalars(stmt))
    public_key = key.public_key()
    return {
        "format": EXPORT_FORMAT,
        "rows": [{**{f: getattr(r, f) for f in _ROW_FIELDS}, "at": _utc(r.at)} for r in rows],
        "complete": len(rows) < EXPORT_MAX_ROWS,
        "anchors": [a.doc for a in read_anchors(anchor_dir, public_key) if a.doc is not None],
        "public_key": public_pem(public_key),
        "head": signed_head(key, rows[-1] if rows else None, now, exported={"from_id": from_id, "to_id": to_id}),
    }


def verify_export(doc: dict, public_key: Ed25519PublicKey) -> tuple[int | None, str | None]:
    """(first bad row id, why) of an export, or (None, None) when its rows, anchors and signed head agree."""
    rows = doc.get("rows") or []
    if not signature_ok(doc.get("head") or {}, public_key):
        return (rows[0]["id"] if rows else None), "the export's signed head does not verify"
    prev = rows[0]["prev_hash"] if rows else None
    for row in rows:
        entry = AuditEntry(**{f: row[f] for f in _ROW_FIELDS},
                           at=datetime.strptime(row["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC))
        if row["prev_hash"] != prev:
            return row["id"], "prev_hash does not match the previous row"
        if compute_row_hash(entry) != row["row_hash"]:
            return row["id"], "row content does not match its hash"
        prev = row["row_hash"]
    by_id = {row["id"]: row["row_hash"] for row in rows}
    for anchor in (anchor_of("export", a, public_key) for a in doc.get("anchors") or []):
        if not anchor.signature_ok:
            return None, "an anchor in the export does not verify"
        if anchor.head_id in by_id and by_id[anchor.head_id] != anchor.head_hash:
            return anchor.head_id, f"row {anchor.head_id} is not the row its anchor signed"
    head = (doc["head"] or {}).get("head")
    last = rows[-1] if rows else None
    if (head is None) != (last is None) or (last and head is not None
                                            and (head["id"], head["row_hash"]) != (last["id"], last["row_hash"])):
        return (last or {}).get("id"), "the rows end elsewhere than the signed head says (truncated or extended)"
    return None, None
