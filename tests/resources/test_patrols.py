"""Patrols end to end through the API: start (idempotent), batches of fixes (idempotent, all or nothing),
real phone/logger tracks, honest cleaning, end, scoping of personal positions."""
from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from shapely.geometry import shape
from sqlalchemy import func, select

from backend.extensions.database import get_session
from backend.models import PatrolBatch, TrackChunk
from backend.services.patrol import fix_store
from geo.gpx import parse_gpx

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.isoformat()


def start(client, headers, client_id="patrol-0001-abcd", started_at=START, grid_ids=()):
    return client.post("/api/v1/patrols", headers=headers,
                       json={"client_id": client_id, "started_at": iso(started_at), "grid_ids": list(grid_ids)})


def walk(lon0, lat0, n, t0=START + timedelta(seconds=10), step_s=5.0, step_m=6.0):
    """A straight walk east at 1.2 m/s, one fix every 5 s."""
    dlon = step_m / (111_320 * np.cos(np.radians(lat0)))
    return [{"t": iso(t0 + timedelta(seconds=i * step_s)), "lon": lon0 + i * dlon, "lat": lat0, "accuracy_m": 8.0}
            for i in range(n)]


def stored_points(app, patrol_id):
    with app.app_context():
        return get_session().scalar(select(func.coalesce(func.sum(TrackChunk.n), 0))
                                    .where(TrackChunk.patrol_id == patrol_id))


@pytest.fixture
def officer_grid(client, auth):
    grids = client.get("/api/v1/areas?kind=grid", headers=auth.headers("officer1")).get_json()["features"]
    grid = max(grids, key=lambda f: f["properties"]["area_m2"])
    point = shape(grid["geometry"]).representative_point()
    return grid["id"], point.x, point.y


def test_patrol_life(app, client, auth, officer_grid):
    grid_id, lon, lat = officer_grid
    headers = auth.headers("officer1")
    created = start(client, headers, grid_ids=[grid_id])
    assert created.status_code == 201
    patrol = created.get_json()
    again = start(client, headers, grid_ids=[grid_id])  # the phone retries: same patrol, nothing new
    assert again.status_code == 200 and again.get_json()["id"] == patrol["id"]

    batch = {"batch_id": "batch-0001-abcd", "points": walk(lon, lat, 100)}
    first = client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers, json=batch)
    assert first.status_code == 200
    assert first.get_json() == {"batch_id": "batch-0001-abcd", "received": 100, "accepted": 100, "dropped": {},
                                "point_count": 100, "ended_at": None, "end_reason": None}
    retry = client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers, json=batch)
    assert retry.status_code == 200 and retry.get_json() == first.get_json()
    assert stored_points(app, patrol["id"]) == 100
    changed = {**batch, "points": batch["points"][:50]}
    assert client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers, json=changed).status_code == 409

    detail = client.get(f"/api/v1/patrols/{patrol['id']}", headers=headers).get_json()
    assert detail["point_count"] == 100 and detail["raw_count"] == 100
    assert detail["distance_m"] == pytest.approx(99 * 6.0, rel=0.01)
    assert detail["duration_s"] == pytest.approx(99 * 5.0)

    ended = client.post(f"/api/v1/patrols/{patrol['id']}/end", headers=headers,
                        json={"ended_at": iso(START + timedelta(minutes=10))})
    assert ended.status_code == 200 and ended.get_json()["ended_at"].startswith("2026-11-20T08:10")
    # After the end (and before the start), positions are off duty: reported, never stored.
    late = walk(lon, lat, 10, t0=START + timedelta(hours=2))
    answer = client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers,
                         json={"batch_id": "batch-0002-abcd", "points": late}).get_json()
    assert answer["dropped"] == {"off_duty": 10} and answer["accepted"] == 0
    assert stored_points(app, patrol["id"]) == 100


@pytest.mark.parametrize("bad_fix", [
    {"lat": 95.0}, {"lon": "east"}, {"t": "2026-11-20T08:00:00"}, {"accuracy_m": -1}, {"extra": 1},
])
def test_a_malformed_batch_stores_nothing(app, client, auth, officer_grid, bad_fix):
    _, lon, lat = officer_grid
    headers = auth.headers("officer1")
    patrol = start(client, headers).get_json()
    points = walk(lon, lat, 20)
    points[7] = {**points[7], **bad_fix}
    response = client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers,
                           json={"batch_id": "batch-bad-0001", "points": points})
    assert response.status_code == 400
    assert response.get_json()["code"] == "validation_error"
    assert "points" in response.get_json()["details"]["fields"]
    with app.app_context():
        assert get_session().scalar(select(func.count(PatrolBatch.id))) == 0
    assert stored_points(app, patrol["id"]) == 0


def test_a_batch_cut_off_in_transit_is_a_400_and_stores_nothing(app, client, auth, officer_grid):
    # A connection dropped mid-upload can deliver half a body: it is not JSON, and nothing of it is kept.
    _, lon, lat = officer_grid
    headers = auth.headers("officer1")
    patrol = start(client, headers).get_json()
    body = json.dumps({"batch_id": "batch-cut-0001", "points": walk(lon, lat, 50)})
    response = client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers,
                           data=body[:len(body) // 2], content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] == "validation_error"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.get_json()["message"])  # said in Chinese
    assert stored_points(app, patrol["id"]) == 0


def test_more_than_5000_fixes_is_refused(client, auth, officer_grid):
    _, lon, lat = officer_grid
    headers = auth.headers("officer1")
    patrol = start(client, headers).get_json()
    response = client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers,
                           json={"batch_id": "batch-big-0001", "points": walk(lon, lat, 5001)})
    assert response.status_code == 400


def gpx_points(shared_data, name, limit=None):
    """The file's timed fixes as a phone would send them (a phone always knows the time)."""
    track = parse_gpx((shared_data / "gps" / name).read_bytes())
    timed = np.flatnonzero(~np.isnan(track.t_unix_s))
    points = []
    for i in timed if limit is None else timed[:limit]:
        acc = track.accuracy_m[i]
        points.append({"t": datetime.fromtimestamp(track.t_unix_s[i], UTC).isoformat(), "lon": float(track.lon[i]),
                       "lat": float(track.lat[i]), "accuracy_m": 10.0 if np.isnan(acc) else float(acc)})
    return track, points


def test_a_real_logger_track_with_a_spike(client, auth, shared_data):
    track, points = gpx_points(shared_data, "gpsbabel__mtk_logger.gpx")
    headers = auth.headers("officer1")
    started = datetime.fromtimestamp(np.nanmin(track.t_unix_s), UTC)
    patrol = start(client, headers, client_id="patrol-mtk-0001", started_at=started).get_json()
    answer = client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers,
                         json={"batch_id": "batch-mtk-0001", "points": points}).get_json()
    assert answer["received"] == 817
    assert answer["dropped"].get("spike", 0) >= 1  # the 2 km jump in about a second
    assert answer["accepted"] + sum(answer["dropped"].values()) == 817
    detail = client.get(f"/api/v1/patrols/{patrol['id']}", headers=headers).get_json()
    assert detail["point_count"] == answer["accepted"] and detail["raw_count"] == 817
    fc = client.get(f"/api/v1/patrols/{patrol['id']}/track", headers=headers).get_json()
    dropped = [f for f in fc["features"] if f["properties"]["kind"] == "dropped"]
    assert any(f["properties"]["reason"] == "spike" for f in dropped)


def test_a_gap_is_never_drawn_across(client, auth, shared_data):
    track, points = gpx_points(shared_data, "gpxpy__cerknicko-jezero.gpx")
    headers = auth.headers("officer1")
    started = datetime.fromtimestamp(np.nanmin(track.t_unix_s), UTC)
    patrol = start(client, headers, client_id="patrol-cerkn-01", started_at=started).get_json()
    client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers,
                json={"batch_id": "batch-cerkn-01", "points": points})
    detail = client.get(f"/api/v1/patrols/{patrol['id']}", headers=headers).get_json()
    assert any(g["distance_m"] > 5_000 for g in detail["gaps"])  # the 5.3 km jump between segments
    fc = client.get(f"/api/v1/patrols/{patrol['id']}/track", headers=headers).get_json()
    lines = next(f for f in fc["features"] if f["properties"]["kind"] == "track")["geometry"]["coordinates"]
    assert len(lines) >= 2
    for line in lines:  # no drawn step is as long as the gap
        xy = np.array(line)
        step_deg = np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1]))
        assert step_deg.max() < 0.05


def test_positions_are_personal(client, auth, officer_grid):
    _, lon, lat = officer_grid
    patrol = start(client, auth.headers("officer1")).get_json()
    url = f"/api/v1/patrols/{patrol['id']}"
    expected = {"officer1": 200, "leader1": 200, "commander1": 200, "admin": 200,
                "officer2": 404, "leader2": 404, "officer6": 404, "supervisor1": 404, "dept1": 404}
    for role, status in expected.items():
        headers = auth.headers(role)
        assert client.get(url, headers=headers).status_code == status, role
        assert client.get(url + "/track", headers=headers).status_code == status, role
    listed = client.get("/api/v1/patrols", headers=auth.headers("supervisor1")).get_json()
    assert listed == []
    # only the officer who started it adds fixes or ends it
    leader_post = client.post(url + "/points", headers=auth.headers("leader1"),
                              json={"batch_id": "batch-lead-0001", "points": walk(lon, lat, 3)})
    assert leader_post.status_code == 403
    assert client.post(url + "/end", headers=auth.headers("leader1"), json={}).status_code == 403
    # supervisors and liaisons cannot start patrols
    assert start(client, auth.headers("supervisor1"), client_id="patrol-sup-0001").status_code == 403


def test_a_patrol_cannot_plan_grids_outside_the_squad(client, auth):
    grids = client.get("/api/v1/areas?kind=grid", headers=auth.headers("admin")).get_json()["features"]
    mine = {f["id"] for f in client.get("/api/v1/areas?kind=grid", headers=auth.headers("officer1")).get_json()["features"]}
    outside = next(f["id"] for f in grids if f["id"] not in mine)
    response = start(client, auth.headers("officer1"), grid_ids=[outside])
    assert response.status_code == 400


def import_gpx(client, headers, shared_data, name, officer="officer1"):
    raw = (shared_data / "gps" / name).read_bytes()
    return client.post("/api/v1/patrols/import", headers=headers, content_type="multipart/form-data",
                       data={"officer": officer, "file": (io.BytesIO(raw), name)})


@pytest.mark.parametrize("name, stored, check", [
    ("gpxpy__korita-zbevnica.gpx", 871, lambda a: a["dropped"]["time"] == 358  # a segment with no times at all
     and any(g["reason"] == "segment" for g in a["gaps"])),
    ("gpxpy__Mojstrovka.gpx", 184, lambda a: a["kept"] == 0 and a["dropped"]["time"] == 184),  # bogus 1901 times
    ("gpsbabel__mtk_logger.gpx", 817, lambda a: a["dropped"]["spike"] >= 1),
    ("gpxpy__cerknicko-jezero.gpx", 296, lambda a: len(a["gaps"]) >= 7),  # 8 segments
])
def test_gpx_import_of_real_files(client, auth, shared_data, name, stored, check):
    response = import_gpx(client, auth.headers("leader1"), shared_data, name)
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["stored"] == stored
    assert answer["kept"] + sum(answer["dropped"].values()) == stored
    assert check(answer), answer
    again = import_gpx(client, auth.headers("leader1"), shared_data, name)  # the same file again
    assert again.status_code == 200 and again.get_json() == answer


def test_gpx_import_rules(client, auth, shared_data):
    name = "gpxpy__around-visnjan-with-car.gpx"
    for who, officer, status in [("officer1", "officer1", 403), ("leader1", "officer6", 403),
                                 ("supervisor1", "officer1", 403), ("leader1", "supervisor1", 403),
                                 ("admin", "supervisor1", 400),
                                 ("commander1", "officer6", 201)]:
        assert import_gpx(client, auth.headers(who), shared_data, name, officer).status_code == status, (who, officer)
    broken = client.post("/api/v1/patrols/import", headers=auth.headers("admin"), content_type="multipart/form-data",
                         data={"officer": "officer1", "file": (io.BytesIO(b"<gpx><trk>"), "broken.gpx")})
    assert broken.status_code == 400 and broken.get_json()["message"]


def test_stored_fixes_keep_absent_values_absent_and_each_decision(app, client, auth, officer_grid):
    """The packed fix records store exactly what was sent (absent values stay absent) and what was decided."""
    _, lon, lat = officer_grid
    headers = auth.headers("officer1")
    patrol = start(client, headers).get_json()
    points = walk(lon, lat, 30)
    for i in range(0, 30, 2):
        points[i] = {**points[i], "speed_mps": 1.2, "altitude_m": 35.5}
    points[11] = {**points[11], "lat": lat + 0.02}  # 2 km off in 5 s: a spike
    answer = client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers,
                         json={"batch_id": "batch-values-01", "points": points}).get_json()
    assert answer["dropped"] == {"spike": 1}
    with app.app_context():
        stored = fix_store.load(get_session(), patrol["id"])
    fixes = stored.records
    assert np.all(np.diff(fixes["t"]) > 0)  # in time order, as sent
    assert fixes["lon"].tolist() == [p["lon"] for p in points] and fixes["lat"].tolist() == [p["lat"] for p in points]
    assert np.array_equal(fixes["speed_mps"], [1.2 if i % 2 == 0 else np.nan for i in range(30)], equal_nan=True)
    assert np.array_equal(fixes["altitude_m"], [35.5 if i % 2 == 0 else np.nan for i in range(30)], equal_nan=True)
    assert np.all(np.isnan(fixes["heading_deg"])) and not fixes["is_mock"].any()
    assert list(zip(stored.kept.tolist(), stored.reasons())) == [(i != 11, "spike" if i == 11 else None)
                                                                 for i in range(30)]


def test_the_track_marks_mock_fixes_for_the_leader(client, auth, officer_grid):
    _, lon, lat = officer_grid
    headers = auth.headers("officer1")
    patrol = start(client, headers, client_id="patrol-mock-0001").get_json()
    points = walk(lon, lat, 20)
    for i in (4, 5):
        points[i] = {**points[i], "is_mock": True}
    client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=headers,
                json={"batch_id": "batch-mock-0001", "points": points})
    detail = client.get(f"/api/v1/patrols/{patrol['id']}", headers=auth.headers("leader1")).get_json()
    assert detail["flags"] == {"mock": 2} and detail["point_count"] == 20  # kept: leaders judge them
    track = client.get(f"/api/v1/patrols/{patrol['id']}/track", headers=auth.headers("leader1")).get_json()
    flagged = [f for f in track["features"] if f["properties"]["kind"] == "flagged"]
    assert [f["geometry"]["coordinates"] for f in flagged] == [[points[i]["lon"], points[i]["lat"]] for i in (4, 5)]
    assert all(f["properties"]["flags"] == ["mock"] for f in flagged)
