"""A pooled PostgreSQL connection that died while idle (server restart, dropped link) is replaced before use."""
import psycopg
import pytest
from sqlalchemy import text

from backend.extensions import database
from backend.extensions.database import get_db, get_session
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="a server-side disconnect needs a PostgreSQL server")


def _backend_pid(app) -> int:
    with app.app_context():
        session = get_session()
        pid = session.scalar(text("SELECT pg_backend_pid()"))
        session.commit()
        return pid


def test_an_idle_connection_killed_by_the_server_is_replaced_before_use(app, client, auth, monkeypatch):
    headers = auth.headers("officer1")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    dead = _backend_pid(app)
    url = get_db_engine(app).url
    with psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, dbname=url.database,
                         autocommit=True) as admin:  # a connection of its own does the killing
        admin.execute("SELECT pg_terminate_backend(%s)", (dead,))
    monkeypatch.setattr(database, "PING_AFTER_IDLE_S", 0.0)  # as if it had been idle for a while
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert _backend_pid(app) != dead


def get_db_engine(app):
    with app.app_context():
        return get_db().engine
