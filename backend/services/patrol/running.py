"""The one running patrol of an officer, and patrols the server ends by itself: after PATROL_IDLE_END_S without a
batch (the phone was switched off, the app closed, the officer went home) or once the task's shift is over."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ...errors import Conflict
from ...models import Patrol
from ..core import audit

# Fixes this far before the start or after the end of a patrol are not stored at all: off duty is private.
OFF_DUTY_TOLERANCE = timedelta(seconds=60)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


class PatrolRunning(Conflict):
    """The officer already has a running patrol (started on another phone, or before storage was cleared): the
    phone must resume or end that one instead of starting a second track."""

    code = "patrol_running"

    def __init__(self, patrol: Patrol) -> None:
        super().__init__(started_at=patrol.started_at.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M"))
        self.patrol = patrol


def running_patrol(session: Session, officer_id: int) -> Patrol | None:
    return session.scalar(select(Patrol).where(Patrol.officer_id == officer_id, Patrol.ended_at.is_(None)))


def end_stale_patrols(session: Session, now: datetime, idle_s: float, officer_id: int | None = None) -> list[Patrol]:
    """End the running patrols (of one officer, or everyone's) not heard of for `idle_s` seconds, at `now` (fixes
    recorded offline until then still count when they arrive), or whose shift ended, at the shift's end. Each end
    is audited with its reason. A patrol locked by a batch being stored right now is not idle and is skipped."""
    last_heard = func.coalesce(Patrol.last_seen_at, Patrol.started_at)
    stmt = select(Patrol).where(Patrol.ended_at.is_(None), or_(
        last_heard < now - timedelta(seconds=idle_s), Patrol.shift_ends_at < now - OFF_DUTY_TOLERANCE))
    if officer_id is not None:
        stmt = stmt.where(Patrol.officer_id == officer_id)
    ended = list(session.scalars(stmt.order_by(Patrol.id).with_for_update(skip_locked=True)))
    for patrol in ended:
        if patrol.shift_ends_at is not None and patrol.shift_ends_at < now - OFF_DUTY_TOLERANCE:
            patrol.ended_at, patrol.end_reason = max(patrol.shift_ends_at, patrol.started_at), "shift_end"
        else:
            patrol.ended_at, patrol.end_reason = now, "idle"
        patrol.version += 1
        audit.record(session, "patrol.auto_end", "patrol", patrol.id, actor_username="system", after={
            "ended_at": patrol.ended_at.isoformat(), "end_reason": patrol.end_reason,
            "last_seen_at": (patrol.last_seen_at or patrol.started_at).isoformat()})
    return ended
