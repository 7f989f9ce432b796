"""Sign-in under attack: the same work on every path, and parallel requests (threads, each its own client and
database session, on a real server on PostGIS) that must not get past the lock or the token rotation."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update

from backend.extensions.database import get_session
from backend.models import LoginAttempt, RefreshToken, User
from backend.services.core import auth as auth_service
from backend.settings import DEMO_PASSWORD

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"


def in_parallel(app, sends: list) -> list:
    """Each `send(client)` from its own thread, all at once (a barrier releases them together); the responses."""
    barrier = threading.Barrier(len(sends))

    def run(send):
        client = app.test_client()
        barrier.wait()
        return send(client)

    with ThreadPoolExecutor(max_workers=len(sends)) as pool:
        return list(pool.map(run, sends))


def _outcomes(app, username: str) -> dict[str, int]:
    with app.app_context():
        rows = get_session().execute(select(LoginAttempt.outcome, func.count()).where(LoginAttempt.username == username)
                                     .group_by(LoginAttempt.outcome)).all()
    return dict(rows)


@pytest.mark.parametrize("username, password, active", [
    ("officer1", DEMO_PASSWORD, True), ("officer1", "wrong-password-1", True),
    ("officer4", DEMO_PASSWORD, False), ("officer4", "wrong-password-1", False),
    ("nobody-at-all", "wrong-password-1", True),
])
def test_every_sign_in_path_checks_one_password(app, client, monkeypatch, username, password, active):
    """A deactivated account used to be checked twice: its answer took twice as long as anyone else's."""
    with app.app_context():
        session = get_session()
        session.execute(update(User).where(User.username == "officer4").values(active=False))
        session.commit()
    checks = []
    real = auth_service.verify_password
    monkeypatch.setattr(auth_service, "verify_password", lambda h, p: checks.append(h) or real(h, p))
    response = client.post(LOGIN, json={"username": username, "password": password})
    assert response.status_code == (200 if active and password == DEMO_PASSWORD and username != "nobody-at-all"
                                    else 401)
    assert len(checks) == 1


def test_thirty_parallel_wrong_passwords_are_checked_five_times(app):
    responses = in_parallel(app, [lambda c: c.post(LOGIN, json={"username": "officer2",
                                                                "password": "wrong-password-1"})] * 30)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [401] * 5 + [423] * 25
    assert _outcomes(app, "officer2") == {"failed": 5, "locked": 25}
    assert app.test_client().post(LOGIN, json={"username": "officer2", "password": DEMO_PASSWORD}).status_code == 423


@pytest.mark.parametrize("round_", range(3))
def test_ten_parallel_refreshes_of_one_token_let_one_through_and_end_the_sign_in(app, round_):
    pair = app.test_client().post(LOGIN, json={"username": "officer1", "password": DEMO_PASSWORD}).get_json()
    responses = in_parallel(app, [lambda c: c.post(REFRESH, json={"refresh_token": pair["refresh_token"]})] * 10)
    won = [r.get_json() for r in responses if r.status_code == 200]
    assert len(won) == 1 and sorted(r.status_code for r in responses) == [200] + [401] * 9
    # The nine others were reuses of a spent token: the sign-in is over, the token the winner got included.
    assert app.test_client().post(REFRESH, json={"refresh_token": won[0]["refresh_token"]}).status_code == 401
    with app.app_context():
        family_alive = get_session().scalar(select(func.count()).where(RefreshToken.revoked_at.is_(None)))
    assert family_alive == 0


def test_parallel_logouts_and_refreshes_leave_no_token_alive(app):
    pair = app.test_client().post(LOGIN, json={"username": "officer1", "password": DEMO_PASSWORD}).get_json()
    body = {"refresh_token": pair["refresh_token"]}
    responses = in_parallel(app, [lambda c: c.post("/api/v1/auth/logout", json=body),
                                  lambda c: c.post(REFRESH, json=body)] * 4)
    # In any order: a logout first ends the sign-in; a refresh first wins, and the three other refreshes are
    # reuses that end it, the winner's new token included.
    assert sum(r.status_code == 200 for r in responses) <= 1
    with app.app_context():
        assert get_session().scalar(select(func.count()).where(RefreshToken.revoked_at.is_(None))) == 0


def test_wrong_current_passwords_lock_like_sign_in(client, auth):
    headers = auth.headers("officer3")
    for _ in range(5):
        wrong = client.post("/api/v1/me/password", headers=headers,
                            json={"current_password": "wrong-password-1", "new_password": "a-much-better-pass"})
        assert wrong.status_code == 400 and wrong.get_json()["code"] == "password_wrong"
    locked = client.post("/api/v1/me/password", headers=headers,
                         json={"current_password": DEMO_PASSWORD, "new_password": "a-much-better-pass"})
    assert locked.status_code == 423
    body = locked.get_json()
    assert body["code"] == "account_locked" and "locked_until" in body["details"] and "锁定" in body["message"]
    assert client.post(LOGIN, json={"username": "officer3", "password": DEMO_PASSWORD}).status_code == 423
    assert client.post(LOGIN, json={"username": "officer3", "password": "a-much-better-pass"}).status_code == 423


def test_parallel_wrong_current_passwords_are_checked_five_times(app, auth):
    headers = auth.headers("officer5")
    responses = in_parallel(app, [lambda c: c.post("/api/v1/me/password", headers=headers, json={
        "current_password": "wrong-password-1", "new_password": "a-much-better-pass"})] * 12)
    assert sorted(r.status_code for r in responses) == [400] * 5 + [423] * 7
    assert _outcomes(app, "officer5") == {"success": 1, "password_wrong": 5, "locked": 7}


def test_a_changed_password_starts_the_count_again(client, auth):
    headers = auth.headers("officer6")
    for _ in range(4):
        client.post(LOGIN, json={"username": "officer6", "password": "wrong-password-1"})
    changed = client.post("/api/v1/me/password", headers=headers,
                          json={"current_password": DEMO_PASSWORD, "new_password": "a-much-better-pass"})
    assert changed.status_code == 204
    client.post(LOGIN, json={"username": "officer6", "password": "wrong-password-1"})
    assert client.post(LOGIN, json={"username": "officer6", "password": "a-much-better-pass"}).status_code == 200
