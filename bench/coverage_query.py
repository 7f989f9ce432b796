"""Benchmark: a day or week coverage query over 1,000 grids, from the stored per grid-day bitmaps.

Run: python bench/coverage_query.py [--grids 1000] [--patrols-per-day 30] [--pg postgresql://...]

For each database (SpatiaLite; PostGIS when reachable): 1,000 Voronoi grids over the demo town's 90 km², 30
officers, and a week of 30 patrols a day of 2,000 fixes each, stored through the same code the API uses as
batches arrive (services.patrol.coverage.add_kept_fixes). Then, median of `--repeat` runs:
  - the query itself (services.patrol.coverage.coverage_by_grid: bitmaps + visits -> per-grid figures), for the last
    day and the week, while batches keep arriving for that day (one is stored, untimed, before each query, so
    its rows must be read again; past days are kept decompressed in the process between queries);
  - the same cold: nothing kept in the process, as for the first query after a restart;
  - the same through the API in-process (GET /api/v1/coverage, Server-Timing: auth, scope, query, JSON);
  - the baseline, same run: the week recomputed from the raw kept tracks (rasterising each patrol), which is
    what a query costs when coverage is not kept up to date as batches arrive.
Target: <= 10 ms for the day and the week query; the week must cost about what the day costs.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import shapely
from geoalchemy2.shape import from_shape
from pyproj import Transformer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.coverage_township_day import random_walk_tracks, voronoi_grids  # noqa: E402
from bench.http_batch import pg_database, pg_reachable  # noqa: E402
from geo.coverage import rasterize_track_coverage  # noqa: E402
from geo.demo_town import build_demo_town  # noqa: E402
from geo.projection import WGS84_LONLAT, geodesic_area_m2  # noqa: E402

FIXES = 2_000
DAYS = 7
WEEK_START = date(2026, 11, 16)


def build(database_url: str, grids: int, per_day: int, seed: int):
    from backend import create_app
    from backend.extensions.database import get_session
    from backend.migrate import upgrade
    from backend.models import Area, Patrol
    from backend.services.patrol import coverage
    from backend.services.core.people import create_user
    from backend.settings import Settings

    rng = np.random.default_rng(seed)
    upgrade(database_url)
    app = create_app(Settings.from_env({}, database_url=database_url, var_dir=tempfile.mkdtemp()))
    town = build_demo_town()
    centre = town.outline.centroid
    crs_m = coverage.raster_spec_for_bounds(town.outline.bounds).crs
    to_m = Transformer.from_crs(WGS84_LONLAT, crs_m, always_xy=True)
    to_ll = Transformer.from_crs(crs_m, WGS84_LONLAT, always_xy=True)
    outline_m = shapely.transform(town.outline, lambda c: np.column_stack(to_m.transform(c[:, 0], c[:, 1])))
    grids_ll = shapely.transform(voronoi_grids(rng, outline_m, grids),
                                 lambda c: np.column_stack(to_ll.transform(c[:, 0], c[:, 1])))
    tracks = {}
    with app.app_context():
        session = get_session()
        for k, geom in enumerate(grids_ll):
            multi = geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])
            x0, y0, x1, y1 = multi.bounds
            session.add(Area(kind="grid", name=f"网格{k + 1:04d}", code=f"G{k + 1:04d}", geom=from_shape(multi, 4326),
                             area_m2=geodesic_area_m2(multi), min_lon=x0, min_lat=y0, max_lon=x1, max_lat=y1))
        create_user(session, None, {"username": "benchadmin", "display_name": "管理员", "password": "bench-admin-pass-1",
                                    "roles": ["admin"]})
        officers = [create_user(session, None, {"username": f"bench{k:02d}", "display_name": f"队员{k}",
                                                "password": "bench-officer-pass-1", "roles": ["officer"]})
                    for k in range(per_day)]
        session.commit()
        started = time.perf_counter()
        for day in range(DAYS):
            x_m, y_m, breaks = random_walk_tracks(rng, outline_m.bounds, per_day, FIXES)
            lon, lat = to_ll.transform(x_m, y_m)
            t0 = datetime.combine(WEEK_START + timedelta(days=day), datetime.min.time(), UTC) + timedelta(hours=1)
            t = t0.timestamp() + np.arange(FIXES) * 3.0
            for k, officer in enumerate(officers):
                patrol = Patrol(client_id=str(uuid.uuid4()), officer_id=officer.id, started_at=t0, grid_ids=[])
                session.add(patrol)
                session.flush()
                coverage.add_kept_fixes(session, patrol, t, lon[k], lat[k], breaks[k])
                tracks[(day, k)] = (lon[k], lat[k], breaks[k])
            session.commit()
        print(f"  stored a week: {DAYS * per_day} patrols x {FIXES:,} fixes in {time.perf_counter() - started:.1f} s "
              f"({shapely.area(outline_m) / 1e6:.0f} km², centre {centre.x:.3f} {centre.y:.3f})")
    return app, tracks


def median_ms(fn, repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        if hasattr(fn, "before"):
            fn.before()
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times))


def live_batches(session, coverage, rng, today: date):
    """A function that stores one more patrol batch for `today` (500 fixes of a random walk) and commits, the way
    batches keep arriving while a leader watches the map: today's rows change before every query."""
    from backend.models import Patrol, User

    officer = session.query(User).filter_by(username="bench00").one()
    patrol = Patrol(client_id=str(uuid.uuid4()), officer_id=officer.id, grid_ids=[],
                    started_at=datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=9))
    session.add(patrol)
    session.commit()
    raster = coverage.town_raster(session)
    x0, y0 = raster.spec.origin_x_m, raster.spec.origin_y_m
    width_m, height_m = raster.spec.width * raster.spec.cell_size_m, raster.spec.height * raster.spec.cell_size_m
    to_ll = Transformer.from_crs(raster.spec.crs, WGS84_LONLAT, always_xy=True)
    clock = {"t": patrol.started_at.timestamp()}

    def add_batch():
        n = 500
        heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.1, n))
        x = rng.uniform(0.3, 0.7) * width_m + x0 + np.cumsum(1.4 * np.cos(heading))
        y = rng.uniform(0.3, 0.7) * height_m + y0 + np.cumsum(1.4 * np.sin(heading))
        lon, lat = to_ll.transform(x, y)
        t = clock["t"] + np.arange(n, dtype=float)
        clock["t"] += n
        coverage.add_kept_fixes(session, patrol, t, np.asarray(lon), np.asarray(lat), np.zeros(n, dtype=bool))
        session.commit()

    return add_batch


def measure(name: str, database_url: str, args) -> bool:
    from backend.extensions.database import get_session
    from backend.models import Area
    from backend.services.patrol import coverage
    from sqlalchemy import select

    print(f"\n[{name}]")
    app, tracks = build(database_url, args.grids, args.patrols_per_day, args.seed)
    day, week_end = WEEK_START + timedelta(days=DAYS - 1), WEEK_START + timedelta(days=DAYS - 1)
    with app.app_context():
        session = get_session()
        grid_ids = list(session.scalars(select(Area.id).where(Area.kind == "grid").order_by(Area.id)))
        coverage.town_raster(session)  # built once per process, as in a server
        week = coverage.coverage_by_grid(session, grid_ids, WEEK_START, week_end)  # checked below
        live = live_batches(session, coverage, np.random.default_rng(args.seed + 1), week_end)

        def cold(fn):  # nothing kept in the process: the first query after a restart
            def run():
                coverage._day_cache.clear()
                return fn()
            return run

        def while_batches_arrive(fn):  # a batch for today lands before each query (written untimed)
            def run():
                return fn()
            run.before = live
            return run

        day_query = lambda: coverage.coverage_by_grid(session, grid_ids, day, day)  # noqa: E731
        week_query = lambda: coverage.coverage_by_grid(session, grid_ids, WEEK_START, week_end)  # noqa: E731
        day_cold, week_cold = median_ms(cold(day_query), args.repeat), median_ms(cold(week_query), args.repeat)
        day_ms = median_ms(while_batches_arrive(day_query), args.repeat)
        week_ms = median_ms(while_batches_arrive(week_query), args.repeat)
        raster = coverage.town_raster(session)

        def recompute_week():
            mask = np.zeros(raster.spec.cell_count, dtype=bool)
            for lon, lat, breaks in tracks.values():
                rasterize_track_coverage(raster.spec, lon, lat, breaks, raster.radius_m, out=mask)
            return raster.index.covered_cells(mask)

        baseline_ms = median_ms(recompute_week, max(3, args.repeat // 10))
        covered = recompute_week()
        check = np.array(week.covered_ratio)
        expect = covered / np.maximum(raster.index.cells_per_grid, 1)
        assert np.allclose(check, expect[[raster.position[g] for g in grid_ids]]), "stored != recomputed"
        session.close()

    client = app.test_client()
    token = client.post("/api/v1/auth/login", json={"username": "benchadmin",
                                                    "password": "bench-admin-pass-1"}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def http(path):
        def call():
            response = client.get(path, headers=headers)
            assert response.status_code == 200
            call.server_ms.append(float(response.headers["Server-Timing"].split("dur=")[1]))
        call.server_ms = []

        def before():
            with app.app_context():
                live()
        call.before = before
        return call

    http_day, http_week = http(f"/api/v1/coverage?from={day}"), http(f"/api/v1/coverage?from={WEEK_START}&to={week_end}")
    median_ms(http_day, args.repeat)
    median_ms(http_week, args.repeat)
    http_day_ms, http_week_ms = np.median(http_day.server_ms[1:]), np.median(http_week.server_ms[1:])
    patrols = len(tracks)
    print(f"  query, {len(grid_ids)} grids, while batches for today arrive: day ({args.patrols_per_day} patrols) "
          f"{day_ms:.1f} ms, week ({patrols} patrols) {week_ms:.1f} ms   target <= 10 ms")
    print(f"  the same, cold (nothing kept in the process, as after a restart): day {day_cold:.1f} ms, "
          f"week {week_cold:.1f} ms")
    print(f"  through the API, while batches arrive (server time incl. auth, scope, JSON): day {http_day_ms:.1f} ms, "
          f"week {http_week_ms:.1f} ms")
    print(f"  baseline, the week recomputed from raw tracks: {baseline_ms:.0f} ms -> {baseline_ms / week_ms:.0f}x")
    ok = day_ms <= 10 and week_ms <= 10
    print(f"  {'OK' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=1000)
    parser.add_argument("--patrols-per-day", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="gp-bench-q-") as tmp:
        ok &= measure("SpatiaLite", f"sqlite:///{tmp}/query.db", args)
    if pg_reachable(args.pg):
        ok &= measure("PostGIS", pg_database(args.pg, "gridpatrol_bench_query"), args)
    else:
        print(f"\n[PostGIS] not reachable at {args.pg}: not measured")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
