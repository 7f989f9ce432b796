"""Benchmark: joint inspections on a county-sized register: the XLSX import, the 双随机 draw, the notice PDF.

Run: python bench/inspections.py [--businesses 20000] [--inspectors 200] [--pg postgresql://...]

For each database (SpatiaLite; PostGIS when reachable), the demo town and:
  - import: a `--businesses`-row XLSX register (valid credit codes, positions in the town's grids, industries and
    risk grades) through POST /api/v1/businesses/import in process, with its per-row report: wall time.
    Baseline, same run: the same rows placed one by one with the per-point SQL lookup (services.core.areas.locate)
    and added one ORM object at a time, on a tenth of the rows, scaled up;
  - draw: `--inspectors` certified inspectors in four departments, a history of 5,000 submitted inspections (for
    the previous-inspector rule) and 500 declared conflicts; a plan over the whole register (C 10%, D 30%, E all);
    frozen, then drawn through POST /inspection-plans/{id}/draw: wall time of the draw (targets, teams, the stored
    result, one inspection with its team per target), and of the freeze. Baseline: the same draw with the
    recusals read from the database per target (two queries a target), as a draw without frozen pools does;
  - notice: the one-time notice PDF of a submitted inspection with five failures: median and p95 of 20 renders.
    Baseline: the same PDF with the whole font embedded (WeasyPrint full_fonts), time and size.
Targets: import <= 10 s, draw <= 200 ms, notice <= 1 s.
"""
from __future__ import annotations

import argparse
import gc
import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.http_batch import pg_database, pg_reachable  # noqa: E402

TARGETS = {"import": 10_000.0, "draw": 200.0, "notice": 1000.0}
INDUSTRIES = {"CYD": "餐饮服务", "JXCS": "零售", "CZF": "房屋租赁", "XZF": "食品生产加工", "QXD": "机动车维修"}


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def register_rows(session, count: int, rng: random.Random) -> list[list]:
    """Rows of a register: codes valid to GB 32100, positions inside the demo town's grids."""
    from shapely import from_wkb
    from sqlalchemy import func, select

    from backend.demo.businesses import credit_code
    from backend.models import Area

    grids = [from_wkb(bytes(w)) for (w,) in session.execute(select(func.ST_AsBinary(Area.geom))
                                                             .where(Area.kind == "grid"))]
    rows, seen = [], set()
    while len(rows) < count:
        g = rng.choice(grids)
        x0, y0, x1, y1 = g.bounds
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        code = credit_code(rng, individual=True)
        if code in seen or not g.contains(__import__("shapely").Point(x, y)):
            continue
        seen.add(code)
        scenario = rng.choice(list(INDUSTRIES))
        grade = rng.choices("ABCDE", [20, 50, 20, 8, 2])[0]
        rows.append([f"测试商户{len(rows) + 1}", code, "张三", f"某村{len(rows) + 1}号", round(x, 6), round(y, 6),
                     INDUSTRIES[scenario], grade, scenario])
    return rows


def xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("名录")
    sheet.append(["名称", "统一社会信用代码", "法定代表人", "地址", "经度", "纬度", "行业", "信用风险等级", "场景"])
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def baseline_import(app, rows: list[list]) -> float:
    """One row at a time: the SQL point lookup and an ORM add each, then one commit (ms for these rows)."""
    from backend.extensions.database import get_session
    from backend.models import Business
    from backend.policies import AreaScope
    from backend.services.core.areas import locate

    with app.app_context():
        session = get_session()
        t0 = time.perf_counter()
        for name, code, rep, address, lon, lat, industry, grade, scenario in rows:
            places = locate(session, AreaScope(True, frozenset()), lon, lat)
            ids = {k: (v or {}).get("id") for k, v in places.items()}
            session.add(Business(credit_code="X" + code[1:], name=name, legal_rep=rep, address=address, lon=lon,
                                 lat=lat, industry=industry, risk_grade=grade, scenario_code=scenario,
                                 grid_id=ids["grid"], village_id=ids["village"], zone_id=ids["zone"],
                                 town_id=ids["town"]))
            session.flush()
        elapsed = (time.perf_counter() - t0) * 1000
        session.rollback()
    return elapsed


def people(app, count: int, rng: random.Random) -> list[int]:
    from sqlalchemy import select

    from backend.extensions.database import get_session
    from backend.models import Department, User, UserRole

    with app.app_context():
        session = get_session()
        departments = list(session.scalars(select(Department).where(Department.code.in_(
            ("SCJG", "YJGL", "ZHZF", "ZJJ")))))
        password = session.scalar(select(User.password_hash).limit(1))
        users = [User(username=f"bench-inspector-{n}", display_name=f"检查员{n}", password_hash=password,
                      certificate_no=f"BENCH{n:05d}", certificate_expires_on=date(2030, 1, 1),
                      department_id=departments[n % len(departments)].id,
                      role_rows=[UserRole(role="department")]) for n in range(count)]
        session.add_all(users)
        session.commit()
        return [u.id for u in users]


def history(app, inspector_ids: list[int], rng: random.Random) -> None:
    """5,000 submitted inspections last year (the previous-inspector rule) and 500 declared conflicts."""
    from sqlalchemy import insert, select

    from backend.extensions.database import get_session
    from backend.models import (
        Business, Inspection, InspectionInspector, InspectorConflict, Scenario, ScenarioVersion,
    )

    with app.app_context():
        session = get_session()
        business_ids = list(session.scalars(select(Business.id)))
        version = session.scalar(select(ScenarioVersion).join(Scenario).where(Scenario.code == "CYD"))
        last_year = datetime.now(UTC) - timedelta(days=300)
        picked = rng.sample(business_ids, min(5000, len(business_ids) // 4))
        session.execute(insert(Inspection), [
            {"business_id": b, "scenario_version_id": version.id, "kind": "initial", "item_codes": [],
             "departments": ["SCJG"], "status": "submitted", "due_on": (last_year - timedelta(days=60)).date(),
             "public_code": f"bench-{b}", "submitted_at": last_year} for b in picked])
        ids = dict(session.execute(select(Inspection.business_id, Inspection.id)).all())
        session.execute(insert(InspectionInspector), [
            {"inspection_id": ids[b], "user_id": u, "position": n + 1}
            for b in picked for n, u in enumerate(rng.sample(inspector_ids, 2))])
        session.execute(insert(InspectorConflict), [
            {"user_id": rng.choice(inspector_ids), "business_id": b, "reason": "近亲属经营"}
            for b in rng.sample(business_ids, min(500, len(business_ids) // 40))])
        session.commit()


def baseline_draw(app, plan_id: int, seed: str) -> float:
    """The same targets and teams with the recusals read from the database target by target (ms)."""
    from sqlalchemy import select

    from backend.extensions.database import get_session
    from backend.models import Inspection, InspectionInspector, InspectionPlan, InspectorConflict
    from backend.services.inspections import sampler

    with app.app_context():
        session = get_session()
        t0 = time.perf_counter()
        plan = session.get(InspectionPlan, plan_id)
        pools = plan.pools
        inspectors = [p["id"] for p in pools["inspectors"]]
        stream = sampler.draws(f"{seed}:inspectors", len(inspectors))
        for stratum in pools["strata"]:
            for position in sampler.without_replacement(f"{seed}:{stratum['grade']}", stratum["size"],
                                                        stratum["sample"]):
                business = stratum["targets"][position - 1]["id"]
                barred = set(session.scalars(select(InspectionInspector.user_id).join(Inspection).where(
                    Inspection.business_id == business, Inspection.status == "submitted")))
                barred |= set(session.scalars(select(InspectorConflict.user_id).where(
                    InspectorConflict.business_id == business)))
                team: list[int] = []
                while len(team) < pools["inspectors_per_target"]:
                    person = inspectors[next(stream) - 1]
                    if person not in team and person not in barred:
                        team.append(person)
        return (time.perf_counter() - t0) * 1000


def run(kind: str, database_url: str, businesses: int, inspectors: int, seed: int) -> dict:
    from backend import create_app
    from backend.demo.loader import load_demo
    from backend.extensions.database import get_session
    from backend.migrate import upgrade
    from backend.settings import Settings
    from tests.conftest import Auth
    from tests.inspections.helpers import SIGNATURE

    rng = random.Random(seed)
    upgrade(database_url)
    app = create_app(Settings.from_env({}, database_url=database_url, var_dir=tempfile.mkdtemp()))
    with app.app_context():
        session = get_session()
        load_demo(session)
        session.commit()
        rows = register_rows(session, businesses, rng)
    client, auth = app.test_client(), Auth(app)
    data = xlsx(rows)
    out: dict = {"db": kind}

    t0 = time.perf_counter()
    r = client.post("/api/v1/businesses/import", headers=auth.headers("commander1"), content_type="multipart/form-data",
                    data={"file": (io.BytesIO(data), "register.xlsx")})
    out["import_ms"] = (time.perf_counter() - t0) * 1000
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["summary"]["created"] == businesses
    tenth = rows[: max(1, businesses // 10)]
    out["import_baseline_ms"] = baseline_import(app, tenth) * businesses / len(tenth)

    ids = people(app, inspectors, rng)
    history(app, ids, rng)
    year = datetime.now(UTC).year
    plan = client.post("/api/v1/inspection-plans", headers=auth.headers("leader1"), json={
        "client_id": "bench-plan-0001", "name": "基准抽取", "enforcing_body": "示范镇人民政府", "scenario": "CYD",
        "target_filter": {"only_scenario": False}, "sample": {"C": {"ratio": 0.1}, "D": {"ratio": 0.3}, "E": {"ratio": 1}},
        "inspector_ids": ids, "starts_on": f"{year}-01-01", "ends_on": f"{year}-12-31"}).get_json()
    client.post(f"/api/v1/inspection-plans/{plan['id']}/approve", headers=auth.headers("commander1"), json={})
    gc.collect()
    gc.freeze()  # as each served worker does after start (backend/wsgi.py): the app's own objects are not scanned
    t0 = time.perf_counter()
    frozen = client.post(f"/api/v1/inspection-plans/{plan['id']}/freeze", headers=auth.headers("leader1"))
    out["freeze_ms"] = (time.perf_counter() - t0) * 1000
    pools = frozen.get_json()["pools"]
    out["pool_targets"] = sum(s["size"] for s in pools["strata"])
    out["recusals"] = sum(len(v) for v in pools["recusals"].values())
    seed_text = "3 1 4 1 5 9 2 6 5 3"
    t0 = time.perf_counter()
    d = client.post(f"/api/v1/inspection-plans/{plan['id']}/draw", headers=auth.headers("leader1"),
                    json={"seed": seed_text, "seed_source": "基准测试"})
    out["draw_ms"] = (time.perf_counter() - t0) * 1000
    assert d.status_code == 201, d.get_json()
    out["drawn"] = len(d.get_json()["targets"])
    out["draw_baseline_ms"] = baseline_draw(app, plan["id"], seed_text)

    target = d.get_json()["targets"][0]
    inspection_id = target["inspection_id"]
    with app.app_context():
        from backend.models import User
        username = get_session().get(User, target["inspectors"][0]["id"]).username
    headers = auth.headers(username) if not username.startswith("bench-") else None
    if headers is None:  # bench inspectors share the demo password hash
        headers = {"Authorization": f"Bearer {auth.login(username)['access_token']}"}
    detail = client.get(f"/api/v1/inspections/{inspection_id}", headers=headers).get_json()
    b = detail["business"]
    client.post(f"/api/v1/inspections/{inspection_id}/check-in", headers=headers, json={"lon": b["lon"], "lat": b["lat"]})
    from tests.resources.test_evidence import post_evidence
    photo = (Path(os.environ.get("GRIDPATROL_SHARED_DATA", REPO.parent / "shared" / "data")) / "photos"
             / "exif-samples__gps_DSCN0010.jpg").read_bytes()
    evidence = post_evidence(client, headers, "bench-photo-0001", photo).get_json()["id"]
    results = [{"item_code": i["code"], "result": "fail" if n < 5 else "pass", "note": "现场发现问题" if n < 5 else "",
                "evidence": [evidence] if n < 5 else []} for n, i in enumerate(detail["items"])]
    s = client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers,
                    json={"client_id": "bench-submit-1", "results": results, "signature": SIGNATURE})
    assert s.status_code == 200, s.get_json()
    times = []
    for _ in range(21):
        t0 = time.perf_counter()
        pdf = client.get(f"/api/v1/inspections/{inspection_id}/notice.pdf", headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
    times = times[1:]  # the first loads Pango and the font
    out["notice_p50_ms"], out["notice_p95_ms"], out["notice_kb"] = statistics.median(times), p95(times), len(pdf.data) / 1024
    from weasyprint import HTML
    from backend.services.inspections import notice
    with app.app_context():
        from backend.models import Inspection
        inspection = get_session().get(Inspection, inspection_id)
        html = notice.templates().get_template("notice.html").render(
            css=(notice.TEMPLATES / "base.css").read_text(encoding="utf-8"), **notice.context(get_session(), inspection))
        t0 = time.perf_counter()
        full = HTML(string=html).write_pdf(full_fonts=True)
        out["notice_baseline_ms"], out["notice_baseline_kb"] = (time.perf_counter() - t0) * 1000, len(full) / 1024
    app.extensions["gridpatrol_db"].engine.dispose()
    return out


def report(o: dict) -> None:
    print(f"\n{o['db']}:")
    print(f"  import {o['import_ms'] / 1000:.2f} s for the register with its per-row report (target ≤ "
          f"{TARGETS['import'] / 1000:.0f} s); row by row: {o['import_baseline_ms'] / 1000:.1f} s "
          f"({o['import_baseline_ms'] / o['import_ms']:.1f}× slower)")
    print(f"  freeze {o['freeze_ms']:.0f} ms ({o['pool_targets']} targets, {o['recusals']} recusals)")
    print(f"  draw {o['draw_ms']:.0f} ms for {o['drawn']} targets and their teams (target ≤ {TARGETS['draw']:.0f} ms); "
          f"recusals read per target: {o['draw_baseline_ms']:.0f} ms ({o['draw_baseline_ms'] / o['draw_ms']:.1f}×)")
    print(f"  notice p50 {o['notice_p50_ms']:.0f} ms, p95 {o['notice_p95_ms']:.0f} ms, {o['notice_kb']:.0f} KB "
          f"(target ≤ {TARGETS['notice']:.0f} ms); whole font: {o['notice_baseline_ms']:.0f} ms, "
          f"{o['notice_baseline_kb'] / 1024:.1f} MB ({o['notice_baseline_kb'] / o['notice_kb']:.0f}× larger)")
    met = (o["import_ms"] <= TARGETS["import"] and o["draw_ms"] <= TARGETS["draw"]
           and o["notice_p95_ms"] <= TARGETS["notice"])
    print(f"  targets {'met' if met else 'NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--businesses", type=int, default=20_000)
    parser.add_argument("--inspectors", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/gridpatrol_test"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report(run("SpatiaLite", f"sqlite:///{tmp}/bench.db", args.businesses, args.inspectors, args.seed))
    if pg_reachable(args.pg):
        url = pg_database(args.pg, "gp_bench_inspections")
        report(run("PostGIS", url, args.businesses, args.inspectors, args.seed))
    else:
        print("\nPostGIS: not reachable, not measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
