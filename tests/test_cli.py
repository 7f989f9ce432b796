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
