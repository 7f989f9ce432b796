"""The year's figures recomputed by hand on a small fixture (joint versus single-department visits, the visits they
replaced, failure rates, re-inspections on time), and who may see an inspection, as a matrix."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.extensions.database import get_session
from backend.models import Business, User

from .helpers import SIGNATURE, drawn_plan, ok, photo_id

PHOTO = "exif-samples__gps_DSCN0010.jpg"


def username(app, user_id: int) -> str:
    with app.app_context():
        return get_session().get(User, user_id).username


def do(client, auth, app, inspection_id: int, photo: bytes, fail: set[str], key: str) -> dict:
    """Check in, fail the given items (with a photo), pass the rest, sign, submit."""
    detail = ok(client.get(f"/api/v1/inspections/{inspection_id}", headers=auth.headers("admin")))
    who = username(app, detail["team"][0]["id"])
    headers = auth.headers(who)
    b = detail["business"]
    ok(client.post(f"/api/v1/inspections/{inspection_id}/check-in", headers=headers,
                   json={"lon": b["lon"], "lat": b["lat"]}))
    evidence = photo_id(client, auth, who, photo, key, (b["lon"], b["lat"])) if fail else None
    results = [{"item_code": i["code"], "result": "fail", "evidence": [evidence]} if i["code"] in fail
               else {"item_code": i["code"], "result": "pass"} for i in detail["items"]]
    return ok(client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers,
                          json={"client_id": f"submit-{key}", "results": results, "signature": SIGNATURE}))


def test_the_years_figures_match_counts_made_by_hand(app, client, auth, shared_data):
    photo = (shared_data / "photos" / PHOTO).read_bytes()
    with app.app_context():
        session = get_session()
        a, b = session.scalars(select(Business).where(Business.scenario_code == "CYD").order_by(Business.id)
                               .limit(2)).all()
        a.annual_cap = b.annual_cap = 5
        session.commit()
        a_id, b_id = a.id, b.id
    # a single-department checklist: a new version of 农资店 with market-regulation items only
    scenarios = ok(client.get("/api/v1/scenarios", headers=auth.headers("admin")))
    nzd = next(s for s in scenarios if s["code"] == "NZD")
    scjg = [i["code"] for i in ok(client.get("/api/v1/inspection-items?department=SCJG&status=published",
                                             headers=auth.headers("admin")))][:4]
    v2 = ok(client.post(f"/api/v1/scenarios/{nzd['id']}/versions", headers=auth.headers("admin"),
                        json={"items": scjg, "note": "只查市场监管事项"}), 201)
    assert v2["current_version"] == 2 and v2["departments"] == ["SCJG"]
    _, _, joint = drawn_plan(client, auth, client_id="fig-joint", kind="directed", business_ids=[a_id, b_id], sample={})
    _, _, single = drawn_plan(client, auth, client_id="fig-single", kind="directed", business_ids=[a_id], sample={},
                              scenario="NZD")
    on = {t["business_id"]: t["inspection_id"] for t in joint["targets"]}
    cyd_items = [i["code"] for i in ok(client.get(f"/api/v1/inspections/{on[a_id]}",
                                                  headers=auth.headers("admin")))["items"]]
    x = cyd_items[0]
    first = do(client, auth, app, on[a_id], photo, {x}, "fig-a")
    do(client, auth, app, on[b_id], photo, set(), "fig-b")
    third = do(client, auth, app, single["targets"][0]["inspection_id"], photo, {scjg[1]}, "fig-c")
    departments = len(first["departments"])
    assert departments == 4 and third["departments"] == ["SCJG"]

    figures = ok(client.get("/api/v1/stats/inspections", headers=auth.headers("commander1")))
    assert (figures["inspections"], figures["businesses_inspected"], figures["joint"],
            figures["single_department"]) == (3, 2, 2, 1)
    assert figures["joint_share"] == pytest.approx(2 / 3, abs=1e-4)
    assert figures["visits_per_business"] == pytest.approx(3 / 2)
    # separately, each department would have come on its own: 4 + 4 + 1 visits instead of 3
    assert figures["department_visits_replaced"] == (departments * 2 + 1) - 3
    assert figures["visits_per_business_without_joint"] == pytest.approx((departments * 2 + 1) / 2)
    assert {p["business_id"]: p["visits"] for p in figures["per_business"]} == {a_id: 2, b_id: 1}
    items = {i["item_code"]: i for i in figures["items"]}
    checked_x = 2 + (x in scjg)  # in both 餐饮店 visits, and in the single one when it is a market item there too
    assert (items[x]["checked"], items[x]["failed"]) == (checked_x, 1)
    assert items[x]["failure_rate"] == pytest.approx(1 / checked_x, abs=1e-4)
    assert (items[scjg[1]]["checked"], items[scjg[1]]["failed"]) == (1 + (scjg[1] in cyd_items) * 2, 1)
    scenarios = {s["code"]: s for s in figures["scenarios"]}
    assert (scenarios["CYD"]["inspections"], scenarios["CYD"]["failed"]) == (2, 1)
    assert scenarios["NZD"]["failure_rate"] == 1.0
    assert figures["reinspections_due"] == 0  # two tasks, both due later
    assert len(first["reinspection_ids"]) == 1
    do(client, auth, app, first["reinspection_ids"][0], photo, set(), "fig-re")  # re-checked today: on time
    figures = ok(client.get("/api/v1/stats/inspections", headers=auth.headers("commander1")))
    assert (figures["reinspections_due"], figures["reinspections_on_time"], figures["reinspections_on_time_rate"]) \
        == (1, 1, 1.0)
    assert figures["inspections"] == 3  # a re-inspection is not another visit counted against the cap
    assert client.get("/api/v1/stats/inspections", headers=auth.headers("supervisor17")).status_code == 404


def test_who_sees_an_inspection(app, client, auth):
    _, _, draw = drawn_plan(client, auth)  # a 餐饮店 checklist: market regulation, emergency, enforcement, housing
    target = draw["targets"][0]
    iid = target["inspection_id"]
    team = [username(app, i["id"]) for i in target["inspectors"]]
    with app.app_context():
        session = get_session()
        members = {u.username: u for u in session.scalars(select(User))}
        squads = {members[n].squad_id for n in team if members[n].squad_id}
        officers = [n for n, u in members.items() if u.has_role("officer") and not u.has_role("squad_leader")]
        leaders = [n for n, u in members.items() if u.has_role("squad_leader")]
        outsider = next(n for n in officers if n not in team and members[n].squad_id not in squads)
        own_leader = [n for n in leaders if members[n].squad_id in squads]
        other_leader = next(n for n in leaders if members[n].squad_id not in squads and n not in team)
    expected = {team[0]: 200, team[1]: 200, outsider: 404, other_leader: 404, "commander1": 200, "admin": 200,
                "supervisor17": 404, "dept1": 200, "dept9": 404}  # dept1: 市场监管 items; dept9: 水利, none
    for leader in own_leader:
        expected[leader] = 200
    got = {u: client.get(f"/api/v1/inspections/{iid}", headers=auth.headers(u)).status_code for u in expected}
    assert got == expected
    code = {u: client.get(f"/api/v1/inspections/{iid}", headers=auth.headers(u)).get_json()["public_code"]
            for u, s in expected.items() if s == 200}
    assert code[team[0]] and code["commander1"] and all(code[leader] for leader in own_leader)
    if "dept1" not in team:
        assert code["dept1"] is None  # results, but not the team's code
    for u in (outsider, "supervisor17", "dept1" if "dept1" not in team else "dept3"):
        r = client.post(f"/api/v1/inspections/{iid}/check-in", headers=auth.headers(u), json={"lon": 115.5, "lat": 38.1})
        assert r.status_code in (403, 404), (u, r.status_code)
    business = target["business_id"]
    history = {u: [h["id"] for h in ok(client.get(f"/api/v1/businesses/{business}", headers=auth.headers(u)))["history"]]
               for u in (team[0], outsider, "commander1")}
    assert iid in history[team[0]] and iid in history["commander1"] and iid not in history[outsider]
    mine = ok(client.get("/api/v1/inspections?mine=true", headers=auth.headers(outsider)))
    assert all(i["id"] != iid for i in mine)
    for u in ("officer1", "supervisor17", "dept1"):
        assert ok(client.get("/api/v1/inspection-plans", headers=auth.headers(u))) == []
        assert client.get(f"/api/v1/draws/{draw['id']}", headers=auth.headers(u)).status_code == 404
    for u in ("leader1", "commander1", "admin"):
        assert client.get(f"/api/v1/draws/{draw['id']}", headers=auth.headers(u)).status_code == 200
