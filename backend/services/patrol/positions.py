"""Officers' last positions for the leader's live map."""
from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Patrol, User
from ...policies import scoped_patrols
from . import fix_store


def last_positions(session: Session, user: User, squad_id: int | None) -> list[dict]:
    """Each visible officer's last kept fix, from their latest patrol."""
    stmt = scoped_patrols(select(Patrol), user).order_by(Patrol.started_at.desc(), Patrol.id.desc()).limit(1000)
    if squad_id is not None:
        stmt = stmt.where(Patrol.squad_id == squad_id)
    latest: dict[int, Patrol] = {}
    for patrol in session.scalars(stmt):
        latest.setdefault(patrol.officer_id, patrol)
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(latest))).all())
    items = []
    for officer_id, patrol in latest.items():
        fix = _last_kept_fix(session, patrol)
        if fix is None:
            continue
        items.append({"officer_id": officer_id, "officer_name": names.get(officer_id), "patrol_id": patrol.id,
                      "active": patrol.ended_at is None, "t": datetime.fromtimestamp(float(fix["t"]), UTC),
                      "lon": float(fix["lon"]), "lat": float(fix["lat"]),
                      "accuracy_m": _none_if_nan(fix["accuracy_m"])})
    return sorted(items, key=lambda i: i["t"], reverse=True)


def _last_kept_fix(session: Session, patrol: Patrol) -> np.void | None:
    """The latest kept fix (a FIX_RECORD), or None. The chunks from the tail's anchor on hold it when the patrol
    has one (the anchor is a kept fix); otherwise the whole track is read."""
    fix = _latest_kept(fix_store.load(session, patrol.id, t_last_from=patrol.tail_from_t))
    if fix is None and patrol.tail_from_t is not None:
        fix = _latest_kept(fix_store.load(session, patrol.id))
    return fix


def _latest_kept(stored: fix_store.StoredFixes) -> np.void | None:
    kept = stored.records[stored.kept & ~np.isnan(stored.records["t"])]
    return kept[np.argmax(kept["t"])] if kept.size else None


def _none_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
