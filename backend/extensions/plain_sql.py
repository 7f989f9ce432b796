"""Plain SQL for the patrol batch path, on the session's own connection and in its transaction.

A batch runs a dozen statements; through SQLAlchemy's ORM each cost 0.15-0.3 ms of Python on top of the
database's own time. These run plain SQL written with `:name` parameters; SQLAlchemy compiles each statement once
per dialect (its placeholders, and `%` escaped for psycopg), and values are stored as SQLAlchemy stores them
(aware datetimes through UTCDateTime, dates as ISO text on SQLite), so either path reads the other's rows.

On PostgreSQL each statement is also a round trip. Inside `deferred_writes(session)` only (the batch route), writes
whose result nobody reads (defer_plain) wait on the connection and go in one psycopg pipeline with the next
statement that needs an answer, or with the COMMIT (`commit`). Everywhere else defer_plain simply runs the
statement: the rest of the app is plain SQLAlchemy.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any, cast
from weakref import WeakKeyDictionary

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, Dialect, Engine, event, text
from sqlalchemy.orm import Session

Params = Mapping[str, Any]
# the driver's parameters: the mapping itself (psycopg) or its values in the statement's order (sqlite3)
_DriverParams = Mapping[str, Any] | tuple[Any, ...]
_Deferred = tuple[str, _DriverParams, list[Any] | None]
_deferred: WeakKeyDictionary[psycopg.Connection[Any], list[_Deferred]] = WeakKeyDictionary()  # not yet sent
_DEFERRING = "gridpatrol.deferred_writes"


@lru_cache(maxsize=4096)
def _compiled(sql: str, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
    """The driver's SQL for a `:name` statement, and (positional drivers) the order of its parameters."""
    compiled = text(sql).compile(dialect=dialect)
    return str(compiled), (tuple(compiled.positiontup or ()) if compiled.positional else None)


def _pg_driver(connection: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under a PostgreSQL one. SQLAlchemy types it Optional (an invalidated connection
    has none); a connection the session just handed out always has one."""
    return cast("psycopg.Connection[Any]", connection.connection.driver_connection)


def _driver_statement(connection: Connection, sql: str, params: Params) -> tuple[str, _DriverParams]:
    driver_sql, order = _compiled(sql, connection.dialect)
    if order is None:
        return driver_sql, params
    return driver_sql, _sqlite_params(connection.dialect, tuple(params[name] for name in order))


@contextmanager
def deferred_writes(session: Session) -> Iterator[None]:
    """Within this block (the batch path), writes nobody reads wait and travel with the next round trip; leave it
    through `commit(session)`, or an error, which drops what waits."""
    session.info[_DEFERRING] = True
    try:
        yield
    except BaseException:
        _drop(session)
        raise
    finally:
        session.info.pop(_DEFERRING, None)


def commit(session: Session) -> None:
    """Commit the session; on PostgreSQL inside deferred_writes, the waiting writes and the COMMIT go in one round
    trip (SQLAlchemy's own commit then finds the transaction closed and sends nothing)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql" and session.info.get(_DEFERRING):
        session.flush()
        driver = _pg_driver(connection)
        if driver in _deferred:
            try:
                _with_deferred(driver, driver.commit)
            except BaseException:
                driver.rollback()  # the transaction is over either way, as a failed COMMIT would end it
                session.rollback()
                raise
    session.commit()


def _drop(session: Session) -> None:
    if session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        _deferred.pop(_pg_driver(session.connection()), None)


def defer_plain(session: Session, sql: str, params: Params | None = None, rows: list[Any] | None = None) -> None:
    """Run a plain SQL write whose result is not needed now: inside deferred_writes on PostgreSQL, with the
    connection's next round trip; otherwise at once. `rows`, if given, receives the statement's rows (a RETURNING
    clause's) once it has run."""
    params = params or {}
    connection = session.connection()
    if connection.dialect.name != "postgresql" or not session.info.get(_DEFERRING):
        if rows is None:
            execute_plain(session, sql, params)
        else:
            rows.extend(fetch_plain(session, sql, params))
        return
    driver_sql, driver_params = _driver_statement(connection, sql, params)
    _deferred.setdefault(_pg_driver(connection), []).append((driver_sql, driver_params, rows))


def fetch_plain(session: Session, sql: str, params: Params | None = None) -> Sequence[Any]:
    """Rows of a plain SQL statement (a query, or a write with RETURNING), as named tuples. On PostgreSQL through a
    binary cursor: bytea in the text protocol travels hex-encoded, twice the size, and decoding it cost more than
    the query."""
    connection = session.connection()
    driver_sql, driver_params = _driver_statement(connection, sql, params or {})
    if connection.dialect.name != "postgresql":
        return connection.exec_driver_sql(driver_sql, driver_params).fetchall()
    driver = _pg_driver(connection)
    with driver.cursor(binary=True, row_factory=namedtuple_row) as cursor:
        _with_deferred(driver, lambda: cursor.execute(driver_sql, driver_params))
        return cursor.fetchall()


def execute_plain(session: Session, sql: str, params: Params | None = None) -> None:
    """Run one plain SQL statement that returns no rows."""
    connection = session.connection()
    driver_sql, driver_params = _driver_statement(connection, sql, params or {})
    if connection.dialect.name == "postgresql":
        driver = _pg_driver(connection)
        with driver.cursor() as cursor:
            _with_deferred(driver, lambda: cursor.execute(driver_sql, driver_params))
        return
    sqlite_driver: Any = connection.connection.driver_connection
    cursor = sqlite_driver.cursor()  # sqlite3 cursors are not context managers
    try:
        cursor.execute(driver_sql, driver_params)
    finally:
        cursor.close()


def _with_deferred(driver: psycopg.Connection[Any], execute: Callable[[], object] | None = None) -> None:
    """Send the connection's deferred writes, then `execute` if given, in one pipeline (one round trip)."""
    deferred = _deferred.pop(driver, None)
    if not deferred:
        if execute is not None:
            execute()
        return
    answering: list[tuple[psycopg.Cursor[Any], list[Any]]] = []
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


def _send_deferred_before(conn: Connection, *_args: object) -> None:
    """Before SQLAlchemy runs a statement: the deferred writes go first, in their order."""
    if _deferred:
        _with_deferred(_pg_driver(conn))


def _drop_deferred(conn: Connection, *_args: object) -> None:
    _deferred.pop(_pg_driver(conn), None)


def watch_deferred_writes(engine: Engine) -> None:
    """Wire a PostgreSQL engine's events to the deferred writes (make_engine does)."""
    event.listen(engine, "before_cursor_execute", _send_deferred_before)
    event.listen(engine, "rollback", _drop_deferred)
    # A connection going back to the pool unfinished (an error before commit) takes nothing to its next user.
    event.listen(engine.pool, "reset", lambda dbapi_conn, *_args: _deferred.pop(dbapi_conn, None))


def _sqlite_params(dialect: Dialect, params: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(_sqlite_datetime(dialect)(p) if isinstance(p, datetime) else
                 p.isoformat() if isinstance(p, date) else p for p in params)


@cache
def _sqlite_datetime(dialect: Dialect) -> Callable[[Any], Any]:
    """SQLAlchemy's own conversion of an aware datetime for SQLite (naive UTC text in its storage format)."""
    from ..models.base import UTCDateTime

    processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None  # a TypeDecorator's implementation always has one
    return processor
