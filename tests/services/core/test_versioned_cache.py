"""Values cached across requests appear only after their transaction commits, under the row's version."""
from sqlalchemy import text

from backend.extensions.database import get_session, on_commit
from backend.services.core.versioned_cache import VersionedCache


def test_after_commit_runs_once_for_the_outermost_commit_and_never_after_a_rollback(app):
    ran = []
    with app.app_context():
        session = get_session()
        session.execute(text("SELECT 1"))
        on_commit(session, lambda: ran.append("committed"))
        with session.begin_nested():  # releasing a savepoint is not the commit
            session.execute(text("SELECT 2"))
        assert ran == []
        session.commit()
        assert ran == ["committed"]
        session.commit()
        assert ran == ["committed"]

        session.execute(text("SELECT 1"))
        on_commit(session, lambda: ran.append("rolled back"))
        session.rollback()
        session.execute(text("SELECT 1"))
        session.commit()  # a later commit does not run what the rolled-back transaction registered
        assert ran == ["committed"]


def test_a_value_is_read_only_at_the_version_it_was_committed_under(app):
    cache: VersionedCache[str] = VersionedCache(max_entries=2)
    with app.app_context():
        session = get_session()
        session.execute(text("SELECT 1"))
        cache.put_after_commit(session, "patrol-1", 4, lambda: "tail at version 4")
        assert cache.get(session, "patrol-1", 4) is None  # not committed yet
        session.commit()
        assert cache.get(session, "patrol-1", 4) == "tail at version 4"
        assert cache.get(session, "patrol-1", 5) is None  # the row moved on elsewhere

        session.execute(text("SELECT 1"))
        cache.put_after_commit(session, "patrol-1", 5, lambda: "never committed")
        session.rollback()
        assert cache.get(session, "patrol-1", 5) is None

        for key in ("patrol-2", "patrol-3"):  # the oldest entry makes room
            session.execute(text("SELECT 1"))
            cache.put_after_commit(session, key, 1, lambda key=key: key)
            session.commit()
        assert cache.get(session, "patrol-1", 4) is None and cache.get(session, "patrol-3", 1) == "patrol-3"
