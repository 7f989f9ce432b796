"""Sign-in, lock-out, rotating refresh tokens, logout and password changes, as a phone experiences them."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from backend.extensions.database import get_session
from backend.models import AuditEntry, LoginLock, RefreshToken, User
from backend.security import issue_access_token, password_stamp
from backend.settings import DEMO_PASSWORD

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"


def login(client, username, password=DEMO_PASSWORD, **headers):
    return client.post(LOGIN, json={"username": username, "password": password}, headers=headers)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_login_returns_tokens_and_the_user(client):
    response = login(client, "officer1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60 and body["refresh_expires_in"] == 12 * 3600
    assert body["user"]["username"] == "officer1" and body["user"]["roles"] == ["officer"]
    assert body["user"]["squad"]["name"] == "第一中队" and body["user"]["certificate_no"]
    me = client.get("/api/v1/me", headers=bearer(body["access_token"])).get_json()
    assert me["user"]["id"] == body["user"]["id"]
    assert me["area_counts"] == {"zone": 1, "grid": len(me["area_ids"]) - 1}


def test_unknown_user_and_wrong_password_get_the_same_answer(client):
    wrong = login(client, "officer1", "not-the-password")
    unknown = login(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json() == {
        "code": "invalid_credentials", "message": "用户名或密码错误", "details": {}}
    assert login(client, "nobody-here", "x", **{"Accept-Language": "en"}).get_json()["message"] == \
        "Wrong username or password"


@pytest.mark.parametrize("username", ["officer2", "no-such-user"])
def test_five_failures_lock_the_name_for_fifteen_minutes(app, client, username):
    for _ in range(5):
        assert login(client, username, "wrong-password-1").status_code == 401
    locked = login(client, username, DEMO_PASSWORD)
    assert locked.status_code == 423
    body = locked.get_json()
    assert body["code"] == "account_locked" and "锁定" in body["message"]
    until = datetime.fromisoformat(body["details"]["locked_until"])
    assert timedelta(minutes=14) < until - datetime.now(UTC) <= timedelta(minutes=15)
    with app.app_context():  # fifteen minutes pass
        session = get_session()
        session.execute(update(LoginLock).values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    expected = 200 if username == "officer2" else 401
    assert login(client, username, DEMO_PASSWORD).status_code == expected


def test_four_failures_do_not_lock(client):
    for _ in range(4):
        login(client, "officer3", "wrong-password-1")
    assert login(client, "officer3").status_code == 200


def test_every_attempt_is_audited(app, client):
    login(client, "officer1", "wrong-password-1")
    login(client, "officer1")
    login(client, "ghost", "wrong-password-1")
    with app.app_context():
        rows = get_session().execute(
            select(AuditEntry.action, AuditEntry.actor_username, AuditEntry.client_addr)
            .where(AuditEntry.action.like("auth.login_%")).order_by(AuditEntry.id)
        ).all()
    assert [(a, u) for a, u, _ in rows] == [
        ("auth.login_failed", "officer1"), ("auth.login_success", "officer1"), ("auth.login_failed", "ghost")]
    assert all(addr == "127.0.0.1" for _, _, addr in rows)


def test_refresh_rotates_and_a_reused_token_revokes_the_login(client):
    first = login(client, "officer1").get_json()
    second = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second = second.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/me", headers=bearer(second["access_token"])).status_code == 200
    # The old token was copied (or replayed): refused, and the whole login is revoked with it.
    replay = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401 and replay.get_json()["code"] == "invalid_refresh_token"
    assert client.post(REFRESH, json={"refresh_token": second["refresh_token"]}).status_code == 401


def test_refresh_tokens_expire_and_are_stored_hashed(app, client):
    pair = login(client, "officer1").get_json()
    with app.app_context():
        session = get_session()
        stored = session.scalars(select(RefreshToken.token_hash)).all()
        assert pair["refresh_token"] not in stored and len(stored) == 1
        session.execute(update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    response = client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 401 and response.get_json()["message"] == "登录已失效，请重新输入密码"


def test_logout_revokes_the_refresh_token(client):
    pair = login(client, "officer1").get_json()
    assert client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert client.post(REFRESH, json={"refresh_token": pair["refresh_token"]}).status_code == 401
    # logging out twice is harmless
    assert client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204


def test_changing_the_password_revokes_every_session(client):
    phone = login(client, "officer1").get_json()
    desk = login(client, "officer1").get_json()
    change = client.post("/api/v1/me/password", headers=bearer(phone["access_token"]),
                         json={"current_password": DEMO_PASSWORD, "new_password": "a-much-better-pass"})
    assert change.status_code == 204
    for session in (phone, desk):
        assert client.post(REFRESH, json={"refresh_token": session["refresh_token"]}).status_code == 401
        assert client.get("/api/v1/me", headers=bearer(session["access_token"])).status_code == 401
    assert login(client, "officer1").status_code == 401
    assert login(client, "officer1", "a-much-better-pass").status_code == 200


@pytest.mark.parametrize("username, current, new, code", [
    ("officer1", "wrong-current-pw", "a-much-better-pass", "password_wrong"),
    ("officer1", DEMO_PASSWORD, "short-pw", "password_too_short"),
    ("supervisor10", DEMO_PASSWORD, "SUPERVISOR10", "password_is_username"),
])
def test_password_rules(client, auth, username, current, new, code):
    response = client.post("/api/v1/me/password", headers=auth.headers(username),
                           json={"current_password": current, "new_password": new})
    assert response.status_code == 400 and response.get_json()["code"] == code
    assert login(client, username).status_code == 200  # the old password still works


def test_expired_or_forged_access_tokens_are_refused(app, client):
    user_id = login(client, "officer1").get_json()["user"]["id"]
    with app.app_context():
        user = get_session().get(User, user_id)
        stamp = password_stamp(user.password_changed_at)
    expired = issue_access_token(app.config["SECRET_KEY"], user_id, -1, stamp)
    assert client.get("/api/v1/me", headers=bearer(expired)).get_json()["code"] == "token_expired"
    forged = issue_access_token("another-secret-key-of-enough-length", user_id, 600, stamp)
    assert client.get("/api/v1/me", headers=bearer(forged)).get_json()["code"] == "invalid_token"


def test_a_deactivated_user_cannot_sign_in(app, client):
    with app.app_context():
        session = get_session()
        session.execute(update(User).where(User.username == "officer4").values(active=False))
        session.commit()
        assert session.scalar(select(func.count(User.id)).where(User.username == "officer4")) == 1
    assert login(client, "officer4").get_json()["code"] == "invalid_credentials"
