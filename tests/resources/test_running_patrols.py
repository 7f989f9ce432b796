"""One running patrol per officer: a second phone sees the running patrol instead of starting another; the server
ends patrols nobody ended (no batch for PATROL_IDLE_END_S, or the task's shift is over) and says why."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from backend.extensions.database import get_session
from backend.housekeeping import run_once
from backend.models import AuditEntry, Patrol

from .test_patrols import start, walk


def _count(app, officer_id: int) -> int:
    with app.app_context():
        return len(get_session().scalars(select(Patrol.id).where(Patrol.officer_id == officer_id)).all())


def test_a_second_start_shows_the_running_patrol_instead(app, client, auth):
    officer = auth.headers("officer1")
    me = auth.user("officer1")["id"]
    now = datetime.now(UTC)
    first = start(client, officer, client_id="phone-a-patrol-1", started_at=now - timedelta(minutes=20))
    assert first.status_code == 201
    before = _count(app, me)
    for lang, words in (("zh-CN", "正在进行的巡查"), ("en", "patrol running")):
        other = client.post("/api/v1/patrols", headers={**officer, "Accept-Language": lang}, json={
            "client_id": "phone-b-patrol-1", "started_at": now.isoformat()})
        assert other.status_code == 409
        body = other.get_json()
        assert body["code"] == "patrol_running" and words in body["message"]
        assert body["details"]["patrol"]["id"] == first.get_json()["id"]
        assert body["details"]["patrol"]["client_id"] == "phone-a-patrol-1"
        assert body["details"]["patrol"]["end_reason"] is None
    assert _count(app, me) == before  # nothing was created
    # The first phone's retry still gets its patrol; the second phone finds it in the list of running patrols.
    assert start(client, officer, client_id="phone-a-patrol-1").status_code == 200
    running = client.get(f"/api/v1/patrols?active=true&officer={me}", headers=officer).get_json()
    assert [p["id"] for p in running] == [first.get_json()["id"]]
    # Ended (from either phone), a new patrol starts.
    ended = client.post(f"/api/v1/patrols/{first.get_json()['id']}/end", headers=officer, json={})
    assert ended.status_code == 200 and ended.get_json()["end_reason"] == "user"
    assert start(client, officer, client_id="phone-b-patrol-1", started_at=now).status_code == 201
    # Other officers are not affected.
    assert start(client, auth.headers("officer2"), client_id="officer2-patrol-1").status_code == 201


def test_an_idle_patrol_is_ended_by_the_server_and_its_phone_is_told(app, client, auth):
    officer = auth.headers("officer1")
    now = datetime.now(UTC)
    patrol = start(client, officer, client_id="idle-patrol-0001", started_at=now - timedelta(hours=4)).get_json()
    with app.app_context():  # nothing heard from the phone for three hours
        session = get_session()
        session.execute(update(Patrol).where(Patrol.id == patrol["id"]).values(last_seen_at=now - timedelta(hours=3)))
        session.commit()
    assert run_once(app) == 1
    read = client.get(f"/api/v1/patrols/{patrol['id']}", headers=officer).get_json()
    assert read["end_reason"] == "idle"
    ended_at = datetime.fromisoformat(read["ended_at"])
    assert abs((ended_at - datetime.now(UTC)).total_seconds()) < 60
    with app.app_context():
        entry = get_session().scalars(select(AuditEntry).where(AuditEntry.action == "patrol.auto_end")).one()
        assert entry.entity_id == str(patrol["id"]) and '"idle"' in entry.summary
    assert run_once(app) == 0  # once
    # The phone comes back with fixes recorded offline: those up to the end count, later ones are off duty.
    lon, lat = 115.55, 38.10
    points = walk(lon, lat, 4, t0=ended_at - timedelta(minutes=3), step_s=90)  # -3, -1.5, 0, +1.5 min from the end
    answer = client.post(f"/api/v1/patrols/{patrol['id']}/points", headers=officer,
                         json={"batch_id": "idle-batch-0001", "points": points}).get_json()
    assert answer.get("end_reason") == "idle" and answer["ended_at"] == read["ended_at"], str(answer)
    assert answer["dropped"].get("off_duty") == 1 and answer["received"] == 4
    # A new patrol may start now.
    assert start(client, officer, client_id="after-idle-0001", started_at=now).status_code == 201


def test_a_patrol_whose_shift_is_over_ends_at_the_shift_end(app, client, auth):
    officer, leader = auth.headers("officer1"), auth.headers("leader1")
    me = auth.user("officer1")["id"]
    grid = client.get("/api/v1/areas?kind=grid&page_size=1", headers=officer).get_json()["features"][0]
    yesterday = (datetime.now(UTC) + timedelta(hours=8) - timedelta(days=1)).date().isoformat()
    task = client.post("/api/v1/tasks", headers=leader, json={
        "client_id": "shift-task-0001", "officer_id": me, "date": yesterday, "shift_start": "08:00",
        "shift_end": "12:00", "grid_ids": [grid["id"]]}).get_json()
    started = datetime.fromisoformat(task["starts_at"]) + timedelta(minutes=5)
    patrol = client.post("/api/v1/patrols", headers=officer, json={
        "client_id": "shift-patrol-001", "started_at": started.isoformat(), "task_id": task["id"]})
    assert patrol.status_code == 201, patrol.get_json()
    # The next start from this officer ends it first (as the minute's housekeeping round would).
    assert start(client, officer, client_id="next-day-patrol1", started_at=datetime.now(UTC)).status_code == 201
    read = client.get(f"/api/v1/patrols/{patrol.get_json()['id']}", headers=officer).get_json()
    assert read["end_reason"] == "shift_end" and read["ended_at"] == task["ends_at"]


@pytest.mark.parametrize("same_client_id", [True, False])
def test_parallel_starts_make_one_patrol(app, auth, same_client_id):
    """Ten phones (or ten retries) at once: one patrol. The same client id gives everyone that patrol; other
    client ids are told it is running. On PostgreSQL these race for real."""
    officer = auth.headers("officer1")
    me = auth.user("officer1")["id"]
    before = _count(app, me)
    barrier = threading.Barrier(10)
    answers: list = [None] * 10

    def go(k: int) -> None:
        client = app.test_client()
        barrier.wait()
        answers[k] = client.post("/api/v1/patrols", headers=officer, json={
            "client_id": "race-patrol-0001" if same_client_id else f"race-patrol-{k:04d}",
            "started_at": datetime.now(UTC).isoformat()})

    threads = [threading.Thread(target=go, args=(k,)) for k in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 1, [a.get_json() for a in answers]
    winner = next(a.get_json()["id"] for a in answers if a.status_code == 201)
    if same_client_id:
        assert statuses == [200] * 9 + [201] and {a.get_json()["id"] for a in answers} == {winner}
    else:
        assert statuses == [201] + [409] * 9
        assert {a.get_json()["details"]["patrol"]["id"] for a in answers if a.status_code == 409} == {winner}
    assert _count(app, me) == before + 1
