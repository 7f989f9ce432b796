"""Shared steps for the joint-inspection tests: a plan made, approved, frozen and drawn through the API."""
from __future__ import annotations

from datetime import date

from ..resources.test_evidence import post_evidence

YEAR = date.today().year


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.get_json()


def make_plan(client, auth, *, maker="leader1", client_id="plan-0001", scenario="CYD", **fields):
    body = {"client_id": client_id, "name": f"{YEAR}年餐饮店综合查一次", "enforcing_body": "示范镇人民政府",
            "task_source": f"{YEAR}年度“双随机、一公开”抽查计划", "scenario": scenario,
            "sample": {"C": {"count": 3}, "D": {"ratio": 0.5}}, "starts_on": f"{YEAR}-01-01",
            "ends_on": f"{YEAR}-12-31", **fields}
    return client.post("/api/v1/inspection-plans", headers=auth.headers(maker), json=body)


def drawn_plan(client, auth, seed="3 1 4 1 5 9 2 6", **fields):
    plan = ok(make_plan(client, auth, **fields), 201)
    ok(client.post(f"/api/v1/inspection-plans/{plan['id']}/approve", headers=auth.headers("commander1"),
                   json={"note": "同意"}))
    frozen = ok(client.post(f"/api/v1/inspection-plans/{plan['id']}/freeze", headers=auth.headers("leader1")))
    draw = ok(client.post(f"/api/v1/inspection-plans/{plan['id']}/draw", headers=auth.headers("leader1"),
                          json={"seed": seed, "seed_source": "2026-12-04 公开掷骰（8 枚）"}), 201)
    return plan, frozen, draw


def photo_id(client, auth, user: str, photo: bytes, key: str, at: tuple[float, float]) -> int:
    r = post_evidence(client, auth.headers(user), f"ins-{user}-{key}", photo, lon=at[0], lat=at[1])
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()["id"]


SIGNATURE = {"width": 320, "height": 160, "started_at": "2026-12-04T10:20:00+08:00", "strokes": [
    [{"x": 20, "y": 80, "t": 0}, {"x": 60, "y": 40, "t": 50}, {"x": 100, "y": 90, "t": 100}],
    [{"x": 130, "y": 50, "t": 400}, {"x": 180, "y": 60, "t": 450}]]}
