"""Work a served app does by itself, on a timer in each worker: patrols nobody ended are ended (idle, shift over),
expired resumable uploads are removed, overdue cases flagged and escalated, notifications sent, the days past sealed in the evidence
ledger and the day's audit anchor written. Several workers may run it at once: each patrol is ended and each case
escalated once (row locks, SKIP LOCKED), each day sealed once (a lock), and the day's anchor file is made once
(whoever creates it first)."""
from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask

log = logging.getLogger(__name__)


def run_once(app: Flask) -> int:
    """One round; returns how many patrols it ended."""
    from .extensions.database import get_session
    from .services.patrol.running import end_stale_patrols

    with app.app_context():
        session = get_session()
        ended = end_stale_patrols(session, datetime.now(UTC), app.config["GRIDPATROL"].patrol_idle_end_s)
        session.commit()
        return len(ended)


def sweep_uploads(app: Flask) -> int:
    """Resumable uploads past their expiry, and their gathered bytes, removed (tus expiration)."""
    from .extensions.database import get_session
    from .services.evidence.uploads import sweep_expired

    with app.app_context():
        session = get_session()
        removed = sweep_expired(session, app.config["GRIDPATROL"])
        session.commit()
        return removed


def sweep_overdue_cases(app: Flask) -> int:
    """Overdue flags on open cases, and escalation (督办) of those newly overdue (services.cases.overdue)."""
    from .extensions.database import get_session
    from .services.cases import overdue

    with app.app_context():
        session = get_session()
        changed = overdue.sweep(session, settings=app.config["GRIDPATROL"])
        session.commit()
        return changed


def deliver_notifications(app: Flask) -> dict[str, int]:
    """Notifications due (new ones a request's own kick missed, retries): services.notifications.deliver."""
    from .services.notifications import deliver

    return deliver.run(app)


def write_daily_anchor(app: Flask) -> Path | None:
    """The day's audit anchor (services.core.anchors) as soon as the local day has none: the head as the day
    begins, so each anchor closes the day before. The days before are first sealed in the evidence ledger
    (services.evidence.ledger), so the anchor carries their roots. Returns the file written, or None."""
    from .extensions.database import get_session
    from .services.core import anchors
    from .services.evidence import ledger
    from .services.evidence.timestamps import timestamper_from_settings

    settings = app.config["GRIDPATROL"]
    now = datetime.now(UTC)
    today = now.astimezone(anchors.LOCAL_TZ).date()
    if ledger.sealable_today(now) != today or anchors.has_daily_anchor(settings.audit_anchor_dir, today):
        return None  # the first quarter hour of a day: yesterday's last records may still be committing
    key = anchors.load_or_create_key(settings.audit_signing_key)
    with app.app_context():
        session = get_session()
        ledger.seal(session, ledger.sealable_today(now), timestamper_from_settings(settings))
        written = anchors.write_anchor(session, key, settings.audit_anchor_dir, daily=True,
                                       evidence_roots=ledger.roots_for_anchor(session, settings.audit_anchor_dir))
    if written:
        log.info("audit anchor written: %s", written)
    return written


def start_housekeeping(app: Flask, every_s: float = 60.0) -> threading.Thread:
    def run() -> None:
        while True:
            time.sleep(every_s)
            for job in (run_once, sweep_uploads, sweep_overdue_cases, deliver_notifications, write_daily_anchor):
                try:
                    job(app)
                except Exception:  # noqa: BLE001 - retried next round; the failure is logged
                    log.warning("housekeeping: %s failed", job.__name__, exc_info=True)

    thread = threading.Thread(target=run, name="housekeeping", daemon=True)
    thread.start()
    return thread
