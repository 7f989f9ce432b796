"""Alembic migrations build the schema the models describe, on an empty database of either kind, and unwind."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from backend.extensions.database import make_engine
from backend.migrate import current_revision, downgrade, head_revision, include_object, upgrade
from backend.models import Base

TABLES = {"areas", "squads", "squad_areas", "departments", "users", "user_roles", "refresh_tokens",
          "login_attempts", "login_locks", "audit_log"}


def _diff(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    return diff


def test_upgrade_an_empty_database_matches_the_models_and_downgrades(databases):
    url = databases._new_empty("migrate_roundtrip")
    upgrade(url)
    assert current_revision(url) == head_revision()
    engine = make_engine(url)
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()
    assert _diff(url) == []
    downgrade(url, "base")
    engine = make_engine(url)
    assert not TABLES & set(inspect(engine).get_table_names())
    engine.dispose()
    upgrade(url)  # and up again
    assert current_revision(url) == head_revision()


def test_stored_fixes_move_to_rows_on_downgrade_and_back_unchanged(app, client, auth, shared_data):
    """0004 moves every raw fix between one-row-a-fix and one-row-a-batch storage, values and decisions intact:
    a real logger file (no times in one segment, spikes) and a phone batch."""
    import io

    import numpy as np
    from sqlalchemy import text

    from backend.extensions.database import get_session
    from backend.services.patrol import fix_store

    raw = (shared_data / "gps" / "gpxpy__korita-zbevnica.gpx").read_bytes()
    imported = client.post("/api/v1/patrols/import", headers=auth.headers("leader1"),
                           content_type="multipart/form-data",
                           data={"officer": "officer1", "file": (io.BytesIO(raw), "korita.gpx")}).get_json()
    headers = auth.headers("officer1")
    phone = client.post("/api/v1/patrols", headers=headers, json={
        "client_id": "patrol-migrate-0001", "started_at": "2026-11-20T08:00:00+00:00"}).get_json()
    points = [{"t": f"2026-11-20T08:00:{10 + i:02d}+00:00", "lon": 115.5 + i * 1e-5, "lat": 38.1, "accuracy_m": 5.0,
               **({"speed_mps": 1.4} if i % 2 else {})} for i in range(40)]
    points[20]["lat"] = 38.2  # a spike
    assert client.post(f"/api/v1/patrols/{phone['id']}/points", headers=headers,
                       json={"batch_id": "batch-migrate-01", "points": points}).status_code == 200

    def stored():
        with app.app_context():
            session = get_session()
            return {pid: fix_store.load(session, pid) for pid in (imported["patrol_id"], phone["id"])}

    before = stored()
    assert sum(len(s) for s in before.values()) == imported["stored"] + 40
    engine = app.extensions["gridpatrol_db"].engine
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    downgrade(url, "0003")
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*), sum(CASE WHEN kept THEN 0 ELSE 1 END) FROM track_points")).one()
    engine.dispose()
    assert rows[0] == imported["stored"] + 40
    assert rows[1] == sum(int((~s.kept).sum()) for s in before.values()) > 0
    upgrade(url)
    after = stored()
    for pid, old in before.items():
        new = after[pid]
        assert new.records.dtype == old.records.dtype and len(new) == len(old)
        for field in old.records.dtype.names:
            assert np.array_equal(new.records[field], old.records[field], equal_nan=True), (pid, field)
        assert new.codes.tolist() == old.codes.tolist() and new.batch_pk.tolist() == old.batch_pk.tolist()
