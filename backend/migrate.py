"""Run Alembic migrations from code (CLI, `make run`, tests) on SpatiaLite or PostGIS."""
from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from geoalchemy2 import alembic_helpers
from sqlalchemy.sql.schema import SchemaItem

from .extensions.database import make_engine
from .settings import REPO_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def current_revision(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


# SpatiaLite's own bookkeeping tables are not ours to migrate.
_SPATIALITE_TABLES = {"SpatialIndex", "ElementaryGeometries", "sql_statements_log", "data_licenses", "KNN", "KNN2"}


def include_object(obj: SchemaItem, name: str | None, type_: str, reflected: bool, compare_to: SchemaItem | None
                   ) -> bool:
    if type_ == "table" and reflected and name is not None and (
            name in _SPATIALITE_TABLES or name.startswith(("idx_", "virts_"))):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)
