"""Sending what outbox.py wrote: claim due deliveries, send each outside any transaction (a slow robot or push
service must not hold the database), record the result. A failure is retried later (BACKOFF); a permanent one, or
the last retry, gives up with the reason kept. Several workers may run this at once: a delivery is claimed by an
UPDATE that only one of them can win."""
from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from ...models import Notification, NotificationDelivery, PushSubscription, User
from ...settings import Settings
from . import channels, webpush
from .channels import ROBOTS, DeliveryError

log = logging.getLogger(__name__)
BACKOFF_S = (60, 300, 1800, 7200, 21600)  # after failures 1..5; the sixth gives up
STALE_CLAIM = timedelta(minutes=10)  # a worker that claimed and died: its claim is taken over after this


def claim(session: Session, now: datetime, limit: int = 20) -> list[int]:
    """Claim up to `limit` due deliveries (a round of 20 sends at 10 s each ends well inside STALE_CLAIM). In id
    order, so two workers' claims never lock rows in opposite orders."""
    due = or_(and_(NotificationDelivery.status == "pending", NotificationDelivery.next_at <= now),
              and_(NotificationDelivery.status == "sending", NotificationDelivery.next_at <= now - STALE_CLAIM))
    rows = session.execute(select(NotificationDelivery.id, NotificationDelivery.status, NotificationDelivery.next_at)
                           .where(due).order_by(NotificationDelivery.id).limit(limit)).all()
    won = []
    for row_id, status, next_at in rows:
        taken = session.execute(update(NotificationDelivery).where(
            NotificationDelivery.id == row_id, NotificationDelivery.status == status,
            NotificationDelivery.next_at == next_at).values(status="sending", next_at=now))
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            won.append(row_id)
    session.commit()
    return won


def _mentioned(session: Session, note: Notification) -> list[User]:
    """A group robot posts once per event and kind, mentioning everyone it concerns (outbox.notify_all)."""
    event = note.key.rsplit(":", 1)[0]
    return list(session.scalars(select(User).join(Notification, Notification.user_id == User.id).where(
        Notification.key.like(f"{event}:%"), Notification.kind == note.kind).order_by(User.id)))


def send_one(session: Session, settings: Settings, delivery_id: int, now: datetime) -> str | None:
    """Send one claimed delivery; returns its new status (None when it is gone: its browser unsubscribed)."""
    delivery = session.get(NotificationDelivery, delivery_id)
    if delivery is None:
        return None  # removed with its subscription (a 410 for another notice of the same browser)
    note = session.get(Notification, delivery.notification_id)
    user = session.get(User, note.user_id) if note else None
    subscription = session.get(PushSubscription, delivery.subscription_id) if delivery.subscription_id else None
    people = _mentioned(session, note) if note and delivery.channel in ROBOTS else [user] if user else []
    # Nothing may be loaded while the other side answers (a push service out of reach waits its whole timeout):
    # detached, the objects keep what was read and load nothing; the transaction (SQLite's write lock) ends here.
    session.expunge_all()
    session.rollback()
    try:
        if note is None or user is None:
            raise DeliveryError("the notification is gone", retry=False)
        if delivery.channel == "webpush":
            if subscription is None:
                raise DeliveryError("the browser unsubscribed", retry=False)
            if subscription.user_id != note.user_id:  # a shared phone: someone else signed in since
                raise DeliveryError("the browser now belongs to another user", retry=False)
            webpush.send(settings, note, subscription)
        else:
            channels.send(settings, note, people)
    except DeliveryError as e:
        return _failed(session, delivery_id, now, e, subscription if isinstance(e, webpush.Gone) else None)
    except Exception as e:  # noqa: BLE001 - an unexpected failure is one failed attempt, never a stuck queue
        log.warning("notification delivery %s: unexpected failure", delivery_id, exc_info=True)
        return _failed(session, delivery_id, now, DeliveryError(f"{type(e).__name__}: {e}"), None)
    session.execute(update(NotificationDelivery).where(NotificationDelivery.id == delivery_id).values(
        status="sent", sent_at=now, attempts=NotificationDelivery.attempts + 1, last_error=None))
    if subscription is not None:
        session.execute(update(PushSubscription).where(PushSubscription.id == subscription.id)
                        .values(last_sent_at=now))
    session.commit()
    return "sent"


def _failed(session: Session, delivery_id: int, now: datetime, error: DeliveryError,
            gone: PushSubscription | None) -> str:
    attempts = (session.scalar(select(NotificationDelivery.attempts).where(NotificationDelivery.id == delivery_id))
                or 0) + 1
    if not error.retry:
        status, next_at = "dropped", now
    elif attempts > len(BACKOFF_S):
        status, next_at = "failed", now
    else:
        status, next_at = "pending", now + timedelta(seconds=BACKOFF_S[attempts - 1])
    session.execute(update(NotificationDelivery).where(NotificationDelivery.id == delivery_id).values(
        status=status, next_at=next_at, attempts=attempts, last_error=str(error)[:1000]))
    if gone is not None:  # its other deliveries go with it (ON DELETE CASCADE)
        session.execute(update(NotificationDelivery).where(NotificationDelivery.id == delivery_id)
                        .values(subscription_id=None))
        session.execute(delete(PushSubscription).where(PushSubscription.id == gone.id))
    session.commit()
    if status != "pending":
        log.warning("notification delivery %s %s: %s", delivery_id, status, error)
    return status


def deliver_due(session: Session, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """One round: every due delivery sent or rescheduled. Returns counts by new status."""
    now = now or datetime.now(UTC)
    counts: dict[str, int] = {}
    for delivery_id in claim(session, now):
        status = send_one(session, settings, delivery_id, now)
        if status is not None:
            counts[status] = counts.get(status, 0) + 1
    return counts


def run(app: Flask) -> dict[str, int]:
    from ...extensions.database import get_session

    with app.app_context():
        return deliver_due(get_session(), app.config["GRIDPATROL"])


def kick(app: Flask) -> None:
    """Deliver now, beside the request that made notifications (housekeeping picks up whatever this misses)."""
    def go() -> None:
        try:
            run(app)
        except Exception:  # noqa: BLE001 - the next housekeeping round retries; the failure is logged
            log.warning("notification delivery failed", exc_info=True)

    threading.Thread(target=go, name="notify", daemon=True).start()
