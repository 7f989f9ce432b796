"""The squads resource: admins create squads and assign zones and grids, which decides what officers see."""
from __future__ import annotations

import json

SQUADS = "/api/v1/squads"


def _ids(client, headers, query: str) -> set[int]:
    response = client.get(f"/api/v1/areas?{query}", headers=headers)
    assert response.status_code == 200
    return {f["id"] for f in response.get_json()["features"]}


def test_squad_life_create_read_conflict_change(app, auth):
    client, admin = app.test_client(), auth.headers("admin")
    grids = client.get("/api/v1/areas?kind=grid&page_size=3", headers=admin).get_json()["features"]
    grid_ids = [g["id"] for g in grids]

    created = client.post(SQUADS, json={"name": "机动中队", "area_ids": grid_ids}, headers=admin)
    assert created.status_code == 201, created.get_json()
    squad = created.get_json()
    assert squad["name"] == "机动中队" and squad["area_ids"] == sorted(grid_ids) and squad["members"] == []

    read = client.get(f"{SQUADS}/{squad['id']}", headers=admin)
    assert read.status_code == 200 and read.get_json() == squad
    duplicate = client.post(SQUADS, json={"name": "机动中队"}, headers=admin)
    assert duplicate.status_code == 409 and "机动中队" in duplicate.get_json()["message"]
    assert client.get(f"{SQUADS}/999999", headers=admin).status_code == 404
    for username in ("commander1", "leader1", "officer1"):
        response = client.post(SQUADS, json={"name": f"{username}的中队"}, headers=auth.headers(username))
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"

    url = f"{SQUADS}/{squad['id']}"
    assert client.patch(url, json={"name": "机动一中队"}, headers=admin).status_code == 428
    assert client.patch(url, json={"name": "机动一中队"}, headers={**admin, "If-Match": '"stale"'}).status_code == 412
    renamed = client.patch(url, json={"name": "机动一中队"}, headers={**admin, "If-Match": read.headers["ETag"]})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "机动一中队"
    taken = client.patch(url, json={"name": "第一中队"},
                         headers={**admin, "If-Match": client.get(url, headers=admin).headers["ETag"]})
    assert taken.status_code == 409
    squads = client.get(SQUADS, headers=admin)
    assert json.loads(squads.headers["X-Pagination"])["total"] == 5


def test_squad_areas_are_zones_and_grids_only(shared_app, shared_auth):
    client, admin = shared_app.test_client(), shared_auth.headers("admin")
    town = client.get("/api/v1/areas?kind=town", headers=admin).get_json()["features"][0]
    village = client.get("/api/v1/areas?kind=village&page_size=1", headers=admin).get_json()["features"][0]
    for area_ids in ([town["id"]], [village["id"]], [999999]):
        response = client.post(SQUADS, json={"name": "错误中队", "area_ids": area_ids}, headers=admin)
        assert response.status_code == 400 and response.get_json()["code"] == "squad_area_kind"
        assert "area_ids" in response.get_json()["details"]["fields"]
    squad1 = shared_auth.user("officer1")["squad"]["id"]
    etag = client.get(f"{SQUADS}/{squad1}", headers=admin).headers["ETag"]
    patched = client.patch(f"{SQUADS}/{squad1}", json={"area_ids": [village["id"]]},
                           headers={**admin, "If-Match": etag})
    assert patched.status_code == 400
    assert client.get(f"{SQUADS}/{squad1}", headers=admin).headers["ETag"] == etag  # nothing changed
    assert [s["name"] for s in client.get(SQUADS, headers=admin).get_json()] == [
        "第一中队", "第二中队", "第三中队", "第四中队"]


def test_reassigning_a_zone_moves_what_officers_see(app, auth):
    client, admin = app.test_client(), auth.headers("admin")
    squads = {s["name"]: s for s in client.get(SQUADS, headers=admin).get_json()}
    first, second = squads["第一中队"], squads["第二中队"]
    (zone1,), (zone2,) = first["area_ids"], second["area_ids"]
    zone2_grids = _ids(client, admin, f"kind=grid&parent={zone2}")
    officer1, officer6 = auth.headers("officer1"), auth.headers("officer6")  # squads 1 and 2
    assert not zone2_grids & _ids(client, officer1, "kind=grid")
    assert zone2_grids <= _ids(client, officer6, "kind=grid")

    for squad, area_ids in ((second, []), (first, [zone1, zone2])):
        etag = client.get(f"{SQUADS}/{squad['id']}", headers=admin).headers["ETag"]
        response = client.patch(f"{SQUADS}/{squad['id']}", json={"area_ids": area_ids},
                                headers={**admin, "If-Match": etag})
        assert response.status_code == 200 and response.get_json()["area_ids"] == sorted(area_ids)

    assert zone2_grids <= _ids(client, officer1, "kind=grid")
    assert _ids(client, officer6, "") == set()
    grid = next(iter(zone2_grids))
    assert client.get(f"/api/v1/areas/{grid}", headers=officer1).status_code == 200
    assert client.get(f"/api/v1/areas/{grid}", headers=officer6).status_code == 404


def test_officers_see_only_their_own_squad(shared_app, shared_auth):
    client = shared_app.test_client()
    own = client.get(SQUADS, headers=shared_auth.headers("officer1")).get_json()
    assert [s["name"] for s in own] == ["第一中队"]
    assert {m["username"] for m in own[0]["members"]} == {"leader1", "officer1", "officer2", "officer3", "officer4",
                                                          "officer5"}
    assert [m["username"] for m in own[0]["leaders"]] == ["leader1"]
    second = shared_auth.user("officer6")["squad"]["id"]
    assert client.get(f"{SQUADS}/{second}", headers=shared_auth.headers("officer1")).status_code == 404
    assert client.get(SQUADS, headers=shared_auth.headers("supervisor1")).get_json() == []
