"""Engines for SpatiaLite (embedded default) and PostGIS (production), and the per-request session."""
from __future__ import annotations

import logging
import os
import threading
import time
import sqlite3
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

# pyproj must be loaded before the first SpatiaLite connection. mod_spatialite pulls in the system libproj,
# pyproj its own copy; when the system copy loads first, both run the same exit destructors and the process
# aborts at exit ("double free" in osgeo::proj::common::UnitOfMeasure::~UnitOfMeasure).
import pyproj  # noqa: F401  (imported for its load order)
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, SessionTransaction, scoped_session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from .plain_sql import watch_deferred_writes

if TYPE_CHECKING:
    from flask import Flask

SPATIALITE_MODULE = os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite")


log = logging.getLogger(__name__)

def sqlite_dbapi_module() -> ModuleType:
    """The sqlite3 module to use: the standard one if it can load extensions, else pysqlite3."""
    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        import pysqlite3.dbapi2 as pysqlite3
    except ImportError as exc:  # pragma: no cover - depends on the platform
        raise RuntimeError(
            "This Python's sqlite3 cannot load SpatiaLite; install pysqlite3-binary (pip) on Linux x86_64"
        ) from exc
    return pysqlite3


def _postgres_driver() -> str:
    try:
        import psycopg  # noqa: F401

        return "postgresql+psycopg"
    except ImportError:
        return "postgresql+psycopg2"


def database_kind(engine: Engine) -> str:
    return "postgis" if engine.dialect.name == "postgresql" else "spatialite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for a `sqlite:///file` (SpatiaLite) or `postgresql://` (PostGIS) URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
        engine = create_engine(
            parsed.set(drivername="sqlite+pysqlite"),
            module=sqlite_dbapi_module(),
            connect_args={"timeout": 30, "check_same_thread": False},
            **kwargs,
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        # BEGIN IMMEDIATE: one writer at a time, so the audit hash chain never forks and a read-then-write
        # transaction never fails half-way with SQLITE_BUSY_SNAPSHOT.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername=_postgres_driver())
        engine = create_engine(parsed, **kwargs)
        _ping_when_idle(engine)
        watch_deferred_writes(engine)
        return engine
    raise ValueError(f"Unsupported DATABASE_URL {url!r}: use sqlite:///path or postgresql://user@host/db")


# A pooled connection idle this long is pinged before use (a database restart or a dropped link shows there, and
# the pool opens a new one); one used moments ago is not, as HikariCP does: the ping was a round trip per request.
PING_AFTER_IDLE_S = 2.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine.pool, "checkin")
    def _idle_from(_dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping(dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return  # new, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as error:  # noqa: BLE001 - any failure: this connection is gone, the pool opens another
            raise DisconnectionError(f"idle connection failed its ping: {error}") from error


def _on_sqlite_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    dbapi_conn.isolation_level = None  # let the "begin" listener issue BEGIN IMMEDIATE itself
    dbapi_conn.enable_load_extension(True)
    dbapi_conn.load_extension(SPATIALITE_MODULE)
    dbapi_conn.enable_load_extension(False)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA busy_timeout = 30000")
    # A request that hits the automatic checkpoint (every 1,000 pages) copies the WAL into the database and syncs:
    # 30-150 ms on top of a 40 ms batch. Served apps checkpoint in the background (start_wal_checkpoints); this
    # larger limit is only the safety net.
    cur.execute("PRAGMA wal_autocheckpoint = 10000")
    if not cur.execute("PRAGMA main.table_info(geometry_columns)").fetchall():
        # WGS84 mode only loads the WGS-84 reference systems: fast, and all we store.
        cur.execute("SELECT InitSpatialMetaData(1, 'WGS84')")
    cur.close()


class Database:
    """Holds the engine and a session scoped to the Flask app context (both set by init_app)."""

    engine: Engine
    session: scoped_session[Session]

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"])
        factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.session = scoped_session(factory, scopefunc=_app_context_id)
        app.extensions["gridpatrol_db"] = self

        @app.teardown_appcontext
        def _remove_session(_exc: BaseException | None) -> None:
            self.session.remove()

    @property
    def kind(self) -> str:
        return database_kind(self.engine)


def _app_context_id() -> int:
    from flask import g

    return id(g._get_current_object())


def get_db() -> Database:
    from flask import current_app

    return current_app.extensions["gridpatrol_db"]


def get_session() -> Session:
    """The session of the current request (or CLI command)."""
    return get_db().session()


def start_wal_checkpoints(engine: Engine, every_s: float = 2.0) -> threading.Thread | None:
    """SQLite only: checkpoint the WAL from a background thread (PASSIVE: never waits for, nor blocks, readers and
    writers), so requests do not pay for it. Started by the served app (backend.wsgi), once per process."""
    if engine.dialect.name != "sqlite":
        return None

    def run() -> None:
        while True:
            time.sleep(every_s)
            try:
                raw = engine.raw_connection()  # no BEGIN IMMEDIATE: that listener is on SQLAlchemy transactions
                try:
                    raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    raw.close()
            except Exception:  # noqa: BLE001 - a failed checkpoint is retried; the safety net still applies
                log.warning("background WAL checkpoint failed", exc_info=True)

    thread = threading.Thread(target=run, name="wal-checkpoint", daemon=True)
    thread.start()
    return thread


# ---- after commit ---------------------------------------------------------------------------------------------
_ON_COMMIT = "gridpatrol.on_commit"


def on_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run `callback` once the session's outermost transaction commits; never if it rolls back."""
    session.info.setdefault(_ON_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    if session.get_nested_transaction() is None:  # the outermost transaction, not a savepoint
        for callback in session.info.pop(_ON_COMMIT, []):
            callback()


@event.listens_for(Session, "after_transaction_end")
def _forget_on_rollback(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # after a commit the list is already run and gone; after a rollback, dropped
        session.info.pop(_ON_COMMIT, None)


def dialect_insert(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that takes ON CONFLICT clauses: PostgreSQL's or SQLite's (the same syntax on both)."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
