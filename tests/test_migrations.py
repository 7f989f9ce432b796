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
