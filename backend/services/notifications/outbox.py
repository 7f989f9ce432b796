"""Notifications written in the transaction of the move that causes them, with one delivery per channel that can
reach the person; deliver.py sends them once the move is committed. A notification's key is its event and
person, so a retried request or a second sweep never tells anyone twice."""
from __future__ import annotations

from datetime import datetime

from flask import g, has_request_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Case, CaseAction, Notification, NotificationDelivery, PushSubscription, User
from ...settings import Settings
from . import messages, recipients


def _due_of(case: Case, kind: str) -> datetime | None:
    if kind == "whistled":
        return case.report_in_due_at
    if kind in ("dispatched", "squad_dispatched", "rework"):
        return case.handle_due_at
    return None


def notify(session: Session, settings: Settings, case: Case, pairs: list[tuple[User, str]], event: str,
           **extra: str) -> list[Notification]:
    keys = {f"{event}:{user.id}": (user, kind) for user, kind in pairs}
    if not keys:
        return []
    known = set(session.scalars(select(Notification.key).where(Notification.key.in_(keys))))
    made = []
    for key, (user, kind) in keys.items():
        if key in known:
            continue
        note = Notification(key=key, user_id=user.id, case_id=case.id, kind=kind, url=f"/cases/{case.id}",
                            text=messages.text(kind, case, due_at=_due_of(case, kind), **extra))
        session.add(note)
        made.append((note, user))
    session.flush()
    deliveries = 0
    subscriptions: dict[int, list[int]] = {}
    for user_id, sub_id in session.execute(select(PushSubscription.user_id, PushSubscription.id).where(
            PushSubscription.user_id.in_([user.id for _, user in made]))):
        subscriptions.setdefault(user_id, []).append(sub_id)
    for note, user in made:
        for sub_id in subscriptions.get(user.id, []):
            session.add(NotificationDelivery(notification_id=note.id, channel="webpush", subscription_id=sub_id))
            deliveries += 1
        if settings.notify_channel:
            session.add(NotificationDelivery(notification_id=note.id, channel=settings.notify_channel))
            deliveries += 1
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


def on_escalation(session: Session, settings: Settings, case: Case, new_flags: list[str],
                  people: dict | None = None) -> list[Notification]:
    """`people`: a dict the caller keeps over one sweep, so each squad's leaders and the centre are looked up once."""
    what = "、".join(messages.OVERDUE_ZH.get(f, f) for f in new_flags)
    return notify(session, settings, case, recipients.for_escalation(session, case, people),
                  f"overdue:{case.id}:{','.join(sorted(new_flags))}", what=what)
