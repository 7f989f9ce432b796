"""The users resource: admins create and change people, nobody is deleted, everyone else sees only their own."""
from __future__ import annotations

import pytest

from backend.settings import DEMO_PASSWORD

USERS = "/api/v1/users"
NEW_PASSWORD = "patrol-north-2024"


def _login(client, username, password):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def _new_user(**overrides) -> dict:
    return {"username": "officer99", "display_name": "赵新兵", "password": NEW_PASSWORD, "phone": "13900000099",
            "roles": ["officer"], **overrides}


def test_user_life_create_read_conflict_change_deactivate(app, auth):
    client, admin = app.test_client(), auth.headers("admin")
    squad1 = auth.user("officer1")["squad"]["id"]

    created = client.post(USERS, json=_new_user(roles=["officer", "squad_leader"], squad_id=squad1), headers=admin)
    assert created.status_code == 201, created.get_json()
    user = created.get_json()
    assert "password" not in user and user["roles"] == ["officer", "squad_leader"] and user["squad"]["id"] == squad1

    read = client.get(f"{USERS}/{user['id']}", headers=admin)
    assert read.status_code == 200 and read.get_json() == user
    etag = read.headers["ETag"]

    duplicate = client.post(USERS, json=_new_user(username="OFFICER99"), headers=admin)
    assert duplicate.status_code == 409 and duplicate.get_json()["code"] == "duplicate"
    assert "OFFICER99" in duplicate.get_json()["message"]
    assert client.get(f"{USERS}/999999", headers=admin).status_code == 404
    forbidden = client.post(USERS, json=_new_user(username="officer98"), headers=auth.headers("leader1"))
    assert forbidden.status_code == 403 and forbidden.get_json()["code"] == "forbidden"

    url = f"{USERS}/{user['id']}"
    no_match = client.patch(url, json={"display_name": "赵新"}, headers=admin)
    assert no_match.status_code == 428 and no_match.get_json()["code"] == "precondition_required"
    stale = client.patch(url, json={"display_name": "赵新"}, headers={**admin, "If-Match": '"0123456789abcdef"'})
    assert stale.status_code == 412 and stale.get_json()["code"] == "precondition_failed"
    assert client.get(url, headers=admin).get_json()["display_name"] == "赵新兵"
    changed = client.patch(url, json={"display_name": "赵新"}, headers={**admin, "If-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["display_name"] == "赵新"
    # the old ETag is now stale
    assert client.patch(url, json={"phone": None}, headers={**admin, "If-Match": etag}).status_code == 412

    signed_in = _login(client, "officer99", NEW_PASSWORD)
    assert signed_in.status_code == 200
    refresh_token = signed_in.get_json()["refresh_token"]
    etag = client.get(url, headers=admin).headers["ETag"]
    off = client.patch(url, json={"active": False}, headers={**admin, "If-Match": etag})
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert _login(client, "officer99", NEW_PASSWORD).status_code == 401
    refused = client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert refused.status_code == 401 and refused.get_json()["code"] == "invalid_refresh_token"

    assert client.delete(url, headers={**admin, "If-Match": etag}).status_code == 405
    assert client.get(url, headers=admin).get_json()["active"] is False  # kept, with their history


@pytest.mark.parametrize(("username", "password", "code"), [
    ("officer99", "short-pw1", "password_too_short"),  # 9 characters
    ("newcomer.2024", "Newcomer.2024", "password_is_username"),  # long enough, but the username
])
def test_password_rules_on_create(shared_app, shared_auth, username, password, code):
    client, admin = shared_app.test_client(), shared_auth.headers("admin")
    response = client.post(USERS, json=_new_user(username=username, password=password), headers=admin)
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == code and body["details"]["fields"]["password"]
    assert client.get(f"{USERS}?q={username}", headers=admin).get_json() == []


def test_admin_password_reset_signs_the_user_out_everywhere(app, auth):
    client, admin = app.test_client(), auth.headers("admin")
    session = _login(client, "officer2", DEMO_PASSWORD).get_json()
    officer2 = session["user"]["id"]
    too_short = client.post(f"{USERS}/{officer2}/password", json={"password": "short"}, headers=admin)
    assert too_short.status_code == 400 and too_short.get_json()["code"] == "password_too_short"
    assert client.post(f"{USERS}/{officer2}/password", json={"password": NEW_PASSWORD},
                       headers=admin).status_code == 204
    refused = client.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert refused.status_code == 401
    assert _login(client, "officer2", DEMO_PASSWORD).status_code == 401
    assert _login(client, "officer2", NEW_PASSWORD).status_code == 200
    assert client.post(f"{USERS}/{officer2}/password", json={"password": NEW_PASSWORD},
                       headers=auth.headers("commander1")).status_code == 403


def test_supervisor_needs_a_real_village(shared_app, shared_auth):
    client, admin = shared_app.test_client(), shared_auth.headers("admin")
    no_village = client.post(USERS, json=_new_user(username="sup-new", roles=["supervisor"]), headers=admin)
    assert no_village.status_code == 400 and no_village.get_json()["code"] == "supervisor_needs_village"
    assert "village_id" in no_village.get_json()["details"]["fields"]

    grid = client.get("/api/v1/areas?kind=grid&page_size=1", headers=admin).get_json()["features"][0]
    not_village = client.post(USERS, json=_new_user(username="sup-new", roles=["supervisor"], village_id=grid["id"]),
                              headers=admin)
    assert not_village.status_code == 400 and not_village.get_json()["code"] == "not_a_village"
    missing = client.post(USERS, json=_new_user(username="sup-new", roles=["supervisor"], village_id=999999),
                          headers=admin)
    assert missing.status_code == 400 and missing.get_json()["code"] == "not_a_village"
    assert client.get(f"{USERS}?q=sup-new", headers=admin).get_json() == []


def test_officer_sees_their_squad_without_colleagues_phones(shared_app, shared_auth):
    client = shared_app.test_client()
    me = shared_auth.user("officer1")
    listed = client.get(f"{USERS}?page_size=500", headers=shared_auth.headers("officer1")).get_json()
    assert {u["username"] for u in listed} == {"leader1", "officer1", "officer2", "officer3", "officer4", "officer5"}
    for user in listed:
        assert user["squad"]["id"] == me["squad"]["id"]
        if user["id"] == me["id"]:
            assert user["phone"] == me["phone"] and user["certificate_no"]
        else:
            assert "phone" not in user and "certificate_no" not in user


def test_squad_leader_sees_their_squads_phones(shared_app, shared_auth):
    client = shared_app.test_client()
    listed = client.get(USERS, headers=shared_auth.headers("leader1")).get_json()
    assert {u["username"] for u in listed} == {"leader1", "officer1", "officer2", "officer3", "officer4", "officer5"}
    assert all(u["phone"] and u["phone"].startswith("1") for u in listed)


def test_supervisor_sees_only_themselves_and_others_are_not_found(shared_app, shared_auth):
    client = shared_app.test_client()
    listed = client.get(USERS, headers=shared_auth.headers("supervisor1")).get_json()
    assert [u["username"] for u in listed] == ["supervisor1"]
    officer2 = shared_auth.user("officer2")["id"]
    officer6 = shared_auth.user("officer6")["id"]  # squad 2
    assert client.get(f"{USERS}/{officer2}", headers=shared_auth.headers("officer1")).status_code == 200
    for viewer, target in (("supervisor1", officer2), ("officer1", officer6), ("leader1", officer6)):
        response = client.get(f"{USERS}/{target}", headers=shared_auth.headers(viewer))
        # outside the caller's reach is indistinguishable from a user that does not exist
        assert response.status_code == 404 and response.get_json()["code"] == "not_found"
