"""Coverage through the API: real tracks over real grid polygons against an independent exact computation,
incremental batches equal to a full recount, retries and out-of-order batches, periods, scoping, the
"not visited for N days" list and the map tiles."""
from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from geo.coverage import exact_coverage_by_grid, local_equidistant_crs
from geo.gpx import parse_gpx
from geo.tracks import TrackRules, clean_track
from tests.conftest import Auth

OFFICER_PASSWORD = "sf-officer-pass-1"
ADMIN_PASSWORD = "sf-admin-pass-1"
M_PER_DEG = 111_320.0


def moved_track(shared_data, name: str, to_lon: float, to_lat: float, t0: datetime | None = None):
    """A real GPX track's timed fixes, moved so its centre lies at (to_lon, to_lat) with its shape in metres kept
    (east offsets rescaled by the cosines of the two latitudes). Times are shifted to start at t0."""
    gpx = parse_gpx((shared_data / "gps" / name).read_bytes())
    timed = np.flatnonzero(np.isfinite(gpx.t_unix_s) & (gpx.t_unix_s > 946_684_800))
    lon, lat, t = gpx.lon[timed], gpx.lat[timed], gpx.t_unix_s[timed]
    c_lon, c_lat = (lon.min() + lon.max()) / 2, (lat.min() + lat.max()) / 2
    new_lat = to_lat + (lat - c_lat)
    new_lon = to_lon + (lon - c_lon) * np.cos(np.radians(lat)) / np.cos(np.radians(new_lat))
    shift = (t0.timestamp() - np.nanmin(t)) if t0 else 0.0
    acc = np.where(np.isfinite(gpx.accuracy_m[timed]), gpx.accuracy_m[timed], 10.0)
    return [{"t": datetime.fromtimestamp(float(ti + shift), UTC).isoformat(), "lon": float(x), "lat": float(y),
             "accuracy_m": float(a)} for ti, x, y, a in zip(t, new_lon, new_lat, acc, strict=True)]


def post_batches(client, headers, patrol_id, points, sizes, prefix="batch"):
    answers, at = [], 0
    for k, size in enumerate(sizes):
        chunk = points[at:at + size]
        at += size
        response = client.post(f"/api/v1/patrols/{patrol_id}/points", headers=headers,
                               json={"batch_id": f"{prefix}-{k:04d}-{patrol_id}", "points": chunk})
        assert response.status_code == 200, response.get_json()
        answers.append(response.get_json())
    assert at == len(points)
    return answers


def start_patrol(client, headers, started_at, client_id, **extra):
    """Start a patrol, ending the officer's previous one first, as the officer does (one runs at a time)."""
    for running in client.get("/api/v1/patrols?active=true", headers=headers).get_json():
        ended = client.post(f"/api/v1/patrols/{running['id']}/end", headers=headers, json={})
        assert ended.status_code == 200
    response = client.post("/api/v1/patrols", headers=headers,
                           json={"client_id": client_id, "started_at": started_at.isoformat(), **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def kept_parts(points, rules: TrackRules | None = None):
    """Independent cleaning of what was sent (geo.tracks), as lon/lat parts for the exact oracle."""
    t = np.array([datetime.fromisoformat(p["t"]).timestamp() for p in points])
    order = np.argsort(t, kind="stable")
    lon = np.array([p["lon"] for p in points])[order]
    lat = np.array([p["lat"] for p in points])[order]
    acc = np.array([p["accuracy_m"] for p in points])[order]
    clean = clean_track(t[order], lon, lat, accuracy_m=acc, rules=rules or TrackRules())
    return clean, [np.column_stack([lon[part], lat[part]]) for part in clean.parts()]


# ---- real tracks over real grids: the acceptance check --------------------------------------------------------

@pytest.fixture
def san_francisco(empty_app, shared_data):
    """San Francisco's 37 neighbourhoods (a real boundary file) imported as grids, an admin and an officer."""
    from backend.extensions.database import get_session
    from backend.services.core.people import create_user

    with empty_app.app_context():
        session = get_session()
        create_user(session, None, {"username": "sfadmin", "display_name": "管理员", "password": ADMIN_PASSWORD,
                                    "roles": ["admin"]})
        create_user(session, None, {"username": "sfofficer", "display_name": "队员", "password": OFFICER_PASSWORD,
                                    "roles": ["officer"]})
        session.commit()
    auth = Auth(empty_app)
    auth._tokens["sfadmin"] = auth.login("sfadmin", ADMIN_PASSWORD)
    auth._tokens["sfofficer"] = auth.login("sfofficer", OFFICER_PASSWORD)
    client = empty_app.test_client()
    raw = (shared_data / "boundaries" / "click_that_hood__san-francisco.geojson").read_bytes()
    response = client.post("/api/v1/areas/import", headers=auth.headers("sfadmin"), content_type="multipart/form-data",
                           data={"kind": "grid", "file": (io.BytesIO(raw), "sf.geojson")})
    assert response.status_code == 201, response.get_json()
    ids = response.get_json()["created_ids"]
    grids = [shape(client.get(f"/api/v1/areas/{i}", headers=auth.headers("sfadmin")).get_json()["geometry"])
             for i in ids]
    return client, auth, ids, grids


def test_real_tracks_over_real_grids_match_the_exact_computation(san_francisco, shared_data):
    client, auth, grid_ids, grids = san_francisco
    officer = auth.headers("sfofficer")
    day_start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in Beijing time, the coverage day's clock
    tracks = [("gpsbabel__mtk_logger.gpx", -122.435, 37.765), ("gpxpy__cerknicko-jezero.gpx", -122.47, 37.75),
              ("gpxpy__around-visnjan-with-car.gpx", -122.41, 37.79)]
    parts = []
    for k, (name, lon, lat) in enumerate(tracks):
        t0 = day_start + timedelta(hours=2 * k)
        points = moved_track(shared_data, name, lon, lat, t0=t0 + timedelta(seconds=5))
        patrol = start_patrol(client, officer, t0, f"sf-patrol-{k:04d}")
        sizes = [len(points) // 3, len(points) // 3, len(points) - 2 * (len(points) // 3)]
        post_batches(client, officer, patrol["id"], points, sizes)
        parts += kept_parts(points)[1]

    report = client.get("/api/v1/coverage?from=2026-11-20&to=2026-11-20", headers=auth.headers("sfadmin"))
    assert report.status_code == 200
    items = {i["grid_id"]: i for i in report.get_json()["items"]}
    assert set(items) == set(grid_ids)
    centre = shapely.union_all(grids).centroid
    exact = exact_coverage_by_grid(grids, parts, 30.0, local_equidistant_crs(centre.x, centre.y))
    api = np.array([items[g]["covered_ratio"] for g in grid_ids])
    touched = (exact > 0) | (api > 0)
    assert touched.sum() >= 5  # the tracks cross several neighbourhoods
    error_pp = np.abs(api - exact)[touched] * 100
    assert error_pp.mean() <= 0.5 and error_pp.max() <= 3.0, (error_pp.mean(), error_pp.max())
    for g in grid_ids:
        item = items[g]
        assert item["covered_m2"] == pytest.approx(item["covered_ratio"] * item["area_m2"], abs=1e-5 * item["area_m2"] + 1)
        assert (item["patrols"] > 0) == (item["covered_ratio"] > 0)
        if item["patrols"]:
            assert item["officers"] == 1 and item["last_visited_at"].startswith("2026-11-20")
            assert datetime.fromisoformat(item["last_visited_at"]).utcoffset() == timedelta(0)  # ISO 8601, UTC


def moved_gpx(raw: bytes, to_lon: float, to_lat: float) -> bytes:
    """The GPX file itself with every lat/lon attribute moved as `moved_track` moves fixes (shape kept)."""
    import re

    pairs = [(float(a), float(b)) for a, b in re.findall(rb'lat="([-0-9.]+)" lon="([-0-9.]+)"', raw)]
    lats, lons = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    c_lat, c_lon = (lats.min() + lats.max()) / 2, (lons.min() + lons.max()) / 2

    def move(match):
        lat, lon = float(match.group(1)), float(match.group(2))
        new_lat = to_lat + (lat - c_lat)
        new_lon = to_lon + (lon - c_lon) * np.cos(np.radians(lat)) / np.cos(np.radians(new_lat))
        return f'lat="{new_lat:.9f}" lon="{new_lon:.9f}"'.encode()

    return re.sub(rb'lat="([-0-9.]+)" lon="([-0-9.]+)"', move, raw)


def test_an_imported_logger_file_counts_like_the_exact_computation(san_francisco, shared_data):
    """A car logger's GPX (3,453 fixes), moved onto San Francisco, imported through the API for an officer."""
    client, auth, grid_ids, grids = san_francisco
    raw = moved_gpx((shared_data / "gps" / "gpsbabel__sbn-v13.gpx").read_bytes(), -122.44, 37.76)
    response = client.post("/api/v1/patrols/import", headers=auth.headers("sfadmin"),
                           content_type="multipart/form-data",
                           data={"officer": "sfofficer", "file": (io.BytesIO(raw), "logger.gpx")})
    assert response.status_code == 201, response.get_json()
    gpx = parse_gpx(raw)
    clean = clean_track(gpx.t_unix_s, gpx.lon, gpx.lat, accuracy_m=gpx.accuracy_m,
                        segment=gpx.segment + 10_000 * gpx.track)
    parts = [np.column_stack([gpx.lon[p], gpx.lat[p]]) for p in clean.parts()]
    report = client.get("/api/v1/coverage?from=2010-01-31&to=2010-02-02", headers=auth.headers("sfadmin"))
    items = {i["grid_id"]: i for i in report.get_json()["items"]}
    centre = shapely.union_all(grids).centroid
    exact = exact_coverage_by_grid(grids, parts, 30.0, local_equidistant_crs(centre.x, centre.y))
    api = np.array([items[g]["covered_ratio"] for g in grid_ids])
    touched = (exact > 0) | (api > 0)
    assert touched.sum() >= 5
    error_pp = np.abs(api - exact)[touched] * 100
    assert error_pp.mean() <= 0.5 and error_pp.max() <= 3.0, (error_pp.mean(), error_pp.max())
    # The same file again is the same patrol: nothing counted twice.
    again = client.post("/api/v1/patrols/import", headers=auth.headers("sfadmin"), content_type="multipart/form-data",
                        data={"officer": "sfofficer", "file": (io.BytesIO(raw), "logger.gpx")})
    assert again.status_code == 200
    assert client.get("/api/v1/coverage?from=2010-01-31&to=2010-02-02",
                      headers=auth.headers("sfadmin")).get_json()["items"] == report.get_json()["items"]


# ---- incremental == full recount; retries; out of order ---------------------------------------------------

@pytest.fixture
def officer1_track(client, auth, shared_data):
    """A real track (a logger's, with its spike) moved into officer1's largest grid."""
    grids = client.get("/api/v1/areas?kind=grid", headers=auth.headers("officer1")).get_json()["features"]
    grid = max(grids, key=lambda f: f["properties"]["area_m2"])
    point = shape(grid["geometry"]).representative_point()
    t0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    return t0, moved_track(shared_data, "gpsbabel__mtk_logger.gpx", point.x, point.y, t0=t0 + timedelta(seconds=3))


def coverage_items(client, headers, day="2026-11-20", **filters):
    query = "&".join([f"from={day}", f"to={day}", *(f"{k}={v}" for k, v in filters.items())])
    response = client.get(f"/api/v1/coverage?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return {i["grid_id"]: i for i in response.get_json()["items"] if i["patrols"]}


def test_batches_in_any_size_equal_one_batch_and_a_retry_changes_nothing(app, client, auth, officer1_track):
    t0, points = officer1_track
    officer = auth.headers("officer1")
    one = start_patrol(client, officer, t0, "patrol-one-batch")
    post_batches(client, officer, one["id"], points, [len(points)])
    whole = coverage_items(client, officer)

    # The same track as a second patrol of another officer of the squad on the next day, in uneven batches.
    later = [{**p, "t": (datetime.fromisoformat(p["t"]) + timedelta(days=1)).isoformat()} for p in points]
    other = auth.headers("officer2")
    many = start_patrol(client, other, t0 + timedelta(days=1), "patrol-many-batches")
    sizes = [1, 2, 5, 50, 100, 3, len(points) - 161]
    answers = post_batches(client, other, many["id"], later, sizes)
    assert sum(a["received"] for a in answers) == len(points)
    in_parts = coverage_items(client, other, day="2026-11-21")
    assert in_parts.keys() == whole.keys() and in_parts
    for g in whole:
        assert in_parts[g]["covered_ratio"] == whole[g]["covered_ratio"]
    a = client.get(f"/api/v1/patrols/{one['id']}", headers=officer).get_json()
    b = client.get(f"/api/v1/patrols/{many['id']}", headers=other).get_json()
    for key in ("raw_count", "point_count", "dropped", "flags"):
        assert a[key] == b[key], key
    for key in ("distance_m", "duration_s", "moving_time_s"):
        assert a[key] == pytest.approx(b[key], rel=1e-9), key
    assert [g["reason"] for g in a["gaps"]] == [g["reason"] for g in b["gaps"]]
    assert a["dropped"].get("spike", 0) >= 1  # the logger's spike, found even when it arrives in a small batch

    # A retry of any batch answers the same and changes neither the track nor the coverage.
    retry = client.post(f"/api/v1/patrols/{many['id']}/points", headers=other,
                        json={"batch_id": f"batch-0002-{many['id']}", "points": later[3:8]})
    assert retry.status_code == 200 and retry.get_json() == answers[2]
    assert coverage_items(client, other, day="2026-11-21") == in_parts
    assert client.get(f"/api/v1/patrols/{many['id']}", headers=other).get_json()["raw_count"] == len(points)


def test_the_tail_kept_between_batches_is_what_the_database_holds(app, client, auth, officer1_track):
    # Each batch re-cleans the track's tail; the process keeps it for the patrol's next batch instead of reading
    # it back. After every batch, what it kept must equal what the database holds (ids, values and decisions),
    # including around the logger's spike and a stretch of inaccurate fixes cut by a batch boundary.
    from backend.extensions.database import get_session
    from backend.models import Patrol
    from backend.services.patrol import tail as patrols

    t0, points = officer1_track
    points = [{**p, "accuracy_m": 80.0} if 95 <= i < 110 else p for i, p in enumerate(points)]
    officer = auth.headers("officer1")
    patrol = start_patrol(client, officer, t0, "patrol-tail-kept")
    sizes = [1, 2, 5, 50, 40, 7, 100, 3, len(points) - 208]
    kept_tails = 0
    for k, size in enumerate(sizes):
        post_batches(client, officer, patrol["id"], points[sum(sizes[:k]):sum(sizes[:k + 1])], [size], f"tail{k}")
        with app.app_context():
            session = get_session()
            stored = session.get(Patrol, patrol["id"])
            kept = patrols._tails.get(session, patrols._tail_key(stored), stored.version)
            if kept is None:
                continue
            kept_tails += 1
            read = patrols._read_tail(session, stored)
            for name, mine, theirs in zip(kept._fields, kept, read, strict=True):
                assert np.array_equal(np.asarray(mine), np.asarray(theirs), equal_nan=name != "drop_reason"), name
    assert kept_tails == len(sizes)


def test_batches_arriving_out_of_order_give_the_same_track_and_coverage(client, auth, officer1_track):
    t0, points = officer1_track
    officer = auth.headers("officer1")
    in_order = start_patrol(client, officer, t0, "patrol-in-order")
    post_batches(client, officer, in_order["id"], points, [300, 300, len(points) - 600])
    expected = coverage_items(client, officer)

    later = [{**p, "t": (datetime.fromisoformat(p["t"]) + timedelta(days=2)).isoformat()} for p in points]
    shuffled = start_patrol(client, officer, t0 + timedelta(days=2), "patrol-shuffled")
    # The phone's second batch arrives first (a flaky network), then the third, then the first.
    for k, (lo, hi) in [(1, (300, 600)), (2, (600, len(points))), (0, (0, 300))]:
        response = client.post(f"/api/v1/patrols/{shuffled['id']}/points", headers=officer,
                               json={"batch_id": f"shuffled-{k:04d}", "points": later[lo:hi]})
        assert response.status_code == 200
    got = coverage_items(client, officer, day="2026-11-22")
    assert got.keys() == expected.keys()
    # The same to 0.01 pp: a cell on the edge of one batch's band takes its share from its exact distance, where
    # the whole track at once may find it inside the band (two bands meeting) and count it whole.
    for g in expected:
        assert got[g]["covered_ratio"] == pytest.approx(expected[g]["covered_ratio"], abs=1e-4)
    a = client.get(f"/api/v1/patrols/{in_order['id']}", headers=officer).get_json()
    b = client.get(f"/api/v1/patrols/{shuffled['id']}", headers=officer).get_json()
    assert (a["point_count"], a["dropped"]) == (b["point_count"], b["dropped"])
    assert a["distance_m"] == pytest.approx(b["distance_m"], rel=1e-9)


def test_periods_add_up_and_a_patrol_across_midnight_counts_on_both_days(client, auth, officer1_track):
    _, points = officer1_track
    officer = auth.headers("officer1")
    # Local midnight (Asia/Shanghai) is 16:00 UTC: start ten minutes before it.
    t0 = datetime(2026, 11, 20, 15, 50, tzinfo=UTC)
    moved = [{**p, "t": (t0 + timedelta(seconds=5 * i)).isoformat()} for i, p in enumerate(points)]
    patrol = start_patrol(client, officer, t0, "patrol-midnight")
    post_batches(client, officer, patrol["id"], moved, [len(moved)])
    before, after = coverage_items(client, officer, "2026-11-20"), coverage_items(client, officer, "2026-11-21")
    assert before and after
    week = client.get("/api/v1/coverage?from=2026-11-16&to=2026-11-22", headers=officer).get_json()["items"]
    week = {i["grid_id"]: i for i in week if i["patrols"]}
    assert week.keys() == before.keys() | after.keys()
    for g, item in week.items():
        assert item["covered_ratio"] >= max(before.get(g, {}).get("covered_ratio", 0),
                                            after.get(g, {}).get("covered_ratio", 0))
        assert item["covered_ratio"] <= before.get(g, {}).get("covered_ratio", 0) + after.get(g, {}).get(
            "covered_ratio", 0) + 1e-9
        assert item["patrols"] == 1  # one patrol, however many days it spans


def test_the_coverage_of_one_patrol(client, auth, officer1_track):
    t0, points = officer1_track
    officer = auth.headers("officer1")
    patrol = start_patrol(client, officer, t0, "patrol-own-coverage")
    post_batches(client, officer, patrol["id"], points, [len(points)])
    own = client.get(f"/api/v1/patrols/{patrol['id']}/coverage", headers=officer).get_json()["items"]
    day = coverage_items(client, officer, officer=auth.user("officer1")["id"])
    assert {i["grid_id"]: i["covered_ratio"] for i in own} == {g: i["covered_ratio"] for g, i in day.items()}
    assert client.get(f"/api/v1/patrols/{patrol['id']}/coverage", headers=auth.headers("supervisor1")).status_code == 404


# ---- who may read what ------------------------------------------------------------------------------------

@pytest.mark.parametrize("username, filters, status", [
    ("admin", "", 200), ("commander1", "", 200), ("leader1", "", 200), ("officer1", "", 200),
    ("leader1", "&squad=2", 403), ("officer1", "&officer={officer2}", 403), ("supervisor1", "", 403),
    ("dept1", "", 403),
])
def test_who_may_read_coverage(client, auth, username, filters, status):
    query = "from=2026-11-20" + filters.format(officer2=auth.user("officer2")["id"])
    for path in ("/api/v1/coverage", "/api/v1/coverage/unvisited", "/api/v1/coverage/tiles/14/13452/6250.png"):
        response = client.get(f"{path}?{query}", headers=auth.headers(username))
        assert response.status_code == status, (path, response.get_json() if response.is_json else None)


def test_leaders_read_their_zone_and_an_officer_only_their_own_coverage(client, auth, officer1_track):
    t0, points = officer1_track
    patrol = start_patrol(client, auth.headers("officer1"), t0, "patrol-scope")
    post_batches(client, auth.headers("officer1"), patrol["id"], points, [len(points)])
    leader = client.get("/api/v1/coverage?from=2026-11-20", headers=auth.headers("leader1")).get_json()["items"]
    admin = client.get("/api/v1/coverage?from=2026-11-20", headers=auth.headers("admin")).get_json()["items"]
    assert len(admin) == 243 and len(leader) == 53
    assert any(i["patrols"] for i in leader)
    # officer2 is in the same squad: the same grids, but only their own (empty) coverage.
    own = client.get("/api/v1/coverage?from=2026-11-20", headers=auth.headers("officer2")).get_json()["items"]
    assert len(own) == 53 and not any(i["patrols"] for i in own)


# ---- not visited for N days ---------------------------------------------------------------------------------

def test_grids_not_visited_for_n_days(client, auth, officer1_track):
    _, points = officer1_track
    officer = auth.headers("officer1")
    now = datetime.now(UTC).replace(microsecond=0)
    recent = [{**p, "t": (now - timedelta(hours=2) + timedelta(seconds=5 * i)).isoformat()}
              for i, p in enumerate(points[:200])]
    patrol = start_patrol(client, officer, now - timedelta(hours=2), "patrol-recent")
    post_batches(client, officer, patrol["id"], recent, [len(recent)])
    # The local days of the first and the last fix: the track crosses local midnight when run at 16:00-18:20 UTC.
    days = {datetime.fromisoformat(recent[k]["t"]).astimezone(ZoneInfo("Asia/Shanghai")).date() for k in (0, -1)}
    visited = set().union(*(coverage_items(client, officer, day=str(day)) for day in days))
    assert visited
    unvisited = client.get("/api/v1/coverage/unvisited?days=3", headers=auth.headers("leader1")).get_json()
    ids = {i["grid_id"] for i in unvisited["items"]}
    assert len(ids) == 53 - len(visited) and not ids & visited
    assert all(i["last_visited_at"] is None and i["days_since"] is None for i in unvisited["items"])


# ---- the map tiles ------------------------------------------------------------------------------------------

def decode_png(data: bytes) -> np.ndarray:
    """Palette indices of one of our 8-bit indexed PNGs (filter 0 rows), read independently of the encoder."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, width, height = 8, b"", 0, 0
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 3)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    rows = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, width + 1)
    assert not rows[:, 0].any()
    return rows[:, 1:]


def tile_of(lon, lat, z):
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * n)
    return x, y


def test_coverage_tiles_show_covered_and_uncovered_cells(client, auth, officer1_track):
    t0, points = officer1_track
    officer = auth.headers("officer1")
    patrol = start_patrol(client, officer, t0, "patrol-tiles")
    post_batches(client, officer, patrol["id"], points, [len(points)])
    lon, lat = points[len(points) // 2]["lon"], points[len(points) // 2]["lat"]
    x, y = tile_of(lon, lat, 15)
    response = client.get(f"/api/v1/coverage/tiles/15/{x}/{y}.png?from=2026-11-20", headers=auth.headers("leader1"))
    assert response.status_code == 200 and response.mimetype == "image/png"
    pixels = decode_png(response.data)
    assert (pixels == 2).sum() > 500 and (pixels == 1).sum() > 500  # covered and uncovered cells
    # The day before, nothing is covered; far away (Beijing) there are no grids at all.
    before = decode_png(client.get(f"/api/v1/coverage/tiles/15/{x}/{y}.png?from=2026-11-19",
                                   headers=auth.headers("leader1")).data)
    assert (before == 2).sum() == 0 and (before == 1).sum() > 500
    bx, by = tile_of(116.39, 39.9, 15)
    far = decode_png(client.get(f"/api/v1/coverage/tiles/15/{bx}/{by}.png", headers=auth.headers("leader1")).data)
    assert not far.any()
    # On a GCJ-02 basemap the same cells are drawn a few hundred metres further north-east.
    gcj = decode_png(client.get(f"/api/v1/coverage/tiles/15/{x}/{y}.png?from=2026-11-20&crs=gcj02",
                                headers=auth.headers("leader1")).data)
    assert not np.array_equal(gcj, pixels)
    assert client.get("/api/v1/coverage/tiles/15/99999/1.png", headers=auth.headers("leader1")).status_code == 404


def test_a_bad_period_is_a_clear_400(client, auth):
    response = client.get("/api/v1/coverage?from=2026-11-20&to=2026-11-01", headers=auth.headers("leader1"),
                          environ_overrides={"HTTP_ACCEPT_LANGUAGE": "zh-CN"})
    assert response.status_code == 400 and response.get_json()["code"] == "validation_error"
    assert "to" in response.get_json()["details"]["fields"]
    assert client.get("/api/v1/coverage?from=2026-13-01", headers=auth.headers("leader1")).status_code == 400


def test_today_is_the_default_period(client, auth):
    body = client.get("/api/v1/coverage", headers=auth.headers("leader1")).get_json()
    from backend.services.patrol.coverage_days import today_local

    assert body["from"] == body["to"] == today_local().isoformat()
    assert date.fromisoformat(body["from"])


def test_rebuilding_all_coverage_from_the_fixes_gives_the_same_figures(app, client, auth, officer1_track):
    from backend.extensions.database import get_session
    from backend.services.patrol.recount import rebuild_all_coverage

    t0, points = officer1_track
    for k, username in enumerate(("officer1", "officer2")):
        headers = auth.headers(username)
        patrol = start_patrol(client, headers, t0 + timedelta(hours=k), f"patrol-rebuild-{k}")
        moved = [{**p, "t": (datetime.fromisoformat(p["t"]) + timedelta(hours=k)).isoformat()} for p in points]
        post_batches(client, headers, patrol["id"], moved, [100, len(moved) - 100])
    leader = auth.headers("leader1")
    before = client.get("/api/v1/coverage?from=2026-11-20", headers=leader).get_json()
    with app.app_context():
        session = get_session()
        assert rebuild_all_coverage(session) == (2, 1)
        session.commit()
    after = client.get("/api/v1/coverage?from=2026-11-20", headers=leader).get_json()
    assert after == before and any(i["officers"] == 2 for i in after["items"])


def test_the_area_filter_takes_a_zone_a_village_or_a_grid(client, auth):
    leader = auth.headers("leader1")
    zones = client.get("/api/v1/areas?kind=zone", headers=leader).get_json()["features"]
    assert len(zones) == 1
    zone_grids = {f["id"] for f in client.get(f"/api/v1/areas?kind=grid&parent={zones[0]['id']}&page_size=500",
                                             headers=leader).get_json()["features"]}
    items = client.get(f"/api/v1/coverage?area={zones[0]['id']}", headers=leader).get_json()["items"]
    assert {i["grid_id"] for i in items} == zone_grids and len(zone_grids) == 53
    one = sorted(zone_grids)[0]
    assert [i["grid_id"] for i in client.get(f"/api/v1/coverage?area={one}", headers=leader).get_json()["items"]] == [one]
    # A village: the grids overlapping it (as its supervisor sees them); outside the caller's areas: 404.
    supervisor_areas = client.get("/api/v1/areas", headers=auth.headers("supervisor1")).get_json()["features"]
    village = next(f for f in supervisor_areas if f["properties"]["kind"] == "village")
    overlapping = {f["id"] for f in supervisor_areas if f["properties"]["kind"] == "grid"}
    admin = auth.headers("admin")
    got = {i["grid_id"] for i in client.get(f"/api/v1/coverage?area={village['id']}", headers=admin).get_json()["items"]}
    assert got == overlapping and got
    other_zone = next(f["id"] for f in client.get("/api/v1/areas?kind=zone", headers=admin).get_json()["features"]
                      if f["id"] != zones[0]["id"])
    assert client.get(f"/api/v1/coverage?area={other_zone}", headers=leader).status_code == 404


def test_officers_batches_at_the_same_time_never_wait_on_each_other(app, client, auth):
    """Two officers' batches of one day, through the same grid, in two transactions at once: each writes only its
    own patrol's rows, so on PostgreSQL the second commits while the first is still open (the town-wide day rows
    used to make it wait, and deadlock under load); SQLite's single writer makes them take turns. Both count."""
    import threading

    from sqlalchemy.orm import Session

    from backend.models import Patrol, User
    from backend.services.patrol import coverage_reader, coverage_regions, coverage_writer
    from geo.coverage import to_metres, track_coverage

    grids = client.get("/api/v1/areas?kind=grid", headers=auth.headers("admin")).get_json()["features"]
    grid = max(grids, key=lambda f: f["properties"]["area_m2"])
    centre = shape(grid["geometry"]).representative_point()
    day_t0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC).timestamp()
    n = 120
    lines = {  # officer1 walks east, officer6 (another squad) walks north, through the same grid
        "officer1": (centre.x + np.arange(n) * 1.2 / (M_PER_DEG * np.cos(np.radians(centre.y))), np.full(n, centre.y)),
        "officer6": (np.full(n, centre.x), centre.y + np.arange(n) * 1.2 / M_PER_DEG),
    }
    engine = app.extensions["gridpatrol_db"].engine
    with Session(engine) as setup:
        patrol_ids = {}
        for username in lines:
            officer = setup.query(User).filter_by(username=username).one()
            patrol = Patrol(client_id=f"race-{username}", officer_id=officer.id, squad_id=officer.squad_id,
                            started_at=datetime.fromtimestamp(day_t0, UTC), grid_ids=[])
            setup.add(patrol)
            setup.flush()
            patrol_ids[username] = patrol.id
        setup.commit()

    def add(session, username):
        lon, lat = lines[username]
        coverage_writer.add_kept_fixes(session, session.get(Patrol, patrol_ids[username]), day_t0 + np.arange(n),
                                       lon, lat, np.zeros(n, dtype=bool))

    errors = []
    first = Session(engine)
    add(first, "officer1")  # not committed yet: holds its new rows

    def second_batch():
        try:
            with Session(engine) as second:
                add(second, "officer6")
                second.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    racer = threading.Thread(target=second_batch)
    racer.start()
    if engine.dialect.name == "postgresql":
        racer.join(30)
        assert not racer.is_alive(), "the second officer's batch waited for the first's transaction"
    first.commit()
    first.close()
    racer.join(30)
    assert not racer.is_alive() and errors == []

    with app.app_context():
        from backend.extensions.database import get_session

        session = get_session()
        region = coverage_regions.region_map(session).region_of_grid[grid["id"]]
        raster = coverage_regions.region_raster(session, region)
        day = date(2026, 11, 24)
        stored, visits = coverage_reader.region_coverage(session, raster, day, day, None, None)
        expected = np.zeros(raster.spec.cell_count, dtype=np.uint8)
        for lon, lat in lines.values():
            track_coverage(raster.spec, *to_metres(raster.spec, lon, lat), None, raster.radius_m).max_into(
                raster.spec, expected)
        assert stored.any() and np.array_equal(stored, expected)
        assert sorted(set(visits[visits[:, 0] == grid["id"], 1].tolist())) == sorted(patrol_ids.values())


def test_a_week_read_between_batches_is_never_stale(app, client, auth, officer1_track):
    """Past days are kept decompressed between queries: each read after a batch, a late batch for an earlier
    day, or a full rebuild must show exactly what a read with nothing kept shows."""
    from backend.services.patrol import coverage_reader

    t0, points = officer1_track
    officer = auth.headers("officer1")
    week = "from=2026-11-16&to=2026-11-22"

    def read():
        response = client.get(f"/api/v1/coverage?{week}", headers=officer)
        assert response.status_code == 200
        return {i["grid_id"]: i for i in response.get_json()["items"] if i["patrols"]}

    def fresh():
        coverage_reader.forget_cached()
        return read()

    assert read() == {}
    patrol = start_patrol(client, officer, t0, "patrol-cache-1")
    half = len(points) // 2
    post_batches(client, officer, patrol["id"], points[:half], [half], prefix="cache-a")
    first = read()
    assert first and first == fresh()
    post_batches(client, officer, patrol["id"], points[half:], [len(points) - half], prefix="cache-b")
    second = read()
    assert second == fresh() and second != first
    assert sum(i["covered_m2"] for i in second.values()) > sum(i["covered_m2"] for i in first.values())

    # A late patrol for an earlier day of the week (a GPX import of Tuesday's logger) changes that day's rows.
    earlier = [{**p, "t": (datetime.fromisoformat(p["t"]) - timedelta(days=3)).isoformat()} for p in points]
    late = start_patrol(client, officer, t0 - timedelta(days=3), "patrol-cache-2")
    read()
    post_batches(client, officer, late["id"], earlier, [len(earlier)], prefix="cache-c")
    third = read()
    assert third == fresh() and any(third[g]["patrols"] == 2 for g in third)

    read()
    with app.app_context():  # `gridpatrol coverage rebuild`: every row deleted and written again
        from backend.extensions.database import get_session
        from backend.services.patrol.recount import rebuild_all_coverage

        session = get_session()
        rebuild_all_coverage(session)
        session.commit()
    after = read()
    assert after == fresh()
    # The recount agrees to the figure, last visits included (the last kept fix within R of each grid).
    assert after == third
