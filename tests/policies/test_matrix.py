"""The access matrix: every role × inside/outside its area × read/write, for every resource of v1.

"Inside" is something the role is meant to reach (its squad's grid, its village, itself, its department);
"outside" is the same kind of thing elsewhere. Reads outside answer 404 (ids cannot be probed);
writes by a role that may not write answer 403.
"""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from backend.extensions.database import get_session
from backend.models import Area, User, squad_areas

ROLES = ["admin", "commander1", "leader1", "officer1", "supervisor1", "dept1"]
EVERYTHING = ("admin", "commander1")  # a tuple: parametrize lists must come out in one order in every xdist worker


@pytest.fixture(scope="module")
def town(shared_app):
    """Ids the matrix needs, read straight from the database."""
    with shared_app.app_context():
        s = get_session()
        user = {u.username: u for u in s.scalars(select(User))}
        squad1_zone = s.scalar(select(squad_areas.c.area_id).where(squad_areas.c.squad_id == user["officer1"].squad_id))
        squad2_zone = s.scalar(select(squad_areas.c.area_id).where(squad_areas.c.squad_id == user["officer6"].squad_id))

        def grid_of(zone):
            return s.scalar(select(Area.id).where(Area.parent_id == zone).order_by(Area.id))

        village1 = user["supervisor1"].village_id
        return {
            "squad1_grid": grid_of(squad1_zone), "squad2_grid": grid_of(squad2_zone),
            "squad1_zone": squad1_zone, "squad2_zone": squad2_zone,
            "village1": village1, "village2": user["supervisor2"].village_id,
            "town": s.scalar(select(Area.id).where(Area.kind == "town")),
            "user": {name: u.id for name, u in user.items()},
            "squad1": user["officer1"].squad_id, "squad2": user["officer6"].squad_id,
            "dept1": user["dept1"].department_id, "dept2": user["dept2"].department_id,
        }


# (role, thing it reads, expected status). Things are keys of `town` or ("user", name).
AREA_READS = [
    *[(r, t, 200) for r in EVERYTHING for t in ("squad1_grid", "squad2_grid", "village1", "town", "squad2_zone")],
    *[(r, "squad1_grid", 200) for r in ("leader1", "officer1")],
    *[(r, "squad1_zone", 200) for r in ("leader1", "officer1")],
    *[(r, t, 404) for r in ("leader1", "officer1") for t in ("squad2_grid", "squad2_zone", "village1", "town")],
    ("supervisor1", "village1", 200),
    *[("supervisor1", t, 404) for t in ("village2", "squad2_zone", "town")],
    *[("dept1", t, 404) for t in ("squad1_grid", "village1", "town")],
]


@pytest.mark.parametrize("role, thing, status", AREA_READS)
def test_area_reads(shared_app, shared_auth, town, role, thing, status):
    response = shared_app.test_client().get(f"/api/v1/areas/{town[thing]}", headers=shared_auth.headers(role))
    assert response.status_code == status


@pytest.mark.parametrize("role", ROLES)
def test_area_lists_are_scoped(shared_app, shared_auth, town, role):
    client = shared_app.test_client()
    fc = client.get("/api/v1/areas?page_size=1000", headers=shared_auth.headers(role)).get_json()
    ids = {f["id"] for f in fc["features"]}
    me = client.get("/api/v1/me", headers=shared_auth.headers(role)).get_json()
    assert ids == set(me["area_ids"])  # /me and the list agree
    if role in EVERYTHING:
        assert len(ids) == 1 + 4 + 243 + 76
    elif role in ("leader1", "officer1"):
        assert town["squad1_grid"] in ids and town["squad2_grid"] not in ids
        assert {f["properties"]["kind"] for f in fc["features"]} == {"zone", "grid"}
    elif role == "supervisor1":
        kinds = sorted(f["properties"]["kind"] for f in fc["features"])
        assert kinds.count("village") == 1 and town["village1"] in ids and 1 <= kinds.count("grid") < 15
    else:
        assert ids == set()


def test_supervisor_sees_fewer_grids_than_officer_who_sees_fewer_than_admin(shared_app, shared_auth):
    client = shared_app.test_client()
    counts = {r: len(client.get("/api/v1/areas?kind=grid", headers=shared_auth.headers(r)).get_json()["features"])
              for r in ("admin", "officer1", "supervisor1")}
    assert 0 < counts["supervisor1"] < counts["officer1"] < counts["admin"] == 243


@pytest.mark.parametrize("role", ROLES)
def test_locate_is_scoped(shared_app, shared_auth, town, role):
    client = shared_app.test_client()
    headers = shared_auth.headers("admin")
    grid = client.get(f"/api/v1/areas/{town['squad2_grid']}", headers=headers).get_json()
    from shapely.geometry import shape

    point = shape(grid["geometry"]).representative_point()
    found = client.get(f"/api/v1/areas/locate?lon={point.x}&lat={point.y}", headers=shared_auth.headers(role))
    assert found.status_code == 200
    grid_seen = found.get_json()["grid"]
    assert (grid_seen is not None and grid_seen["id"] == town["squad2_grid"]) == (role in EVERYTHING)


def _import(client, headers):
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "新网格"},
           "geometry": {"type": "Polygon", "coordinates": [[[115.5, 38.0], [115.501, 38.0], [115.501, 38.001],
                                                             [115.5, 38.0]]]}}]}
    data = {"kind": "village", "file": (io.BytesIO(json.dumps(doc).encode()), "v.geojson")}
    return client.post("/api/v1/areas/import", data=data, headers=headers, content_type="multipart/form-data")


@pytest.mark.parametrize("role", ROLES)
def test_area_writes(shared_app, shared_auth, role):
    status = _import(shared_app.test_client(), shared_auth.headers(role)).status_code
    assert status == (201 if role in EVERYTHING else 403)


USER_READS = [
    *[(r, t, 200) for r in EVERYTHING for t in ("officer1", "officer6", "supervisor2", "dept2")],
    ("leader1", "officer1", 200), ("leader1", "officer6", 404), ("leader1", "supervisor1", 404),
    ("officer1", "officer2", 200), ("officer1", "officer6", 404), ("officer1", "admin", 404),
    ("supervisor1", "supervisor1", 200), ("supervisor1", "supervisor2", 404), ("supervisor1", "officer1", 404),
    ("dept1", "dept1", 200), ("dept1", "dept2", 404), ("dept1", "officer1", 404),
]


@pytest.mark.parametrize("role, target, status", USER_READS)
def test_user_reads(shared_app, shared_auth, town, role, target, status):
    response = shared_app.test_client().get(f"/api/v1/users/{town['user'][target]}", headers=shared_auth.headers(role))
    assert response.status_code == status
    if status == 200:
        # phone numbers only for oneself, one's squad leader, commanders and admins
        sees_phone = role in EVERYTHING or role == target or (role == "leader1" and target.startswith("officer"))
        assert ("phone" in response.get_json()) == sees_phone


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", ["officer2", "officer7"])
def test_user_writes(shared_app, shared_auth, town, role, target):
    client = shared_app.test_client()
    url = f"/api/v1/users/{town['user'][target]}"
    etag = client.get(url, headers=shared_auth.headers("admin")).headers["ETag"]
    response = client.patch(url, json={"display_name": f"改名{role}"}, headers=shared_auth.headers(role, **{"If-Match": etag}))
    # Only admins change users; for anyone else the answer is 403 before any lookup, so it reveals nothing.
    assert response.status_code == (200 if role == "admin" else 403)
    created = client.post("/api/v1/users", headers=shared_auth.headers(role), json={
        "username": f"new-{role}-{target}", "display_name": "新人", "password": "long-enough-pass", "roles": ["officer"]})
    assert created.status_code == (201 if role == "admin" else 403)


SQUAD_READS = [
    *[(r, t, 200) for r in EVERYTHING for t in ("squad1", "squad2")],
    *[(r, "squad1", 200) for r in ("leader1", "officer1")],
    *[(r, "squad2", 404) for r in ("leader1", "officer1", "supervisor1", "dept1")],
    *[(r, "squad1", 404) for r in ("supervisor1", "dept1")],
]


@pytest.mark.parametrize("role, squad, status", SQUAD_READS)
def test_squad_reads(shared_app, shared_auth, town, role, squad, status):
    response = shared_app.test_client().get(f"/api/v1/squads/{town[squad]}", headers=shared_auth.headers(role))
    assert response.status_code == status


@pytest.mark.parametrize("role", ROLES)
def test_squad_writes(shared_app, shared_auth, town, role):
    client = shared_app.test_client()
    response = client.post("/api/v1/squads", json={"name": f"机动中队-{role}"}, headers=shared_auth.headers(role))
    assert response.status_code == (201 if role == "admin" else 403)


DEPARTMENT_READS = [
    *[(r, t, 200) for r in ("admin", "commander1", "leader1", "officer1", "supervisor1") for t in ("dept1", "dept2")],
    ("dept1", "dept1", 200), ("dept1", "dept2", 404),
]


@pytest.mark.parametrize("role, dept, status", DEPARTMENT_READS)
def test_department_reads(shared_app, shared_auth, town, role, dept, status):
    response = shared_app.test_client().get(f"/api/v1/departments/{town[dept]}", headers=shared_auth.headers(role))
    assert response.status_code == status


@pytest.mark.parametrize("role", ROLES)
def test_department_writes(shared_app, shared_auth, role):
    response = shared_app.test_client().post(
        "/api/v1/departments", json={"name": f"县水利局-{role}", "code": f"SL-{role}"}, headers=shared_auth.headers(role))
    assert response.status_code == (201 if role == "admin" else 403)


@pytest.mark.parametrize("role", ROLES)
def test_audit_reads(shared_app, shared_auth, role):
    response = shared_app.test_client().get("/api/v1/audit", headers=shared_auth.headers(role))
    assert response.status_code == (200 if role in EVERYTHING else 403)


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/areas", "/api/v1/users", "/api/v1/squads",
                                  "/api/v1/departments", "/api/v1/audit", "/api/v1/areas/locate?lon=1&lat=1"])
def test_nothing_without_a_token(shared_app, path):
    response = shared_app.test_client().get(path)
    assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"
