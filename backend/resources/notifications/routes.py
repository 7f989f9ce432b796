"""A user's notifications (what they were told, read or not) and their browsers' Web Push subscriptions."""
from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from urllib.parse import urlsplit

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, func, select, update

from ...context import current_user
from ...errors import InvalidInput, NotFound
from ...extensions.api import Blueprint, Schema
from ...extensions.database import get_session
from ...models import Notification, NotificationDelivery, PushSubscription
from ...services.notifications import webpush

blp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="Notifications and Web Push")
SHOWN = 100
MAX_SUBSCRIPTIONS = 10


class NotificationSchema(Schema):
    id = ma.fields.Int()
    kind = ma.fields.Str(metadata={"description": "dispatched, whistled, to_verify, overdue, closed, ..."})
    case_id = ma.fields.Int(allow_none=True)
    text = ma.fields.Str(metadata={"description": "what happened and what to do, in Chinese"})
    url = ma.fields.Str(metadata={"description": "the app's page to open"})
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)


class NotificationListSchema(Schema):
    unread = ma.fields.Int()
    items = ma.fields.List(ma.fields.Nested(NotificationSchema), metadata={"description": f"newest {SHOWN}"})


class ReadSchema(Schema):
    up_to_id = ma.fields.Int(required=True, validate=ma.validate.Range(1, 2**31 - 1),
                             metadata={"description": "every notification up to this id is marked read"})


class ReadResultSchema(Schema):
    marked = ma.fields.Int()


class PushKeySchema(Schema):
    application_server_key = ma.fields.Str(metadata={
        "description": "the VAPID public key, base64url: pushManager.subscribe's applicationServerKey"})


class PushKeysSchema(Schema):
    p256dh = ma.fields.Str(required=True, validate=ma.validate.Length(20, 200))
    auth = ma.fields.Str(required=True, validate=ma.validate.Length(8, 64))


class SubscribeSchema(Schema):
    endpoint = ma.fields.Str(required=True, validate=ma.validate.Length(10, 1000))
    keys = ma.fields.Nested(PushKeysSchema, required=True)
    user_agent = ma.fields.Str(load_default=None, validate=ma.validate.Length(0, 200))


class SubscriptionSchema(Schema):
    id = ma.fields.Int()
    endpoint = ma.fields.Str()
    created_at = ma.fields.AwareDateTime()
    last_sent_at = ma.fields.AwareDateTime(allow_none=True)


@blp.route("/notifications")
@blp.response(200, NotificationListSchema)
def my_notifications():
    """What I was told, newest first, and how many are unread."""
    user, session = current_user(), get_session()
    items = list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                 .order_by(Notification.id.desc()).limit(SHOWN)))
    unread = session.scalar(select(func.count()).where(Notification.user_id == user.id,
                                                        Notification.read_at.is_(None))) or 0
    return {"unread": unread, "items": items}


@blp.route("/notifications/read", methods=["POST"])
@blp.arguments(ReadSchema)
@blp.response(200, ReadResultSchema)
def mark_read(data):
    """Mark my notifications read up to an id (what the phone showed); sent again, it changes nothing."""
    user, session = current_user(), get_session()
    marked = session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.id <= data["up_to_id"], Notification.read_at.is_(None))
        .values(read_at=datetime.now(UTC))).rowcount  # type: ignore[attr-defined]
    session.commit()
    return {"marked": marked}


@blp.route("/push/key")
@blp.response(200, PushKeySchema)
def push_key():
    """The key a browser subscribes with."""
    current_user()
    return {"application_server_key": webpush.application_server_key(current_app.config["GRIDPATROL"])}


def _push_service_allowed(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    allowed = [h.strip().lower() for h in current_app.config["GRIDPATROL"].push_service_hosts.split(",") if h.strip()]
    listed = any(host == a or (a.startswith("*.") and host.endswith(a[1:])) for a in allowed)
    return listed and (parts.scheme == "https" or (parts.scheme == "http" and host in allowed))


def _is_p256_point(text: str) -> bool:
    """The browser's key: a point on P-256 (65 bytes that are not a point would fail every send)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except (binascii.Error, ValueError):
        return False
    return len(raw) == 65


def _decoded_length(text: str) -> int:
    try:
        return len(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        return -1


@blp.route("/push/subscriptions")
class Subscriptions(MethodView):
    @blp.response(200, SubscriptionSchema(many=True))
    def get(self):
        """My browsers' subscriptions."""
        user = current_user()
        return list(get_session().scalars(select(PushSubscription).where(PushSubscription.user_id == user.id)
                                          .order_by(PushSubscription.id)))

    @blp.arguments(SubscribeSchema)
    @blp.response(201, SubscriptionSchema)
    def post(self, data):
        """Subscribe this browser (pushManager.subscribe's answer). The same endpoint again updates it, and moves it
        to whoever signed in on that browser last."""
        user, session = current_user(), get_session()
        if not _push_service_allowed(data["endpoint"]):
            raise InvalidInput("push_endpoint_refused")
        keys = data["keys"]
        if not _is_p256_point(keys["p256dh"]) or _decoded_length(keys["auth"]) != 16:
            raise InvalidInput("push_key_invalid")
        row = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == data["endpoint"]))
        if row is None:
            row = PushSubscription(endpoint=data["endpoint"], user_id=user.id, p256dh="", auth="")
            session.add(row)
        elif row.user_id != user.id:  # a shared phone: what was waiting for the last user is not shown to this one
            session.execute(delete(NotificationDelivery).where(NotificationDelivery.subscription_id == row.id,
                                                               NotificationDelivery.status.in_(("pending", "sending"))))
        row.user_id, row.p256dh, row.auth, row.user_agent = user.id, keys["p256dh"], keys["auth"], data["user_agent"]
        session.flush()
        # a few browsers per person: the oldest go (each notice is sent to every one of them)
        stale = session.scalars(select(PushSubscription.id).where(PushSubscription.user_id == user.id)
                                .order_by(PushSubscription.id.desc()).offset(MAX_SUBSCRIPTIONS)).all()
        if stale:
            session.execute(delete(PushSubscription).where(PushSubscription.id.in_(stale)))
        session.commit()
        return row


@blp.route("/push/subscriptions/<int:subscription_id>", methods=["DELETE"])
@blp.response(204)
def unsubscribe(subscription_id):
    """Stop pushing to that browser."""
    user, session = current_user(), get_session()
    row = session.get(PushSubscription, subscription_id)
    if row is None or row.user_id != user.id:
        raise NotFound()
    session.delete(row)
    session.commit()
