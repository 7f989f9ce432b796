"""Work-notice channels, each a configured HTTP endpoint (NOTIFY_CHANNEL, NOTIFY_WEBHOOK_URL):

- wecom: a WeCom (企业微信) group robot; the person is @-mentioned by mobile number;
- dingtalk: a DingTalk (钉钉) group robot, requests signed with its secret (HMAC-SHA256 of timestamp and secret,
  as DingTalk's "加签" asks) when NOTIFY_WEBHOOK_SECRET is set; @-mention by mobile;
- sms: an SMS gateway taking JSON {phone, text, url}, with NOTIFY_WEBHOOK_SECRET as its bearer token.

Both robots answer HTTP 200 with {"errcode": 0} when they took the message; any other errcode is a failure.
A robot posts into one group chat, which everyone in it reads: give each squad (or the centre) its own group and
robot, so that a group holds the people who may see its cases.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from ...models import Notification, User
from ...settings import Settings


ROBOTS = ("wecom", "dingtalk")  # group robots: one post per event, everyone it concerns @-mentioned


class DeliveryError(Exception):
    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Outgoing:
    url: str
    body: dict
    headers: dict


def link(settings: Settings, note: Notification) -> str:
    return f"{settings.public_url}{note.url}" if settings.public_url else ""


def dingtalk_signed(url: str, secret: str, now_ms: int | None = None) -> str:
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest).decode())
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def outgoing(settings: Settings, note: Notification, people: list[User]) -> Outgoing:
    """A robot's post names everyone the event concerns (@ by mobile); an SMS goes to the one person."""
    text = note.text + (f"\n{link(settings, note)}" if link(settings, note) else "")
    mobiles = [u.phone for u in people if u.phone]
    json_type = {"Content-Type": "application/json; charset=utf-8"}
    if settings.notify_channel == "wecom":
        return Outgoing(settings.notify_webhook_url, {"msgtype": "text", "text": {
            "content": text, "mentioned_mobile_list": mobiles}}, json_type)
    if settings.notify_channel == "dingtalk":
        url = settings.notify_webhook_url
        if settings.notify_webhook_secret:
            url = dingtalk_signed(url, settings.notify_webhook_secret)
        return Outgoing(url, {"msgtype": "text", "text": {"content": text},
                              "at": {"atMobiles": mobiles, "isAtAll": False}}, json_type)
    person = people[0]
    if not person.phone:
        raise DeliveryError(f"{person.username} has no mobile number", retry=False)
    headers = dict(json_type)
    if settings.notify_webhook_secret:
        headers["Authorization"] = f"Bearer {settings.notify_webhook_secret}"
    return Outgoing(settings.notify_webhook_url, {"phone": person.phone, "text": text, "url": link(settings, note)},
                    headers)


def send(settings: Settings, note: Notification, people: list[User], timeout_s: float = 10.0) -> None:
    out = outgoing(settings, note, people)
    request = urllib.request.Request(out.url, data=json.dumps(out.body, ensure_ascii=False).encode(),
                                     headers=out.headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            raw = answer.read()
    except urllib.error.HTTPError as e:
        raise DeliveryError(f"HTTP {e.code}", retry=e.code >= 500 or e.code == 429) from e
    except (urllib.error.URLError, OSError) as e:
        raise DeliveryError(f"not reachable: {e}") from e
    if settings.notify_channel in ("wecom", "dingtalk"):
        try:
            errcode = json.loads(raw).get("errcode")
        except (ValueError, AttributeError):
            raise DeliveryError("the robot's answer is not JSON") from None
        if errcode != 0:
            raise DeliveryError(f"the robot refused: errcode {errcode}")
