"""Benchmark: one 2,000-fix batch through the HTTP API, on SpatiaLite and (when reachable) PostGIS.

Run: python bench/http_batch.py [--patrols 5] [--batches 10] [--pg postgresql://postgres@127.0.0.1/postgres]

For each database: a fresh database with the demo town, served by gunicorn (1 worker, as `make run` serves it).
Each officer patrol gets `--batches` successive batches of 2,000 fixes at 1 Hz (10 batches: a 5.5-hour shift,
20,000 fixes), walking and driving through the officer's grids. The figure is the server time of each batch
(the `Server-Timing` header: validation, storage, cleaning the track, updating coverage, audit, commit), p50 and
p95, after one warm-up batch (reported apart: first-use costs such as the phase disks; the town raster itself is
built when the worker starts, backend.wsgi).

Baseline, same run, same database: the same batches stored the straightforward way, one ORM object and one
flush per fix, then commit (no cleaning, no coverage). Target: p95 <= 50 ms, baseline / p50 >= 10x.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
VENV_BIN = Path(sys.executable).parent
FIXES = 2_000
PASSWORD = "gridpatrol-demo"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.token = None

    def call(self, method: str, path: str, body=None) -> tuple[int, dict, float]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = self.conn.getresponse()
        data = json.loads(response.read() or b"null")
        timing = response.getheader("Server-Timing") or "app;dur=nan"
        return response.status, data, float(timing.split("dur=")[1])

    def login(self, username: str) -> None:
        status, data, _ = self.call("POST", "/api/v1/auth/login", {"username": username, "password": PASSWORD})
        assert status == 200, data
        self.token = data["access_token"]


def patrol_fixes(rng: np.random.Generator, lon0: float, lat0: float, t0: datetime, n: int,
                 beat_m: float = 1_500) -> list[dict]:
    """A phone at 1 Hz: walking (1.4 m/s) and driving (8 m/s) spells, heading drifting, 3–15 m accuracy. The
    officer stays on their beat: beyond `beat_m` from the start they turn back, so the track keeps crossing grids
    (and every batch does the full coverage work) instead of wandering out of the town."""
    speed = np.repeat(rng.choice([1.4, 8.0], size=n // 200 + 1), 200)[:n] * rng.uniform(0.8, 1.2, n)
    drift = rng.normal(0, 0.08, n)
    x = y = 0.0
    heading = rng.uniform(0, 2 * np.pi)
    xs, ys = np.empty(n), np.empty(n)
    for i in range(n):
        heading += drift[i]
        if x * x + y * y > beat_m * beat_m:
            heading = np.arctan2(-y, -x) + drift[i] * 5  # back towards the beat
        x += speed[i] * np.cos(heading)
        y += speed[i] * np.sin(heading)
        xs[i], ys[i] = x, y
    lon = lon0 + xs / (111_320 * np.cos(np.radians(lat0)))
    lat = lat0 + ys / 111_320
    acc = rng.uniform(3, 15, n)
    return [{"t": (t0 + timedelta(seconds=i)).isoformat(), "lon": round(float(lon[i]), 7),
             "lat": round(float(lat[i]), 7), "accuracy_m": round(float(acc[i]), 1), "speed_mps": round(float(speed[i]), 2)}
            for i in range(n)]


def start_server(database_url: str, tmp: str) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "DATABASE_URL": database_url, "GRIDPATROL_VAR_DIR": tmp, "LOG_LEVEL": "WARNING"}
    env.pop("GRIDPATROL_ENV", None)
    subprocess.run([str(VENV_BIN / "gridpatrol"), "bootstrap"], env=env, check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL)
    if database_url.startswith("postgresql"):
        # The town just loaded: analyse it now, as autovacuum would within a minute of any import, instead of
        # letting that land on two shared cores in the middle of the timed batches.
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(database_url)
        with psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                             dbname=url.database, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    return gunicorn(env, workers=1)


def gunicorn(env: dict, workers: int, quiet: bool = False) -> tuple[subprocess.Popen, int]:
    """gunicorn serving the app with `workers` processes on a free port, once it answers /api/health."""
    port = free_port()
    out = subprocess.DEVNULL if quiet else None
    server = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--workers", str(workers),
                               "--access-logfile", "/dev/null", "--bind", f"127.0.0.1:{port}", "backend.wsgi:app"],
                              env=env, cwd=REPO, stdout=out, stderr=out)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if Api(port).call("GET", "/api/health")[0] == 200:
                return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not start")


def officers_and_starts(api: Api, count: int) -> list[tuple[str, float, float]]:
    """(username, lon, lat) of `count` demo officers, each starting in the middle of one of their grids."""
    found = []
    for squad in range(1, 5):
        for k in range(1, 6):
            username = f"officer{(squad - 1) * 5 + k}" if squad > 1 or k > 1 else "officer1"
            found.append(username)
    picks = []
    for username in found[:count]:
        api.login(username)
        status, grids, _ = api.call("GET", "/api/v1/areas?kind=grid&page_size=500")
        assert status == 200, grids
        grid = max(grids["features"], key=lambda f: f["properties"]["area_m2"])
        ring = np.array(grid["geometry"]["coordinates"][0][0])
        picks.append((username, float(ring[:, 0].mean()), float(ring[:, 1].mean())))
    return picks


def run_http(database_url: str, patrols: int, batches: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="gp-bench-") as tmp:
        server, port = start_server(database_url, tmp)
        try:
            api = Api(port)
            picks = officers_and_starts(api, patrols)
            server_ms, wall_ms, first_ms = [], [], None
            day0 = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
            for p, (username, lon, lat) in enumerate(picks):
                api.login(username)
                t0 = day0 + timedelta(hours=p % 3)
                status, patrol, _ = api.call("POST", "/api/v1/patrols", {
                    "client_id": str(uuid.uuid4()), "started_at": t0.isoformat()})
                assert status == 201, patrol
                fixes = patrol_fixes(rng, lon, lat, t0 + timedelta(seconds=1), FIXES * batches)
                for b in range(batches):
                    body = {"batch_id": str(uuid.uuid4()), "points": fixes[b * FIXES:(b + 1) * FIXES]}
                    started = time.perf_counter()
                    status, answer, ms = api.call("POST", f"/api/v1/patrols/{patrol['id']}/points", body)
                    wall = (time.perf_counter() - started) * 1000
                    assert status == 200, answer
                    if first_ms is None:
                        first_ms = ms  # first-use costs; reported apart
                        continue
                    server_ms.append(ms)
                    wall_ms.append(wall)
            status, report, query_ms = api.call("GET", "/api/v1/coverage?from=2026-11-20")
            assert status == 200
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {"server_ms": server_ms, "wall_ms": wall_ms, "first_ms": first_ms, "query_ms": query_ms}


def naive_fix_model():
    """The table a first version would store fixes in: one row a fix, indexed by patrol and time (the app itself
    stores a batch as one row of packed arrays, models.TrackChunk). Created in the bench database only."""
    from sqlalchemy import Float, Index, Integer
    from sqlalchemy.orm import DeclarativeBase, mapped_column

    class NaiveBase(DeclarativeBase):
        pass

    class NaiveFix(NaiveBase):
        __tablename__ = "bench_naive_fixes"
        __table_args__ = (Index("ix_bench_naive_fixes_patrol_t", "patrol_id", "t_unix_s"),)
        id = mapped_column(Integer, primary_key=True)
        patrol_id = mapped_column(Integer, nullable=False)
        batch_pk = mapped_column(Integer, nullable=False)
        t_unix_s = mapped_column(Float, nullable=False)
        lon = mapped_column(Float, nullable=False)
        lat = mapped_column(Float, nullable=False)
        accuracy_m = mapped_column(Float)
        speed_mps = mapped_column(Float)

    return NaiveBase, NaiveFix


def run_baseline(database_url: str, rounds: int, seed: int) -> list[float]:
    """The same batch stored one ORM object and one flush per fix, then commit."""
    from backend import create_app
    from backend.extensions.database import get_db, get_session
    from backend.migrate import upgrade
    from backend.models import Patrol, PatrolBatch, User
    from backend.settings import Settings

    naive_base, naive_fix = naive_fix_model()

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="gp-bench-base-") as tmp:
        upgrade(database_url)
        app = create_app(Settings.from_env({}, database_url=database_url, var_dir=tmp))
        timings = []
        with app.app_context():
            naive_base.metadata.create_all(get_db().engine)
            session = get_session()
            officer = session.query(User).filter_by(username="officer1").one()
            for _ in range(rounds):
                t0 = datetime(2026, 11, 21, 1, tzinfo=UTC)
                patrol = Patrol(client_id=str(uuid.uuid4()), officer_id=officer.id, started_at=t0,
                                ended_at=t0 + timedelta(hours=1), end_reason="user", grid_ids=[])  # one runs at a time
                session.add(patrol)
                session.commit()
                fixes = patrol_fixes(rng, 115.55, 38.1, t0, FIXES)
                started = time.perf_counter()
                batch = PatrolBatch(patrol_id=patrol.id, batch_id=str(uuid.uuid4()), body_hash="-", answer="{}")
                session.add(batch)
                session.flush()
                for f in fixes:
                    session.add(naive_fix(patrol_id=patrol.id, batch_pk=batch.id,
                                          t_unix_s=datetime.fromisoformat(f["t"]).timestamp(), lon=f["lon"],
                                          lat=f["lat"], accuracy_m=f["accuracy_m"], speed_mps=f["speed_mps"]))
                    session.flush()
                session.commit()
                timings.append((time.perf_counter() - started) * 1000)
            session.close()
    return timings


def pg_database(admin_url: str, name: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    with psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                         dbname=url.database or "postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                         dbname=name, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url.set(database=name).render_as_string(hide_password=False)


def pg_reachable(admin_url: str) -> bool:
    try:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(admin_url)
        psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                        dbname=url.database or "postgres", connect_timeout=3).close()
        return True
    except Exception:  # noqa: BLE001 - any failure means: no PostGIS run, said plainly below
        return False


def report(name: str, http: dict, baseline: list[float]) -> bool:
    s = np.array(http["server_ms"])
    p50, p95 = float(np.percentile(s, 50)), float(np.percentile(s, 95))
    base = statistics.median(baseline)
    ok = p95 <= 50 and base / p50 >= 10
    print(f"\n[{name}] {len(s)} batches of {FIXES:,} fixes (after 1 warm-up batch: {http['first_ms']:.0f} ms)")
    print(f"  server time   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   max {s.max():6.1f} ms   (target p95 <= 50 ms)")
    print(f"  client wall   p50 {np.percentile(http['wall_ms'], 50):6.1f} ms   (adds JSON encoding and loopback)")
    print(f"  baseline      per-row ORM insert + flush: median {base:7.1f} ms over {len(baseline)} batches")
    print(f"  ratio         {base / p50:6.1f}x  (baseline / p50, target >= 10x)")
    print(f"  coverage query, all 243 grids, one day: {http['query_ms']:.1f} ms server time")
    print("  slowest:", sorted(zip(np.round(s, 1).tolist(), range(len(s))), reverse=True)[:6])
    print(f"  {'OK' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patrols", type=int, default=5)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--baseline-rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="gp-bench-db-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        http = run_http(url, args.patrols, args.batches, args.seed)
        ok &= report("SpatiaLite", http, run_baseline(url, args.baseline_rounds, args.seed))
    if pg_reachable(args.pg):
        url = pg_database(args.pg, "gridpatrol_bench_http")
        http = run_http(url, args.patrols, args.batches, args.seed)
        ok &= report("PostGIS", http, run_baseline(url, args.baseline_rounds, args.seed))
    else:
        print(f"\n[PostGIS] not reachable at {args.pg}: not measured")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
