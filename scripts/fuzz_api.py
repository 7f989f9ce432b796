"""Schemathesis over the whole API, every phase (examples, coverage, fuzzing, stateful through the document's
links), against a real gunicorn on a fresh demo database, signed in as several roles in turn. Fails on any server
error and on any answer the OpenAPI document does not describe (status, content type, headers, body schema).

    python scripts/fuzz_api.py --database spatialite --database postgis

PostGIS needs a server at TEST_DATABASE_URL (the run creates and drops its own database there). The examples per
operation and the seed are fixed so that CI's run is bounded (about six minutes per database on two idle cores, the
databases side by side) and repeatable.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from e2e import free_port, wait_healthy

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent / "fuzz"
PASSWORD = "gridpatrol-demo"
# Each role once: what a role may not do is answered 403/404, which the document describes as well.
ROLES = ("admin", "leader1", "officer1", "supervisor1", "dept1")
PHASES = "examples,coverage,fuzzing,stateful"


def _post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


class Postgres:
    """A database of its own on the test server, dropped afterwards."""

    def __init__(self, base_url: str) -> None:
        from sqlalchemy.engine import make_url

        self.base = make_url(base_url)
        self.name = f"gp_fuzz_{uuid.uuid4().hex[:8]}"
        self.url = self.base.set(database=self.name).render_as_string(hide_password=False)

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host=self.base.host or "localhost", port=self.base.port or 5432, user=self.base.username,
                             password=self.base.password, dbname="postgres", autocommit=True) as conn:
            conn.execute(sql)

    def __enter__(self) -> str:
        self._admin(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *_exc) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def run_database(kind: str, args, tmp: Path) -> list[dict]:
    if kind == "postgis":
        with Postgres(os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/gridpatrol_test")) as url:
            return serve_and_fuzz(kind, url, args, tmp)
    return serve_and_fuzz(kind, f"sqlite:///{tmp}/fuzz.db", args, tmp)


def serve_and_fuzz(kind: str, database_url: str, args, tmp: Path) -> list[dict]:
    env = {**os.environ, "GRIDPATROL_VAR_DIR": str(tmp), "DATABASE_URL": database_url, "LOG_LEVEL": "ERROR",
           "PWA_DIST": str(tmp / "no-pwa"), "AUDIT_ANCHOR_DIR": str(tmp / "anchors")}
    env.pop("GRIDPATROL_ENV", None)
    subprocess.run([str(VENV_BIN / "gridpatrol"), "bootstrap"], env=env, check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         # The app is fuzzed, not gunicorn: past its request-line limit gunicorn itself answers an HTML 414.
         "--limit-request-line", "0", "--access-logfile", "/dev/null", "backend.wsgi:app"], env=env, cwd=REPO)
    try:
        wait_healthy(url, server)
        sessions = {role: _post_json(f"{url}/api/v1/auth/login", {"username": role, "password": PASSWORD})
                    for role in args.roles}
        protected = ",".join(str(s["user"]["id"]) for s in sessions.values())
        stand_in = _post_json(f"{url}/api/v1/auth/login", {"username": "officer20", "password": PASSWORD})["user"]["id"]
        results = []
        for role, session in sessions.items():
            results.append(fuzz(kind, role, url, session["access_token"], args, tmp, env={
                **env, "SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": str(HERE),
                "FUZZ_PROTECTED_USER_IDS": protected, "FUZZ_STAND_IN_USER_ID": str(stand_in)}))
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def fuzz(kind: str, role: str, url: str, token: str, args, tmp: Path, env: dict) -> dict:
    log = tmp / f"schemathesis-{kind}-{role}.log"
    started = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(
            [str(VENV_BIN / "st"), "--config-file", str(HERE / "schemathesis.toml"), "run", f"{url}/api/openapi.json",
             "-H", f"Authorization: Bearer {token}", "--phases", PHASES, "--max-examples", str(args.max_examples),
             "--seed", str(args.seed), "--workers", "1", "--no-color", "--suppress-health-check", "too_slow",
             "--report", "junit", "--report-junit-path", str(tmp / f"junit-{kind}-{role}.xml")],
            env=env, cwd=HERE, stdout=out, stderr=subprocess.STDOUT).returncode
    text = log.read_text()
    generated = re.search(r"(\d+) generated", text)
    summary = [line for line in text.splitlines() if re.match(r"^=+ .* in [\d.]+s =+$", line)]
    result = {"database": kind, "role": role, "exit": code, "cases": int(generated.group(1)) if generated else 0,
              "summary": summary[-1].strip("= ") if summary else "(no summary)",
              "seconds": round(time.monotonic() - started, 1)}
    if code != 0:
        print(text[-20000:], file=sys.stderr)
        if args.keep:
            print(f"full log: {log}", file=sys.stderr)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", action="append", choices=("spatialite", "postgis"))
    parser.add_argument("--roles", nargs="+", default=list(ROLES))
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES", 10)))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", 20261201)))
    parser.add_argument("--keep", action="store_true", help="keep the logs and JUnit reports")
    args = parser.parse_args()
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="gridpatrol-fuzz-"))
    # One server per database, so the databases are fuzzed side by side (a run keeps about one core busy); the
    # roles of one database go one after another against its server.
    kinds = args.database or ["spatialite"]
    for kind in kinds:
        (tmp / kind).mkdir()
    with ThreadPoolExecutor(max_workers=len(kinds)) as pool:
        results = [r for rs in pool.map(lambda kind: run_database(kind, args, tmp / kind), kinds) for r in rs]
    for r in results:
        print(f"schemathesis {r['database']:<10} {r['role']:<12} {r['cases']:>6} cases  {r['seconds']:>6.1f} s  "
              f"{'ok' if r['exit'] == 0 else 'FAILED'}  ({r['summary']})")
    failed = [r for r in results if r["exit"] != 0]
    total = sum(r["cases"] for r in results)
    print(f"schemathesis: {total} test cases over {len(results)} runs in {time.monotonic() - started:.0f} s; "
          f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
