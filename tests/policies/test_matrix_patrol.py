"""The access matrix of patrols: every role × patrols inside/outside its reach × read, export and write.

Positions are personal (backend/policies/patrol.py): an officer reads their own patrols, a squad leader their
squad's (and their own: leaders are officers too), commanders and admins all, supervisors and liaisons none.
Outside that reach a patrol is 404 and identical to one that does not exist (ids cannot be probed), and lists
simply leave it out. Fixes and the end come only from the officer patrolling: anyone else who may read the patrol
gets 403, anyone who may not gets 404, and nothing is stored either way.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from backend.extensions.database import get_session
from backend.models import Patrol

from .conftest import OWNERS, ROLES

# Whose patrols each role reads (the beat: officer1 and officer2 of squad 1, officer6 of squad 2).
PATROLS_SEEN = {
    "admin": {"officer1", "officer2", "officer6"},  # everything
    "commander1": {"officer1", "officer2", "officer6"},  # everything
    "leader1": {"officer1", "officer2"},  # squad 1's
    "officer1": {"officer1"},  # own only, not a squad mate's
    "officer2": {"officer2"},
    "supervisor1": set(),  # no positions
    "dept1": set(),  # no positions
    "leader2": {"officer6"},  # squad 2's
    "officer6": {"officer6"},
}
OWNER_SQUAD = {"officer1": "squad1", "officer2": "squad1", "officer6": "squad2"}
RUNNING = {"officer6"}  # officer1 and officer2 ended their patrols

READS = ["", "/track?format=geojson", "/track?format=gpx", "/track?format=kml", "/coverage"]


def test_the_beat_is_all_there_is(shared_app, beat):
    # The lists below are compared with exact id sets: nothing else may exist to be (or not be) listed.
    with shared_app.app_context():
        rows = get_session().execute(select(Patrol.id, Patrol.officer_id)).all()
    assert sorted(rows) == sorted((beat.patrol_id(o), beat.user[o]) for o in OWNERS)


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("role", ROLES)
def test_patrol_reads_and_exports(shared_app, shared_auth, beat, role, owner, path):
    client = shared_app.test_client()
    response = client.get(f"/api/v1/patrols/{beat.patrol_id(owner)}{path}", headers=shared_auth.headers(role))
    if owner not in PATROLS_SEEN[role]:
        nobody = client.get(f"/api/v1/patrols/2000000000{path}", headers=shared_auth.headers(role))
        assert response.status_code == nobody.status_code == 404
        assert response.get_json() == nobody.get_json()  # the same answer as for no patrol at all
        return
    assert response.status_code == 200
    if path == "":
        assert response.get_json()["officer_id"] == beat.user[owner]
        assert response.get_json()["point_count"] == beat.patrol[owner]["point_count"] > 0
    elif path.endswith("geojson"):
        assert any(f["geometry"]["type"] in ("LineString", "MultiLineString") for f in response.get_json()["features"])
    elif path.endswith("gpx"):
        assert response.mimetype == "application/gpx+xml" and response.data.count(b"<trkpt") == \
            beat.patrol[owner]["point_count"]
    elif path.endswith("kml"):
        assert b"<coordinates>" in response.data
    else:
        assert {i["grid_id"] for i in response.get_json()["items"]} == set(beat.walked[owner])


def _matches(owner, beat, key, value) -> bool:
    return {"officer": beat.user[owner] == value, "squad": beat.squad[OWNER_SQUAD[owner]] == value,
            "active": (owner in RUNNING) == value}[key]


LIST_FILTERS = [None, ("officer", "officer1"), ("officer", "officer2"), ("officer", "officer6"),
                ("squad", "squad1"), ("squad", "squad2"), ("active", True), ("active", False)]


@pytest.mark.parametrize("filter_", LIST_FILTERS, ids=lambda f: "none" if f is None else f"{f[0]}={f[1]}")
@pytest.mark.parametrize("role", ROLES)
def test_patrol_lists(shared_app, shared_auth, beat, role, filter_):
    query, value = "", None
    if filter_ is not None:
        key, name = filter_
        value = {"officer": beat.user, "squad": beat.squad}[key][name] if key != "active" else name
        query = f"?{key}={str(value).lower()}"
    response = shared_app.test_client().get(f"/api/v1/patrols{query}", headers=shared_auth.headers(role))
    assert response.status_code == 200
    listed = [p["id"] for p in response.get_json()]
    expected = {beat.patrol_id(o) for o in PATROLS_SEEN[role]
                if filter_ is None or _matches(o, beat, filter_[0], value)}
    assert sorted(listed) == sorted(expected)  # ids, not counts: nothing outside the reach, nothing twice
    assert json.loads(response.headers["X-Pagination"])["total"] == len(expected)  # the total counts no hidden row


@pytest.mark.parametrize("squad", [None, "squad1", "squad2"])
@pytest.mark.parametrize("role", ROLES)
def test_positions(shared_app, shared_auth, beat, role, squad):
    query = f"?squad={beat.squad[squad]}" if squad else ""
    response = shared_app.test_client().get(f"/api/v1/patrols/positions{query}", headers=shared_auth.headers(role))
    assert response.status_code == 200  # no positions to see is an empty list, not an error
    items = response.get_json()["items"]
    expected = {o for o in PATROLS_SEEN[role] if squad is None or OWNER_SQUAD[o] == squad}
    assert sorted(i["officer_id"] for i in items) == sorted(beat.user[o] for o in expected)
    for item in items:
        owner = next(o for o in OWNERS if beat.user[o] == item["officer_id"])
        assert item["patrol_id"] == beat.patrol_id(owner) and item["active"] is (owner in RUNNING)


def _unchanged(shared_app, shared_auth, beat, owner):
    now = shared_app.test_client().get(f"/api/v1/patrols/{beat.patrol_id(owner)}",
                                       headers=shared_auth.headers("admin")).get_json()
    before = beat.patrol[owner]
    # last_seen_at too: a refused batch must not keep someone else's patrol from ending as idle
    for key in ("raw_count", "point_count", "ended_at", "end_reason", "distance_m", "last_seen_at"):
        assert now[key] == before[key], key


def _write_status(role, owner):
    if role == owner:
        return 200
    return 403 if owner in PATROLS_SEEN[role] else 404


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("role", ROLES)
def test_points_come_only_from_the_patrolling_officer(shared_app, shared_auth, beat, role, owner):
    client = shared_app.test_client()
    url = f"/api/v1/patrols/{beat.patrol_id(owner)}/points"
    if role == owner:  # the officer's retry of a batch: the same answer, nothing new
        response = client.post(url, headers=shared_auth.headers(role), json=beat.batch[owner])
        assert response.status_code == 200 and response.get_json() == beat.answer[owner]
    else:  # a new batch of fixes where the patrol walked, from someone else
        batch = {"batch_id": f"intruder-{role}-{owner}", "points": beat.batch[owner]["points"][:10]}
        response = client.post(url, headers=shared_auth.headers(role), json=batch)
        assert response.status_code == _write_status(role, owner)
    _unchanged(shared_app, shared_auth, beat, owner)


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("role", ROLES)
def test_only_the_patrolling_officer_ends_a_patrol(shared_app, shared_auth, beat, role, owner):
    if role == owner and owner in RUNNING:
        pytest.skip("officer6 keeps patrolling; an officer's own end is walked by the beat (officer1, officer2)")
    response = shared_app.test_client().post(f"/api/v1/patrols/{beat.patrol_id(owner)}/end",
                                             headers=shared_auth.headers(role), json={})
    assert response.status_code == _write_status(role, owner)
    if role == owner:  # ending again keeps the first end
        assert response.get_json()["ended_at"] == beat.patrol[owner]["ended_at"]
    _unchanged(shared_app, shared_auth, beat, owner)
