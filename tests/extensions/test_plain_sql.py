"""Plain SQL of the batch path: `:name` parameters on both drivers (a literal % included), and writes deferred to
the connection's next round trip (PostgreSQL, inside deferred_writes only) behave as if they ran at once: seen by
every later read of the transaction, in order, committed with it, gone with a rollback or an error, on every
connection. Outside the block nothing waits."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from backend.extensions import plain_sql
from backend.extensions.database import get_db, get_session
from backend.extensions.plain_sql import defer_plain, deferred_writes, fetch_plain
from backend.models import PatrolBatch

UPDATE = "UPDATE patrol_batches SET answer = :answer WHERE id = :id"


def _patrol_batch(session) -> int:
    session.execute(text("INSERT INTO patrols (client_id, officer_id, started_at, grid_ids, raw_count, point_count, "
                         "distance_m, duration_s, moving_time_s, dropped, gaps, flags, version, created_at) "
                         "SELECT 'plain-sql-patrol', id, :t, '[]', 0, 0, 0, 0, 0, '{}', '[]', '{}', 1, :t "
                         "FROM users WHERE username = 'officer1'"), {"t": datetime(2026, 11, 20, tzinfo=UTC)})
    patrol_id = session.scalar(text("SELECT id FROM patrols WHERE client_id = 'plain-sql-patrol'"))
    return fetch_plain(session, "INSERT INTO patrol_batches (patrol_id, batch_id, body_hash, answer, received_at) "
                                "VALUES (:patrol, 'plain-sql-batch', '-', '{}', :at) RETURNING id",
                       {"patrol": patrol_id, "at": datetime.now(UTC)})[0][0]


def _answer(session, batch_pk: int) -> str:
    return session.scalar(select(PatrolBatch.answer).where(PatrolBatch.id == batch_pk))


def test_deferred_writes_are_read_back_in_order_and_committed(app):
    with app.app_context():
        session = get_session()
        batch_pk = _patrol_batch(session)
        with deferred_writes(session):
            defer_plain(session, UPDATE, {"answer": '{"n":1}', "id": batch_pk})
            defer_plain(session, UPDATE, {"answer": '{"n":2}', "id": batch_pk})
            if get_db().kind == "postgis":
                assert len(plain_sql._deferred) == 1  # waiting on the connection, not yet sent
            assert fetch_plain(session, "SELECT answer FROM patrol_batches WHERE id = :id",
                               {"id": batch_pk})[0][0] == '{"n":2}'
            defer_plain(session, UPDATE, {"answer": '{"n":3}', "id": batch_pk})
            assert _answer(session, batch_pk) == '{"n":3}'  # a statement SQLAlchemy runs sees it too
            defer_plain(session, UPDATE, {"answer": '{"n":4}', "id": batch_pk})
            plain_sql.commit(session)
        assert not plain_sql._deferred
    with app.app_context():
        assert _answer(get_session(), batch_pk) == '{"n":4}'


def test_outside_the_block_writes_run_at_once(app):
    with app.app_context():
        session = get_session()
        batch_pk = _patrol_batch(session)
        defer_plain(session, UPDATE, {"answer": '{"now":1}', "id": batch_pk})
        assert not plain_sql._deferred
        session.commit()
        assert _answer(session, batch_pk) == '{"now":1}'


def test_a_percent_sign_and_named_parameters_reach_both_drivers(app):
    """Placeholders are compiled by SQLAlchemy per dialect, so a literal % is not taken for one by psycopg."""
    with app.app_context():
        session = get_session()
        batch_pk = _patrol_batch(session)
        defer_plain(session, UPDATE, {"answer": "100% covered", "id": batch_pk})
        found = fetch_plain(session, "SELECT id, answer FROM patrol_batches WHERE answer LIKE '100%' AND id = :id",
                            {"id": batch_pk})
        assert [(r.id, r.answer) for r in found] == [(batch_pk, "100% covered")]


def test_a_rollback_or_an_error_drops_deferred_writes(app):
    with app.app_context():
        session = get_session()
        batch_pk = _patrol_batch(session)
        session.commit()
        with pytest.raises(RuntimeError):
            with deferred_writes(session):
                defer_plain(session, UPDATE, {"answer": '{"lost":1}', "id": batch_pk})
                raise RuntimeError("the batch failed half-way")
        assert not plain_sql._deferred
        session.rollback()
        with deferred_writes(session):
            defer_plain(session, UPDATE, {"answer": '{"lost":2}', "id": batch_pk})
            session.rollback()
        assert not plain_sql._deferred
        with deferred_writes(session):
            defer_plain(session, UPDATE, {"answer": '{"lost":3}', "id": batch_pk})
    # The request ended without a commit: its connection goes back to the pool with nothing pending.
    assert not plain_sql._deferred
    with app.app_context():
        session = get_session()
        session.execute(text("SELECT 1"))
        session.commit()
        assert _answer(session, batch_pk) == "{}"


def test_a_conflict_in_plain_sql_is_a_409_even_when_it_surfaces_at_commit(app):
    # The drivers' own integrity errors (plain SQL, deferred writes sent with the commit) read as SQLAlchemy's do.
    from backend.extensions.plain_sql import execute_plain

    copy_officer1 = ("INSERT INTO users (username, display_name, password_hash, active, password_changed_at, version, "
                     "created_at, updated_at) SELECT username, display_name, password_hash, active, "
                     "password_changed_at, version, created_at, updated_at FROM users WHERE username = 'officer1'")

    @app.post("/test-only/copy-officer1/<how>")
    def copy_officer1_route(how):
        session = get_session()
        if how == "now":
            execute_plain(session, copy_officer1)
            session.commit()
        else:
            with deferred_writes(session):
                defer_plain(session, copy_officer1)
                plain_sql.commit(session)
        return {}

    client = app.test_client()
    for how in ("now", "deferred"):
        response = client.post(f"/test-only/copy-officer1/{how}")
        assert response.status_code == 409, (how, response.get_json())
        assert response.get_json()["code"] == "conflict"
    with app.app_context():
        assert get_session().scalar(text("SELECT count(*) FROM users WHERE username = 'officer1'")) == 1
