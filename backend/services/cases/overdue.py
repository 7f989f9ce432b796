"""Overdue flags on every limit, and escalation (督办) of what is overdue to the squad's leader and the centre:
the sweep that housekeeping runs every minute. A parked case's clock is stopped: it is never overdue."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from ...models import Case, CaseAction
from ...settings import Settings


def respond_overdue(now: datetime) -> ColumnElement[bool]:
    return and_(Case.acknowledged_at.is_(None), Case.respond_due_at < now)


def report_in_overdue(now: datetime) -> ColumnElement[bool]:
    return and_(Case.status == "whistled", Case.report_in_due_at < now)


def handle_overdue(now: datetime) -> ColumnElement[bool]:
    return and_(Case.handled_at.is_(None), Case.handle_due_at < now)


def overdue_now(now: datetime) -> ColumnElement[bool]:
    """Open, running (not parked) and past one of its limits: the same rule the sweep and the list filter use."""
    return and_(Case.open.is_(True), Case.status != "parked",
                or_(respond_overdue(now), report_in_overdue(now), handle_overdue(now)))


def flags_of(case: Any, now: datetime) -> list[str]:
    """The limits run over now (a case, or a row with the same columns)."""
    if not case.open or case.status == "parked":
        return []
    flags = []
    if case.acknowledged_at is None and case.respond_due_at is not None and case.respond_due_at < now:
        flags.append("respond")
    if case.status == "whistled" and case.report_in_due_at is not None and case.report_in_due_at < now:
        flags.append("report_in")
    if case.handled_at is None and case.handle_due_at is not None and case.handle_due_at < now:
        flags.append("handle")
    return flags


def sweep(session: Session, now: datetime | None = None, settings: Settings | None = None) -> int:
    """Set the overdue flags of open cases; escalate each case the first time it runs over, telling its handler,
    leaders and the command centre when `settings` is given (notifications). Returns how many cases changed.
    Cases that stopped being overdue (a limit extended, a case resumed) lose their flags."""
    from ..notifications import outbox as notices

    now = now or datetime.now(UTC)
    changed = 0
    escalated: list[tuple[Case, list[str]]] = []
    # SKIP LOCKED: every worker sweeps; a case another worker (or an action) holds is left to it
    stale = (select(Case).where(or_(overdue_now(now), Case.overdue != ""))
             .with_for_update(skip_locked=True, of=Case))
    for case in session.scalars(stale):
        flags, before = flags_of(case, now), [f for f in case.overdue.split(",") if f]
        if flags == before:
            continue
        new = [f for f in flags if f not in before]
        case.overdue = ",".join(flags)
        changed += 1
        if new:
            session.add(CaseAction(case_id=case.id, action="escalate", actor_id=None, at=now,
                                   from_status=case.status, to_status=case.status,
                                   data={"overdue": new, "to": ["squad_leader", "commander"]}))
            case.escalated_at = case.escalated_at or now
            escalated.append((case, new))
    if settings is not None and escalated:
        notices.on_escalations(session, settings, escalated)  # in bulk: a sweep may escalate hundreds
    return changed
