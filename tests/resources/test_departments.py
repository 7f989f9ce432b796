"""The departments resource: county departments town staff can whistle; a liaison sees only their own."""
from __future__ import annotations

DEPARTMENTS = "/api/v1/departments"


def test_department_life_create_read_conflict_change(app, auth):
    client, admin = app.test_client(), auth.headers("admin")
    created = client.post(DEPARTMENTS, json={"name": "县文化广电和旅游局", "code": "WGLJ", "field": "文化旅游"}, headers=admin)
    assert created.status_code == 201, created.get_json()
    dept = created.get_json()
    assert dept == {"id": dept["id"], "name": "县文化广电和旅游局", "code": "WGLJ", "field": "文化旅游", "active": True}

    read = client.get(f"{DEPARTMENTS}/{dept['id']}", headers=admin)
    assert read.status_code == 200 and read.get_json() == dept
    same_name = client.post(DEPARTMENTS, json={"name": "县文化广电和旅游局", "code": "WGLJ2"}, headers=admin)
    same_code = client.post(DEPARTMENTS, json={"name": "县文旅局", "code": "WGLJ"}, headers=admin)
    assert same_name.status_code == same_code.status_code == 409
    assert "县文化广电和旅游局" in same_name.get_json()["message"] and "WGLJ" in same_code.get_json()["message"]
    assert client.get(f"{DEPARTMENTS}/999999", headers=admin).status_code == 404
    for username in ("commander1", "officer1", "dept1"):
        response = client.post(DEPARTMENTS, json={"name": "县林业局", "code": "LYJ"}, headers=auth.headers(username))
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"

    url = f"{DEPARTMENTS}/{dept['id']}"
    assert client.patch(url, json={"field": "水利与水务"}, headers=admin).status_code == 428
    assert client.patch(url, json={"field": "水利与水务"}, headers={**admin, "If-Match": '"stale"'}).status_code == 412
    changed = client.patch(url, json={"field": "水利与水务", "active": False},
                           headers={**admin, "If-Match": read.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.get_json() == {**dept, "field": "水利与水务", "active": False}
    etag = changed.headers["ETag"]
    taken = client.patch(url, json={"code": "SCJG"}, headers={**admin, "If-Match": etag})
    assert taken.status_code == 409 and "SCJG" in taken.get_json()["message"]
    names = [d["name"] for d in client.get(DEPARTMENTS, headers=admin).get_json()]
    assert len(names) == 10 and names[-1] == "县文化广电和旅游局"


def test_liaison_sees_only_their_department(shared_app, shared_auth):
    client = shared_app.test_client()
    everything = client.get(DEPARTMENTS, headers=shared_auth.headers("admin")).get_json()
    own = shared_auth.user("dept1")["department"]
    listed = client.get(DEPARTMENTS, headers=shared_auth.headers("dept1")).get_json()
    assert [d["id"] for d in listed] == [own["id"]]
    other = next(d for d in everything if d["id"] != own["id"])
    assert client.get(f"{DEPARTMENTS}/{own['id']}", headers=shared_auth.headers("dept1")).status_code == 200
    assert client.get(f"{DEPARTMENTS}/{other['id']}", headers=shared_auth.headers("dept1")).status_code == 404


def test_town_staff_see_every_department(shared_app, shared_auth):
    client = shared_app.test_client()
    everything = client.get(DEPARTMENTS, headers=shared_auth.headers("admin")).get_json()
    assert len(everything) == 9 and "县市场监督管理局" in [d["name"] for d in everything]
    for username in ("officer1", "leader2", "supervisor1", "commander1"):
        assert client.get(DEPARTMENTS, headers=shared_auth.headers(username)).get_json() == everything
