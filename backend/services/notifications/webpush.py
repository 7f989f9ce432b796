"""Web Push (RFC 8030 with VAPID, RFC 8292; payloads encrypted aes128gcm, RFC 8291) through pywebpush. Chrome's
push service (FCM) is not reachable from mainland China, so this is a bonus for the browsers that can use it; the
inbox and the work-notice channel carry the rest."""
from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ...models import Notification, PushSubscription
from ...settings import Settings
from ..core.anchors import create_exclusively
from .channels import DeliveryError


def private_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    """The VAPID key at VAPID_PRIVATE_KEY (PEM), made on first use: every subscription is bound to its public key,
    so losing it means every browser must subscribe again."""
    path = Path(settings.vapid_private_key)
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        create_exclusively(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()), 0o600)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} is not an EC private key")
    return loaded


def application_server_key(settings: Settings) -> str:
    """The public key as the browser's pushManager.subscribe wants it: the raw point, base64url without padding."""
    raw = private_key(settings).public_key().public_bytes(serialization.Encoding.X962,
                                                          serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def payload(note: Notification) -> str:
    return json.dumps({"title": "网格巡查", "body": note.text.removeprefix("【网格巡查】"), "url": note.url,
                       "tag": f"case-{note.case_id}" if note.case_id else f"n-{note.id}"}, ensure_ascii=False)


def send(settings: Settings, note: Notification, subscription: PushSubscription, timeout_s: float = 10.0) -> None:
    """Raises DeliveryError; `gone` (404, 410) means the browser dropped the subscription: delete it."""
    from py_vapid import Vapid
    from pywebpush import WebPushException, webpush

    vapid = Vapid.from_pem(private_key(settings).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    try:
        webpush({"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}},
                data=payload(note), vapid_private_key=vapid, vapid_claims={"sub": settings.vapid_subject},
                ttl=24 * 3600, timeout=timeout_s)
    except WebPushException as e:
        status = getattr(e.response, "status_code", None)
        if status in (404, 410):
            raise Gone(f"HTTP {status}: the subscription is gone") from e
        raise DeliveryError(f"HTTP {status}: {e.message}", retry=status is None or status >= 500 or status == 429) \
            from e
    except OSError as e:  # requests' ConnectionError is an OSError
        raise DeliveryError(f"push service not reachable: {e}") from e


class Gone(DeliveryError):
    def __init__(self, message: str) -> None:
        super().__init__(message, retry=False)
