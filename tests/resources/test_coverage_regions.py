"""Coverage through the API on the shapes real data has: a real street office (学院路街道) whose 1 ha blocks sit
directly under it, walked along their streets by phones sending batches, against an independent exact computation;
and a second town 250 km away, counted on its own raster as exactly."""
from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from shapely.geometry import mapping

from geo.coverage import exact_coverage_by_grid, local_equidistant_crs
from geo.street_grid import street_grid, street_walk

from ..street_office import PASSWORD, build_street_office
from .test_coverage import kept_parts, post_batches, start_patrol

DAY = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


def _points(t, lon, lat, accuracy_m=5.0) -> list[dict]:
    return [{"t": datetime.fromtimestamp(ti, UTC).isoformat(), "lon": x, "lat": y, "accuracy_m": accuracy_m}
            for ti, x, y in zip(t.tolist(), lon.tolist(), lat.tolist(), strict=True)]


def _walks(grid, t0: float) -> list[list[dict]]:
    """Along the street office's outer edge and around its corners, along streets two blocks share, on a pavement
    3 m beside the street, and a noisy drive: what officers walking a street grid send."""
    rng = np.random.default_rng(5)
    routes = [
        ([(0, 0), (0, grid.cols), (grid.rows, grid.cols), (grid.rows, 0), (0, 0)], 1.4, 0.0, 0.0),
        ([(2, 0), (2, grid.cols)], 1.4, 0.0, 1.0),
        ([(0, 3), (grid.rows, 3), (grid.rows, 1)], 1.4, 3.0, 2.0),
        ([(1, 1), (1, 4), (3, 4), (3, 1), (1, 1)], 8.0, -2.0, 3.0),
    ]
    out = []
    for k, (corners, speed, offset, noise) in enumerate(routes):
        t, lon, lat = street_walk(grid, corners, start_unix_s=t0 + 3600 * k, speed_mps=speed, offset_m=offset,
                                  noise_m=noise, seed=int(rng.integers(1000)))
        out.append(_points(t, lon, lat))
    return out


def _compare(items: dict, grid_ids: list[int], blocks, parts, centre) -> np.ndarray:
    exact = exact_coverage_by_grid(blocks, parts, 30.0, local_equidistant_crs(*centre))
    api = np.array([items[g]["covered_ratio"] for g in grid_ids])
    touched = (exact > 0) | (api > 0)
    assert touched.sum() >= 10
    error_pp = np.abs(api - exact)[touched] * 100
    assert error_pp.mean() <= 0.5 and error_pp.max() <= 3.0, (error_pp.mean(), error_pp.max())
    return api


def test_a_street_office_walked_along_its_streets_matches_the_exact_computation(app, auth, shared_data):
    client = app.test_client()
    office = build_street_office(client, auth.headers("admin"), shared_data, rows=4, cols=5)
    officer = office.headers(client, "officer")
    parts = []
    for k, points in enumerate(_walks(office.grid, DAY.timestamp() + 5)):
        patrol = start_patrol(client, officer, DAY + timedelta(hours=k), f"street-walk-{k:04d}")
        sizes = [len(points) // 2, len(points) - len(points) // 2]  # as a phone cuts them
        post_batches(client, officer, patrol["id"], points, sizes, prefix=f"street-{k}")
        parts += kept_parts(points)[1]
    report = client.get("/api/v1/coverage?from=2026-11-24&to=2026-11-24", headers=office.headers(client, "leader"))
    items = {i["grid_id"]: i for i in report.get_json()["items"]}
    assert set(items) == set(office.grid_ids)
    api = _compare(items, office.grid_ids, office.grid.blocks, parts, office.grid.centre_lonlat)
    assert np.all(api > 0.25)  # every block of this office borders a walked street
    for g in office.grid_ids:  # last visit: a kept fix within R of the block, on that day
        assert items[g]["patrols"] >= 1 and items[g]["last_visited_at"].startswith("2026-11-24")


def test_two_towns_250_km_apart_are_counted_each_on_its_own_raster(app, auth, shared_data):
    from backend.extensions.database import get_session
    from backend.services.patrol.coverage_regions import region_map, region_raster

    client, admin = app.test_client(), auth.headers("admin")
    office = build_street_office(client, admin, shared_data, rows=3, cols=4)
    # A second town 250 km east of the street office, with its own street blocks directly under it.
    lon0, lat0 = office.grid.centre_lonlat
    far = street_grid((lon0 + 250_000 / (111_320 * np.cos(np.radians(lat0))), lat0), 3, 4, 100.0, rotation_deg=20.0)

    def upload(features, kind, parent=None):
        raw = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()
        data = {"kind": kind, "file": (io.BytesIO(raw), "x.geojson"), **({"parent": str(parent)} if parent else {})}
        response = client.post("/api/v1/areas/import", data=data, content_type="multipart/form-data", headers=admin)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["created_ids"]

    (far_town,) = upload([{"type": "Feature", "geometry": mapping(far.outline.buffer(0.001)),
                           "properties": {"name": "远镇"}}], "town")
    far_ids = upload([{"type": "Feature", "geometry": mapping(b), "properties": {"name": f"远镇{k + 1}号网格"}}
                      for k, b in enumerate(far.blocks)], "grid", far_town)
    # The street office's squad is assigned the far town's grids too: one officer patrols both.
    squad_url = f"/api/v1/squads/{office.squad_id}"
    etag = client.get(squad_url, headers=admin).headers["ETag"]
    assert client.patch(squad_url, headers={**admin, "If-Match": etag},
                        json={"area_ids": office.grid_ids + far_ids}).status_code == 200
    login = client.post("/api/v1/auth/login", json={"username": office.usernames["officer"], "password": PASSWORD})
    officer = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    near_parts, far_parts = [], []
    for k, (grid, parts) in enumerate(((office.grid, near_parts), (far, far_parts))):
        for j, points in enumerate(_walks(grid, DAY.timestamp() + 5 + 4 * 3600 * k)):
            patrol = start_patrol(client, officer, DAY + timedelta(hours=4 * k + j), f"two-towns-{k}-{j}")
            post_batches(client, officer, patrol["id"], points, [len(points)], prefix=f"two-{k}-{j}")
            parts += kept_parts(points)[1]
    leader = office.headers(client, "leader")
    items = {i["grid_id"]: i for i in client.get("/api/v1/coverage?from=2026-11-24&to=2026-11-24",
                                                 headers=leader).get_json()["items"]}
    assert set(items) == set(office.grid_ids) | set(far_ids)
    _compare(items, office.grid_ids, office.grid.blocks, near_parts, office.grid.centre_lonlat)
    _compare(items, far_ids, far.blocks, far_parts, far.centre_lonlat)
    far_only = client.get(f"/api/v1/coverage?from=2026-11-24&to=2026-11-24&area={far_town}", headers=leader)
    assert {i["grid_id"] for i in far_only.get_json()["items"]} == set(far_ids)
    with app.app_context():  # two rasters of a town's size each, not one 250 km wide
        session = get_session()
        regions = region_map(session)
        near_region, far_region = regions.region_of_grid[office.grid_ids[0]], regions.region_of_grid[far_ids[0]]
        assert near_region == office.town_id and far_region == far_town
        for region in (near_region, far_region):
            assert region_raster(session, region).spec.cell_count < 200_000


@pytest.mark.parametrize("where", ["inside", "outside"])
def test_last_visit_is_the_last_kept_fix_within_r_of_the_grid(app, auth, shared_data, where):
    """A walk along a block's street, then on 130 m past it: the block's last visit is the last fix within 30 m of
    it, not the batch's last fix."""
    client = app.test_client()
    office = build_street_office(client, auth.headers("admin"), shared_data, rows=2, cols=3)
    officer = office.headers(client, "officer")
    grid = office.grid
    # Along the south edge of block (0, 0) from corner (0, 0) to (0, 1), then (outside) on south, away from it.
    t, lon, lat = street_walk(grid, [(0, 0), (0, 1)], start_unix_s=DAY.timestamp() + 5)
    if where == "outside":
        from geo.street_grid import _to_lonlat

        away = np.linspace(0, -130, 94)[1:]  # 1.4 m/s south, beyond the office
        x_lon, x_lat = _to_lonlat(grid, np.full(away.size, grid.block_m), away)
        t = np.concatenate([t, t[-1] + np.arange(1, away.size + 1)])
        lon, lat = np.concatenate([lon, x_lon]), np.concatenate([lat, x_lat])
    patrol = start_patrol(client, officer, DAY, f"last-visit-{where}")
    post_batches(client, officer, patrol["id"], _points(t, lon, lat), [t.size], prefix=f"lv-{where}")
    items = {i["grid_id"]: i for i in client.get("/api/v1/coverage?from=2026-11-24&to=2026-11-24",
                                                 headers=office.headers(client, "leader")).get_json()["items"]}
    block = items[office.grid_ids[0]]
    last = datetime.fromisoformat(block["last_visited_at"]).timestamp()
    corner_t = DAY.timestamp() + 5 + round(grid.block_m / 1.4)  # at corner (0, 1)
    # The last fix within 30 m of the block: at the corner, or ~30 m further south; never the end 130 m away.
    assert corner_t - 2 <= last <= corner_t + 30 / 1.4 + 2, (last - corner_t)
    assert last < t[-1] - 60 or where == "inside"
