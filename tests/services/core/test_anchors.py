"""Anchors of the audit chain: what the database's owner could do that the chain alone does not show (cut the tail,
rewrite it with hashes recomputed), and tampering with the anchors themselves, each named by the first row after
the last good anchor. The tampering below is done as the database's owner would: guard triggers off first."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from backend.extensions.database import get_session
from backend.housekeeping import write_daily_anchor
from backend.models import AuditEntry
from backend.services.core import anchors
from backend.services.core.audit import compute_row_hash, verify_chain
from tests.conftest import REPO_ROOT


def _settings(app):
    return app.config["GRIDPATROL"]


def _sign_in(auth, *usernames):
    for username in usernames:
        auth.login(username)  # each sign-in is an audit row


def _anchor(app) -> dict:
    key = anchors.load_or_create_key(_settings(app).audit_signing_key)
    with app.app_context():
        path = anchors.write_anchor(get_session(), key, _settings(app).audit_anchor_dir)
    return {"path": path, **json.loads(path.read_text())}


def _verify(app) -> anchors.AnchoredReport:
    key = anchors.load_or_create_key(_settings(app).audit_signing_key).public_key()
    with app.app_context():
        return anchors.verify_anchored(get_session(), anchors.read_anchors(_settings(app).audit_anchor_dir, key), key)


@pytest.fixture
def anchored(app, auth):
    """A day's activity with two anchors in it, and activity after the second."""
    _sign_in(auth, "admin", "commander1", "leader1")
    first = _anchor(app)
    _sign_in(auth, "officer1", "officer2", "officer3", "officer4")
    second = _anchor(app)
    _sign_in(auth, "officer5", "supervisor1")
    app.anchors = (first, second)
    return app


def _owner_sql(app, databases, statements: list[tuple[str, dict]]) -> None:
    """Run statements on audit_log with its append-only triggers off, as the database's owner can."""
    engine = app.extensions["gridpatrol_db"].engine
    with engine.begin() as conn:
        if databases.kind == "postgis":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        for sql, params in statements:
            conn.execute(text(sql), params)
        if databases.kind == "postgis":
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))


def _rewrite_from(app, databases, first_id: int) -> None:
    """Change every row from `first_id` on and recompute the hashes, so the chain is whole again."""
    with app.app_context():
        rows = get_session().scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        get_session().expunge_all()
    statements, prev = [], None
    for row in rows:
        if row.id >= first_id:
            row.prev_hash, row.client_addr = prev, "203.0.113.9"
            row.row_hash = compute_row_hash(row)
            statements.append(("UPDATE audit_log SET prev_hash = :p, client_addr = :c, row_hash = :h WHERE id = :id",
                               {"p": row.prev_hash, "c": row.client_addr, "h": row.row_hash, "id": row.id}))
        prev = row.row_hash
    _owner_sql(app, databases, statements)
    with app.app_context():
        assert verify_chain(get_session()).ok  # the chain alone no longer shows anything


def test_an_anchored_log_verifies(anchored):
    first, second = anchored.anchors
    report = _verify(anchored)
    assert report.ok and report.anchors_checked == 2 and report.last_good == second["path"].name
    assert report.unanchored_rows == 2  # the two sign-ins after the second anchor
    assert first["head"]["id"] < second["head"]["id"] and first["format"] == "gridpatrol-audit-anchor/1"


def test_a_truncated_tail_is_named_from_the_first_row_after_the_last_good_anchor(anchored, databases):
    first, second = anchored.anchors
    _owner_sql(anchored, databases, [("DELETE FROM audit_log WHERE id > :id", {"id": first["head"]["id"] + 1})])
    with anchored.app_context():
        assert verify_chain(get_session()).ok  # what the verifier used to say
    report = _verify(anchored)
    assert not report.ok and report.first_broken_id == first["head"]["id"] + 1
    assert report.last_good == first["path"].name and "gone" in report.problem


def test_a_tail_rewritten_with_recomputed_hashes_is_named(anchored, databases):
    first, _second = anchored.anchors
    _rewrite_from(anchored, databases, first["head"]["id"] + 2)
    report = _verify(anchored)
    assert not report.ok and report.first_broken_id == first["head"]["id"] + 1 and "rewritten" in report.problem


def test_a_rewrite_before_every_anchor_names_the_first_row(anchored, databases):
    _rewrite_from(anchored, databases, 2)
    report = _verify(anchored)
    assert not report.ok and report.first_broken_id == 1 and report.last_good is None


@pytest.mark.parametrize("which, change", [
    (1, lambda doc: doc["head"].update(row_hash="0" * 64)),  # to match a rewritten log
    (1, lambda doc: doc.update(note="added")),  # any field: the signature covers them all
    (0, lambda doc: doc.update(signature=doc["signature"][:-4] + "AAA=")),
])
def test_a_tampered_anchor_file_is_named(anchored, which, change):
    first, second = anchored.anchors
    path: Path = anchored.anchors[which]["path"]
    doc = json.loads(path.read_text())
    change(doc)
    os.chmod(path, 0o644)
    path.write_text(json.dumps(doc))
    report = _verify(anchored)
    assert not report.ok and "signature" in report.problem and path.name in report.problem
    expected = first["head"]["id"] + 1 if which == 1 else 1
    assert report.first_broken_id == expected


def test_the_served_app_writes_the_days_anchor_once_whoever_writes_first(app, auth):
    _sign_in(auth, "admin")
    written = write_daily_anchor(app)  # a housekeeping round of one worker
    assert write_daily_anchor(app) is None  # and of the next, or another worker
    assert written.name == f"{datetime.now(anchors.LOCAL_TZ).date()}.json"
    assert (written.stat().st_mode & 0o222) == 0  # nobody writes to an anchor again
    assert _verify(app).ok and _verify(app).unanchored_rows == 0


def test_the_export_carries_anchors_and_a_signed_head_and_shows_changes(anchored, auth):
    client = anchored.test_client()
    response = client.get("/api/v1/audit/export", headers=auth.headers("commander1"))
    assert response.status_code == 200
    doc = response.get_json()
    public_key = anchors.load_public_key(doc["public_key"])
    assert len(doc["anchors"]) == 2 and doc["complete"] and anchors.verify_export(doc, public_key) == (None, None)
    tampered = json.loads(json.dumps(doc))
    tampered["rows"][3]["client_addr"] = "203.0.113.9"
    assert anchors.verify_export(tampered, public_key)[0] == doc["rows"][3]["id"]
    cut = {**doc, "rows": doc["rows"][:-2]}
    assert "signed head" in anchors.verify_export(cut, public_key)[1]
    assert client.get("/api/v1/audit/export", headers=auth.headers("officer1")).status_code == 403


def _cli(app, *args) -> subprocess.CompletedProcess:
    settings = _settings(app)
    env = {"DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key, "LOG_LEVEL": "WARNING",
           "GRIDPATROL_VAR_DIR": str(Path(settings.audit_anchor_dir).parent / "cli-var"),
           "AUDIT_ANCHOR_DIR": settings.audit_anchor_dir, "AUDIT_SIGNING_KEY": settings.audit_signing_key}
    env |= {k: os.environ[k] for k in ("PATH", "HOME", "LD_LIBRARY_PATH", "SPATIALITE_LIBRARY_PATH") if k in os.environ}
    return subprocess.run([sys.executable, "-m", "backend.cli", "audit", *args], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def test_the_cli_anchors_and_names_the_row_after_a_truncation(app, auth, databases):
    _sign_in(auth, "admin", "commander1")
    written = _cli(app, "anchor")
    assert written.returncode == 0 and "anchor written" in written.stdout, written.stderr
    head_id = json.loads(next(Path(_settings(app).audit_anchor_dir).glob("*.json")).read_text())["head"]["id"]
    intact = _cli(app, "verify")
    assert intact.returncode == 0 and "1 anchors verified" in intact.stdout, intact.stderr
    _owner_sql(app, databases, [("DELETE FROM audit_log WHERE id >= :id", {"id": head_id - 1})])
    broken = _cli(app, "verify")
    assert broken.returncode == 1 and "BROKEN" in broken.stderr
    assert "from row id 1 " in broken.stderr  # no anchor is good any more: nothing from the first row on
