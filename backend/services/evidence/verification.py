"""Check one evidence file from outside the app (the CLI `gridpatrol evidence verify FILE`): is it the file its
record names, are the stored copies intact, is the record in its day's sealed Merkle root, is that root in a signed
anchor outside the database, and did a timestamp authority sign it. Each check says what it found; one failure
fails the whole."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Evidence, EvidenceFile
from ..core import anchors
from . import ledger, merkle, timestamps
from .storage import Storage

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass
class Report:
    lines: list[tuple[str, str]] = field(default_factory=list)

    def add(self, level: str, text: str) -> None:
        self.lines.append((level, text))

    unsealed: bool = False

    @property
    def ok(self) -> bool:
        return all(level != FAIL for level, _ in self.lines)


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def records_of_file(session: Session, digest: str) -> list[Evidence]:
    by_capture = set(session.scalars(select(Evidence.id).where(Evidence.sha256 == digest)))
    by_file = set(session.scalars(select(EvidenceFile.evidence_id).where(EvidenceFile.sha256 == digest)))
    ids = sorted(by_capture | by_file)
    return list(session.scalars(select(Evidence).where(Evidence.id.in_(ids)).order_by(Evidence.id))) if ids else []


def verify_file(session: Session, store: Storage, path: str | Path, *, evidence_id: int | None = None,
                anchor_dir: str, public_key: anchors.Ed25519PublicKey | None, tsa_roots_file: str = "") -> Report:
    report = Report()
    digest = sha256_of(path)
    report.add(OK, f"file SHA-256 {digest}")
    if evidence_id is not None:
        found = session.get(Evidence, evidence_id)
        records = [found] if found else []
        if not records:
            report.add(FAIL, f"no evidence record {evidence_id}")
    else:
        records = records_of_file(session, digest)
        if not records:
            report.add(FAIL, "no evidence record holds this file: it is not a file this system received "
                             "(or it was altered: any changed byte changes its hash)")
    chain_checked = False
    for evidence in records:
        _check_record(report, session, store, evidence, digest)
        proof = ledger.prove(session, evidence)
        if not _check_proof(report, evidence, proof):
            continue
        assert proof.sealed_root is not None
        if not chain_checked:
            chain_checked = True
            _check_chain(report, session, anchor_dir, public_key)
        _check_anchor(report, proof.sealed_root, anchor_dir, public_key)
        _check_timestamp(report, proof.sealed_root, tsa_roots_file)
    return report


def _check_record(report: Report, session: Session, store: Storage, evidence: Evidence, digest: str) -> None:
    who = f"evidence {evidence.id} ({evidence.client_id})"
    roles = [f.role for f in evidence.files if f.sha256 == digest]
    if evidence.sha256 == digest:
        report.add(OK, f"{who}: the file is the camera file whose hash the phone recorded at capture "
                       f"({evidence.captured_at.astimezone(anchors.LOCAL_TZ):%Y-%m-%d %H:%M:%S} Beijing time)")
    elif roles:
        report.add(OK, f"{who}: the file is its stored {', '.join(roles)} copy")
        report.add(WARN, f"{who}: the day's root covers the camera file's hash, not this copy's: the copy is "
                         "checked against its recorded hash only")
    else:
        report.add(FAIL, f"{who}: the file is none of its files (capture hash {evidence.sha256})")
    for f in evidence.files:
        try:
            stored = hashlib.sha256()
            for chunk in store.stream(f.storage_key):
                stored.update(chunk)
            computed: str | None = stored.hexdigest()
        except OSError:
            computed = None
        if computed is None:
            report.add(FAIL, f"{who}: its {f.role} file is missing from storage ({f.storage_key})")
        elif computed != f.sha256:
            report.add(FAIL, f"{who}: its stored {f.role} file no longer matches its recorded hash")
    if evidence.expected:
        report.add(WARN, f"{who}: still waiting for its {', '.join(evidence.expected)} file")


def _check_proof(report: Report, evidence: Evidence, proof: ledger.Proof) -> bool:
    who = f"evidence {evidence.id}"
    if proof.problem:
        report.add(FAIL, f"{who}: {proof.problem}")
        return False
    if not proof.sealed:
        report.unsealed = True
        report.add(WARN, f"{who}: its day {proof.day} is not sealed yet (a day is sealed once it is over, "
                         "Beijing time, by the running server or `gridpatrol evidence seal`)")
        return False
    root = proof.sealed_root
    assert root is not None and proof.index is not None and proof.size is not None
    reached = merkle.root_from_proof(bytes.fromhex(proof.leaf), proof.index, proof.size,
                                     [bytes.fromhex(h) for h in proof.path])
    if reached is None or reached.hex() != root.root:
        report.add(FAIL, f"{who}: its inclusion proof does not lead to the day's sealed root")
        return False
    report.add(OK, f"{who}: in the sealed root of {proof.day} (leaf {proof.index + 1} of {proof.size}, "
                   f"root {root.root[:16]}…, audit entry {root.audit_id})")
    return True


def _check_chain(report: Report, session: Session, anchor_dir: str,
                 public_key: anchors.Ed25519PublicKey | None) -> None:
    chain = anchors.verify_anchored(session, anchors.read_anchors(anchor_dir, public_key), public_key)
    if chain.ok:
        report.add(OK, f"audit chain intact: {chain.chain.rows_checked} rows, {chain.anchors_checked} anchors")
    else:
        report.add(FAIL, f"audit chain broken from row {chain.first_broken_id}: "
                         f"{chain.problem or 'a row does not match its hash'}")


def _check_anchor(report: Report, root: ledger.DayRoot, anchor_dir: str,
                  public_key: anchors.Ed25519PublicKey | None) -> None:
    day = root.day.isoformat()
    for anchor in anchors.read_anchors(anchor_dir, public_key):
        carried = [r for r in (anchor.doc or {}).get("evidence_roots") or [] if r.get("day") == day]
        if not carried:
            continue
        if not anchor.signature_ok:
            report.add(FAIL, f"anchor {anchor.name} carries the root of {day} but its signature does not verify")
        elif carried[0].get("root") != root.root:
            report.add(FAIL, f"anchor {anchor.name} holds another root for {day}: the chain's row was rewritten")
        else:
            report.add(OK, f"the root of {day} is in signed anchor {anchor.name}, outside the database")
        return
    report.add(WARN, f"no anchor carries the root of {day} yet (the next daily anchor will)")


def _check_timestamp(report: Report, root: ledger.DayRoot, tsa_roots_file: str) -> None:
    if not root.timestamp:
        why = root.timestamp_error or "no TSA_URL was configured"
        report.add(WARN, f"the root of {root.day} has no timestamp ({why})")
        return
    if not tsa_roots_file:
        report.add(WARN, f"the root of {root.day} has a timestamp, not checked: no TSA root certificate "
                         "(TSA_CA_CERT or --tsa-cert)")
        return
    checked = timestamps.check(root.timestamp, bytes.fromhex(root.root), timestamps.load_roots(tsa_roots_file))
    if checked.ok:
        assert checked.gen_time is not None
        report.add(OK, f"the root of {root.day} was timestamped by {checked.tsa or 'the TSA'} at "
                       f"{checked.gen_time.astimezone(anchors.LOCAL_TZ):%Y-%m-%d %H:%M:%S} Beijing time")
    else:
        report.add(FAIL, f"the root of {root.day}: {checked.problem}")
