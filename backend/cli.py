"""The `gridpatrol` command: migrations, demo data, audit and evidence verification, user administration."""
from __future__ import annotations

import json
import sys

from typing import TYPE_CHECKING

import click

from .settings import DEMO_PASSWORD, ConfigError, Settings

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from flask.ctx import AppContext


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _app_context(settings: Settings) -> AppContext:
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


def _verify_key(settings: Settings, public_key: str | None) -> Ed25519PublicKey | None:
    """The public key anchors are checked with: --public-key, AUDIT_VERIFY_KEY, or the signing key's own."""
    from pathlib import Path

    from .services.core import anchors

    path = public_key or settings.audit_verify_key
    if path:
        return anchors.load_public_key(Path(path).read_bytes())
    if Path(settings.audit_signing_key).exists():
        return anchors.load_or_create_key(settings.audit_signing_key).public_key()
    return None


@audit.command("verify")
@click.option("--anchors", "anchor_dir", help="Directory of anchors (default AUDIT_ANCHOR_DIR).")
@click.option("--public-key", help="PEM public key to check anchors with (default AUDIT_VERIFY_KEY, or the "
                                   "signing key's).")
def audit_verify(anchor_dir: str | None, public_key: str | None) -> None:
    """Check the hash chain of the audit log and its signed anchors; name the first row that cannot be trusted."""
    from .extensions.database import get_session
    from .services.core import anchors

    settings = _settings()
    key = _verify_key(settings, public_key)
    found = anchors.read_anchors(anchor_dir or settings.audit_anchor_dir, key)
    with _app_context(settings):
        report = anchors.verify_anchored(get_session(), found, key)
    chain = report.chain
    if not chain.ok:
        click.echo(f"audit chain BROKEN at row id {chain.first_broken_id}: {chain.reason} "
                   f"({chain.rows_checked} rows verified before it)", err=True)
        sys.exit(1)
    if report.problem:
        click.echo(f"audit chain BROKEN from row id {report.first_unvouched_id} (the first row after the last good "
                   f"anchor, {report.last_good or 'none'}): {report.problem}", err=True)
        sys.exit(1)
    click.echo(f"audit chain intact: {chain.rows_checked} rows; {report.anchors_checked} anchors verified, "
               f"the last {report.last_good or '(none)'}; {report.unanchored_rows} rows after it not yet anchored")


@audit.command("anchor")
def audit_anchor() -> None:
    """Sign the chain's head now and write it to AUDIT_ANCHOR_DIR (a served app also does so daily)."""
    from .extensions.database import get_session
    from .services.core import anchors

    settings = _settings()
    key = anchors.load_or_create_key(settings.audit_signing_key)
    with _app_context(settings):
        path = anchors.write_anchor(get_session(), key, settings.audit_anchor_dir)
    assert path is not None  # only a daily anchor may find its file already there
    head = json.loads(path.read_text())["head"]
    click.echo(f"anchor written: {path} (head: {'empty log' if head is None else 'row ' + str(head['id'])})")


@audit.command("export")
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@click.option("--from-id", type=int, default=1)
@click.option("--to-id", type=int, default=None)
def audit_export(out: str, from_id: int, to_id: int | None) -> None:
    """Write rows (as hashed), anchors, public key and a signed head to a JSON file anyone can check."""
    from .extensions.database import get_session
    from .services.core import anchors

    settings = _settings()
    key = anchors.load_or_create_key(settings.audit_signing_key)
    with _app_context(settings):
        doc = anchors.build_export(get_session(), key, settings.audit_anchor_dir, from_id, to_id)
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(doc, handle, ensure_ascii=False)
    click.echo(f"{len(doc['rows'])} rows and {len(doc['anchors'])} anchors written to {out}"
               + ("" if doc["complete"] else f" (at most {anchors.EXPORT_MAX_ROWS}: export the rest from the last id)"))


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


@main.group()
def evidence() -> None:
    """Evidence ledger: daily Merkle roots of the evidence records, and checking a file against them."""


@evidence.command("seal")
def evidence_seal() -> None:
    """Seal every finished day (Beijing time) not sealed yet, timestamped at TSA_URL when set, and write an anchor
    carrying the new roots (a served app does this itself once a day)."""
    from datetime import datetime

    from .extensions.database import get_session
    from .services.core import anchors
    from .services.evidence import ledger
    from .services.evidence.timestamps import timestamper_from_settings

    settings = _settings()
    with _app_context(settings):
        session = get_session()
        sealed = ledger.seal(session, ledger.sealable_today(datetime.now(anchors.LOCAL_TZ)),
                             timestamper_from_settings(settings))
        if sealed:
            key = anchors.load_or_create_key(settings.audit_signing_key)
            path = anchors.write_anchor(session, key, settings.audit_anchor_dir,
                                        evidence_roots=ledger.roots_for_anchor(session, settings.audit_anchor_dir))
            click.echo(f"anchor written: {path}")
    for root in sealed:
        stamp = "timestamped" if root.timestamp else f"no timestamp ({root.timestamp_error or 'no TSA_URL'})"
        click.echo(f"{root.day}: {root.count} records, root {root.root}, {stamp}")
    if not sealed:
        click.echo("nothing to seal: every finished day is sealed")


@evidence.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--id", "evidence_id", type=int, help="The evidence record the file should be (default: found by "
                                                    "its hash).")
@click.option("--anchors", "anchor_dir", help="Directory of anchors (default AUDIT_ANCHOR_DIR).")
@click.option("--public-key", help="PEM public key to check anchors with (default AUDIT_VERIFY_KEY, or the "
                                   "signing key's).")
@click.option("--tsa-cert", help="PEM root certificate(s) of the TSA (default TSA_CA_CERT).")
def evidence_verify(file: str, evidence_id: int | None, anchor_dir: str | None, public_key: str | None,
                    tsa_cert: str | None) -> None:
    """Check FILE against its evidence record, the stored copies, its day's sealed root, the signed anchor that
    carries the root, and the root's timestamp. Exit status 1 when any check fails."""
    from .extensions.database import get_session
    from .services.evidence.storage import storage_from_settings
    from .services.evidence.verification import FAIL, OK, verify_file

    settings = _settings()
    with _app_context(settings):
        report = verify_file(get_session(), storage_from_settings(settings), file, evidence_id=evidence_id,
                             anchor_dir=anchor_dir or settings.audit_anchor_dir,
                             public_key=_verify_key(settings, public_key),
                             tsa_roots_file=tsa_cert or settings.tsa_ca_cert)
    marks = {OK: "✓", FAIL: "✗"}
    for level, text in report.lines:
        click.echo(f"{marks.get(level, '!')} {text}", err=level == FAIL)
    click.echo("NOT VERIFIED" if not report.ok else "UNSEALED (checked what can be; its day is not sealed yet)"
               if report.unsealed else "VERIFIED")
    if not report.ok:
        sys.exit(1)


@main.group("api-key")
def api_key() -> None:
    """Keys for integrations (Open311 clients, hotline systems)."""


@api_key.command("create")
@click.argument("name")
def api_key_create(name: str) -> None:
    """Make a key for NAME and print it (it is shown this once; only its hash is kept)."""
    from .extensions.database import get_session
    from .services.integrations.api_keys import create_key

    with _app_context(_settings()):
        session = get_session()
        _, key = create_key(session, name)
        session.commit()
        click.echo(key)


@api_key.command("revoke")
@click.argument("name")
def api_key_revoke(name: str) -> None:
    """Revoke NAME's key: its requests are refused from now on."""
    from .extensions.database import get_session
    from .services.integrations.api_keys import revoke_key

    with _app_context(_settings()):
        session = get_session()
        revoke_key(session, name)
        session.commit()
        click.echo(f"key of {name} revoked")


@api_key.command("list")
def api_key_list() -> None:
    """Every key: name, first characters, made, last used, revoked."""
    from sqlalchemy import select

    from .extensions.database import get_session
    from .models import ApiKey

    with _app_context(_settings()):
        for k in get_session().scalars(select(ApiKey).order_by(ApiKey.name)):
            click.echo(f"{k.name}\t{k.prefix}…\tmade {k.created_at:%Y-%m-%d}\t"
                       f"last used {k.last_used_at or '-'}\t{'REVOKED' if k.revoked_at else 'live'}")


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
