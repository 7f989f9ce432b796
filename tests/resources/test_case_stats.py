"""The 数字城管 ratios, checked against counts made by hand on a fixture of seven cases with known outcomes."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .test_cases import SQUAD1, act, evidence, ok, report, user_id


@pytest.fixture
def seven_cases(client, auth, shared_data):
    photo = (shared_data / "photos" / "exif-samples__gps_DSCN0010.jpg").read_bytes()
    officer1 = user_id(auth, "officer1")

    def dispatched(client_id, **fields):
        cid = ok(report(client, auth, user="officer1", client_id=client_id, **fields))["id"]
        ok(act(client, auth, "leader1", cid, "accept"))
        ok(act(client, auth, "leader1", cid, "dispatch", assignee_id=officer1))
        ok(act(client, auth, "officer1", cid, "acknowledge"))
        return cid

    def handle(cid, key):
        ok(act(client, auth, "officer1", cid, "handle", evidence=[evidence(client, auth, "officer1", photo, key=key)]))

    c1 = dispatched("stats-c1")  # closed in time
    handle(c1, "c1")
    ok(act(client, auth, "leader1", c1, "verify", passed=True))
    ok(act(client, auth, "leader1", c1, "close"))
    c2 = ok(report(client, auth, user="officer1", client_id="stats-c2"))["id"]  # not accepted (rejected)
    ok(act(client, auth, "leader1", c2, "reject", reason="不属于城管职责"))
    c3 = dispatched("stats-c3")  # reworked once, then closed in time
    handle(c3, "c3a")
    ok(act(client, auth, "leader1", c3, "verify", passed=False))
    handle(c3, "c3b")
    ok(act(client, auth, "leader1", c3, "verify", passed=True))
    ok(act(client, auth, "leader1", c3, "close"))
    three_days_ago = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    c4 = dispatched("stats-c4", reported_at=three_days_ago)  # its 8-hour limit long passed, not handled
    c5 = ok(report(client, auth, user="officer1", client_id="stats-c5", category="SZSS-01"))["id"]  # whistled
    ok(act(client, auth, "leader1", c5, "accept"))
    ok(act(client, auth, "leader1", c5, "whistle", matter="WH-ZJJ-06"))
    ok(act(client, auth, "dept5", c5, "acknowledge"))  # reported in at once: in time
    ok(act(client, auth, "leader1", c5, "extend", minutes=600, reason="需调配抢修队"))
    c6 = ok(report(client, auth, user="supervisor17", client_id="stats-c6", at=(SQUAD1[0] + 0.0002, SQUAD1[1])))["id"]
    ok(act(client, auth, "leader1", c6, "merge", into=c4))  # received, then folded into c4
    c7 = ok(report(client, auth, user="officer1", client_id="stats-c7"))["id"]  # waiting to be accepted
    return {"c1": c1, "c3": c3, "c4": c4, "c5": c5, "c7": c7}


def test_each_ratio_matches_the_counts_made_by_hand(client, auth, seven_cases):
    figures = ok(client.get("/api/v1/stats/cases", headers=auth.headers("leader1")), 200)["total"]
    assert figures["counts"] == {
        "received": 7, "accepted": 4, "dispatched": 4, "due_to_close": 3, "closed": 2, "closed_in_time": 2,
        "due_to_handle": 3, "handled_in_time": 2, "reworked": 1, "extended": 0, "whistled": 1, "whistles_due": 1,
        "whistles_in_time": 1}
    assert figures["ratios"] == {
        "acceptance_rate": round(4 / 7, 4), "dispatch_rate": 1.0, "close_rate": round(2 / 3, 4),
        "close_in_time_rate": round(2 / 3, 4), "handle_in_time_rate": round(2 / 3, 4),
        "rework_rate": round(1 / 3, 4), "extension_rate": 0.0, "whistle_response_rate": 1.0}
    assert figures["median_minutes"]["respond"] is not None and figures["median_minutes"]["close"] < 5


def test_figures_by_category_and_the_scope_of_the_caller(client, auth, seven_cases):
    by_category = ok(client.get("/api/v1/stats/cases?by=category", headers=auth.headers("commander1")), 200)
    groups = {g["name"]: g for g in by_category["groups"]}
    assert set(groups) == {"垃圾乱堆乱放", "井盖缺失"}
    assert groups["井盖缺失"]["counts"]["received"] == 1 and groups["井盖缺失"]["ratios"]["whistle_response_rate"] == 1.0
    assert groups["垃圾乱堆乱放"]["ratios"]["whistle_response_rate"] is None  # nothing to divide by: no figure
    other_squad = ok(client.get("/api/v1/stats/cases", headers=auth.headers("leader4")), 200)["total"]
    assert other_squad["counts"]["received"] == 0 and other_squad["ratios"]["acceptance_rate"] is None


def test_a_period_counts_only_the_cases_reported_in_it(client, auth, seven_cases):
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    recent = ok(client.get("/api/v1/stats/cases", query_string={"reported_from": since},
                           headers=auth.headers("leader1")), 200)["total"]["counts"]
    assert recent["received"] == 6  # c4 was reported three days ago


def test_figures_by_day_week_and_month_of_the_report_in_beijing_time(client, auth, seven_cases):
    from backend.services.cases.stats import period_of

    now = datetime.now(UTC)
    for period in ("day", "week", "month"):
        figures = ok(client.get("/api/v1/stats/cases", query_string={"by": period},
                                headers=auth.headers("leader1")), 200)
        groups = figures["groups"]
        expected = {period_of(now, period): 6}  # six reported now, c4 three days ago
        three_days_ago = period_of(now - timedelta(days=3), period)
        expected[three_days_ago] = expected.get(three_days_ago, 0) + 1
        assert {(g["key"], g["name"]): g["counts"]["received"] for g in groups} == expected, period
        assert [g["key"] for g in groups] == sorted(g["key"] for g in groups)  # in time order
        assert sum(g["counts"]["received"] for g in groups) == figures["total"]["counts"]["received"] == 7
    day = period_of(datetime(2026, 12, 31, 16, 30, tzinfo=UTC), "day")
    assert day == (20270101, "2027-01-01")  # half past midnight in Beijing is the next day
    assert period_of(datetime(2027, 1, 1, 12, tzinfo=UTC), "week") == (202653, "2026-W53")  # ISO: 1 January 2027 is in 2026's last week
