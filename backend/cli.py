"""The `gridpatrol` command: migrations, demo data, audit verification, user administration."""
from __future__ import annotations

import sys

import click

from .settings import DEMO_PASSWORD, ConfigError, Settings


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _app_context(settings: Settings):
    from . import create_app

    return create_app(settings).app_context()


@click.group()
def main() -> None:
    """GridPatrol (网格巡查) administration."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head")
def db_upgrade(revision: str) -> None:
    """Create or migrate the database (DATABASE_URL) to the latest schema."""
    from .migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    click.echo(f"database at revision {revision}")
    _recount_coverage_if_missing(settings)


def _recount_coverage_if_missing(settings: Settings) -> None:
    """Coverage is derived from the stored fixes: a migration that changes its layout drops it (0006), and the
    first upgrade after it counts every patrol again here."""
    from sqlalchemy import exists, inspect, select

    from .extensions.database import get_db, get_session
    from .models import CoveragePatrolDay, TrackChunk
    from .services.patrol.recount import rebuild_all_coverage

    with _app_context(settings):
        if not inspect(get_db().engine).has_table("coverage_patrol_days"):
            return
        session = get_session()
        if session.scalar(select(exists().where(CoveragePatrolDay.id.isnot(None)))) or \
                not session.scalar(select(exists().where(TrackChunk.id.isnot(None)))):
            return
        patrols, days = rebuild_all_coverage(session)
        session.commit()
        click.echo(f"coverage recounted from the stored fixes: {patrols} patrols over {days} days")


@db.command("current")
def db_current() -> None:
    """Print the schema revision of the database."""
    from .migrate import current_revision

    click.echo(current_revision(_settings().database_url) or "(empty)")


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already holds data.")
def demo_load(if_empty: bool) -> None:
    """Load the demo town (refused in production)."""
    from .demo.loader import DEMO_ACCOUNTS, database_is_empty, load_demo
    from .extensions.database import get_session

    settings = _settings()
    if settings.is_production:
        raise click.ClickException("demo data is refused when GRIDPATROL_ENV=production")
    with _app_context(settings):
        session = get_session()
        if not database_is_empty(session):
            if if_empty:
                click.echo("database already holds data: demo not loaded")
                return
            raise click.ClickException("the database is not empty; the demo town loads only into an empty database")
        counts = load_demo(session)
    click.echo("demo town loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    click.echo(f"demo accounts ({DEMO_PASSWORD}): " + ", ".join(DEMO_ACCOUNTS))


@main.group()
def audit() -> None:
    """Audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the audit log; name the first broken row."""
    from .extensions.database import get_session
    from .services.core.audit import verify_chain

    with _app_context(_settings()):
        report = verify_chain(get_session())
    if report.ok:
        click.echo(f"audit chain intact: {report.rows_checked} rows")
        return
    click.echo(f"audit chain BROKEN at row id {report.first_broken_id}: {report.reason} "
               f"({report.rows_checked} rows verified before it)", err=True)
    sys.exit(1)


@main.group()
def coverage() -> None:
    """Patrol coverage."""


@coverage.command("rebuild")
def coverage_rebuild() -> None:
    """Recount all coverage from the stored fixes (after restoring a backup of the fixes alone, or changing grids)."""
    from .extensions.database import get_session
    from .services.patrol.recount import rebuild_all_coverage

    with _app_context(_settings()):
        session = get_session()
        patrols, days = rebuild_all_coverage(session)
        session.commit()
    click.echo(f"coverage rebuilt: {patrols} patrols over {days} days")


@main.group()
def patrols() -> None:
    """Patrols."""


@patrols.command("end-stale")
def patrols_end_stale() -> None:
    """End patrols not heard of for PATROL_IDLE_END_S, or whose shift is over (a served app does this every minute;
    run it from cron where the app runs without gunicorn)."""
    from .housekeeping import run_once

    from . import create_app

    ended = run_once(create_app(_settings()))
    click.echo(f"{ended} patrols ended")


@main.group()
def user() -> None:
    """Users."""


@user.command("create")
@click.option("--username", required=True)
@click.option("--display-name", required=True)
@click.option("--role", "roles", multiple=True, required=True)
@click.password_option()
def user_create(username: str, display_name: str, roles: tuple[str, ...], password: str) -> None:
    """Create a user, e.g. the first admin of a production install."""
    from .errors import DomainError
    from .i18n import error_message
    from .extensions.database import get_session
    from .services.core.people import create_user

    with _app_context(_settings()):
        session = get_session()
        try:
            created = create_user(session, None, {"username": username, "display_name": display_name,
                                                   "password": password, "roles": list(roles)})
        except DomainError as exc:
            raise click.ClickException(error_message(exc)) from exc
        session.commit()
        click.echo(f"user {created.username} created (id {created.id})")


@user.command("set-password")
@click.option("--username", required=True)
@click.password_option()
def user_set_password(username: str, password: str) -> None:
    """Set a user's password and revoke their sessions."""
    from sqlalchemy import select

    from .errors import DomainError
    from .i18n import error_message
    from .extensions.database import get_session
    from .models import User
    from .services.core import audit as audit_service
    from .services.core.auth import set_password

    with _app_context(_settings()):
        session = get_session()
        target = session.scalar(select(User).where(User.username == username))
        if target is None:
            raise click.ClickException(f"no user {username}")
        try:
            set_password(session, target, password)
        except DomainError as exc:
            raise click.ClickException(error_message(exc)) from exc
        audit_service.record(session, "user.password_reset", "user", target.id, actor_username="cli")
        session.commit()
        click.echo(f"password of {username} changed; their sessions were revoked")


@main.command("bootstrap")
def bootstrap() -> None:
    """Migrate, then load the demo town if the database is empty (development only). Used by `make run`."""
    from .migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    _recount_coverage_if_missing(settings)
    if not settings.is_production:
        ctx = click.get_current_context()
        ctx.invoke(demo_load, if_empty=True)


if __name__ == "__main__":
    main()
