"""Planning (排班) through the API: leaders plan their squad's officers, officers see today's tasks and their
progress, a patrol started from a task takes its grids and stops at the shift's end; positions and exports."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from shapely.geometry import shape

from backend.services.patrol.coverage_days import today_local
from geo.gpx import parse_gpx

DAY = "2026-11-20"  # shift 09:00–12:00 Beijing time = 01:00–04:00 UTC
SHIFT_START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def squad_grids(client, auth, username="officer1"):
    features = client.get("/api/v1/areas?kind=grid", headers=auth.headers(username)).get_json()["features"]
    return sorted(features, key=lambda f: -f["properties"]["area_m2"])


def plan(client, headers, officer_id, grid_ids, client_id="task-0001-abcd", **extra):
    body = {"client_id": client_id, "officer_id": officer_id, "date": DAY, "shift_start": "09:00",
            "shift_end": "12:00", "grid_ids": grid_ids, **extra}
    return client.post("/api/v1/tasks", headers=headers, json=body)


def walk_through(grid, n=120, t0=SHIFT_START + timedelta(minutes=5), step_s=5.0):
    """A walk east across the middle of a grid, 6 m every 5 s."""
    geom = shape(grid["geometry"])
    p = geom.representative_point()
    dlon = 6.0 / (111_320 * np.cos(np.radians(p.y)))
    return [{"t": (t0 + timedelta(seconds=i * step_s)).isoformat(), "lon": p.x + (i - n / 2) * dlon, "lat": p.y,
             "accuracy_m": 6.0} for i in range(n)]


def test_a_leader_plans_and_the_officer_patrols_the_task(client, auth):
    leader, officer = auth.headers("leader1"), auth.headers("officer1")
    officer_id = auth.user("officer1")["id"]
    grids = squad_grids(client, auth)[:2]
    created = plan(client, leader, officer_id, [g["id"] for g in grids], coverage_target=0.5, min_visits=1,
                   note="重点：河道两侧")
    assert created.status_code == 201, created.get_json()
    task = created.get_json()
    assert task["starts_at"].startswith("2026-11-20T01:00") and task["ends_at"].startswith("2026-11-20T04:00")
    assert task["progress"] == {"covered_ratio": 0.0, "visits": 0, "met": False, "grids": [
        {"grid_id": g, "covered_ratio": 0.0, "visits": 0} for g in sorted(g["id"] for g in grids)]}
    again = plan(client, leader, officer_id, [g["id"] for g in grids])  # the planner's retry
    assert again.status_code == 200 and again.get_json()["id"] == task["id"]

    mine = client.get(f"/api/v1/me/tasks?date={DAY}", headers=officer).get_json()["items"]
    assert [t["id"] for t in mine] == [task["id"]] and mine[0]["officer_name"]

    started = client.post("/api/v1/patrols", headers=officer, json={
        "client_id": "patrol-task-0001", "started_at": SHIFT_START.isoformat(), "task_id": task["id"]})
    assert started.status_code == 201
    patrol = started.get_json()
    assert patrol["task_id"] == task["id"] and patrol["grid_ids"] == sorted(g["id"] for g in grids)
    assert patrol["shift_ends_at"].startswith("2026-11-20T04:00")
    # Fixes after the shift's end (+60 s) are off duty: never stored, however the phone behaves.
    late = walk_through(grids[0], n=10, t0=SHIFT_START + timedelta(hours=3, minutes=5))
    answer = client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=officer,
                         json={"batch_id": "late-batch-0001", "points": late}).get_json()
    assert answer["dropped"] == {"off_duty": 10}
    for k, grid in enumerate(grids):
        t0 = SHIFT_START + timedelta(minutes=5 + 30 * k)
        response = client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=officer,
                               json={"batch_id": f"task-batch-{k:04d}", "points": walk_through(grid, t0=t0)})
        assert response.status_code == 200

    progress = client.get(f"/api/v1/tasks/{task['id']}", headers=leader).get_json()["progress"]
    assert all(g["visits"] == 1 and g["covered_ratio"] > 0 for g in progress["grids"])
    coverage = {i["grid_id"]: i for i in client.get(f"/api/v1/coverage?from={DAY}&officer={officer_id}",
                                                    headers=leader).get_json()["items"]}
    for g in progress["grids"]:
        assert g["covered_ratio"] == pytest.approx(coverage[g["grid_id"]]["covered_ratio"], abs=1e-5)
    # The overall share is over all the task's cells: between the two grids' shares.
    shares = [g["covered_ratio"] for g in progress["grids"]]
    assert min(shares) <= progress["covered_ratio"] <= max(shares)
    assert progress["met"] is (progress["covered_ratio"] >= 0.5)

    # A task a patrol was started from stays; the leader sees the day's tasks.
    assert client.delete(f"/api/v1/tasks/{task['id']}", headers=leader).status_code == 409
    listed = client.get(f"/api/v1/tasks?date={DAY}", headers=leader).get_json()
    assert [t["id"] for t in listed] == [task["id"]]


def test_who_may_plan_for_whom(client, auth):
    officer1 = auth.user("officer1")["id"]
    grid_ids = [squad_grids(client, auth)[0]["id"]]
    for username, status in [("leader1", 201), ("admin", 201), ("commander1", 201), ("officer1", 403),
                             ("supervisor1", 403), ("dept1", 403)]:
        response = plan(client, auth.headers(username), officer1, grid_ids, client_id=f"task-by-{username}-01")
        assert response.status_code == status, (username, response.get_json())
    # Another squad's leader cannot plan officer1; nor can grids outside officer1's zone be given.
    other = plan(client, auth.headers("leader2"), officer1, grid_ids, client_id="task-by-leader2-01")
    assert other.status_code == 403
    own = {f["id"] for f in squad_grids(client, auth)}
    outside = [g["id"] for g in squad_grids(client, auth, "admin") if g["id"] not in own][:1]
    bad = plan(client, auth.headers("leader1"), officer1, outside, client_id="task-outside-0001")
    assert bad.status_code == 400 and "grid_ids" in bad.get_json()["details"]["fields"]


@pytest.mark.parametrize("field, value", [("shift_start", "25:00"), ("date", "2026-02-30"), ("grid_ids", []),
                                          ("coverage_target", 1.5), ("min_visits", 0)])
def test_a_bad_task_is_a_400_and_stores_nothing(client, auth, field, value):
    officer1 = auth.user("officer1")["id"]
    body = {"client_id": "task-bad-0001", "officer_id": officer1, "date": DAY, "shift_start": "09:00",
            "shift_end": "12:00", "grid_ids": [squad_grids(client, auth)[0]["id"]], field: value}
    response = client.post("/api/v1/tasks", headers=auth.headers("leader1"), json=body)
    assert response.status_code == 400 and field in response.get_json()["details"]["fields"]
    assert client.get(f"/api/v1/tasks?date={DAY}", headers=auth.headers("leader1")).get_json() == []


def test_a_night_shift_ends_the_next_day_and_an_unused_task_can_be_deleted(client, auth):
    officer1 = auth.user("officer1")["id"]
    task = plan(client, auth.headers("leader1"), officer1, [squad_grids(client, auth)[0]["id"]],
                shift_start="22:00", shift_end="06:00").get_json()
    assert task["starts_at"].startswith("2026-11-20T14:00") and task["ends_at"].startswith("2026-11-20T22:00")
    assert client.delete(f"/api/v1/tasks/{task['id']}", headers=auth.headers("officer1")).status_code == 403
    assert client.delete(f"/api/v1/tasks/{task['id']}", headers=auth.headers("leader1")).status_code == 204
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=auth.headers("leader1")).status_code == 404


def test_tasks_are_scoped_like_personal_data(client, auth):
    officer1 = auth.user("officer1")["id"]
    task = plan(client, auth.headers("leader1"), officer1, [squad_grids(client, auth)[0]["id"]]).get_json()
    for username, visible in [("officer1", True), ("leader1", True), ("admin", True), ("commander1", True),
                              ("officer2", False), ("supervisor1", False), ("dept1", False)]:
        listed = client.get(f"/api/v1/tasks?date={DAY}", headers=auth.headers(username)).get_json()
        assert ([t["id"] for t in listed] == [task["id"]]) is visible, username
        one = client.get(f"/api/v1/tasks/{task['id']}", headers=auth.headers(username))
        assert one.status_code == (200 if visible else 404), username
    # Another officer cannot start a patrol from officer1's task.
    response = client.post("/api/v1/patrols", headers=auth.headers("officer2"), json={
        "client_id": "patrol-not-mine-01", "started_at": SHIFT_START.isoformat(), "task_id": task["id"]})
    assert response.status_code == 400 and response.get_json()["code"] == "task_not_yours"


def test_today_is_the_default_date_of_my_tasks(client, auth):
    officer1 = auth.user("officer1")["id"]
    today = today_local().isoformat()
    body = {"client_id": "task-today-0001", "officer_id": officer1, "date": today, "shift_start": "00:00",
            "shift_end": "23:59", "grid_ids": [squad_grids(client, auth)[0]["id"]]}
    assert client.post("/api/v1/tasks", headers=auth.headers("leader1"), json=body).status_code == 201
    items = client.get("/api/v1/me/tasks", headers=auth.headers("officer1")).get_json()["items"]
    assert [t["date"] for t in items] == [today]
    assert client.get("/api/v1/me/tasks", headers=auth.headers("officer2")).get_json()["items"] == []


def test_positions_and_track_exports(client, auth):
    officer = auth.headers("officer1")
    grid = squad_grids(client, auth)[0]
    patrol = client.post("/api/v1/patrols", headers=officer, json={
        "client_id": "patrol-export-01", "started_at": SHIFT_START.isoformat()}).get_json()
    points = walk_through(grid)
    points[60] = {**points[60], "lat": points[60]["lat"] + 0.05}  # a 5 km spike: dropped, never exported
    client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=officer,
                json={"batch_id": "export-batch-01", "points": points})

    positions = client.get("/api/v1/patrols/positions", headers=auth.headers("leader1")).get_json()["items"]
    assert [p["officer_id"] for p in positions] == [auth.user("officer1")["id"]]
    assert positions[0]["lon"] == pytest.approx(points[-1]["lon"]) and positions[0]["active"] is True
    assert positions[0]["t"].startswith(points[-1]["t"][:19])
    for username in ("supervisor1", "dept1", "officer2"):
        assert client.get("/api/v1/patrols/positions", headers=auth.headers(username)).get_json()["items"] == []

    gpx = client.get(f"/api/v1/patrols/{patrol['id']}/track?format=gpx", headers=officer)
    assert gpx.status_code == 200 and gpx.mimetype == "application/gpx+xml"
    parsed = parse_gpx(gpx.data)
    assert parsed.lon.size == len(points) - 1 and np.nanmax(parsed.lat) < points[0]["lat"] + 0.001
    kml = client.get(f"/api/v1/patrols/{patrol['id']}/track?format=kml", headers=officer)
    assert kml.status_code == 200 and kml.data.count(b"<LineString>") == 1
    assert client.get(f"/api/v1/patrols/{patrol['id']}/track?format=shp", headers=officer).status_code == 400
