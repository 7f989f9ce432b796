"""Plans and draws through the API: approval in advance by the head (never by the maker), the pools frozen and
hashed before the seed, the draw reproduced by an independent program from the public JSON, re-draws with a reason
keeping the old one, certificates, a village supervisor refused, recusal rules, and the annual cap across plans."""
from __future__ import annotations

import importlib.util
import io
import json
from datetime import date, timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from backend.extensions.database import get_session
from backend.models import Business, Inspection, User
from backend.services.inspections.draw import sha256_of

from .helpers import YEAR, drawn_plan, make_plan, ok


def checker():
    spec = importlib.util.spec_from_file_location(
        "redraw_check", Path(__file__).resolve().parents[2] / "scripts" / "redraw_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def uid(app, username: str) -> int:
    with app.app_context():
        return get_session().scalar(select(User.id).where(User.username == username))


def test_a_plan_is_approved_by_the_head_frozen_then_drawn_and_anyone_can_re_run_it(app, client, auth, tmp_path):
    plan = ok(make_plan(client, auth), 201)
    assert plan["status"] == "draft" and plan["scenario_code"] == "CYD" and plan["scenario_version"] == 1
    again = ok(make_plan(client, auth), 200)  # a retry with the same client id
    assert again["id"] == plan["id"]
    pid = plan["id"]
    assert client.post(f"/api/v1/inspection-plans/{pid}/freeze", headers=auth.headers("leader1")).status_code == 409
    assert client.post(f"/api/v1/inspection-plans/{pid}/approve", headers=auth.headers("leader1"),
                       json={}).status_code == 403
    ok(client.post(f"/api/v1/inspection-plans/{pid}/approve", headers=auth.headers("commander1"), json={"note": "同意"}))
    early = client.post(f"/api/v1/inspection-plans/{pid}/draw", headers=auth.headers("leader1"),
                        json={"seed": "1", "seed_source": "x"})
    assert early.status_code == 409 and "冻结" in early.get_json()["message"]
    frozen = ok(client.post(f"/api/v1/inspection-plans/{pid}/freeze", headers=auth.headers("leader1")))
    assert frozen["pools_sha256"] == sha256_of(frozen["pools"])
    strata = {s["grade"]: s for s in frozen["pools"]["strata"]}
    assert set(strata) == {"C", "D"} and strata["C"]["sample"] == 3
    assert strata["D"]["sample"] == -(-strata["D"]["size"] // 2)
    units = {p["unit"] for p in frozen["pools"]["inspectors"]}
    assert {"县市场监督管理局", "县应急管理局", "乡镇综合行政执法队"} <= units
    seed = "0 9 3 5 7 2 8 1 4 6"
    body = {"seed": seed, "seed_source": f"{YEAR}-12-04 09:30 公开摇号，十面骰十次"}
    d = ok(client.post(f"/api/v1/inspection-plans/{pid}/draw", headers=auth.headers("leader1"), json=body), 201)
    assert d["pools_sha256"] == frozen["pools_sha256"] and len(d["targets"]) == 3 + strata["D"]["sample"]
    assert client.post(f"/api/v1/inspection-plans/{pid}/draw", headers=auth.headers("leader1"),
                       json=body).status_code == 409  # once: a second draw needs a reason

    public = client.get(f"/public/draws/{d['id']}.json")  # no sign-in
    assert public.status_code == 200 and public.headers["Access-Control-Allow-Origin"] == "*"
    path = tmp_path / "draw.json"
    path.write_bytes(public.data)
    assert checker().main(str(path)) == 0
    assert checker().redraw(public.get_json()["pools"], seed) == public.get_json()["result"]["targets"]
    assert checker().redraw(public.get_json()["pools"], seed + " ") != public.get_json()["result"]["targets"]
    page = client.get(f"/public/draws/{d['id']}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and frozen["pools_sha256"] in text and seed in text
    assert all(t["name"] in text for t in d["targets"])
    tampered = json.loads(public.data)
    tampered["result"]["targets"][0]["inspector_ids"].reverse()
    path.write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    assert checker().main(str(path)) == 1

    workbook = client.get(f"/api/v1/inspection-plans/{pid}/export.xlsx", headers=auth.headers("leader1"))
    sheets = load_workbook(io.BytesIO(workbook.data), read_only=True)
    rows = list(sheets["抽取记录"].iter_rows(values_only=True))
    assert len(rows) == 1 + len(d["targets"]) and rows[1][1] == seed


def test_the_export_never_writes_a_formula(client, auth):
    plan, _, d = drawn_plan(client, auth, client_id="plan-formula-1", seed='=HYPERLINK("http://x","y")')
    workbook = client.get(f"/api/v1/inspection-plans/{plan['id']}/export.xlsx", headers=auth.headers("leader1"))
    sheets = load_workbook(io.BytesIO(workbook.data))
    cell = sheets["抽取记录"]["B2"]
    assert cell.data_type == "s" and cell.value == "'" + d["seed"]


def test_a_re_draw_needs_a_reason_keeps_the_old_draw_and_is_refused_once_work_started(app, client, auth):
    plan, _, first = drawn_plan(client, auth)
    pid = plan["id"]
    second = ok(client.post(f"/api/v1/inspection-plans/{pid}/draw", headers=auth.headers("leader1"),
                            json={"seed": "2 7 1 8", "seed_source": "重新掷骰", "reason": "抽中人员病假"}), 201)
    assert second["redraw_of_id"] == first["id"] and second["redraw_reason"] == "抽中人员病假"
    old = ok(client.get(f"/api/v1/draws/{first['id']}", headers=auth.headers("leader1")))
    assert old["superseded_at"] and old["result_sha256"] == first["result_sha256"]
    assert [(t["business_id"], t["inspectors"]) for t in old["targets"]] == \
        [(t["business_id"], t["inspectors"]) for t in first["targets"]]  # kept as it was drawn
    page = client.get(f"/public/draws/{first['id']}").get_data(as_text=True)
    assert "已作废" in page and f"/public/draws/{second['id']}" in page
    with app.app_context():
        statuses = {i.draw_id: i.status for i in get_session().scalars(select(Inspection).where(
            Inspection.plan_id == pid))}
    assert statuses[first["id"]] == "cancelled" and statuses[second["id"]] == "assigned"
    target = second["targets"][0]
    officer = target["inspectors"][0]["id"]
    with app.app_context():
        name = get_session().get(User, officer).username
    business = ok(client.get(f"/api/v1/inspections/{target['inspection_id']}", headers=auth.headers(name)))["business"]
    ok(client.post(f"/api/v1/inspections/{target['inspection_id']}/check-in", headers=auth.headers(name),
                   json={"lon": business["lon"], "lat": business["lat"]}))
    late = client.post(f"/api/v1/inspection-plans/{pid}/draw", headers=auth.headers("leader1"),
                       json={"seed": "9", "seed_source": "x", "reason": "再抽"})
    assert late.status_code == 409 and "开始检查" in late.get_json()["message"]


def test_certificates_supervisors_and_self_approval(app, client, auth):
    supervisor = uid(app, "supervisor17")
    r = make_plan(client, auth, client_id="plan-named-1", inspector_ids=[uid(app, "officer1"), supervisor])
    assert r.status_code == 400 and "村执法监督员" in r.get_json()["message"]
    with app.app_context():
        session = get_session()
        officer2 = session.scalar(select(User).where(User.username == "officer2"))
        officer2.certificate_expires_on = date(YEAR, 6, 30)  # expires inside the plan's window
        session.scalar(select(User).where(User.username == "officer3")).certificate_no = None
        session.commit()
    r = make_plan(client, auth, client_id="plan-named-2", inspector_ids=[uid(app, "officer1"), uid(app, "officer2")])
    assert r.status_code == 400 and "过期" in r.get_json()["message"]
    plan = ok(make_plan(client, auth, client_id="plan-pool-1"), 201)
    own = ok(make_plan(client, auth, maker="commander1", client_id="plan-own-1"), 201)
    refused = client.post(f"/api/v1/inspection-plans/{own['id']}/approve", headers=auth.headers("commander1"), json={})
    assert refused.status_code == 409 and "自己" in refused.get_json()["message"]
    ok(client.post(f"/api/v1/inspection-plans/{plan['id']}/approve", headers=auth.headers("commander1"), json={}))
    pools = ok(client.post(f"/api/v1/inspection-plans/{plan['id']}/freeze", headers=auth.headers("leader1")))["pools"]
    in_pool = {p["id"] for p in pools["inspectors"]}
    left = {p["id"]: p["reason"] for p in pools["inspectors_left_out"]}
    assert uid(app, "officer2") not in in_pool and left[uid(app, "officer2")] == "inspector_certificate_expired"
    assert left[uid(app, "officer3")] == "inspector_no_certificate"
    assert supervisor not in in_pool and uid(app, "officer1") in in_pool
    # on the day: a certificate that lapsed since the draw stops the check-in
    d = ok(client.post(f"/api/v1/inspection-plans/{plan['id']}/draw", headers=auth.headers("leader1"),
                       json={"seed": "5", "seed_source": "掷骰"}), 201)
    target = d["targets"][0]
    person = target["inspectors"][0]["id"]
    with app.app_context():
        user = get_session().get(User, person)
        user.certificate_expires_on = date.today() - timedelta(days=1)
        username = user.username
        get_session().commit()
    detail = ok(client.get(f"/api/v1/inspections/{target['inspection_id']}", headers=auth.headers(username)))
    r = client.post(f"/api/v1/inspections/{target['inspection_id']}/check-in", headers=auth.headers(username),
                    json={"lon": detail["business"]["lon"], "lat": detail["business"]["lat"]})
    assert r.status_code == 409 and "执法证" in r.get_json()["message"]


def test_recusal_keeps_last_times_inspectors_and_declared_conflicts_away(app, client, auth):
    with app.app_context():
        session = get_session()
        targets = list(session.scalars(select(Business).where(Business.scenario_code == "JYZ")))
        ids = [b.id for b in targets]
    assert len(ids) >= 3
    named = [uid(app, n) for n in ("officer1", "officer2", "officer3", "officer4")]
    plan, _, first = drawn_plan(client, auth, client_id="plan-dir-1", scenario="JYZ", kind="directed",
                                business_ids=ids, inspector_ids=named, sample={})
    team = {t["business_id"]: {i["id"] for i in t["inspectors"]} for t in first["targets"]}
    # the first business's inspection is done by its team: next time they must stand aside
    target = first["targets"][0]
    with app.app_context():
        session = get_session()
        inspection = session.get(Inspection, target["inspection_id"])
        inspection.status = "submitted"
        from datetime import UTC, datetime
        inspection.submitted_at = datetime.now(UTC)
        session.commit()
    other = next(i for i in named if i not in team[target["business_id"]])
    ok(client.post("/api/v1/inspector-conflicts", headers=auth.headers("leader1"),
                   json={"user_id": other, "business_id": target["business_id"], "reason": "近亲属经营"}), 201)
    ok(client.post("/api/v1/inspector-conflicts", headers=auth.headers("leader1"),
                   json={"user_id": other, "business_id": target["business_id"], "reason": "近亲属经营"}), 200)
    second = make_plan(client, auth, client_id="plan-dir-2", scenario="JYZ", kind="directed",
                       business_ids=[target["business_id"]], inspector_ids=named, sample={})
    pid = ok(second, 201)["id"]
    ok(client.post(f"/api/v1/inspection-plans/{pid}/approve", headers=auth.headers("commander1"), json={}))
    pools = ok(client.post(f"/api/v1/inspection-plans/{pid}/freeze", headers=auth.headers("leader1")))["pools"]
    barred = set(pools["recusals"][str(target["business_id"])])
    assert barred == team[target["business_id"]] | {other}
    # four people, three barred: the draw cannot make a team of two
    r = client.post(f"/api/v1/inspection-plans/{pid}/draw", headers=auth.headers("leader1"),
                    json={"seed": "1", "seed_source": "掷骰"})
    assert r.status_code == 409 and "检查人员不足" in r.get_json()["message"]
    rules = ok(client.get("/api/v1/recusal-rules", headers=auth.headers("leader1")))
    assert {r["kind"] for r in rules} == {"previous_inspector", "declared_conflict", "own_area"}
    own_area = next(r for r in rules if r["kind"] == "own_area")
    assert own_area["active"] is False
    assert client.patch(f"/api/v1/recusal-rules/{own_area['id']}", headers=auth.headers("leader1"),
                        json={"active": True}).status_code == 403
    ok(client.patch(f"/api/v1/recusal-rules/{own_area['id']}", headers=auth.headers("admin"), json={"active": True}))


def test_the_annual_cap_holds_across_plans_and_departments(app, client, auth):
    with app.app_context():
        session = get_session()
        business = session.scalars(select(Business).where(Business.scenario_code == "CYD", Business.risk_grade == "C")
                                   .order_by(Business.id)).first()
        business.annual_cap = 1
        session.commit()
        bid, name = business.id, business.name
    first, _, _ = drawn_plan(client, auth, client_id="plan-cap-1", kind="directed", business_ids=[bid], sample={})
    second = ok(make_plan(client, auth, client_id="plan-cap-2", kind="directed", business_ids=[bid], sample={},
                          scenario="JXCS"), 201)
    refused = client.post(f"/api/v1/inspection-plans/{second['id']}/approve", headers=auth.headers("commander1"),
                          json={})
    assert refused.status_code == 409 and name in refused.get_json()["message"]
    assert refused.get_json()["details"]["businesses"][0]["id"] == bid
    # a random plan over the same grade leaves it out of the pool, and says so
    random_plan = ok(make_plan(client, auth, client_id="plan-cap-3", sample={"C": {"ratio": 0.2}}), 201)
    ok(client.post(f"/api/v1/inspection-plans/{random_plan['id']}/approve", headers=auth.headers("commander1"),
                   json={}))
    pools = ok(client.post(f"/api/v1/inspection-plans/{random_plan['id']}/freeze", headers=auth.headers("leader1")))
    excluded = {e["id"]: e["reason"] for e in pools["pools"]["excluded"]}
    assert excluded[bid] == "annual_cap"
    assert bid not in {t["id"] for s in pools["pools"]["strata"] for t in s["targets"]}
    assert ok(client.get(f"/api/v1/businesses/{bid}", headers=auth.headers("leader1")))["inspections_this_year"] == 1


def test_plans_are_for_leaders_commanders_and_admins(client, auth):
    for user in ("officer1", "supervisor17", "dept1"):
        assert make_plan(client, auth, maker=user, client_id=f"plan-{user}").status_code == 403
        assert ok(client.get("/api/v1/inspection-plans", headers=auth.headers(user))) == []
    plan = ok(make_plan(client, auth), 201)
    assert client.get(f"/api/v1/inspection-plans/{plan['id']}", headers=auth.headers("officer1")).status_code == 404
    bad = make_plan(client, auth, client_id="plan-bad-1", starts_on=f"{YEAR}-06-01", ends_on=f"{YEAR}-05-01")
    assert bad.status_code == 400 and "结束日期" in bad.get_json()["message"]
    unknown = make_plan(client, auth, client_id="plan-bad-2", scenario="NOPE")
    assert unknown.status_code == 400 and "NOPE" in unknown.get_json()["message"]
    one = make_plan(client, auth, client_id="plan-bad-3", inspectors_per_target=1)
    assert one.status_code == 400
