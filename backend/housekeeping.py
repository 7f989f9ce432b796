"""Work a served app does by itself, on a timer in each worker: patrols nobody ended are ended (idle, shift over).
Several workers may run it at once: each patrol is ended once (row locks, SKIP LOCKED)."""
from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

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


def start_housekeeping(app: Flask, every_s: float = 60.0) -> threading.Thread:
    def run() -> None:
        while True:
            time.sleep(every_s)
            try:
                run_once(app)
            except Exception:  # noqa: BLE001 - retried next round; the failure is logged
                log.warning("housekeeping round failed", exc_info=True)

    thread = threading.Thread(target=run, name="housekeeping", daemon=True)
    thread.start()
    return thread
