"""The patrol beat the patrol, task and coverage matrices read: real patrols, tasks and coverage made through the
API in each module's own demo town, so every read has something it could leak.

Squad 1: officer1 patrols its task's two grids (a and b) and ends the patrol; officer2 patrols grid c and ends it.
Squad 2: officer6 patrols its two grids (a and b), untasked, and is still patrolling. Every walk stays at least
60 m inside its grid, so no other grid is within the 30 m coverage radius of any track.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from shapely.geometry import Point, shape
from sqlalchemy import select

from backend.extensions.database import get_session
from backend.models import Area, Patrol, PatrolTask, User, squad_areas

DAY = "2026-11-20"  # local (Asia/Shanghai); the tasks' shift is 09:00-18:00 there, 01:00-10:00 UTC
T0 = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
INSET_DEG = 0.0006  # ~55-65 m at 38°N: twice the coverage radius, so walks touch no neighbouring grid
STEP_M, STEP_S = 6.0, 5.0

# Everyone the matrices sign in as, with their reach: (squad, role words) for the tables' comments.
ROLES = ["admin", "commander1", "leader1", "officer1", "officer2", "supervisor1", "dept1", "leader2", "officer6"]
EVERYTHING = ("admin", "commander1")  # a tuple: parametrize lists must come out in one order in every xdist worker
OWNERS = ("officer1", "officer2", "officer6")  # whose patrols, tasks and coverage exist


@dataclass
class Beat:
    user: dict[str, int]  # username -> id
    squad: dict[str, int]  # "squad1", "squad2" -> id
    zone: dict[str, int]  # "squad1", "squad2" -> the squad's zone
    grids: dict[str, set[int]]  # "squad1", "squad2", "town" -> every grid id there
    town: int
    village1: int  # supervisor1's village (outside both squads' zones)
    walked: dict[str, list[int]] = field(default_factory=dict)  # owner -> the grids their walks are in
    patrol: dict[str, dict] = field(default_factory=dict)  # owner -> the patrol as its officer last saw it
    task: dict[str, dict] = field(default_factory=dict)  # owner -> their task on DAY
    batch: dict[str, dict] = field(default_factory=dict)  # owner -> their first batch (for idempotent retries)
    answer: dict[str, dict] = field(default_factory=dict)  # owner -> the answer to that batch
    middle: dict[str, tuple[float, float]] = field(default_factory=dict)  # owner -> (lon, lat) mid-walk in grid a
    other: dict = field(default_factory=dict)

    def patrol_id(self, owner: str) -> int:
        return self.patrol[owner]["id"]

    def task_id(self, owner: str) -> int:
        return self.task[owner]["id"]


def walk_inside(geometry, t0: datetime, limit: int = 60) -> list[dict]:
    """Fixes east and west of a point well inside the grid, 6 m every 5 s, never closer than INSET_DEG to its edge."""
    inner = geometry.buffer(-INSET_DEG)
    assert not inner.is_empty
    p = inner.representative_point()
    dlon = STEP_M / (111_320 * np.cos(np.radians(p.y)))
    steps = [k for k in range(-limit, limit + 1) if inner.contains(Point(p.x + k * dlon, p.y))]
    run = [k for k in steps if all(j in steps for j in range(min(0, k), max(0, k) + 1))]  # the run through p
    assert len(run) >= 20, "the walk is too short to cover anything"
    return [{"t": (t0 + timedelta(seconds=i * STEP_S)).isoformat(), "lon": p.x + k * dlon, "lat": p.y,
             "accuracy_m": 6.0} for i, k in enumerate(sorted(run))]


def send(client, headers, patrol_id: int, batch_id: str, points: list[dict]) -> dict:
    response = client.post(f"/api/v1/patrols/{patrol_id}/points", headers=headers,
                           json={"batch_id": batch_id, "points": points})
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["accepted"] == len(points), answer
    return answer


def plan(client, headers, officer_id: int, grid_ids: list[int], client_id: str, day: str = DAY):
    return client.post("/api/v1/tasks", headers=headers, json={
        "client_id": client_id, "officer_id": officer_id, "date": day, "shift_start": "09:00", "shift_end": "18:00",
        "grid_ids": grid_ids})


def largest_grids(client, headers, zone: int, n: int) -> list[dict]:
    features = client.get(f"/api/v1/areas?kind=grid&parent={zone}&page_size=500", headers=headers).get_json()
    return sorted(features["features"], key=lambda f: (-f["properties"]["area_m2"], f["id"]))[:n]


@pytest.fixture(scope="module")
def beat(shared_app, shared_auth) -> Beat:
    with shared_app.app_context():
        s = get_session()
        users = {u.username: u for u in s.scalars(select(User))}
        squads = {"squad1": users["officer1"].squad_id, "squad2": users["officer6"].squad_id}
        zones = {k: s.scalar(select(squad_areas.c.area_id).where(squad_areas.c.squad_id == v))
                 for k, v in squads.items()}
        grids = {k: set(s.scalars(select(Area.id).where(Area.kind == "grid", Area.parent_id == z)))
                 for k, z in zones.items()}
        grids["town"] = set(s.scalars(select(Area.id).where(Area.kind == "grid")))
        b = Beat(user={n: u.id for n, u in users.items()}, squad=squads, zone=zones, grids=grids,
                 town=s.scalar(select(Area.id).where(Area.kind == "town")), village1=users["supervisor1"].village_id)
        assert s.scalar(select(Patrol.id)) is None and s.scalar(select(PatrolTask.id)) is None
    client, h = shared_app.test_client(), shared_auth.headers
    assert len(grids["squad1"]) == 53 and grids["squad1"].isdisjoint(grids["squad2"])
    squad1 = largest_grids(client, h("admin"), zones["squad1"], 3)
    squad2 = largest_grids(client, h("admin"), zones["squad2"], 2)
    b.walked = {"officer1": [g["id"] for g in squad1[:2]], "officer2": [squad1[2]["id"]],
                "officer6": [g["id"] for g in squad2]}
    geometry = {g["id"]: shape(g["geometry"]) for g in squad1 + squad2}

    # Tasks: leader1 plans officer1, an admin officer2, leader2 officer6.
    for owner, planner in (("officer1", "leader1"), ("officer2", "admin"), ("officer6", "leader2")):
        response = plan(client, h(planner), b.user[owner], b.walked[owner], f"beat-task-{owner}")
        assert response.status_code == 201, response.get_json()
        b.task[owner] = response.get_json()

    # Patrols: officer1 from the task, the others freely on their grids; one batch per grid walked.
    for owner, offset in (("officer1", 0), ("officer2", 10), ("officer6", 0)):
        body = {"client_id": f"beat-patrol-{owner}", "started_at": (T0 + timedelta(minutes=offset)).isoformat()}
        body |= {"task_id": b.task[owner]["id"]} if owner == "officer1" else {"grid_ids": b.walked[owner]}
        started = client.post("/api/v1/patrols", headers=h(owner), json=body)
        assert started.status_code == 201, started.get_json()
        patrol = started.get_json()
        for k, grid_id in enumerate(b.walked[owner]):
            points = walk_inside(geometry[grid_id], T0 + timedelta(minutes=offset + 5 + 30 * k))
            answer = send(client, h(owner), patrol["id"], f"beat-{owner}-{k}", points)
            if k == 0:
                b.batch[owner], b.answer[owner] = {"batch_id": f"beat-{owner}-{k}", "points": points}, answer
                b.middle[owner] = (points[len(points) // 2]["lon"], points[len(points) // 2]["lat"])
        if owner != "officer6":  # officer6 is still out on patrol
            ended = client.post(f"/api/v1/patrols/{patrol['id']}/end", headers=h(owner), json={
                "ended_at": (T0 + timedelta(minutes=offset + 5 + 30 * len(b.walked[owner]))).isoformat()})
            assert ended.status_code == 200 and ended.get_json()["end_reason"] == "user"
        b.patrol[owner] = client.get(f"/api/v1/patrols/{patrol['id']}", headers=h(owner)).get_json()

    # The beat is what it says: each officer's coverage lies in exactly the grids they walked.
    for owner in OWNERS:
        items = client.get(f"/api/v1/coverage?from={DAY}&officer={b.user[owner]}", headers=h("admin")).get_json()
        assert {i["grid_id"] for i in items["items"] if i["patrols"]} == set(b.walked[owner]), owner
    return b
