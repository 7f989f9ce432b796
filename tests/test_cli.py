"""The `gridpatrol` command as an operator runs it: bootstrap, demo refusal in production, audit verify."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import PG_URL


def gridpatrol(args, env):
    return subprocess.run([sys.executable, "-m", "backend.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def env(databases, tmp_path):
    url = databases._new_empty(f"cli{os.getpid()}_{tmp_path.name[-12:]}".replace("-", "_").lower())
    return {**os.environ, "DATABASE_URL": url, "GRIDPATROL_VAR_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}


def test_bootstrap_migrates_loads_the_demo_once_and_keeps_data(env):
    first = gridpatrol(["bootstrap"], env)
    assert first.returncode == 0, first.stderr
    assert "grids 243" in first.stdout and "villages 76" in first.stdout
    second = gridpatrol(["bootstrap"], env)
    assert second.returncode == 0 and "already holds data" in second.stdout
    verify = gridpatrol(["audit", "verify"], env)
    assert verify.returncode == 0 and "intact" in verify.stdout
    rebuilt = gridpatrol(["coverage", "rebuild"], env)
    assert rebuilt.returncode == 0 and "0 patrols" in rebuilt.stdout


def test_demo_is_refused_in_production(env):
    production = {**env, "GRIDPATROL_ENV": "production", "SECRET_KEY": "p" * 48}
    assert gridpatrol(["db", "upgrade"], production).returncode == 0
    refused = gridpatrol(["demo", "load"], production)
    assert refused.returncode != 0 and "production" in refused.stderr


@pytest.mark.skipif(bool(PG_URL), reason="SpatiaLite only: PostGIS refuses the UPDATE itself (tests/services)")
def test_audit_verify_names_the_first_tampered_row(env):
    from sqlalchemy.engine import make_url

    from backend.extensions.database import sqlite_dbapi_module

    assert gridpatrol(["bootstrap"], env).returncode == 0
    conn = sqlite_dbapi_module().connect(make_url(env["DATABASE_URL"]).database)
    conn.execute("DROP TRIGGER audit_log_no_update")  # an attacker with file access
    conn.execute("UPDATE audit_log SET summary = '{}' WHERE id = 1")
    conn.commit()
    conn.close()
    broken = gridpatrol(["audit", "verify"], env)
    assert broken.returncode == 1 and "row id 1" in broken.stderr


def test_upgrade_recounts_coverage_a_migration_dropped(env):
    """Migration 0006 drops the old coverage rows (coverage is derived from the stored fixes): the upgrade counts
    every patrol again, so the coverage reads as before."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    from backend import create_app
    from backend.extensions.database import make_engine
    from backend.settings import DEMO_PASSWORD, Settings

    assert gridpatrol(["bootstrap"], env).returncode == 0
    app = create_app(Settings.from_env({k: v for k, v in env.items() if k in ("DATABASE_URL", "GRIDPATROL_VAR_DIR")}))
    client = app.test_client()
    token = client.post("/api/v1/auth/login", json={"username": "officer1", "password": DEMO_PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    grid = client.get("/api/v1/areas?kind=grid&page_size=1", headers=headers).get_json()["features"][0]
    lon, lat = grid["geometry"]["coordinates"][0][0][0]
    start = datetime.now(UTC) - timedelta(minutes=10)
    patrol = client.post("/api/v1/patrols", headers=headers, json={"client_id": "cli-recount-patrol",
                                                                   "started_at": start.isoformat()}).get_json()
    points = [{"t": (start + timedelta(seconds=5 * k)).isoformat(), "lon": lon + k * 2e-5, "lat": lat,
               "accuracy_m": 5.0} for k in range(60)]
    assert client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers,
                       json={"batch_id": "cli-recount-batch", "points": points}).status_code == 200
    # the walk's own day (Asia/Shanghai): run in the first minutes after midnight there, "today" would not hold it
    day = (start + timedelta(hours=8)).date().isoformat()
    before = client.get(f"/api/v1/coverage?from={day}&to={day}", headers=headers).get_json()["items"]
    assert any(i["patrols"] for i in before)
    app.extensions["gridpatrol_db"].engine.dispose()
    engine = make_engine(env["DATABASE_URL"])
    with engine.begin() as conn:  # what the migration leaves: no coverage rows, the fixes kept
        conn.execute(text("DELETE FROM coverage_patrol_days"))
        conn.execute(text("DELETE FROM patrol_grid_visits"))
    engine.dispose()
    upgraded = gridpatrol(["db", "upgrade"], env)
    assert upgraded.returncode == 0 and "recounted" in upgraded.stdout, upgraded.stderr
    again = create_app(Settings.from_env({k: v for k, v in env.items() if k in ("DATABASE_URL", "GRIDPATROL_VAR_DIR")}))
    assert again.test_client().get(f"/api/v1/coverage?from={day}&to={day}", headers=headers).get_json()["items"] == before
    again.extensions["gridpatrol_db"].engine.dispose()
    assert "recounted" not in gridpatrol(["db", "upgrade"], env).stdout  # once
