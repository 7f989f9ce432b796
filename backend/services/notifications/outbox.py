"""Notifications written in the transaction of the move that causes them, with one delivery per channel that can
reach the person; deliver.py sends them once the move is committed. A notification's key is its event and
person, so a retried request or a second sweep never tells anyone twice."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import g, has_request_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Case, CaseAction, Notification, NotificationDelivery, PushSubscription, User
from ...settings import Settings
from . import messages, recipients
from .channels import ROBOTS


def _due_of(case: Case, kind: str) -> datetime | None:
    if kind == "whistled":
        return case.report_in_due_at
    if kind in ("dispatched", "squad_dispatched", "rework"):
        return case.handle_due_at
    return None


@dataclass
class Event:
    """Something that happened to a case, and who is told of it as what kind (messages.KINDS)."""

    case: Case
    pairs: list[tuple[User, str]]
    key: str  # the event's own key: with each person's id, a notification's unique key
    extra: dict[str, str] = field(default_factory=dict)


def notify(session: Session, settings: Settings, case: Case, pairs: list[tuple[User, str]], event: str,
           **extra: str) -> list[Notification]:
    return notify_all(session, settings, [Event(case, pairs, event, extra)])


def notify_all(session: Session, settings: Settings, events: list[Event]) -> list[Notification]:
    """Every event's notifications and deliveries in a few statements whatever their number (a sweep escalates
    hundreds of cases at once): one lookup of the keys already told, one flush, one lookup of subscriptions."""
    wanted = {f"{e.key}:{user.id}": (e, user, kind) for e in events for user, kind in e.pairs}
    if not wanted:
        return []
    keys = list(wanted)
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        known.update(session.scalars(select(Notification.key).where(Notification.key.in_(keys[start:start + 500]))))
    made = []
    for key, (e, user, kind) in wanted.items():
        if key in known:
            continue
        made.append((Notification(key=key, user_id=user.id, case_id=e.case.id, kind=kind, url=f"/cases/{e.case.id}",
                                  text=messages.text(kind, e.case, due_at=_due_of(e.case, kind), **e.extra)), user))
    session.add_all([note for note, _ in made])
    session.flush()
    subscriptions: dict[int, list[int]] = {}
    for user_id, sub_id in session.execute(select(PushSubscription.user_id, PushSubscription.id).where(
            PushSubscription.user_id.in_({user.id for _, user in made}))):
        subscriptions.setdefault(user_id, []).append(sub_id)
    deliveries = [NotificationDelivery(notification_id=note.id, channel="webpush", subscription_id=sub_id)
                  for note, user in made for sub_id in subscriptions.get(user.id, [])]
    if settings.notify_channel in ROBOTS:  # one post per event and kind, everyone it concerns mentioned in it
        first: dict[tuple[str, str], Notification] = {}
        for note, _ in made:
            first.setdefault((note.key.rsplit(":", 1)[0], note.kind), note)
        deliveries += [NotificationDelivery(notification_id=note.id, channel=settings.notify_channel)
                       for note in first.values()]
    elif settings.notify_channel:
        deliveries += [NotificationDelivery(notification_id=note.id, channel=settings.notify_channel)
                       for note, _ in made]
    session.add_all(deliveries)
    if deliveries and has_request_context():
        g.notifications_made = True  # the route kicks a delivery round after its commit
    return [note for note, _ in made]


def on_action(session: Session, settings: Settings, case: Case, action: CaseAction) -> list[Notification]:
    data = action.data or {}
    extra = {"reason": action.note or data.get("reason") or "未说明理由",
             "request": messages.REQUEST_ZH.get(action.action, action.action),
             "decision": "批准" if data.get("approved") else "驳回"}
    return notify(session, settings, case, recipients.for_action(session, case, action), f"action:{action.id}",
                  **extra)


def on_report(session: Session, settings: Settings, case: Case) -> list[Notification]:
    return notify(session, settings, case, recipients.new_report(session, case), f"report:{case.id}")


def _limits(case: Case, flags: list[str]) -> str:
    """The limits run over, each with its due time: an extended or reworked case that runs over again is news."""
    due = {"respond": case.respond_due_at, "report_in": case.report_in_due_at, "handle": case.handle_due_at}
    stamps = {f: int(at.timestamp()) if (at := due.get(f)) else 0 for f in flags}
    return ",".join(f"{f}@{stamps[f]}" for f in sorted(flags))


def on_escalations(session: Session, settings: Settings, escalated: list[tuple[Case, list[str]]]) -> list[Notification]:
    """督办 of the cases a sweep found newly overdue, each with its new flags: its handler, its squad's leaders and the
    command centre, each squad's leaders and the centre looked up once."""
    people: dict = {}
    return notify_all(session, settings, [
        Event(case, recipients.for_escalation(session, case, people), f"overdue:{case.id}:{_limits(case, flags)}",
              {"what": "、".join(messages.OVERDUE_ZH.get(f, f) for f in flags)}) for case, flags in escalated])
