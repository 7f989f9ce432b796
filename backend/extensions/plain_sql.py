"""Plain SQL on the hot paths, on the session's own connection and in its transaction.

A patrol batch runs a dozen statements; through SQLAlchemy each cost 0.15-0.3 ms of Python on top of the
database's own time (statement cache keys, execution contexts, result objects). These run plain SQL with '?'
placeholders. Parameters are stored as SQLAlchemy stores them (aware datetimes through UTCDateTime, dates as ISO
text on SQLite), so either path reads the other's.

On PostgreSQL each statement is also a round trip, 0.5-1.5 ms on a busy host: writes whose result nobody reads
(defer_plain) wait on the connection and go in one psycopg pipeline with the next statement that does need an
answer, before any statement SQLAlchemy runs on the connection, or with the COMMIT itself. A rollback drops them.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import cache
from weakref import WeakKeyDictionary

from psycopg.rows import namedtuple_row
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

_deferred: WeakKeyDictionary = WeakKeyDictionary()  # psycopg connection -> [(sql, params, rows)] not yet sent


def defer_plain(session: Session, sql: str, params: tuple = (), rows: list | None = None) -> None:
    """Run a plain SQL write whose result is not needed now: on PostgreSQL, with the connection's next round
    trip; on SQLite (no round trips) at once. `rows`, if given, receives the statement's rows (a RETURNING
    clause's) once it has run."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        if rows is None:
            execute_plain(session, sql, params)
        else:
            rows.extend(fetch_plain(session, sql, params))
        return
    _deferred.setdefault(connection.connection.driver_connection, []).append((sql.replace("?", "%s"), params, rows))


def fetch_plain(session: Session, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of a plain SQL statement (a query, or a write with RETURNING). On PostgreSQL through a binary
    cursor: bytea in the text protocol travels hex-encoded, twice the size, and decoding it cost more than the
    query."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return connection.exec_driver_sql(sql, _sqlite_params(connection.dialect, params)).fetchall()
    driver = connection.connection.driver_connection
    with driver.cursor(binary=True, row_factory=namedtuple_row) as cursor:
        _with_deferred(driver, lambda: cursor.execute(sql.replace("?", "%s"), params))
        return cursor.fetchall()


def execute_plain(session: Session, sql: str, params: tuple = ()) -> None:
    """Run one plain SQL statement that returns no rows."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor:
            _with_deferred(driver, lambda: cursor.execute(sql.replace("?", "%s"), params))
        return
    cursor = driver.cursor()  # sqlite3 cursors are not context managers
    try:
        cursor.execute(sql, _sqlite_params(connection.dialect, params))
    finally:
        cursor.close()


def _with_deferred(driver, execute=None) -> None:
    """Send the connection's deferred writes, then `execute` if given, in one pipeline (one round trip)."""
    deferred = _deferred.pop(driver, None)
    if not deferred:
        if execute is not None:
            execute()
        return
    answering = []
    with driver.pipeline():
        with driver.cursor() as cursor:
            for sql, params, rows in deferred:
                if rows is None:
                    cursor.execute(sql, params)
                else:  # a cursor of its own, read once the pipeline has synced
                    answering.append((driver.cursor(binary=True, row_factory=namedtuple_row), rows))
                    answering[-1][0].execute(sql, params)
        if execute is not None:
            execute()
    for own_cursor, rows in answering:
        rows.extend(own_cursor.fetchall())
        own_cursor.close()


def _send_deferred_before(conn, *_args) -> None:
    """Before SQLAlchemy runs a statement: the deferred writes go first, in their order."""
    if _deferred:
        _with_deferred(conn.connection.driver_connection)


def _send_deferred_with_commit(conn) -> None:
    """At commit: the deferred writes and the COMMIT itself in one round trip. SQLAlchemy's own commit, which
    follows this event, then finds the transaction closed and sends nothing."""
    driver = conn.connection.driver_connection
    if driver in _deferred:
        try:
            _with_deferred(driver, driver.commit)
        except BaseException:
            # SQLAlchemy counts the transaction as over either way: end it here, as a failed COMMIT would have.
            driver.rollback()
            raise


def _drop_deferred(conn, *_args) -> None:
    _deferred.pop(conn.connection.driver_connection, None)


def watch_deferred_writes(engine: Engine) -> None:
    """Wire a PostgreSQL engine's events to the deferred writes (make_engine does)."""
    event.listen(engine, "before_cursor_execute", _send_deferred_before)
    event.listen(engine, "commit", _send_deferred_with_commit)
    event.listen(engine, "rollback", _drop_deferred)
    # A connection going back to the pool unfinished (an error before commit) takes nothing to its next user.
    event.listen(engine.pool, "reset", lambda dbapi_conn, *_args: _deferred.pop(dbapi_conn, None))


def _sqlite_params(dialect, params: tuple) -> tuple:
    return tuple(_sqlite_datetime(dialect)(p) if isinstance(p, datetime) else
                 p.isoformat() if isinstance(p, date) else p for p in params)


@cache
def _sqlite_datetime(dialect):
    """SQLAlchemy's own conversion of an aware datetime for SQLite (naive UTC text in its storage format)."""
    from ..models.base import UTCDateTime

    return UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
