"""Cases through the API on the demo town: the report (areas, squad and limits filled by the server, duplicates
offered, exactly once under retries), the whole cycle by each role, whistles, the exception flows, forbidden moves
with their reasons, overdue flags and escalation, and who may see which case and which evidence."""
from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from backend.extensions.database import get_session
from backend.services.cases import overdue

from .test_evidence import post_evidence

# A point in village 22 (官道村, supervisor17), grid 122, zone 2 (东片区) of squad 1; and one in village 6
# (何家庄村, supervisor1), zone 5 of squad 4.
SQUAD1 = (115.589755, 38.105988)
SQUAD4 = (115.552202, 38.137992)
CJK = re.compile(r"[\u4e00-\u9fff]")
PHOTO = "exif-samples__gps_DSCN0010.jpg"


@pytest.fixture
def photo(shared_data):
    return (shared_data / "photos" / PHOTO).read_bytes()


def evidence(client, auth, user: str, photo: bytes, at=SQUAD1, key: str = "") -> int:
    r = post_evidence(client, auth.headers(user), f"ev-{user}-{key}-{at[0]}", photo, lon=at[0], lat=at[1])
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()["id"]


def report(client, auth, user="supervisor17", client_id="case-0001", category="SRHJ-01", at=SQUAD1, **extra):
    body = {"client_id": client_id, "category": category, "lon": at[0], "lat": at[1], "accuracy_m": 8,
            "description": "路边垃圾堆放", **extra}
    return client.post("/api/v1/cases", headers=auth.headers(user), json=body)


def act(client, auth, user, case_id, action, **fields):
    return client.post(f"/api/v1/cases/{case_id}/actions", headers=auth.headers(user),
                       json={"action": action, **fields})


def ok(response, status=201):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def user_id(auth, name: str) -> int:
    return auth.user(name)["id"]


# --- the catalogue -------------------------------------------------------------------------------------------

def test_the_catalogue_holds_forty_categories_forty_whistle_matters_and_the_calendar(client, auth):
    headers = auth.headers("officer1")
    categories = ok(client.get("/api/v1/case-categories", headers=headers), 200)
    names = {c["name"] for c in categories}
    assert len(categories) >= 40
    assert {"私搭乱建", "占用耕地", "垃圾乱堆乱放", "乱砍滥伐林木", "占道经营", "餐饮油烟", "违规设置户外广告", "井盖缺失"} <= names
    manhole = next(c for c in categories if c["name"] == "井盖缺失")
    assert (manhole["respond_minutes"], manhole["handle_minutes"], manhole["works_minutes"]) == (60, 360, 4320)
    matters = ok(client.get("/api/v1/whistle-matters", headers=headers), 200)
    assert len(matters) >= 40 and len({m["field"] for m in matters}) == 8
    departments = {d["code"] for d in ok(client.get("/api/v1/departments", headers=auth.headers("admin")), 200)}
    assert {m["department_code"] for m in matters} <= departments  # every matter has someone to report in
    days = {d["day"]: d for d in ok(client.get("/api/v1/calendar?year=2026", headers=headers), 200)}
    assert days["2026-02-14"]["kind"] == "work" and days["2026-01-04"]["kind"] == "work"  # a Saturday, a Sunday
    assert days["2026-10-07"]["kind"] == "rest" and not days["2026-10-07"]["provisional"]
    next_year = ok(client.get("/api/v1/calendar?year=2027", headers=headers), 200)
    assert next_year and all(d["provisional"] for d in next_year)


# --- the report ----------------------------------------------------------------------------------------------

def test_a_report_is_placed_by_the_server_and_given_its_limits(client, auth):
    case = ok(report(client, auth))
    assert (case["grid_id"], case["village_id"], case["zone_id"], case["town_id"], case["squad_id"]) == (
        122, 22, 2, 1, 1)
    assert case["status"] == "reported" and case["source"] == "supervisor" and case["open"]
    reported = datetime.fromisoformat(case["reported_at"])
    assert datetime.fromisoformat(case["respond_due_at"]) - reported == timedelta(hours=2)  # natural clock
    assert datetime.fromisoformat(case["handle_due_at"]) - reported == timedelta(hours=8)
    assert case["possible_duplicates"] == []


def test_a_retry_returns_the_case_and_another_report_under_the_same_id_is_refused(client, auth):
    first = ok(report(client, auth))
    again = ok(report(client, auth), 200)
    assert again["id"] == first["id"]
    other = report(client, auth, description="另一处问题")
    assert other.status_code == 409 and CJK.search(other.get_json()["message"])
    assert other.get_json()["details"]["fields"] == ["description"]
    assert len(ok(client.get("/api/v1/cases", headers=auth.headers("admin")), 200)) == 1


def test_ten_parallel_retries_make_one_case(app, auth):
    headers = auth.headers("officer1")
    statuses, barrier = [], threading.Barrier(10)

    def send():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/api/v1/cases", headers=headers, json={
            "client_id": "race-0001", "category": "JMZX-01", "lon": SQUAD1[0], "lat": SQUAD1[1]}).status_code)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 9 + [201]
    assert len(app.test_client().get("/api/v1/cases", headers=auth.headers("admin")).get_json()) == 1


def test_a_report_outside_every_town_is_a_400_saying_what_to_do(client, auth):
    r = report(client, auth, user="officer1", at=(121.47, 31.23))
    assert r.status_code == 400 and r.get_json()["code"] == "case_outside_area"
    assert "定位" in r.get_json()["message"]


def test_a_report_names_unknown_categories_and_foreign_evidence(client, auth, photo):
    assert report(client, auth, category="NO-SUCH").get_json()["code"] == "case_category_unknown"
    someone_elses = evidence(client, auth, "officer6", photo)
    r = report(client, auth, user="officer1", evidence=[someone_elses])
    assert r.status_code == 400 and r.get_json()["code"] == "case_evidence_unknown"
    assert ok(client.get("/api/v1/cases", headers=auth.headers("admin")), 200) == []


def test_possible_duplicates_are_open_cases_of_the_category_nearby_nearest_first(client, auth, photo):
    shot = evidence(client, auth, "officer1", photo)
    first = ok(report(client, auth, user="officer1", client_id="dup-first", evidence=[shot]))
    near = (SQUAD1[0] + 0.001, SQUAD1[1])  # about 88 m east
    ok(report(client, auth, user="officer1", client_id="dup-other-kind", category="JMZX-01", at=near))
    second = ok(report(client, auth, user="officer2", client_id="dup-second", at=near))
    [dup] = second["possible_duplicates"]
    assert dup["id"] == first["id"] and 80 < dup["distance_m"] < 95
    assert dup["photo_url"] == f"/api/v1/evidence/{shot}/files/display"
    # before sending: the same answer, for a position the phone has
    nearby = ok(client.get(f"/api/v1/cases/nearby?category=SRHJ-01&lon={near[0]}&lat={near[1]}",
                           headers=auth.headers("officer3")), 200)
    assert [n["id"] for n in nearby] == [second["id"], first["id"]]
    # a supervisor's radius is 250 m: 400 m away is another matter for them, not for an officer
    far = (SQUAD1[0] + 0.0046, SQUAD1[1])
    assert ok(client.get(f"/api/v1/cases/nearby?category=SRHJ-01&lon={far[0]}&lat={far[1]}",
                         headers=auth.headers("supervisor17")), 200) == []
    assert len(ok(client.get(f"/api/v1/cases/nearby?category=SRHJ-01&lon={far[0]}&lat={far[1]}",
                             headers=auth.headers("officer3")), 200)) == 2


# --- the cycle -----------------------------------------------------------------------------------------------

def test_the_whole_cycle_by_each_role_leaves_a_timeline(client, auth, photo):
    before = evidence(client, auth, "supervisor17", photo, key="before")
    case = ok(report(client, auth, evidence=[before]))
    cid, officer1 = case["id"], user_id(auth, "officer1")
    ok(act(client, auth, "leader1", cid, "accept", lon=SQUAD1[0], lat=SQUAD1[1]))
    ok(act(client, auth, "leader1", cid, "dispatch", assignee_id=officer1, note="请今天处理"))
    assert ok(client.get(f"/api/v1/cases?assignee={officer1}&status=dispatched", headers=auth.headers("officer1")),
              200)[0]["id"] == cid
    ok(act(client, auth, "officer1", cid, "acknowledge", lon=SQUAD1[0], lat=SQUAD1[1]))
    after = evidence(client, auth, "officer1", photo, key="after")
    handled = ok(act(client, auth, "officer1", cid, "handle", evidence=[after], note="已清运"))
    assert handled["data"]["in_time"] is True and "flags" not in handled["data"]
    ok(act(client, auth, "supervisor17", cid, "verify", passed=True, lon=SQUAD1[0], lat=SQUAD1[1]))
    closed = ok(act(client, auth, "leader1", cid, "close"))
    assert closed["to_status"] == "closed" and closed["data"]["in_time"] is True
    detail = ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers("supervisor17")), 200)
    assert [(a["action"], a["to_status"]) for a in detail["timeline"]] == [
        ("report", "reported"), ("accept", "accepted"), ("dispatch", "dispatched"), ("acknowledge", "acknowledged"),
        ("handle", "handled"), ("verify", "verified"), ("close", "closed")]
    assert all(a["actor_name"] for a in detail["timeline"]) and detail["timeline"][1]["lon"] == SQUAD1[0]
    assert {(e["evidence_id"], e["stage"]) for e in detail["evidence"]} == {(before, "before"), (after, "after")}
    assert detail["status"] == "closed" and not detail["open"] and detail["close_conditions"]
    # the reporter sees the handler's "after" photo of their case
    assert client.get(f"/api/v1/evidence/{after}/files/thumbnail", headers=auth.headers("supervisor17")).status_code == 200


def test_a_retried_action_is_applied_once(client, auth):
    cid = ok(report(client, auth))["id"]
    first = ok(act(client, auth, "leader1", cid, "accept", client_id="act-0001"))
    again = ok(act(client, auth, "leader1", cid, "accept", client_id="act-0001"), 200)
    assert again["id"] == first["id"]
    timeline = ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers("leader1")), 200)["timeline"]
    assert [a["action"] for a in timeline] == ["report", "accept"]


@pytest.mark.parametrize("user, action, fields, status, code", [
    ("officer1", "accept", {}, 403, "case_actor_leader"),
    ("supervisor17", "dispatch", {"squad_id": 1}, 403, "case_actor_leader"),
    ("leader1", "close", {}, 409, "case_move_not_allowed"),
    ("leader1", "handle", {}, 409, "case_move_not_allowed"),
    ("leader1", "reject", {}, 400, "validation_error"),
    ("leader2", "accept", {}, 404, "case_not_found"),  # another squad's case: not even there
    ("dept1", "accept", {}, 404, "case_not_found"),
])
def test_forbidden_moves_give_a_reason_and_change_nothing(client, auth, user, action, fields, status, code):
    cid = ok(report(client, auth))["id"]
    r = act(client, auth, user, cid, action, **fields)
    assert r.status_code == status and r.get_json()["code"] == code, r.get_json()
    assert CJK.search(r.get_json()["message"])
    case = ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers("admin")), 200)
    assert case["status"] == "reported" and len(case["timeline"]) == 1


def test_a_leader_cannot_dispatch_to_another_squad_but_the_centre_can(client, auth):
    cid = ok(report(client, auth))["id"]
    ok(act(client, auth, "leader1", cid, "accept"))
    officer6 = user_id(auth, "officer6")
    r = act(client, auth, "leader1", cid, "dispatch", assignee_id=officer6)
    assert r.status_code == 403 and r.get_json()["code"] == "case_dispatch_other_squad"
    ok(act(client, auth, "commander1", cid, "dispatch", assignee_id=officer6))
    assert ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers("officer6")), 200)["squad_id"] == 2


def test_an_after_photo_far_from_the_spot_is_flagged(client, auth, photo):
    cid = ok(report(client, auth))["id"]
    ok(act(client, auth, "leader1", cid, "accept"))
    ok(act(client, auth, "leader1", cid, "dispatch", assignee_id=user_id(auth, "officer1")))
    ok(act(client, auth, "officer1", cid, "acknowledge"))
    elsewhere = evidence(client, auth, "officer1", photo, at=(SQUAD1[0] + 0.001, SQUAD1[1]))  # ~88 m off
    r = act(client, auth, "officer1", cid, "handle")
    assert r.status_code == 400 and r.get_json()["code"] == "case_after_photo_required"
    handled = ok(act(client, auth, "officer1", cid, "handle", evidence=[elsewhere]))
    assert handled["data"]["flags"] == ["after_photo_far"] and handled["data"]["far_evidence_ids"] == [elsewhere]


def test_a_failed_verification_sends_it_back_to_the_handler(client, auth, photo):
    cid = ok(report(client, auth))["id"]
    ok(act(client, auth, "leader1", cid, "accept"))
    ok(act(client, auth, "leader1", cid, "dispatch", assignee_id=user_id(auth, "officer1")))
    ok(act(client, auth, "officer1", cid, "acknowledge"))
    ok(act(client, auth, "officer1", cid, "handle", evidence=[evidence(client, auth, "officer1", photo)]))
    r = act(client, auth, "supervisor1", cid, "verify", passed=False)  # another village's supervisor
    assert r.status_code == 404
    back = ok(act(client, auth, "supervisor17", cid, "verify", passed=False, note="垃圾仍在"))
    assert back["to_status"] == "acknowledged"
    case = ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers("leader1")), 200)
    assert case["rework_count"] == 1 and case["handled_at"] is None


# --- whistles ------------------------------------------------------------------------------------------------

def test_a_whistle_reaches_only_its_department_which_reports_in_and_handles(client, auth, photo):
    cid = ok(report(client, auth, user="officer1", category="SZSS-01", description="井盖缺失"))["id"]
    ok(act(client, auth, "leader1", cid, "accept"))
    whistled = ok(act(client, auth, "leader1", cid, "whistle", matter="WH-ZJJ-06"))
    assert whistled["to_status"] == "whistled"
    due = datetime.fromisoformat(whistled["data"]["report_in_due_at"])
    assert timedelta(minutes=29) < due - datetime.fromisoformat(whistled["at"]) <= timedelta(minutes=30)
    liaison = "dept5"  # the demo's fifth department is 县住房和城乡建设局 (ZJJ): backend/demo/people.py
    other = "dept1" if liaison != "dept1" else "dept2"
    assert [c["id"] for c in ok(client.get("/api/v1/cases", headers=auth.headers(liaison)), 200)] == [cid]
    assert ok(client.get("/api/v1/cases", headers=auth.headers(other)), 200) == []
    assert act(client, auth, other, cid, "acknowledge").status_code == 404
    assert act(client, auth, "officer1", cid, "acknowledge").get_json()["code"] == "case_actor_handler"
    reported_in = ok(act(client, auth, liaison, cid, "acknowledge", needs_works=True))
    assert reported_in["data"]["in_time"] == {"respond": True, "report_in": True}
    case = ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers(liaison)), 200)
    assert datetime.fromisoformat(case["handle_due_at"]) - datetime.fromisoformat(case["reported_at"]) == timedelta(
        days=3)  # with works: the third tier
    ok(act(client, auth, liaison, cid, "handle", evidence=[evidence(client, auth, liaison, photo)]))
    ok(act(client, auth, "officer1", cid, "verify", passed=True))
    ok(act(client, auth, "leader1", cid, "close"))


def test_a_matter_not_on_the_whistle_list_cannot_be_whistled(client, auth):
    cid = ok(report(client, auth, category="SRHJ-01"))["id"]  # 垃圾乱堆乱放: the squad's own work
    ok(act(client, auth, "leader1", cid, "accept"))
    r = act(client, auth, "leader1", cid, "whistle", matter="WH-ZJJ-06")
    assert r.status_code == 409 and r.get_json()["code"] == "case_not_whistleable"
    assert "派遣" in r.get_json()["message"]


# --- exception flows -----------------------------------------------------------------------------------------

def _dispatched(client, auth, **report_fields) -> int:
    cid = ok(report(client, auth, **report_fields))["id"]
    ok(act(client, auth, "leader1", cid, "accept"))
    ok(act(client, auth, "leader1", cid, "dispatch", assignee_id=user_id(auth, "officer1")))
    return cid


def test_an_extension_asked_by_the_handler_waits_for_the_leader(client, auth):
    cid = _dispatched(client, auth)
    due = ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers("officer1")), 200)["handle_due_at"]
    asked = ok(act(client, auth, "officer1", cid, "extend", minutes=120, reason="需等待清运车辆"))
    assert asked["data"]["requested"] is True
    case = ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers("leader1")), 200)
    assert case["pending"]["action"] == "extend" and case["handle_due_at"] == due  # nothing moved yet
    assert act(client, auth, "officer1", cid, "extend", approve=True).get_json()["code"] == "case_approval_by_leader"
    assert act(client, auth, "officer1", cid, "extend", minutes=60, reason="再申请").status_code == 409
    ok(act(client, auth, "leader1", cid, "extend", approve=True))
    case = ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers("leader1")), 200)
    assert case["pending"] is None and case["extension_count"] == 1
    assert datetime.fromisoformat(case["handle_due_at"]) - datetime.fromisoformat(due) == timedelta(hours=2)


def test_a_refused_request_changes_nothing_but_is_on_the_timeline(client, auth):
    cid = _dispatched(client, auth)
    ok(act(client, auth, "officer1", cid, "return", reason="不属于本中队辖区"))
    refused = ok(act(client, auth, "leader1", cid, "return", approve=False))
    assert refused["data"]["approved"] is False and refused["to_status"] == "dispatched"
    case = ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers("leader1")), 200)
    assert case["status"] == "dispatched" and case["assignee_id"] == user_id(auth, "officer1")


def test_a_wrong_dispatch_is_returned_and_dispatched_again(client, auth):
    cid = _dispatched(client, auth)
    ok(act(client, auth, "officer1", cid, "return", reason="派错人了"))
    returned = ok(act(client, auth, "leader1", cid, "return", approve=True))
    assert returned["to_status"] == "accepted"
    case = ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers("leader1")), 200)
    assert case["assignee_id"] is None and case["status"] == "accepted"
    again = ok(act(client, auth, "leader1", cid, "dispatch", assignee_id=user_id(auth, "officer2")))
    assert again["to_status"] == "dispatched"
    assert act(client, auth, "officer1", cid, "acknowledge").get_json()["code"] == "case_actor_handler"
    ok(act(client, auth, "officer2", cid, "acknowledge"))


def test_a_parked_case_stops_its_clock_and_resumes_with_the_time_it_had(app, client, auth):
    cid = _dispatched(client, auth)
    before = ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers("leader1")), 200)
    parked = ok(act(client, auth, "leader1", cid, "park", reason="待汛期结束后处理"))
    assert parked["to_status"] == "parked" and parked["data"]["approved"] is True
    remaining = parked["data"]["remaining_minutes"]["handle"]
    # a parked case is never overdue, however long it waits
    assert overdue.flags_of(_case(app, cid), datetime.now(UTC) + timedelta(days=30)) == []
    resumed = ok(act(client, auth, "leader1", cid, "resume"))
    assert resumed["to_status"] == "dispatched"
    after = ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers("leader1")), 200)
    moved = datetime.fromisoformat(after["handle_due_at"]) - datetime.fromisoformat(resumed["at"])
    assert abs(moved.total_seconds() / 60 - remaining) < 1.0
    assert after["handle_due_at"] >= before["handle_due_at"]


def _case(app, cid):
    from backend.models import Case

    with app.app_context():
        case = get_session().get(Case, cid)
        get_session().expunge(case)
        return case


def test_a_duplicate_merged_into_its_original_keeps_its_reporter_informed(client, auth, photo):
    original = ok(report(client, auth, user="officer1", client_id="orig-0001"))["id"]
    shot = evidence(client, auth, "supervisor17", photo)
    duplicate = ok(report(client, auth, client_id="dupl-0001", evidence=[shot]))
    assert [d["id"] for d in duplicate["possible_duplicates"]] == [original]
    merged = ok(act(client, auth, "leader1", duplicate["id"], "merge", into=original))
    assert merged["to_status"] == "merged"
    case = ok(client.get(f"/api/v1/cases/{original}", headers=auth.headers("supervisor17")), 200)
    assert case["co_reporter_ids"] == [user_id(auth, "supervisor17")]
    assert shot in [e["evidence_id"] for e in case["evidence"]] and case["timeline"][-1]["action"] == "merge"
    assert ok(client.get(f"/api/v1/cases/{duplicate['id']}", headers=auth.headers("admin")), 200)[
        "merged_into_id"] == original


# --- overdue and escalation ----------------------------------------------------------------------------------

def test_overdue_limits_are_flagged_and_escalated_once(app, client, auth):
    long_ago = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    cid = ok(report(client, auth, reported_at=long_ago))["id"]  # an offline report, sent 3 hours late
    fresh = ok(report(client, auth, client_id="case-fresh"))["id"]
    listed = ok(client.get("/api/v1/cases?overdue=true", headers=auth.headers("leader1")), 200)
    assert [c["id"] for c in listed] == [cid] and listed[0]["overdue"] == ["respond"]
    assert [c["id"] for c in ok(client.get("/api/v1/cases?overdue=false", headers=auth.headers("leader1")),
                                200)] == [fresh]
    with app.app_context():
        session = get_session()
        assert overdue.sweep(session) == 1
        session.commit()
        assert overdue.sweep(session) == 0
        assert overdue.sweep(session, datetime.now(UTC) + timedelta(hours=6)) == 2  # both handle limits pass
        session.commit()
    timeline = ok(client.get(f"/api/v1/cases/{cid}", headers=auth.headers("leader1")), 200)["timeline"]
    escalations = [a for a in timeline if a["action"] == "escalate"]
    assert [e["data"]["overdue"] for e in escalations] == [["respond"], ["handle"]]
    assert escalations[0]["actor_id"] is None


# --- who sees what -------------------------------------------------------------------------------------------

VIEWERS = ("admin", "commander1", "leader1", "officer1", "supervisor17", "leader4", "officer6", "supervisor1",
           "dept1")
SEES = {  # a supervisor17's report in squad 1's village 22, and an officer16's report in squad 4's village 6
    "squad1": {"admin", "commander1", "leader1", "officer1", "supervisor17"},
    "squad4": {"admin", "commander1", "leader4", "supervisor1"},
}


@pytest.mark.parametrize("viewer", VIEWERS)
def test_who_sees_which_case_and_its_evidence(client, auth, photo, viewer):
    shot1 = evidence(client, auth, "supervisor17", photo, key="m1")
    shot4 = evidence(client, auth, "officer16", photo, at=SQUAD4, key="m4")
    cases = {"squad1": ok(report(client, auth, client_id="matrix-01", evidence=[shot1]))["id"],
             "squad4": ok(report(client, auth, user="officer16", client_id="matrix-04", at=SQUAD4,
                                 evidence=[shot4]))["id"]}
    shots = {"squad1": shot1, "squad4": shot4}
    listed = {c["id"] for c in ok(client.get("/api/v1/cases", headers=auth.headers(viewer)), 200)}
    mapped = {f["id"] for f in ok(client.get("/api/v1/cases/map", headers=auth.headers(viewer)), 200)["features"]}
    for name, cid in cases.items():
        sees = viewer in SEES[name]
        assert (cid in listed) is sees and (cid in mapped) is sees, (viewer, name)
        assert client.get(f"/api/v1/cases/{cid}", headers=auth.headers(viewer)).status_code == (200 if sees else 404)
        photo_status = client.get(f"/api/v1/evidence/{shots[name]}/files/display", headers=auth.headers(viewer))
        assert photo_status.status_code == (200 if sees else 404), (viewer, name)


def test_the_map_is_geojson_with_status_and_overdue(client, auth):
    ok(report(client, auth))
    collection = ok(client.get("/api/v1/cases/map?bbox=115.5,38.0,115.7,38.2", headers=auth.headers("leader1")), 200)
    [feature] = collection["features"]
    assert collection["type"] == "FeatureCollection" and feature["geometry"]["coordinates"] == list(SQUAD1)
    assert feature["properties"]["status"] == "reported" and feature["properties"]["overdue"] == []
    assert ok(client.get("/api/v1/cases/map?bbox=116,39,117,40", headers=auth.headers("leader1")), 200)[
        "features"] == []


# --- the inbox -----------------------------------------------------------------------------------------------

def _needs(client, auth, user) -> dict[int, str]:
    return {i["case_id"]: i["need"] for i in ok(client.get("/api/v1/inbox", headers=auth.headers(user)), 200)}


def test_the_inbox_shows_each_person_the_step_waiting_for_them(client, auth, photo):
    cid = ok(report(client, auth))["id"]
    assert _needs(client, auth, "leader1") == {cid: "accept"} and _needs(client, auth, "leader4") == {}
    ok(act(client, auth, "leader1", cid, "accept"))
    assert _needs(client, auth, "leader1") == {cid: "dispatch"}
    ok(act(client, auth, "leader1", cid, "dispatch", assignee_id=user_id(auth, "officer1")))
    assert _needs(client, auth, "officer1") == {cid: "acknowledge"} and _needs(client, auth, "officer2") == {}
    assert _needs(client, auth, "leader1") == {}
    ok(act(client, auth, "officer1", cid, "acknowledge"))
    ok(act(client, auth, "officer1", cid, "extend", minutes=60, reason="等待车辆"))
    assert _needs(client, auth, "leader1") == {cid: "approve"} and _needs(client, auth, "officer1") == {cid: "handle"}
    ok(act(client, auth, "leader1", cid, "extend", approve=True))
    ok(act(client, auth, "officer1", cid, "handle", evidence=[evidence(client, auth, "officer1", photo)]))
    assert _needs(client, auth, "supervisor17") == {cid: "verify"} and _needs(client, auth, "supervisor1") == {}
    ok(act(client, auth, "supervisor17", cid, "verify", passed=True))
    assert _needs(client, auth, "leader1") == {cid: "close"}
    ok(act(client, auth, "leader1", cid, "close"))
    assert _needs(client, auth, "leader1") == {} and _needs(client, auth, "supervisor17") == {}


def test_the_inbox_puts_what_is_overdue_first_and_reaches_the_whistled_department(client, auth):
    fresh = ok(report(client, auth, user="officer1", client_id="inbox-new", category="SZSS-01"))["id"]
    late = ok(report(client, auth, user="officer1", client_id="inbox-late",
                     reported_at=(datetime.now(UTC) - timedelta(hours=5)).isoformat()))["id"]
    items = ok(client.get("/api/v1/inbox", headers=auth.headers("leader1")), 200)
    assert [i["case_id"] for i in items] == [late, fresh] and items[0]["overdue"] == ["respond"]
    ok(act(client, auth, "leader1", fresh, "accept"))
    ok(act(client, auth, "leader1", fresh, "whistle", matter="WH-ZJJ-06"))
    [item] = ok(client.get("/api/v1/inbox", headers=auth.headers("dept5")), 200)
    assert item["case_id"] == fresh and item["need"] == "acknowledge" and item["due_soon"]
    assert _needs(client, auth, "dept1") == {}


def test_a_phone_names_its_photos_by_their_client_ids(client, auth, photo):
    headers = auth.headers("supervisor17")
    ids = [ok(post_evidence(client, headers, f"phone-photo-{n}", photo, lon=SQUAD1[0], lat=SQUAD1[1]))["id"]
           for n in range(3)]
    case = ok(report(client, auth, evidence_client_ids=[f"phone-photo-{n}" for n in range(3)]))
    detail = ok(client.get(f"/api/v1/cases/{case['id']}", headers=headers), 200)
    assert [e["evidence_id"] for e in detail["evidence"]] == ids
    assert ok(report(client, auth, evidence_client_ids=[f"phone-photo-{n}" for n in range(3)]), 200)["id"] == case["id"]
    other = ok(post_evidence(client, auth.headers("officer1"), "officer-photo-1", photo))["id"]
    assert other
    refused = report(client, auth, client_id="case-0002", evidence_client_ids=["officer-photo-1"])
    assert refused.status_code == 400 and refused.get_json()["code"] == "case_evidence_unknown"


def test_an_after_photo_sent_offline_is_named_by_its_client_id(client, auth, photo):
    cid = _dispatched(client, auth)
    ok(act(client, auth, "officer1", cid, "acknowledge"))
    shot = ok(post_evidence(client, auth.headers("officer1"), "after-photo-1", photo, lon=SQUAD1[0], lat=SQUAD1[1]))
    handled = ok(act(client, auth, "officer1", cid, "handle", evidence_client_ids=["after-photo-1"],
                     client_id="handle-0001"))
    assert handled["evidence_ids"] == [shot["id"]]


@pytest.mark.parametrize("bbox", ["63369,-15,735728719,.", "1,2,3", "nan,1,2,3", "116,39,115,40", "a,b,c,d"])
def test_a_map_box_that_is_not_one_is_a_400_saying_how_to_write_it(client, auth, bbox):
    r = client.get("/api/v1/cases/map", query_string={"bbox": bbox}, headers=auth.headers("leader1"))
    assert r.status_code == 400 and "最小经度" in r.get_json()["details"]["fields"]["bbox"][0]


# --- the calendar ------------------------------------------------------------------------------------------------

def test_an_admin_replaces_next_years_provisional_calendar_with_the_notice(client, auth):
    provisional = ok(client.get("/api/v1/calendar", query_string={"year": 2027}, headers=auth.headers("leader1")), 200)
    assert provisional and all(d["provisional"] for d in provisional)
    notice = {"days": [  # a notice's shape: the holiday's days off, and the weekend days worked to make up for it
        {"day": "2027-01-01", "kind": "rest", "name": "元旦"},
        {"day": "2027-02-05", "kind": "rest", "name": "春节"}, {"day": "2027-02-08", "kind": "rest", "name": "春节"},
        {"day": "2027-02-13", "kind": "work", "name": "春节调休"},
        {"day": "2026-12-26", "kind": "work", "name": "元旦调休"},  # a notice may move the December before
    ]}
    refused = client.put("/api/v1/calendar/2027", headers=auth.headers("leader1"), json=notice)
    assert refused.status_code == 403
    bad = client.put("/api/v1/calendar/2027", headers=auth.headers("admin"), json={"days": [
        {"day": "2028-01-01", "kind": "rest", "name": "元旦"}, {"day": "2027-02-10", "kind": "work", "name": "调休"},
        {"day": "2027-02-06", "kind": "rest", "name": "春节"}]})
    assert bad.status_code == 400 and set(bad.get_json()["details"]["fields"]) == {"days.0.day", "days.1.kind",
                                                                                  "days.2.kind"}
    assert ok(client.get("/api/v1/calendar", query_string={"year": 2027}, headers=auth.headers("leader1")),
              200) == provisional  # nothing changed by the refused ones
    replaced = ok(client.put("/api/v1/calendar/2027", headers=auth.headers("admin"), json=notice), 200)
    assert [(d["day"], d["kind"], d["provisional"]) for d in replaced] == [
        ("2026-12-26", "work", False), ("2027-01-01", "rest", False), ("2027-02-05", "rest", False), ("2027-02-08", "rest", False),
        ("2027-02-13", "work", False)]
    assert ok(client.get("/api/v1/calendar", query_string={"year": 2027}, headers=auth.headers("officer1")),
              200) == replaced[1:]
    assert ok(client.get("/api/v1/calendar", query_string={"year": 2026}, headers=auth.headers("officer1")), 200)
    from backend.services.cases import clock
    with client.application.app_context():
        calendar = clock.load_calendar(get_session())
    saturday = datetime(2027, 2, 13).date()
    assert calendar.is_working_day(saturday) and not calendar.is_working_day(datetime(2027, 2, 8).date())
