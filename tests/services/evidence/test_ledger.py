"""The evidence ledger: each finished day's records sealed in a Merkle root in the audit chain, carried by a signed
anchor outside the database, timestamped by a real RFC 3161 TSA (openssl ts on localhost); and the CLI that checks
a file against all of it, as an auditor would run it."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from backend.extensions.database import get_session
from backend.models import AuditEntry, Evidence
from backend.services.core import anchors
from backend.services.evidence import ledger, timestamps
from backend.services.evidence.timestamps import Timestamper
from tests.conftest import Auth, _make_app
from tests.resources.test_evidence import post_evidence
from tests.tsa import serve_tsa

PHOTOS = ("exif-samples__gps_DSCN0010.jpg", "exif-samples__gps_DSCN0012.jpg", "exif-samples__Canon_40D.jpg")


@pytest.fixture(scope="module")
def tsa():
    yield from serve_tsa()


@pytest.fixture
def app(databases, tmp_path, tsa):
    yield from _make_app(databases, "demo", tmp_path, tsa_url=tsa.url, tsa_ca_cert=str(tsa.ca_cert))


def upload(app, shared_data, names=PHOTOS, prefix="ev-ledger") -> list[dict]:
    client, headers = app.test_client(), Auth(app).headers("officer1")
    out = []
    for i, name in enumerate(names):
        answer = post_evidence(client, headers, f"{prefix}-{i:03d}", (shared_data / "photos" / name).read_bytes())
        assert answer.status_code == 201, answer.get_json()
        out.append(answer.get_json())
    return out


def received_on(app, ids: list[int], days_ago: int) -> None:
    """As if the server had received these records `days_ago` days before (same time of day)."""
    with app.app_context():
        session = get_session()
        for evidence in session.scalars(select(Evidence).where(Evidence.id.in_(ids))):
            evidence.created_at = evidence.created_at - timedelta(days=days_ago)
        session.commit()


def today() -> datetime:
    return datetime.now(anchors.LOCAL_TZ)


def rfc9162_root(leaves: list[bytes]) -> bytes:
    """The tree head as RFC 9162 §2.1.1 defines it, written out here independently of merkle.py."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + rfc9162_root(leaves[:k]) + rfc9162_root(leaves[k:])).digest()


def test_a_day_is_sealed_into_the_chain_timestamped_and_anchored(app, shared_data, tsa, monkeypatch):
    # the day's anchor waits a quarter of an hour after midnight (ledger.SEAL_GRACE): not when this test runs then
    monkeypatch.setattr(ledger, "SEAL_GRACE", timedelta(0))
    records = upload(app, shared_data)
    received_on(app, [r["id"] for r in records], 1)
    settings = app.config["GRIDPATROL"]
    from backend.housekeeping import write_daily_anchor

    anchor_path = write_daily_anchor(app)
    assert anchor_path is not None

    with app.app_context():
        session = get_session()
        yesterday = (today() - timedelta(days=1)).date()
        root = ledger.sealed_root(session, yesterday)
        assert root is not None and root.count == 3 and root.timestamp
        # The root is the RFC 9162 tree over the leaves, each the record's capture facts as the API gave them.
        leaves = [hashlib.sha256(b"\x00" + json.dumps(
            [r["id"], r["client_id"], r["sha256"], _utc(r["captured_at"]), r["lon"], r["lat"], r["accuracy_m"],
             r["uploaded_by_id"]], separators=(",", ":")).encode()).digest() for r in records]
        assert rfc9162_root(leaves).hex() == root.root
        for r in records:
            proof = ledger.prove(session, session.get(Evidence, r["id"]))
            assert proof.ok and proof.sealed and proof.size == 3
        entry = session.get(AuditEntry, root.audit_id)
        assert entry.action == "evidence.daily_root" and entry.entity_id == yesterday.isoformat()

    doc = json.loads(anchor_path.read_text())
    key = anchors.load_or_create_key(settings.audit_signing_key).public_key()
    assert anchors.signature_ok(doc, key)
    assert [r["root"] for r in doc["evidence_roots"]] == [root.root]
    assert doc["head"]["id"] >= root.audit_id  # the anchor signs a chain that already holds the root

    # The timestamp checks with our code and with openssl's own, and only over this root.
    ca = timestamps.load_roots(tsa.ca_cert)
    checked = timestamps.check(root.timestamp, bytes.fromhex(root.root), ca)
    assert checked.ok and abs((checked.gen_time - datetime.now(UTC)).total_seconds()) < 120
    assert not timestamps.check(root.timestamp, bytes.fromhex(root.root)[::-1], ca).ok
    tsr = tsa.directory / "root.tsr"
    tsr.write_bytes(base64.b64decode(root.timestamp))
    (tsa.directory / "root.bin").write_bytes(bytes.fromhex(root.root))
    openssl = subprocess.run(["openssl", "ts", "-verify", "-data", str(tsa.directory / "root.bin"), "-in", str(tsr),
                              "-CAfile", str(tsa.ca_cert)], capture_output=True, text=True)
    assert openssl.returncode == 0 and "Verification: OK" in openssl.stdout

    # The API gives each record its proof: the path leads from its leaf to the sealed root.
    from backend.services.evidence import merkle

    client, headers = app.test_client(), Auth(app).headers("officer1")
    shown = client.get(f"/api/v1/evidence/{records[2]['id']}/verify", headers=headers).get_json()["ledger"]
    assert shown["sealed"] and shown["ok"] and shown["root"] == root.root and shown["timestamped"]
    assert merkle.root_from_proof(bytes.fromhex(shown["leaf"]), shown["index"], shown["size"],
                                  [bytes.fromhex(h) for h in shown["path"]]).hex() == root.root

    # A second worker, and the next round: nothing sealed twice, no second anchor for the day.
    with app.app_context():
        assert ledger.seal(get_session(), today().date(), Timestamper(tsa.url)) == []
        assert get_session().scalar(select(AuditEntry.id).where(AuditEntry.action == ledger.ACTION)
                                    .offset(1).limit(1)) is None
    assert write_daily_anchor(app) is None


def _utc(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_days_the_server_missed_are_sealed_when_it_comes_back(app, shared_data):
    records = upload(app, shared_data)
    received_on(app, [records[0]["id"]], 3)
    received_on(app, [records[1]["id"], records[2]["id"]], 1)
    with app.app_context():
        sealed = ledger.seal(get_session(), today().date(), None)
    assert [(r.day, r.count) for r in sealed] == [
        ((today() - timedelta(days=d)).date(), n) for d, n in ((3, 1), (2, 0), (1, 2))]
    assert all(r.timestamp is None for r in sealed)  # no TSA given: sealed all the same


def test_a_tsa_that_is_down_does_not_stop_the_seal(app, shared_data):
    records = upload(app, shared_data, names=PHOTOS[:1])
    received_on(app, [records[0]["id"]], 1)
    with app.app_context():
        sealed = ledger.seal(get_session(), today().date(), Timestamper("http://127.0.0.1:9/tsa", timeout_s=2))
    assert len(sealed) == 1 and sealed[0].timestamp is None and "did not answer" in sealed[0].timestamp_error


@pytest.mark.parametrize("change", ["place", "removed"])
def test_a_record_changed_after_its_day_was_sealed_breaks_the_proof(app, shared_data, change):
    records = upload(app, shared_data)
    received_on(app, [r["id"] for r in records], 1)
    with app.app_context():
        session = get_session()
        ledger.seal(session, today().date(), None)
        if change == "place":
            session.execute(update(Evidence).where(Evidence.id == records[1]["id"]).values(lon=116.0))
        else:
            session.delete(session.get(Evidence, records[2]["id"]))
        session.commit()
        proof = ledger.prove(session, session.get(Evidence, records[0]["id"]))
    assert not proof.ok and "after it was sealed" in proof.problem


# --- the CLI, as an auditor runs it ----------------------------------------------------------------------------

def cli(app, tsa, *args):
    settings = app.config["GRIDPATROL"]
    env = {**os.environ, "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key,
           "GRIDPATROL_VAR_DIR": str(Path(settings.media_dir).parent), "MEDIA_DIR": settings.media_dir,
           "AUDIT_ANCHOR_DIR": settings.audit_anchor_dir, "AUDIT_SIGNING_KEY": settings.audit_signing_key,
           "TSA_URL": tsa.url, "TSA_CA_CERT": str(tsa.ca_cert), "LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "backend.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_cli_seals_and_verifies_a_file(app, shared_data, tsa, tmp_path):
    records = upload(app, shared_data)
    photo = shared_data / "photos" / PHOTOS[1]
    unsealed = cli(app, tsa, "evidence", "verify", str(photo))
    assert unsealed.returncode == 0 and "not sealed yet" in unsealed.stdout
    assert unsealed.stdout.rstrip().splitlines()[-1].startswith("UNSEALED")

    received_on(app, [r["id"] for r in records], 2)  # two days back: sealable even in the first minutes of a day
    sealed = cli(app, tsa, "evidence", "seal")
    assert sealed.returncode == 0, sealed.stderr
    assert "3 records" in sealed.stdout and "timestamped" in sealed.stdout

    verified = cli(app, tsa, "evidence", "verify", str(photo))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    out = verified.stdout
    assert f"evidence {records[1]['id']}" in out and "camera file" in out
    assert "leaf 2 of 3" in out and "signed anchor" in out and "timestamped by CN=GridPatrol test TSA" in out
    assert out.rstrip().endswith("VERIFIED")

    altered = tmp_path / "altered.jpg"
    altered.write_bytes(photo.read_bytes()[:-2] + b"\xff\xd9"[::-1])
    refused = cli(app, tsa, "evidence", "verify", str(altered))
    assert refused.returncode == 1 and "no evidence record holds this file" in refused.stderr
    wrong = cli(app, tsa, "evidence", "verify", str(photo), "--id", str(records[0]["id"]))
    assert wrong.returncode == 1 and "none of its files" in wrong.stderr

    # Someone with database access moves the record: the proof and the CLI say so.
    with app.app_context():
        session = get_session()
        session.execute(update(Evidence).where(Evidence.id == records[1]["id"]).values(lat=39.9))
        session.commit()
    moved = cli(app, tsa, "evidence", "verify", str(photo))
    assert moved.returncode == 1 and "after it was sealed" in moved.stderr and "NOT VERIFIED" in moved.stdout


def test_the_first_quarter_hour_of_a_day_waits_for_yesterdays_last_records():
    midnight = datetime(2026, 12, 4, 0, 0, tzinfo=anchors.LOCAL_TZ)
    assert ledger.sealable_today(midnight + timedelta(minutes=5)).isoformat() == "2026-12-03"
    assert ledger.sealable_today(midnight + timedelta(minutes=16)).isoformat() == "2026-12-04"


def test_a_stored_copy_is_recognised_but_said_not_to_be_in_the_root(app, shared_data, tsa, tmp_path):
    records = upload(app, shared_data, names=PHOTOS[:1])
    received_on(app, [records[0]["id"]], 2)
    assert cli(app, tsa, "evidence", "seal").returncode == 0
    client, headers = app.test_client(), Auth(app).headers("officer1")
    thumbnail = tmp_path / "thumb.jpg"
    thumbnail.write_bytes(client.get(f"/api/v1/evidence/{records[0]['id']}/files/thumbnail", headers=headers).data)
    checked = cli(app, tsa, "evidence", "verify", str(thumbnail))
    assert checked.returncode == 0 and "stored thumbnail copy" in checked.stdout
    assert "not this copy's" in checked.stdout
