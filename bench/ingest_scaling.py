"""Benchmark: twenty officers of one squad sending batches flat out, through gunicorn with 1, 2 and 3 worker
processes on one PostGIS database.

Run: python bench/ingest_scaling.py [--seconds 20] [--officers 20] [--fixes 60] [--pg postgresql://...]

The demo town on a fresh PostGIS database, squad 1 grown to `--officers` officers, each walking the same zone, so
every batch touches the same town and squad. For each worker count: every officer starts a patrol, then sends
batches of `--fixes` fixes (a minute of a phone at 1 Hz) back to back for `--seconds`, from client threads in
separate processes (requests prepared beforehand, so the clients stay light). Printed per worker count: batches per
second, p50/p95 latency, server errors (5xx), and deadlocks PostgreSQL counted (pg_stat_database) during the run.

Baseline, same run: one worker process. Targets: 0 deadlocks, 0 server errors, and throughput with 2 and 3
processes not lower than with 1 (the town's shared day rows made it fall from 156 to 10.6 batches/s and produced
62 server errors in 1,163 batches).
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
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

from bench.http_batch import Api, gunicorn, patrol_fixes, pg_database, pg_reachable  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PASSWORD = "gridpatrol-demo"
OFFICER_PASSWORD = "bench-officer-pass-1"


def _pg_connect(url: str):
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password, dbname=u.database,
                           autocommit=True)


def deadlocks(url: str) -> int:
    from sqlalchemy.engine import make_url

    with _pg_connect(url) as conn:
        return int(conn.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = %s",
                                (make_url(url).database,)).fetchone()[0])


def prepare_town(url: str, tmp: str, officers: int) -> list[str]:
    """The demo town, and squad 1 grown to `officers` officers (created through the admin API)."""
    env = {**os.environ, "DATABASE_URL": url, "GRIDPATROL_VAR_DIR": tmp, "LOG_LEVEL": "WARNING"}
    env.pop("GRIDPATROL_ENV", None)
    subprocess.run([str(VENV_BIN / "gridpatrol"), "bootstrap"], env=env, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    server, port = serve(url, tmp, workers=1)
    try:
        admin = Api(port)
        admin.login("admin")
        status, me, _ = admin.call("GET", "/api/v1/users?q=officer1")
        squad = next(u for u in me if u["username"] == "officer1")["squad"]["id"]
        names = [f"officer{k}" for k in range(1, 6)]
        for k in range(officers - len(names)):
            name = f"bench-officer{k:02d}"
            status, body, _ = admin.call("POST", "/api/v1/users", {
                "username": name, "display_name": f"队员{k:02d}", "password": OFFICER_PASSWORD, "roles": ["officer"],
                "squad_id": squad})
            assert status == 201, body
            names.append(name)
    finally:
        server.terminate()
        server.wait(timeout=30)
    with _pg_connect(url) as conn:
        conn.execute("VACUUM ANALYZE")
    return names


def serve(url: str, tmp: str, workers: int) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "DATABASE_URL": url, "GRIDPATROL_VAR_DIR": tmp, "LOG_LEVEL": "WARNING"}
    env.pop("GRIDPATROL_ENV", None)
    return gunicorn(env, workers, quiet=True)


def _officer_loop(port: int, username: str, password: str, seconds: float, fixes: int, seed: int, out) -> None:
    try:
        _officer(port, username, password, seconds, fixes, seed, out)
    except Exception as exc:  # noqa: BLE001 - reported by the parent, which must not wait for a result forever
        out.put(([], [f"failed: {exc!r}"]))


def _officer(port: int, username: str, password: str, seconds: float, fixes: int, seed: int, out) -> None:
    """One officer: sign in, start a patrol, send prepared batches back to back until the time is up."""
    api = Api(port)
    status, data, _ = api.call("POST", "/api/v1/auth/login", {"username": username, "password": password})
    assert status == 200, data
    api.token = data["access_token"]
    status, grids, _ = api.call("GET", "/api/v1/areas?kind=grid&page_size=500")
    grid = max(grids["features"], key=lambda f: f["properties"]["area_m2"])
    ring = np.array(grid["geometry"]["coordinates"][0][0])
    t0 = datetime.now(UTC) - timedelta(hours=2)
    status, patrol, _ = api.call("POST", "/api/v1/patrols", {"client_id": str(uuid.uuid4()),
                                                             "started_at": t0.isoformat()})
    assert status == 201, patrol
    rng = np.random.default_rng(seed)
    walk = patrol_fixes(rng, float(ring[:, 0].mean()), float(ring[:, 1].mean()), t0 + timedelta(seconds=1),
                        fixes * 400)
    bodies = [json.dumps({"batch_id": str(uuid.uuid4()), "points": walk[b * fixes:(b + 1) * fixes]})
              for b in range(400)]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api.token}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    latencies, statuses = [], []
    deadline = time.monotonic() + seconds
    b = 0
    while time.monotonic() < deadline and b < len(bodies):
        started = time.perf_counter()
        conn.request("POST", f"/api/v1/patrols/{patrol['id']}/points", body=bodies[b], headers=headers)
        response = conn.getresponse()
        response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        statuses.append(response.status)
        b += 1
    conn.request("POST", f"/api/v1/patrols/{patrol['id']}/end", body="{}", headers=headers)
    conn.getresponse().read()  # one patrol runs at a time: the next run starts anew
    out.put((latencies, statuses))


def _client_process(port, officers, seconds, fixes, seed, out) -> None:
    import threading

    threads = [threading.Thread(target=_officer_loop, args=(port, name, password, seconds, fixes, seed + k, out))
               for k, (name, password) in enumerate(officers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run(url: str, tmp: str, names: list[str], workers: int, seconds: float, fixes: int, clients: int) -> dict:
    server, port = serve(url, tmp, workers)
    try:
        before = deadlocks(url)
        officers = [(n, PASSWORD if n.startswith("officer") else OFFICER_PASSWORD) for n in names]
        out = mp.Queue()
        procs = [mp.Process(target=_client_process, args=(port, officers[k::clients], seconds, fixes, 100 * k, out))
                 for k in range(clients)]
        started = time.monotonic()
        for p in procs:
            p.start()
        results = [out.get(timeout=seconds + 300) for _ in names]
        for p in procs:
            p.join()
        elapsed = time.monotonic() - started
        after = deadlocks(url)
    finally:
        server.terminate()
        server.wait(timeout=30)
    failed = [s for r in results for s in r[1] if isinstance(s, str)]
    if failed:
        raise SystemExit(f"officers failed: {failed[:3]}")
    latencies = np.concatenate([np.array(r[0], dtype=float) for r in results])
    statuses = np.concatenate([np.array(r[1], dtype=int) for r in results])
    # Throughput over the sending time (each officer stops at the deadline; sign-in and set-up excluded).
    return {"workers": workers, "batches": int(statuses.size), "per_s": statuses.size / seconds,
            "p50": float(np.percentile(latencies, 50)), "p95": float(np.percentile(latencies, 95)),
            "server_errors": int((statuses >= 500).sum()), "other": int(((statuses != 200) & (statuses < 500)).sum()),
            "deadlocks": after - before, "elapsed": elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--officers", type=int, default=20)
    parser.add_argument("--fixes", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4, help="client processes (threads share them)")
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    if not pg_reachable(args.pg):
        print(f"PostGIS not reachable at {args.pg}: not measured")
        return 1
    url = pg_database(args.pg, "gridpatrol_bench_ingest")
    with tempfile.TemporaryDirectory(prefix="gp-bench-ingest-") as tmp:
        names = prepare_town(url, tmp, args.officers)
        rows = [run(url, tmp, names, int(w), args.seconds, args.fixes, args.clients) for w in args.workers.split(",")]
    base = rows[0]["per_s"]
    print(f"\n{args.officers} officers of one squad, batches of {args.fixes} fixes back to back for {args.seconds:.0f} s, "
          f"gunicorn {os.environ.get('GUNICORN_THREADS', '4')} threads a worker, PostGIS")
    print(f"{'processes':>9} {'batches':>8} {'batches/s':>10} {'vs 1':>6} {'p50 ms':>8} {'p95 ms':>8} {'5xx':>5} "
          f"{'other':>6} {'deadlocks':>9}")
    ok = True
    for r in rows:
        ratio = r["per_s"] / base
        print(f"{r['workers']:>9} {r['batches']:>8} {r['per_s']:>10.1f} {ratio:>5.2f}x {r['p50']:>8.1f} {r['p95']:>8.1f} "
              f"{r['server_errors']:>5} {r['other']:>6} {r['deadlocks']:>9}")
        ok &= r["server_errors"] == 0 and r["deadlocks"] == 0 and r["other"] == 0 and ratio >= 0.95
    print("targets: 0 deadlocks, 0 server errors, throughput with more processes not lower than with one "
          f"(within 5 % noise)\n{'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
