"""Notifications on the demo town: who is told what as a case moves, and the deliveries over a WeCom robot, a
DingTalk robot (signed), an SMS gateway and Web Push, each against a real local HTTP server that records the calls;
retries, giving up, and a browser that unsubscribed."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from backend.extensions.database import get_session
from backend.models import NotificationDelivery, PushSubscription
from backend.services.cases import overdue
from backend.services.notifications import deliver
from tests.conftest import Auth, _make_app
from tests.resources.test_cases import PHOTO, act, evidence, ok, report, user_id


class Recorder:
    """A local HTTP endpoint that records every call and answers from a queue (default: 200 with `ok_body`)."""

    def __init__(self, ok_body: bytes = b'{"errcode":0,"errmsg":"ok"}') -> None:
        self.calls: list[dict] = []
        self.answers: deque[tuple[int, bytes]] = deque()
        self.ok_body = ok_body
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.calls.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                status, answer = recorder.answers.popleft() if recorder.answers else (201 if "/push/" in self.path
                                                                                      else 200, recorder.ok_body)
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def json(self, i: int) -> dict:
        return json.loads(self.calls[i]["body"])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.close()


def make_app(databases, tmp_path, recorder, channel, **overrides):
    gen = _make_app(databases, "demo", tmp_path, notify_channel=channel,
                    notify_webhook_url=f"{recorder.base}/robot/send?access_token=t0k", public_url="https://gp.example.cn",
                    push_service_hosts="127.0.0.1", **overrides)
    app = next(gen)
    app.config["NOTIFY_KICK"] = False  # these tests drive the deliveries themselves, round by round
    return app, gen


def phone(auth, name):
    return auth.user(name).get("phone")


def deliveries(app) -> list[NotificationDelivery]:
    with app.app_context():
        rows = list(get_session().scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)))
        get_session().expunge_all()
        return rows


def run_round(app, now=None) -> dict:
    with app.app_context():
        return deliver.deliver_due(get_session(), app.config["GRIDPATROL"], now)


def test_each_move_tells_whoever_it_now_waits_for_on_wecom(databases, tmp_path, recorder):
    app, gen = make_app(databases, tmp_path, recorder, "wecom")
    client, auth = app.test_client(), Auth(app)
    cid = ok(report(client, auth))["id"]  # supervisor17 reports in squad 1's area
    assert run_round(app) == {"sent": 1}  # leader1: a new report to accept
    assert "待受理" in recorder.json(0)["text"]["content"]

    ok(act(client, auth, "leader1", cid, "accept"))
    ok(act(client, auth, "leader1", cid, "dispatch", assignee_id=user_id(auth, "officer1")))
    assert run_round(app) == {"sent": 2}
    accepted, dispatched = recorder.json(1), recorder.json(2)
    assert "你上报的案件" in accepted["text"]["content"] and "已立案" in accepted["text"]["content"]
    assert accepted["text"]["mentioned_mobile_list"] == [phone(auth, "supervisor17")]
    assert dispatched["msgtype"] == "text"
    content = dispatched["text"]["content"]
    assert f"案件#{cid}" in content and "已派遣给你" in content and "时限" in content
    assert content.endswith(f"https://gp.example.cn/cases/{cid}")
    assert dispatched["text"]["mentioned_mobile_list"] == [phone(auth, "officer1")]
    assert recorder.calls[2]["path"] == "/robot/send?access_token=t0k"

    # A retried action tells nobody twice; the mover is never told of their own move.
    again = act(client, auth, "leader1", cid, "dispatch", assignee_id=user_id(auth, "officer1"),
                client_id="d-retry-1")
    assert again.status_code == 201
    act(client, auth, "leader1", cid, "dispatch", assignee_id=user_id(auth, "officer1"), client_id="d-retry-1")
    assert run_round(app) == {"sent": 1}
    assert len(recorder.calls) == 4

    # The in-app list: newest first, unread until read.
    mine = ok(client.get("/api/v1/notifications", headers=auth.headers("officer1")), 200)
    assert mine["unread"] == 2 and mine["items"][0]["url"] == f"/cases/{cid}"
    ok(client.post("/api/v1/notifications/read", headers=auth.headers("officer1"),
                   json={"up_to_id": mine["items"][0]["id"]}), 200)
    assert ok(client.get("/api/v1/notifications", headers=auth.headers("officer1")), 200)["unread"] == 0
    assert ok(client.get("/api/v1/notifications", headers=auth.headers("officer2")), 200) == {"unread": 0, "items": []}
    next(gen, None)


def test_a_whistle_tells_the_department_and_handling_tells_the_verifiers(databases, tmp_path, recorder, shared_data):
    app, gen = make_app(databases, tmp_path, recorder, "wecom")
    client, auth = app.test_client(), Auth(app)
    cid = ok(report(client, auth, user="officer1", category="SZSS-01", description="井盖缺失"))["id"]
    ok(act(client, auth, "leader1", cid, "accept"))
    ok(act(client, auth, "leader1", cid, "whistle", matter="WH-ZJJ-06"))
    run_round(app)
    whistled = [recorder.json(i) for i in range(len(recorder.calls)) if "吹哨" in recorder.json(i)["text"]["content"]]
    assert [w["text"]["mentioned_mobile_list"] for w in whistled] == [[phone(auth, "dept5")]]
    ok(act(client, auth, "dept5", cid, "acknowledge", needs_works=True))
    after = evidence(client, auth, "dept5", (shared_data / "photos" / PHOTO).read_bytes())
    ok(act(client, auth, "dept5", cid, "handle", evidence=[after]))
    before = len(recorder.calls)
    run_round(app)
    posts = [recorder.json(i)["text"] for i in range(before, len(recorder.calls))]
    # one post to the group, naming both who verify on site: the reporter (officer1) and 官道村's supervisor
    assert len(posts) == 1 and "请到现场核查" in posts[0]["content"]
    assert sorted(posts[0]["mentioned_mobile_list"]) == sorted([phone(auth, "officer1"), phone(auth, "supervisor17")])
    next(gen, None)


def test_dingtalk_requests_are_signed_as_dingtalk_checks_them(databases, tmp_path, recorder):
    secret = "SEC0123456789abcdef"
    app, gen = make_app(databases, tmp_path, recorder, "dingtalk", notify_webhook_secret=secret)
    client, auth = app.test_client(), Auth(app)
    ok(report(client, auth))
    assert run_round(app) == {"sent": 1}
    call = recorder.calls[0]
    query = parse_qs(urlsplit(call["path"]).query)
    timestamp = query["timestamp"][0]
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert query["sign"] == [expected] and query["access_token"] == ["t0k"]
    assert abs(int(timestamp) / 1000 - time.time()) < 60  # DingTalk refuses a timestamp an hour off
    body = recorder.json(0)
    assert body["at"] == {"atMobiles": [phone(auth, "leader1")], "isAtAll": False} and "待受理" in body["text"]["content"]
    next(gen, None)


def test_sms_gateway_gets_the_phone_and_a_person_without_one_is_dropped(databases, tmp_path, recorder):
    app, gen = make_app(databases, tmp_path, recorder, "sms", notify_webhook_secret="gw-token")
    client, auth = app.test_client(), Auth(app)
    with app.app_context():
        from backend.models import User
        session = get_session()
        session.scalar(select(User).where(User.username == "leader1")).phone = None
        session.commit()
    ok(report(client, auth))
    assert run_round(app) == {"dropped": 1}
    assert recorder.calls == [] and "no mobile number" in deliveries(app)[0].last_error
    cid = ok(report(client, auth, client_id="case-sms-2"))["id"]
    ok(act(client, auth, "leader1", cid, "accept"))
    assert run_round(app) == {"dropped": 1, "sent": 1}  # leader1's new report again; supervisor17's 已立案
    call = recorder.calls[0]
    assert call["headers"]["authorization"] == "Bearer gw-token"
    assert recorder.json(0)["phone"] == phone(auth, "supervisor17") and "已立案" in recorder.json(0)["text"]
    next(gen, None)


def test_failures_are_retried_later_and_given_up_after_the_last_try(databases, tmp_path, recorder):
    app, gen = make_app(databases, tmp_path, recorder, "wecom")
    client, auth = app.test_client(), Auth(app)
    ok(report(client, auth))
    recorder.answers.extend([(500, b"busy"), (200, b'{"errcode":45009,"errmsg":"api freq out of limit"}')])
    now = datetime.now(UTC)
    assert run_round(app, now) == {"pending": 1}
    row = deliveries(app)[0]
    assert row.attempts == 1 and row.last_error == "HTTP 500" and row.next_at >= now + timedelta(seconds=59)
    assert run_round(app, now + timedelta(seconds=30)) == {}  # not due yet
    assert run_round(app, now + timedelta(seconds=61)) == {"pending": 1}
    assert "errcode 45009" in deliveries(app)[0].last_error
    assert run_round(app, now + timedelta(minutes=7)) == {"sent": 1}
    assert len(recorder.calls) == 3 and deliveries(app)[0].status == "sent"

    ok(report(client, auth, client_id="case-fail-2"))
    later = now + timedelta(hours=1)
    for _ in range(len(deliver.BACKOFF_S)):
        recorder.answers.append((503, b""))
        assert run_round(app, later) == {"pending": 1}
        later += timedelta(days=1)
    recorder.answers.append((503, b""))
    assert run_round(app, later) == {"failed": 1}
    assert deliveries(app)[-1].attempts == len(deliver.BACKOFF_S) + 1
    next(gen, None)


def test_an_overdue_case_is_escalated_to_its_handler_its_leaders_and_the_centre(databases, tmp_path, recorder):
    app, gen = make_app(databases, tmp_path, recorder, "wecom")
    client, auth = app.test_client(), Auth(app)
    cid = ok(report(client, auth))["id"]
    ok(act(client, auth, "leader1", cid, "accept"))
    ok(act(client, auth, "leader1", cid, "dispatch", assignee_id=user_id(auth, "officer1")))
    run_round(app)
    before = len(recorder.calls)
    with app.app_context():
        session = get_session()
        overdue.sweep(session, datetime.now(UTC) + timedelta(days=30), settings=app.config["GRIDPATROL"])
        session.commit()
        overdue.sweep(session, datetime.now(UTC) + timedelta(days=31), settings=app.config["GRIDPATROL"])
        session.commit()  # the second sweep finds nothing new: nobody is told twice
    run_round(app)
    texts = [recorder.json(i)["text"] for i in range(before, len(recorder.calls))]
    assert len(texts) == 1 and "督办" in texts[0]["content"] and f"案件#{cid}" in texts[0]["content"]
    told = texts[0]["mentioned_mobile_list"]
    assert {phone(auth, "officer1"), phone(auth, "leader1"), phone(auth, "commander1")} <= set(told)
    assert len(told) == len(set(told))  # each person once

    # Given more time, it runs over again: that is news, told again (once).
    with app.app_context():
        from backend.models import Case
        session = get_session()
        case = session.get(Case, cid)
        case.handle_due_at = datetime.now(UTC) + timedelta(days=40)
        session.commit()
        overdue.sweep(session, datetime.now(UTC) + timedelta(days=39), settings=app.config["GRIDPATROL"])
        session.commit()  # back on time: the flag goes
        overdue.sweep(session, datetime.now(UTC) + timedelta(days=41), settings=app.config["GRIDPATROL"])
        session.commit()
    before = len(recorder.calls)
    run_round(app)
    assert len(recorder.calls) == before + 1 and "督办" in recorder.json(before)["text"]["content"]
    next(gen, None)


# --- Web Push --------------------------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_web_push_is_encrypted_for_the_browser_and_signed_with_vapid(databases, tmp_path, recorder):
    app, gen = make_app(databases, tmp_path, recorder, "")
    client, auth = app.test_client(), Auth(app)
    key = ok(client.get("/api/v1/push/key", headers=auth.headers("officer1")), 200)["application_server_key"]
    # A browser's side of the subscription: its own key pair and auth secret (RFC 8291).
    browser_key = ec.generate_private_key(ec.SECP256R1())
    auth_secret = os.urandom(16)
    p256dh = b64url(browser_key.public_key().public_bytes(serialization.Encoding.X962,
                                                          serialization.PublicFormat.UncompressedPoint))
    endpoint = f"{recorder.base}/push/officer1-phone"
    sub = ok(client.post("/api/v1/push/subscriptions", headers=auth.headers("officer1"),
                         json={"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": b64url(auth_secret)}}))
    cid = ok(report(client, auth))["id"]
    ok(act(client, auth, "leader1", cid, "accept"))
    ok(act(client, auth, "leader1", cid, "dispatch", assignee_id=user_id(auth, "officer1")))
    assert run_round(app) == {"sent": 1}  # only officer1 has a browser subscribed; no other channel

    call = recorder.calls[0]
    assert call["path"] == "/push/officer1-phone" and call["headers"]["content-encoding"] == "aes128gcm"
    assert int(call["headers"]["ttl"]) > 0
    message = json.loads(http_ece.decrypt(call["body"], private_key=browser_key, auth_secret=auth_secret,
                                          version="aes128gcm"))
    assert message["url"] == f"/cases/{cid}" and "已派遣给你" in message["body"] and message["title"] == "网格巡查"
    # VAPID (RFC 8292): a JWT for this push service's origin, signed by the key the browser subscribed with.
    scheme, _, params = call["headers"]["authorization"].partition(" ")
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    assert scheme == "vapid" and fields["k"] == key
    point = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    claims = jwt.decode(fields["t"], public, algorithms=["ES256"], audience=recorder.base)
    assert claims["sub"] == "mailto:admin@localhost" and claims["exp"] > time.time()

    # The browser unsubscribed: the push service says 410, the subscription goes.
    recorder.answers.append((410, b""))
    ok(act(client, auth, "leader1", cid, "dispatch", assignee_id=user_id(auth, "officer1"), client_id="dispatch-410"))
    assert run_round(app) == {"dropped": 1}
    with app.app_context():
        assert get_session().get(PushSubscription, sub["id"]) is None
    assert ok(client.get("/api/v1/push/subscriptions", headers=auth.headers("officer1")), 200) == []
    next(gen, None)


@pytest.mark.parametrize("endpoint, keys, code", [
    ("http://10.0.0.8/internal", None, "push_endpoint_refused"),  # the server must never call inside addresses
    ("https://evil.example.com/push/1", None, "push_endpoint_refused"),
    ("https://fcm.googleapis.com/fcm/send/abc", {"p256dh": "A" * 40, "auth": "B" * 22}, "push_key_invalid"),
    # 65 bytes, but not a point on P-256: every send would fail
    ("https://fcm.googleapis.com/fcm/send/abd", {"p256dh": b64url(b"\x04" + b"k" * 64), "auth": b64url(b"a" * 16)},
     "push_key_invalid"),
])
def test_subscriptions_only_to_push_services_with_real_keys(client, auth, endpoint, keys, code):
    keys = keys or {"p256dh": b64url(b"\x04" + b"k" * 64), "auth": b64url(b"a" * 16)}
    r = client.post("/api/v1/push/subscriptions", headers=auth.headers("officer1"),
                    json={"endpoint": endpoint, "keys": keys})
    assert r.status_code == 400 and r.get_json()["code"] == code
    assert "待办" in r.get_json()["message"] or "推送" in r.get_json()["message"]


def browser_keys() -> dict:
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"p256dh": b64url(point), "auth": b64url(os.urandom(16))}


def test_a_subscription_moves_to_whoever_signed_in_last_and_only_its_owner_removes_it(client, auth):
    body = {"endpoint": "https://fcm.googleapis.com/fcm/send/shared-phone", "keys": browser_keys()}
    first = ok(client.post("/api/v1/push/subscriptions", headers=auth.headers("officer1"), json=body))
    second = ok(client.post("/api/v1/push/subscriptions", headers=auth.headers("officer2"), json=body))
    assert first["id"] == second["id"]
    assert ok(client.get("/api/v1/push/subscriptions", headers=auth.headers("officer1")), 200) == []
    assert client.delete(f"/api/v1/push/subscriptions/{first['id']}", headers=auth.headers("officer1")).status_code == 404
    assert client.delete(f"/api/v1/push/subscriptions/{first['id']}", headers=auth.headers("officer2")).status_code == 204
    # at most ten browsers a person: the oldest go
    ids = [ok(client.post("/api/v1/push/subscriptions", headers=auth.headers("officer3"), json={
        "endpoint": f"https://fcm.googleapis.com/fcm/send/phone-{i}", "keys": browser_keys()}))["id"] for i in range(12)]
    kept = ok(client.get("/api/v1/push/subscriptions", headers=auth.headers("officer3")), 200)
    assert [s["id"] for s in kept] == ids[2:]


def test_a_request_that_made_deliveries_sends_them_at_once(databases, tmp_path, recorder):
    app, gen = make_app(databases, tmp_path, recorder, "wecom")
    app.config["NOTIFY_KICK"] = True
    client, auth = app.test_client(), Auth(app)
    ok(report(client, auth))
    deadline = time.monotonic() + 20
    while not recorder.calls and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(recorder.calls) == 1 and "待受理" in recorder.json(0)["text"]["content"]
    next(gen, None)


def test_a_shared_phone_never_shows_the_last_users_notices(databases, tmp_path, recorder):
    app, gen = make_app(databases, tmp_path, recorder, "")
    client, auth = app.test_client(), Auth(app)
    body = {"endpoint": f"{recorder.base}/push/shared-phone", "keys": browser_keys()}
    ok(client.post("/api/v1/push/subscriptions", headers=auth.headers("officer1"), json=body))
    cid = ok(report(client, auth))["id"]
    ok(act(client, auth, "leader1", cid, "accept"))
    ok(act(client, auth, "leader1", cid, "dispatch", assignee_id=user_id(auth, "officer1")))
    assert [d.status for d in deliveries(app)] == ["pending"]  # officer1's notice, not sent yet
    ok(client.post("/api/v1/push/subscriptions", headers=auth.headers("officer2"), json=body))  # officer2 signs in
    assert deliveries(app) == [] and run_round(app) == {} and recorder.calls == []
    next(gen, None)
