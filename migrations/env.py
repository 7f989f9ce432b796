"""Alembic environment: the same migrations on SpatiaLite and PostGIS."""
from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers

from backend.extensions.database import make_engine
from backend.models import Base
from backend.settings import Settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url") or (
        Settings.from_env().database_url
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


# SpatiaLite's own bookkeeping tables are not ours to migrate.
_SPATIALITE_TABLES = {"SpatialIndex", "ElementaryGeometries", "sql_statements_log", "data_licenses", "KNN", "KNN2"}


def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and reflected and (name in _SPATIALITE_TABLES or name.startswith(("idx_", "virts_"))):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=_include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
