"""Writes deferred to the connection's next round trip (PostgreSQL) behave as if they ran at once: seen by every
later read of the transaction, in order, committed with it, and gone with a rollback, on every connection."""
from datetime import UTC, datetime

from sqlalchemy import select, text

from backend.extensions import plain_sql
from backend.extensions.database import get_db, get_session
from backend.extensions.plain_sql import defer_plain, fetch_plain
from backend.models import PatrolBatch


def _patrol_batch(session) -> int:
    session.execute(text("INSERT INTO patrols (client_id, officer_id, started_at, grid_ids, raw_count, point_count, "
                         "distance_m, duration_s, moving_time_s, dropped, gaps, flags, version, created_at) "
                         "SELECT 'plain-sql-patrol', id, :t, '[]', 0, 0, 0, 0, 0, '{}', '[]', '{}', 1, :t "
                         "FROM users WHERE username = 'officer1'"), {"t": datetime(2026, 11, 20, tzinfo=UTC)})
    patrol_id = session.scalar(text("SELECT id FROM patrols WHERE client_id = 'plain-sql-patrol'"))
    return fetch_plain(session, "INSERT INTO patrol_batches (patrol_id, batch_id, body_hash, answer, received_at) "
                                "VALUES (?, 'plain-sql-batch', '-', '{}', ?) RETURNING id",
                       (patrol_id, datetime.now(UTC)))[0][0]


def _answer(session, batch_pk: int) -> str:
    return session.scalar(select(PatrolBatch.answer).where(PatrolBatch.id == batch_pk))


def test_deferred_writes_are_read_back_in_order_and_committed(app):
    with app.app_context():
        session = get_session()
        batch_pk = _patrol_batch(session)
        defer_plain(session, "UPDATE patrol_batches SET answer = ? WHERE id = ?", ('{"n":1}', batch_pk))
        defer_plain(session, "UPDATE patrol_batches SET answer = ? WHERE id = ?", ('{"n":2}', batch_pk))
        if get_db().kind == "postgis":
            assert len(plain_sql._deferred) == 1  # waiting on the connection, not yet sent
        assert fetch_plain(session, "SELECT answer FROM patrol_batches WHERE id = ?", (batch_pk,))[0][0] == '{"n":2}'
        defer_plain(session, "UPDATE patrol_batches SET answer = ? WHERE id = ?", ('{"n":3}', batch_pk))
        assert _answer(session, batch_pk) == '{"n":3}'  # a statement SQLAlchemy runs sees it too
        defer_plain(session, "UPDATE patrol_batches SET answer = ? WHERE id = ?", ('{"n":4}', batch_pk))
        session.commit()
        assert not plain_sql._deferred
    with app.app_context():
        assert _answer(get_session(), batch_pk) == '{"n":4}'


def test_a_rollback_or_an_unfinished_request_drops_deferred_writes(app):
    with app.app_context():
        session = get_session()
        batch_pk = _patrol_batch(session)
        session.commit()
        defer_plain(session, "UPDATE patrol_batches SET answer = ? WHERE id = ?", ('{"lost":1}', batch_pk))
        session.rollback()
        assert not plain_sql._deferred
        session.commit()
        defer_plain(session, "UPDATE patrol_batches SET answer = ? WHERE id = ?", ('{"lost":2}', batch_pk))
    # The request ended without a commit (an error): its connection goes back to the pool with nothing pending.
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
        (execute_plain if how == "now" else defer_plain)(session, copy_officer1)
        session.commit()
        return {}

    client = app.test_client()
    for how in ("now", "deferred"):
        response = client.post(f"/test-only/copy-officer1/{how}")
        assert response.status_code == 409, (how, response.get_json())
        assert response.get_json()["code"] == "conflict"
    with app.app_context():
        assert get_session().scalar(text("SELECT count(*) FROM users WHERE username = 'officer1'")) == 1
