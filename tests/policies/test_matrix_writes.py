"""The access matrix of patrol writes: every role × inside/outside its squad × starting a patrol, importing a GPX
track, planning a task and deleting one. (Fixes and the end of a patrol: test_matrix_patrol.py.)

Who may write (backend/policies/patrol.py):
  start a patrol   officers (squad leaders are officers too), on their own areas' grids and their own tasks
  import GPX       squad leaders for officers of their squad, commanders and admins for anyone
  plan, delete     the same: squad leaders for their squad, commanders and admins for anyone
A role that may never do a write gets 403 before anything is looked up, so the answer says nothing about the ids
in the request; a leader naming someone outside their squad gets the same 403 whether or not that id names an
officer. Whoever may not read a task gets 404 on deleting it. A refused write stores nothing.
"""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from shapely.geometry import shape
from sqlalchemy import func, select

from backend.extensions.database import get_session
from backend.models import Patrol, PatrolTask

from .conftest import DAY, ROLES, T0, plan, walk_inside

SQUAD_OF = {"leader1": "squad1", "officer1": "squad1", "officer2": "squad1", "leader2": "squad2",
            "officer6": "squad2"}
OTHER = {"squad1": "squad2", "squad2": "squad1"}
NOBODY = 2_000_000_000


def _count(shared_app, model, **where) -> int:
    with shared_app.app_context():
        stmt = select(func.count(model.id))
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        return get_session().scalar(stmt)


def _free_grid(beat, squad: str) -> int:
    """A grid of the squad nobody walked in the beat."""
    walked = {g for grids in beat.walked.values() for g in grids}
    return min(beat.grids[squad] - walked)


# ---- starting a patrol -----------------------------------------------------------------------------------

# What a start asks for: grids of the caller's squad, of the other squad, of nowhere, none at all, the caller's
# own task (officer1, officer2 have one), another officer's task, a task that does not exist.
STARTS = ["own-grid", "other-grid", "no-such-grid", "no-grids", "own-task", "other-task", "no-such-task"]
START_EXPECTED = {
    **{r: dict.fromkeys(STARTS, 403) for r in ("admin", "commander1", "supervisor1", "dept1")},  # not officers
    # officers, and leaders as officers: their own grids and tasks only; outside is answered as nonexistent
    **{r: {"own-grid": 201, "other-grid": 400, "no-such-grid": 400, "no-grids": 201, "own-task": 201,
           "other-task": 400, "no-such-task": 400} for r in ("officer1", "officer2")},
    **{r: {"own-grid": 201, "other-grid": 400, "no-such-grid": 400, "no-grids": 201, "own-task": None,
           "other-task": 400, "no-such-task": 400} for r in ("leader1", "leader2")},
    # officer6 is still patrolling: a new start is refused with their own running patrol, to resume or end
    "officer6": {"own-grid": 409, "other-grid": 400, "no-such-grid": 400, "no-grids": 409, "own-task": 409,
                 "other-task": 400, "no-such-task": 400},
}


def _start_body(beat, role, kind, client_id):
    squad = SQUAD_OF.get(role, "squad1")
    body = {"client_id": client_id, "started_at": (T0 + timedelta(hours=3)).isoformat()}
    owner_of_other_task = "officer6" if squad == "squad1" else "officer1"
    return body | {
        "own-grid": {"grid_ids": [_free_grid(beat, squad)]},
        "other-grid": {"grid_ids": [_free_grid(beat, OTHER[squad])]},
        "no-such-grid": {"grid_ids": [NOBODY]},
        "no-grids": {},
        "own-task": {"task_id": beat.task_id(role) if role in beat.task else NOBODY},
        "other-task": {"task_id": beat.task_id(owner_of_other_task)},
        "no-such-task": {"task_id": NOBODY},
    }[kind]


@pytest.mark.parametrize("kind", STARTS)
@pytest.mark.parametrize("role", ROLES)
def test_starting_a_patrol(shared_app, shared_auth, beat, role, kind):
    status = START_EXPECTED[role][kind]
    if status is None:
        pytest.skip(f"{role} has no task of their own")
    client, headers = shared_app.test_client(), shared_auth.headers(role)
    before = _count(shared_app, Patrol)
    response = client.post("/api/v1/patrols", headers=headers, json=_start_body(beat, role, kind, f"m-{role}-{kind}"))
    assert response.status_code == status, response.get_json()
    if status == 201:
        patrol = response.get_json()
        assert patrol["officer_id"] == beat.user[role] and patrol["squad_id"] == beat.squad[SQUAD_OF[role]]
        leader = {"squad1": "leader1", "squad2": "leader2"}
        other_leader = leader[OTHER[SQUAD_OF[role]]]
        seen_by_other = client.get(f"/api/v1/patrols/{patrol['id']}", headers=shared_auth.headers(other_leader))
        assert seen_by_other.status_code == 404
        assert client.post(f"/api/v1/patrols/{patrol['id']}/end", headers=headers, json={}).status_code == 200
        return
    assert _count(shared_app, Patrol) == before  # nothing stored
    body = response.get_json()
    if status == 409:
        assert body["code"] == "patrol_running" and body["details"]["patrol"]["id"] == beat.patrol_id(role)
    elif status == 400:
        # A grid or task outside the caller's reach is answered exactly as one that does not exist.
        nowhere = "no-such-task" if kind.endswith("task") else "no-such-grid"
        twin = client.post("/api/v1/patrols", headers=headers, json=_start_body(beat, role, nowhere, f"m-{role}-x"))
        assert twin.status_code == 400 and twin.get_json()["code"] == body["code"]
        assert body["code"] == ("task_not_yours" if kind.endswith("task") else "validation_error")


# ---- GPX import --------------------------------------------------------------------------------------------

def _gpx(points, name: str) -> bytes:
    trkpts = "".join(f'<trkpt lat="{p["lat"]:.7f}" lon="{p["lon"]:.7f}"><time>{p["t"][:19]}Z</time></trkpt>'
                     for p in points)
    return (f'<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="matrix" '
            f'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>{name}</name><trkseg>{trkpts}</trkseg></trk></gpx>'
            ).encode()


# (actor, whose patrol, expected). Targets by username; "#officer1" names the same officer by id.
IMPORTS = [
    ("admin", "officer1", 201), ("admin", "officer6", 201), ("admin", "supervisor1", 400), ("admin", "nobody", 400),
    ("commander1", "officer2", 201), ("commander1", "#officer6", 201), ("commander1", "nobody", 400),
    # leaders: their squad's officers (and themselves, an officer of it); anyone else is one 403
    ("leader1", "officer1", 201), ("leader1", "#officer2", 201), ("leader1", "leader1", 201),
    ("leader1", "officer6", 403), ("leader1", "#officer6", 403), ("leader1", "leader2", 403),
    ("leader1", "supervisor1", 403), ("leader1", "nobody", 403),
    ("leader2", "officer6", 201), ("leader2", "officer1", 403), ("leader2", "nobody", 403),
    # officers import nothing, not even their own tracks; nor do supervisors and liaisons
    ("officer1", "officer1", 403), ("officer1", "officer2", 403), ("officer1", "officer6", 403),
    ("officer1", "nobody", 403), ("officer6", "officer6", 403),
    ("supervisor1", "officer1", 403), ("supervisor1", "nobody", 403), ("supervisor1", "supervisor1", 403),
    ("dept1", "officer1", 403), ("dept1", "nobody", 403),
]


@pytest.fixture(scope="module")
def grid_shapes(shared_app, shared_auth, beat):
    client = shared_app.test_client()
    ids = {"squad1": _free_grid(beat, "squad1"), "squad2": _free_grid(beat, "squad2")}
    admin = shared_auth.headers("admin")
    return {squad: shape(client.get(f"/api/v1/areas/{gid}", headers=admin).get_json()["geometry"])
            for squad, gid in ids.items()}


@pytest.mark.parametrize("actor, target, status", IMPORTS)
def test_importing_a_gpx_track(shared_app, shared_auth, beat, grid_shapes, actor, target, status):
    client = shared_app.test_client()
    name = target.lstrip("#")
    officer = {"nobody": str(NOBODY)}.get(name) or (str(beat.user[name]) if target.startswith("#") else name)
    squad = SQUAD_OF.get(name, "squad1")
    k = IMPORTS.index((actor, target, status))
    points = walk_inside(grid_shapes[squad], T0 - timedelta(days=1, minutes=-15 * k), limit=30)
    before = _count(shared_app, Patrol)
    response = client.post("/api/v1/patrols/import", headers=shared_auth.headers(actor),
                           content_type="multipart/form-data",
                           data={"officer": officer, "file": (io.BytesIO(_gpx(points, f"{actor}-{target}")), "t.gpx")})
    assert response.status_code == status, response.get_json()
    if status != 201:
        assert _count(shared_app, Patrol) == before
        if status == 400:
            assert response.get_json()["details"]["fields"] == {"officer": "not_an_officer"}
        return
    answer = response.get_json()
    assert answer["kept"] == len(points)
    # The imported patrol is the officer's: they and their squad's leader read it, the other squad's does not.
    pid, leader = answer["patrol_id"], {"squad1": "leader1", "squad2": "leader2"}
    for reader, seen in ((name, True), (leader[squad], True), (leader[OTHER[squad]], False), ("supervisor1", False)):
        got = client.get(f"/api/v1/patrols/{pid}", headers=shared_auth.headers(reader))
        assert got.status_code == (200 if seen else 404), reader
        if seen:
            assert got.get_json()["officer_id"] == beat.user[name] and got.get_json()["end_reason"] == "import"


def test_an_import_without_a_file_is_refused_first_to_those_who_may_not_import(shared_app, shared_auth):
    client = shared_app.test_client()
    for actor, status in (("supervisor1", 403), ("officer1", 403), ("dept1", 403), ("leader1", 400), ("admin", 400)):
        response = client.post("/api/v1/patrols/import", headers=shared_auth.headers(actor),
                               content_type="multipart/form-data", data={"officer": "officer1"})
        assert response.status_code == status, actor


# ---- planning a task -------------------------------------------------------------------------------------

# (planner, for whom, whose grids, expected). "nobody": an id that names no user; "squad2" grids for officer1:
# outside the officer's zone, refused even to those who may plan for them.
PLANS = [
    ("admin", "officer1", "squad1", 201), ("admin", "officer6", "squad2", 201),
    ("admin", "officer1", "squad2", 400), ("admin", "supervisor1", "squad1", 400), ("admin", "nobody", "squad1", 400),
    ("commander1", "officer2", "squad1", 201), ("commander1", "officer6", "squad2", 201),
    ("commander1", "nobody", "squad1", 400),
    # leaders: officers of their squad, themselves included; anyone else is one 403
    ("leader1", "officer1", "squad1", 201), ("leader1", "leader1", "squad1", 201),
    ("leader1", "officer1", "squad2", 400),
    ("leader1", "officer6", "squad2", 403), ("leader1", "leader2", "squad2", 403),
    ("leader1", "supervisor1", "squad1", 403), ("leader1", "nobody", "squad1", 403),
    ("leader2", "officer6", "squad2", 201), ("leader2", "officer1", "squad1", 403),
    ("leader2", "nobody", "squad2", 403),
    # officers plan nobody, not even themselves; nor do supervisors and liaisons
    ("officer1", "officer1", "squad1", 403), ("officer1", "officer2", "squad1", 403),
    ("officer1", "nobody", "squad1", 403), ("officer6", "officer6", "squad2", 403),
    ("supervisor1", "officer1", "squad1", 403), ("supervisor1", "nobody", "squad1", 403),
    ("dept1", "officer1", "squad1", 403), ("dept1", "nobody", "squad1", 403),
]


@pytest.mark.parametrize("actor, target, grids, status", PLANS)
def test_planning_a_task(shared_app, shared_auth, beat, actor, target, grids, status):
    client = shared_app.test_client()
    officer_id = NOBODY if target == "nobody" else beat.user[target]
    before = _count(shared_app, PatrolTask)
    response = plan(client, shared_auth.headers(actor), officer_id, [_free_grid(beat, grids)],
                    f"m-plan-{actor}-{target}-{grids}", day="2026-11-21")
    assert response.status_code == status, response.get_json()
    if status != 201:
        assert _count(shared_app, PatrolTask) == before
        return
    task = response.get_json()
    assert task["officer_id"] == officer_id and task["created_by_id"] == beat.user[actor]
    squad = SQUAD_OF[target]
    leader = {"squad1": "leader1", "squad2": "leader2"}
    for reader, seen in ((target, True), (leader[squad], True), (leader[OTHER[squad]], False), ("supervisor1", False)):
        got = client.get(f"/api/v1/tasks/{task['id']}", headers=shared_auth.headers(reader))
        assert got.status_code == (200 if seen else 404), reader


@pytest.mark.parametrize("role", ROLES)
def test_a_client_id_taken_by_another_planner(shared_app, shared_auth, beat, role):
    # Reusing the client id of leader1's beat task: a planner is told it is taken (409), anyone else 403 first.
    client = shared_app.test_client()
    response = plan(client, shared_auth.headers(role), beat.user["officer1"], beat.walked["officer1"],
                    "beat-task-officer1")
    expected = 200 if role == "leader1" else 409 if role in ("admin", "commander1", "leader2") else 403
    assert response.status_code == expected, response.get_json()
    if expected == 200:  # the planner's own retry: the same task
        assert response.get_json()["id"] == beat.task_id("officer1")


# ---- deleting a task -------------------------------------------------------------------------------------

# role: whether it deletes a task of officer1 / of officer6 (204), may read but not delete it (403), or may not
# read it at all (404).
DELETES = {
    "admin": {"officer1": 204, "officer6": 204},
    "commander1": {"officer1": 204, "officer6": 204},
    "leader1": {"officer1": 204, "officer6": 404},
    "officer1": {"officer1": 403, "officer6": 404},  # reads their own task, may not delete it
    "officer2": {"officer1": 404, "officer6": 404},
    "supervisor1": {"officer1": 404, "officer6": 404},
    "dept1": {"officer1": 404, "officer6": 404},
    "leader2": {"officer1": 404, "officer6": 204},
    "officer6": {"officer1": 404, "officer6": 403},
}


@pytest.mark.parametrize("owner", ["officer1", "officer6"])
@pytest.mark.parametrize("role", ROLES)
def test_deleting_an_unused_task(shared_app, shared_auth, beat, role, owner):
    client, admin = shared_app.test_client(), shared_auth.headers("admin")
    squad = SQUAD_OF[owner]
    created = plan(client, admin, beat.user[owner], [_free_grid(beat, squad)], f"m-del-{role}-{owner}", day=DAY)
    assert created.status_code == 201
    url = f"/api/v1/tasks/{created.get_json()['id']}"
    status = DELETES[role][owner]
    assert client.delete(url, headers=shared_auth.headers(role)).status_code == status
    assert client.get(url, headers=admin).status_code == (404 if status == 204 else 200)


@pytest.mark.parametrize("role", ROLES)
def test_deleting_a_task_a_patrol_was_started_from(shared_app, shared_auth, beat, role):
    # officer1's beat task: those who may delete it hear it is in use (409); the others 403 or 404 as above.
    client = shared_app.test_client()
    url = f"/api/v1/tasks/{beat.task_id('officer1')}"
    expected = {204: 409}.get(DELETES[role]["officer1"], DELETES[role]["officer1"])
    response = client.delete(url, headers=shared_auth.headers(role))
    assert response.status_code == expected
    if expected == 409:
        assert response.get_json()["code"] == "task_in_use"
    assert client.get(url, headers=shared_auth.headers("admin")).status_code == 200
