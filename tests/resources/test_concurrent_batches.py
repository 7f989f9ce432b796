"""Officers of one squad sending batches at the same moment, in parallel transactions (real concurrency on
PostgreSQL; SQLite's single writer takes them in turn): every batch is stored, none fails or deadlocks, nothing is
lost or counted twice, and the coverage equals a recount from the stored fixes."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import numpy as np
from shapely.geometry import shape

from .test_patrols import walk

OFFICERS = 10
BATCHES = 3
PASSWORD = "concurrent-officer-1"


def test_a_squad_sending_batches_at_once(app, auth):
    client, admin = app.test_client(), auth.headers("admin")
    squad = auth.user("officer1")["squad"]["id"]
    extra = [f"concurrent{k}" for k in range(OFFICERS - 5)]
    for username in extra:
        made = client.post("/api/v1/users", headers=admin, json={
            "username": username, "display_name": username, "password": PASSWORD, "roles": ["officer"],
            "squad_id": squad})
        assert made.status_code == 201, made.get_json()
    usernames = ["officer1", "officer2", "officer3", "officer4", "officer5", *extra]
    grids = client.get("/api/v1/areas?kind=grid", headers=auth.headers("officer1")).get_json()["features"]
    grid = max(grids, key=lambda f: f["properties"]["area_m2"])
    centre = shape(grid["geometry"]).representative_point()
    t0 = datetime.now(UTC) - timedelta(hours=1)
    plans = []
    for username in extra:
        auth._tokens[username] = auth.login(username, PASSWORD)
    for k, username in enumerate(usernames):
        headers = auth.headers(username)
        patrol = client.post("/api/v1/patrols", headers=headers, json={
            "client_id": f"concurrent-patrol-{k:03d}", "started_at": t0.isoformat()}).get_json()
        # every officer walks through the same big grid, each on their own line
        points = walk(centre.x - 0.004, centre.y - 0.004 + k * 0.0008, 600, t0=t0 + timedelta(seconds=10), step_s=2.0)
        plans.append((headers, patrol["id"], points))

    barrier = threading.Barrier(OFFICERS)
    results: list = []

    def send(headers, patrol_id, points):
        own = app.test_client()
        barrier.wait()
        for b in range(BATCHES):
            chunk = points[b * 200:(b + 1) * 200]
            response = own.post(f"/api/v1/patrols/{patrol_id}/points", headers=headers,
                                json={"batch_id": f"concurrent-{patrol_id}-{b}", "points": chunk})
            results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send, args=plan) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    assert [status for status, _ in results] == [200] * (OFFICERS * BATCHES), [b for s, b in results if s != 200]
    assert all(body["accepted"] == 200 for _, body in results)

    leader = auth.headers("leader1")
    day = (t0 + timedelta(hours=8)).date().isoformat()
    for _, patrol_id, _ in plans:
        read = client.get(f"/api/v1/patrols/{patrol_id}", headers=leader).get_json()
        assert read["raw_count"] == BATCHES * 200 and read["point_count"] == BATCHES * 200

    def report():
        return {i["grid_id"]: i for i in client.get(f"/api/v1/coverage?from={day}&to={day}",
                                                    headers=leader).get_json()["items"] if i["patrols"]}

    concurrent = report()
    assert concurrent[grid["id"]]["patrols"] == OFFICERS and concurrent[grid["id"]]["officers"] == OFFICERS
    with app.app_context():  # the same figures from a recount of every stored fix, one patrol after another
        from backend.extensions.database import get_session
        from backend.services.patrol.coverage_reader import forget_cached
        from backend.services.patrol.recount import rebuild_all_coverage

        session = get_session()
        rebuild_all_coverage(session)
        session.commit()
        forget_cached()
    recounted = report()
    assert recounted.keys() == concurrent.keys()
    for g in concurrent:
        assert np.isclose(recounted[g]["covered_ratio"], concurrent[g]["covered_ratio"], atol=1e-4)
        assert recounted[g]["patrols"] == concurrent[g]["patrols"]
