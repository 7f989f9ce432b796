"""The audit log (全程留痕): every change through the API leaves a hash-chained row, and tampering is caught
(SpatiaLite) or refused outright (PostGIS)."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select, text

from backend.extensions.database import get_session
from backend.models import AuditEntry
from backend.services.core.audit import verify_chain
from tests.conftest import REPO_ROOT

CLIENT_ADDR = "10.20.30.40"  # a phone on the township's network, as the server sees it
SAN_FRANCISCO = "boundaries/click_that_hood__san-francisco.geojson"


def _audit(client, headers, **query) -> list[dict]:
    response = client.get("/api/v1/audit", query_string={"page_size": 1000, **query}, headers=headers)
    assert response.status_code == 200
    return response.get_json()


def _cli_verify(app, tmp_path) -> subprocess.CompletedProcess:
    settings = app.config["GRIDPATROL"]
    env = {"DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key,
           "GRIDPATROL_VAR_DIR": str(tmp_path / "cli-var"), "LOG_LEVEL": "WARNING"}
    # what the interpreter itself needs to start and find SpatiaLite, nothing of the app's configuration
    env |= {k: os.environ[k] for k in ("PATH", "HOME", "LD_LIBRARY_PATH", "SPATIALITE_LIBRARY_PATH") if k in os.environ}
    return subprocess.run([sys.executable, "-m", "backend.cli", "audit", "verify"], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def _engine(app):
    return app.extensions["gridpatrol_db"].engine


@pytest.fixture
def busy_app(app, auth, shared_data):
    """The demo town after a morning of activity from one address: a new user, a wrong password, an import."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = CLIENT_ADDR
    admin = auth.headers("admin")
    created = client.post("/api/v1/users", headers=admin, json={
        "username": "officer99", "display_name": "赵新兵", "password": "patrol-north-2024", "roles": ["officer"],
        "squad_id": auth.user("officer1")["squad"]["id"]})
    assert created.status_code == 201
    failed = client.post("/api/v1/auth/login", json={"username": "officer3", "password": "wrong-password"})
    assert failed.status_code == 401
    doc = json.loads((shared_data / SAN_FRANCISCO).read_bytes())
    doc["features"] = doc["features"][:2]
    imported = client.post("/api/v1/areas/import", headers=admin, content_type="multipart/form-data", data={
        "kind": "village", "file": (io.BytesIO(json.dumps(doc).encode()), "sf.geojson")})
    assert imported.status_code == 201
    app.activity = {"user_id": created.get_json()["id"], "area_ids": imported.get_json()["created_ids"]}
    return app


def test_every_change_leaves_a_row_naming_actor_action_entity_and_address(busy_app, auth):
    client = busy_app.test_client()
    headers = auth.headers("commander1")
    admin_id = auth.user("admin")["id"]

    (create,) = _audit(client, headers, action="user.create")
    assert (create["actor_id"], create["actor_username"]) == (admin_id, "admin")
    assert (create["entity"], create["entity_id"]) == ("user", str(busy_app.activity["user_id"]))
    assert create["client_addr"] == CLIENT_ADDR
    assert create["summary"]["after"]["username"] == "officer99" and "password" not in json.dumps(create["summary"])

    (failed,) = _audit(client, headers, action="auth.login_failed")
    assert failed["actor_username"] == "officer3" and failed["entity"] == "user"
    assert failed["entity_id"] == str(auth.user("officer3")["id"]) and failed["client_addr"] == CLIENT_ADDR

    (imported,) = _audit(client, headers, action="area.import")
    assert imported["actor_id"] == admin_id and imported["entity"] == "area" and imported["client_addr"] == CLIENT_ADDR
    assert imported["summary"]["after"]["ids"] == busy_app.activity["area_ids"]
    assert imported["summary"]["after"]["file"] == "sf.geojson"

    entries = _audit(client, headers)
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)  # newest first
    # signing in is activity too: the test's own sign-ins are there, after the import
    assert {"commander1", "officer3"} <= {e["actor_username"] for e in entries if e["action"] == "auth.login_success"}


def test_chain_is_intact_after_activity(busy_app):
    with busy_app.app_context():
        session = get_session()
        report = verify_chain(session)
        assert report.ok and report.reason is None
        assert report.rows_checked == session.scalar(select(func.count(AuditEntry.id))) >= 5


def test_audit_log_is_for_commanders_and_admins(shared_app, shared_auth):
    client = shared_app.test_client()
    for username in ("officer1", "leader1", "supervisor1", "dept1"):
        response = client.get("/api/v1/audit", headers=shared_auth.headers(username))
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
    for username in ("commander1", "admin"):
        assert client.get("/api/v1/audit", headers=shared_auth.headers(username)).status_code == 200


def _middle_row_id(app) -> int:
    with app.app_context():
        ids = get_session().scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
    assert len(ids) >= 5
    return ids[len(ids) // 2]


def test_cli_verifies_and_tampering_is_named_or_refused(busy_app, databases, tmp_path):
    intact = _cli_verify(busy_app, tmp_path)
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout
    target = _middle_row_id(busy_app)
    if databases.kind == "spatialite":
        _tamper_spatialite(busy_app, target)
        with busy_app.app_context():
            report = verify_chain(get_session())
        assert report.first_broken_id == target and "content" in report.reason
        assert report.rows_checked == target - 1  # ids start at 1 and never skip in a fresh log
        broken = _cli_verify(busy_app, tmp_path)
        assert broken.returncode == 1
        assert f"row id {target}" in broken.stderr and "BROKEN" in broken.stderr
    else:
        # On PostGIS the trigger refuses every change, TRUNCATE included: there is nothing to detect.
        with pytest.raises(Exception, match="append-only"):
            with _engine(busy_app).begin() as conn:
                conn.execute(text("TRUNCATE audit_log"))
        with pytest.raises(Exception, match=r"append-only \(UPDATE refused\)"):
            with _engine(busy_app).begin() as conn:
                conn.execute(text("UPDATE audit_log SET client_addr = '1.2.3.4' WHERE id = :id"), {"id": target})
        again = _cli_verify(busy_app, tmp_path)
        assert again.returncode == 0 and "intact" in again.stdout


def _tamper_spatialite(app, target: int) -> None:
    """What someone holding the database file could do: drop the guard trigger, then rewrite a row."""
    raw = _engine(app).raw_connection()
    try:
        cursor = raw.cursor()
        with pytest.raises(Exception, match="append-only"):  # the trigger guards even the app's own connection
            cursor.execute("UPDATE audit_log SET summary = '{}' WHERE id = ?", (target,))
        cursor.execute("DROP TRIGGER audit_log_no_update")
        cursor.execute("UPDATE audit_log SET summary = ? WHERE id = ?", ('{"after":null,"before":null}', target))
        raw.commit()
    finally:
        raw.close()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET summary = '{}' WHERE id = :id",
    "DELETE FROM audit_log WHERE id = :id",
    "DELETE FROM audit_log",
])
def test_the_app_cannot_change_or_remove_audit_rows(app, auth, statement):
    for username in ("admin", "commander1", "officer1", "supervisor1"):
        auth.headers(username)  # each sign-in is a row
    target = _middle_row_id(app)
    with app.app_context():
        before = [(e.id, e.row_hash) for e in get_session().scalars(select(AuditEntry).order_by(AuditEntry.id))]
    with pytest.raises(Exception, match="append-only"):
        with _engine(app).begin() as conn:
            conn.execute(text(statement), {"id": target})
    with app.app_context():
        session = get_session()
        after = [(e.id, e.row_hash) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert after == before and verify_chain(session).ok
