"""Both shapes of the area tree work everywhere: town → zone → grid (the demo town) and grids directly under a
town or street office with no zones (a real street office's blocks), for scoping, locating, villages and coverage."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from geo.street_grid import street_walk

from ..street_office import build_street_office

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def office(app, auth, shared_data):
    return build_street_office(app.test_client(), auth.headers("admin"), shared_data)


def _grid_ids(client, headers) -> set[int]:
    response = client.get("/api/v1/areas?kind=grid&page_size=1000", headers=headers)
    assert response.status_code == 200
    return {f["id"] for f in response.get_json()["features"]}


def test_grids_directly_under_a_street_office_are_scoped_to_their_squad(app, auth, office):
    client = app.test_client()
    grids = client.get(f"/api/v1/areas?kind=grid&parent={office.town_id}", headers=auth.headers("admin"))
    assert [f["id"] for f in grids.get_json()["features"]] == office.grid_ids
    assert {f["properties"]["parent_id"] for f in grids.get_json()["features"]} == {office.town_id}
    for role in ("leader", "officer"):
        assert _grid_ids(client, office.headers(client, role)) == set(office.grid_ids)
    assert not _grid_ids(client, auth.headers("officer1")) & set(office.grid_ids)  # the demo town's squads
    # The village's supervisor sees the blocks the village spans: the west half (columns 1-2 of 5, and the
    # column its edge runs through).
    supervisor = _grid_ids(client, office.headers(client, "supervisor"))
    west = {g for k, g in enumerate(office.grid_ids) if k % office.grid.cols < 3}
    assert supervisor == west


def test_locating_a_point_in_a_block_names_the_street_office_and_no_zone(app, office):
    client = app.test_client()
    block = office.grid.blocks[7].representative_point()
    found = client.get(f"/api/v1/areas/locate?lon={block.x}&lat={block.y}", headers=office.headers(client, "officer"))
    assert found.status_code == 200
    body = found.get_json()
    assert body["grid"]["id"] == office.grid_ids[7] and body["zone"] is None


def walk_start_and_day(duration_s: float) -> tuple[datetime, str]:
    """A walk's start about 30 minutes ago and its coverage day (Asia/Shanghai): earlier, on the day before, when the
    walk would otherwise cross midnight there (the test failed at 00:20 Shanghai, its walk all on the day before)."""
    start = datetime.now(UTC) - timedelta(minutes=30)
    end_local = (start + timedelta(seconds=duration_s)).astimezone(SHANGHAI)
    midnight = end_local.replace(hour=0, minute=0, second=0, microsecond=0)
    if start.astimezone(SHANGHAI) < midnight:
        start = (midnight - timedelta(seconds=duration_s + 60)).astimezone(UTC)
    return start, start.astimezone(SHANGHAI).date().isoformat()


def test_coverage_of_the_street_office_counts_its_blocks(app, office):
    client = app.test_client()
    officer = office.headers(client, "officer")
    # Along the street between block rows 1 and 2, from the west end to the east end.
    t, lon, lat = street_walk(office.grid, [(1, 0), (1, office.grid.cols)], start_unix_s=0.0)
    start, day = walk_start_and_day(float(t[-1]) + 60)
    t = t + start.timestamp() + 60
    patrol = client.post("/api/v1/patrols", headers=officer, json={
        "client_id": "street-office-walk-1", "started_at": start.isoformat(), "grid_ids": office.grid_ids[:5]})
    assert patrol.status_code == 201, patrol.get_json()
    points = [{"t": datetime.fromtimestamp(ti, UTC).isoformat(), "lon": x, "lat": y, "accuracy_m": 5.0}
              for ti, x, y in zip(t.tolist(), lon.tolist(), lat.tolist(), strict=True)]
    sent = client.post(f"/api/v1/patrols/{patrol.get_json()['id']}/points", headers=officer,
                       json={"batch_id": "street-office-batch-1", "points": points})
    assert sent.status_code == 200 and sent.get_json()["accepted"] == len(points)
    leader = office.headers(client, "leader")
    for area in (office.town_id, None):
        query = f"?from={day}&to={day}" + (f"&area={area}" if area else "")
        items = client.get(f"/api/v1/coverage{query}", headers=leader).get_json()["items"]
        by_id = {i["grid_id"]: i for i in items}
        assert set(by_id) == set(office.grid_ids)
        cols = office.grid.cols
        # Rows 0 and 1 border the street: a 30 m band of each 100 m block; the rows further away nothing.
        ratios = np.array([by_id[g]["covered_ratio"] for g in office.grid_ids]).reshape(-1, cols)
        assert np.all(np.abs(ratios[:2] - 0.3) < 0.03), ratios
        assert np.all(ratios[2:] == 0)


def test_a_case_in_a_street_office_block_is_placed_and_handled_by_its_squad(app, auth, office):
    """Cases where grids sit directly under the town: no zone, the squad found from the grid, the street office's
    leader and officers handle it, the demo town's do not see it; a report on a street (a shared block edge) still
    lands in one block."""
    client = app.test_client()
    spot = office.grid.blocks[1].representative_point()  # west half: in the village (社区)
    supervisor, leader = office.headers(client, "supervisor"), office.headers(client, "leader")
    made = client.post("/api/v1/cases", headers=supervisor, json={
        "client_id": "street-case-0001", "category": "SRHJ-01", "lon": spot.x, "lat": spot.y,
        "description": "楼道口垃圾堆放"})
    assert made.status_code == 201, made.get_json()
    case = made.get_json()
    assert (case["grid_id"], case["village_id"], case["zone_id"], case["town_id"], case["squad_id"]) == (
        office.grid_ids[1], office.village_id, None, office.town_id, office.squad_id)
    assert client.get(f"/api/v1/cases/{case['id']}", headers=auth.headers("leader1")).status_code == 404
    assert [i["case_id"] for i in client.get("/api/v1/inbox", headers=leader).get_json()] == [case["id"]]
    officer = client.get("/api/v1/me", headers=office.headers(client, "officer")).get_json()["user"]
    for body in ({"action": "accept"}, {"action": "dispatch", "assignee_id": officer["id"]}):
        moved = client.post(f"/api/v1/cases/{case['id']}/actions", headers=leader, json=body)
        assert moved.status_code == 201, moved.get_json()
    assert client.post(f"/api/v1/cases/{case['id']}/actions", headers=auth.headers("leader1"),
                       json={"action": "dispatch", "assignee_id": officer["id"]}).status_code == 404

    # On the street between blocks 0 and 1: the shared edge's midpoint.
    edge = office.grid.blocks[0].intersection(office.grid.blocks[1])
    mid = edge.interpolate(0.5, normalized=True)
    on_street = client.post("/api/v1/cases", headers=supervisor, json={
        "client_id": "street-case-0002", "category": "SRHJ-01", "lon": mid.x, "lat": mid.y, "description": "路面垃圾"})
    assert on_street.status_code == 201, on_street.get_json()
    placed = on_street.get_json()
    assert placed["grid_id"] in office.grid_ids[:2] and placed["squad_id"] == office.squad_id
