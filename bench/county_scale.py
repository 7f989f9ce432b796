"""Benchmark: a batch and a coverage query in a county of 1 town and of 20 towns, tens of km apart.

Run: python bench/county_scale.py [--towns 20] [--batches 12] [--pg postgresql://...]

Each town is the demo town's 243 grids (from 1 ha to 176 ha) moved to its own place, 30 km from the next, under
its own town area; the first is the demo town itself with its squads. In each database (SpatiaLite; PostGIS when
reachable) and for 1 and for `--towns` towns: an officer of the first town sends `--batches` batches of 2,000 fixes
through the API (in-process, Server-Timing: validate, store, clean, coverage, audit, commit), and the leader reads
the first town's coverage for the day. Printed: the median batch and query server times with 1 and with N towns,
and their ratio, and the process's memory once every town's raster is built.

Target: the figures with N towns equal those with 1 within noise (per-town rasters: a batch and a query cost what
one town costs, however many towns the county holds and however far apart they are).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.http_batch import patrol_fixes, pg_database, pg_reachable  # noqa: E402

PASSWORD = "gridpatrol-demo"
FIXES = 2_000
SPACING_KM = 30.0


def build(database_url: str, towns: int, tmp: str):
    from backend import create_app
    from backend.demo.loader import load_demo
    from backend.extensions.database import get_session
    from backend.migrate import upgrade
    from backend.models import Area
    from backend.settings import Settings

    upgrade(database_url)
    app = create_app(Settings.from_env({}, database_url=database_url, var_dir=tmp))
    with app.app_context():
        session = get_session()
        load_demo(session)
        session.commit()
        town = session.query(Area).filter_by(kind="town").one()
        grids = session.query(Area).filter_by(kind="grid").order_by(Area.id).all()
        for k in range(1, towns):
            row, col = divmod(k, 5)
            dlat = row * SPACING_KM / 111.32
            dlon = col * SPACING_KM / (111.32 * np.cos(np.radians(38.1)))
            town_geom = shapely.affinity.translate(to_shape(town.geom), dlon, dlat)
            x0, y0, x1, y1 = town_geom.bounds
            copy = Area(kind="town", name=f"{town.name}{k + 1}", code=f"{town.code}-{k + 1}",
                        geom=from_shape(town_geom, 4326), area_m2=town.area_m2, min_lon=x0, min_lat=y0, max_lon=x1,
                        max_lat=y1)
            session.add(copy)
            session.flush()
            for grid in grids:
                geom = shapely.affinity.translate(to_shape(grid.geom), dlon, dlat)
                gx0, gy0, gx1, gy1 = geom.bounds
                session.add(Area(kind="grid", name=grid.name, code=f"{grid.code}-{k + 1}", parent_id=copy.id,
                                 geom=from_shape(geom, 4326), area_m2=grid.area_m2, min_lon=gx0, min_lat=gy0,
                                 max_lon=gx1, max_lat=gy1))
        session.commit()
        town_id = town.id
        if session.get_bind().dialect.name == "postgresql":
            # The county just loaded: analyse it now, as autovacuum would within a minute of any import, rather
            # than in the middle of the timed batches (http_batch.py does the same).
            session.connection().exec_driver_sql("ANALYZE")
            session.commit()
    return app, town_id


def measure(database_url: str, towns: int, batches: int, seed: int, tmp: str) -> dict:
    import shapely.affinity  # noqa: F401 - used by build()

    from backend.extensions.database import get_session
    from backend.services.patrol.coverage_regions import RASTER_CELLS_BUDGET, _rasters, warm_up

    app, town_id = build(database_url, towns, tmp)
    client = app.test_client()

    def login(name):
        token = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD}).get_json()
        return {"Authorization": f"Bearer {token['access_token']}"}

    with app.app_context():
        warm_up(get_session())  # as a served worker does at start
        get_session().commit()
    officer, leader = login("officer1"), login("leader1")
    grids = client.get("/api/v1/areas?kind=grid&page_size=500", headers=officer).get_json()["features"]
    grid = max(grids, key=lambda f: f["properties"]["area_m2"])
    ring = np.array(grid["geometry"]["coordinates"][0][0])
    t0 = datetime.now(UTC) - timedelta(hours=8)
    patrol = client.post("/api/v1/patrols", headers=officer, json={"client_id": str(uuid.uuid4()),
                                                                   "started_at": t0.isoformat()}).get_json()
    fixes = patrol_fixes(np.random.default_rng(seed), float(ring[:, 0].mean()), float(ring[:, 1].mean()),
                         t0 + timedelta(seconds=1), FIXES * (batches + 1))
    batch_ms, query_ms = [], []
    day = (t0 + timedelta(hours=8)).date().isoformat()
    for b in range(batches + 1):
        response = client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=officer, json={
            "batch_id": str(uuid.uuid4()), "points": fixes[b * FIXES:(b + 1) * FIXES]})
        assert response.status_code == 200, response.get_json()
        query = client.get(f"/api/v1/coverage?from={day}&to={day}&area={town_id}", headers=leader)
        assert query.status_code == 200, query.get_json()
        if b:  # the first of each: first-use costs
            batch_ms.append(float(response.headers["Server-Timing"].split("dur=")[1]))
            query_ms.append(float(query.headers["Server-Timing"].split("dur=")[1]))
    cells = sum(r.spec.cell_count for r in _rasters.values())
    app.extensions["gridpatrol_db"].engine.dispose()
    return {"batch": float(np.median(batch_ms)), "query": float(np.median(query_ms)), "rasters": len(_rasters),
            "cells": cells, "budget": RASTER_CELLS_BUDGET,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def report(name: str, one: dict, many: dict, towns: int) -> bool:
    batch_ratio, query_ratio = many["batch"] / one["batch"], many["query"] / one["query"]
    print(f"\n[{name}]")
    print(f"  batch of {FIXES:,} fixes, median server time: 1 town {one['batch']:.1f} ms, {towns} towns "
          f"{many['batch']:.1f} ms ({batch_ratio:.2f}x)")
    print(f"  coverage query of the first town, one day: 1 town {one['query']:.1f} ms, {towns} towns "
          f"{many['query']:.1f} ms ({query_ratio:.2f}x)")
    print(f"  rasters kept with {towns} towns: {many['rasters']} of {many['cells']:,} cells (budget "
          f"{many['budget']:,}); peak RSS of the process: {one['rss_mb']:.0f} MB with 1 town, {many['rss_mb']:.0f} MB "
          f"with {towns}")
    ok = batch_ratio <= 1.25 and query_ratio <= 1.25
    print(f"  target: the same within noise (<= 1.25x)   {'OK' if ok else 'MISSED'}")
    return ok


def measured_apart(database_url: str, towns: int, batches: int, seed: int) -> dict:
    """measure() in a process of its own, as each server worker is: one county's rasters and caches per process."""
    import json
    import subprocess

    with tempfile.TemporaryDirectory(prefix="gp-bench-county-") as tmp:
        done = subprocess.run([sys.executable, __file__, "--measure", database_url, "--towns", str(towns),
                               "--batches", str(batches), "--seed", str(seed), "--tmp", tmp],
                              capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=20)
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # one database, in this process (measured_apart)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        import json

        print(json.dumps(measure(args.measure, args.towns, args.batches, args.seed, args.tmp)))
        return 0
    ok = True
    with tempfile.TemporaryDirectory(prefix="gp-bench-county-") as tmp:
        one = measured_apart(f"sqlite:///{tmp}/one.db", 1, args.batches, args.seed)
        many = measured_apart(f"sqlite:///{tmp}/many.db", args.towns, args.batches, args.seed)
        ok &= report("SpatiaLite", one, many, args.towns)
    if pg_reachable(args.pg):
        one = measured_apart(pg_database(args.pg, "gridpatrol_bench_county1"), 1, args.batches, args.seed)
        many = measured_apart(pg_database(args.pg, "gridpatrol_bench_countyn"), args.towns, args.batches, args.seed)
        ok &= report("PostGIS", one, many, args.towns)
    else:
        print(f"\n[PostGIS] not reachable at {args.pg}: not measured")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
