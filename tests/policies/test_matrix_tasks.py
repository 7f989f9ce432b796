"""The access matrix of plans (排班), reads: every role × tasks inside/outside its reach × one, lists, filters and
/me/tasks. (Creating and deleting tasks: test_matrix_writes.py.)

Tasks are personal like positions (backend/policies/patrol.py scoped_tasks): an officer reads their own, a squad
leader their squad's, commanders and admins all, supervisors and liaisons none. Outside that reach a task is 404
and answered as one that does not exist; lists and their totals leave it out. /me/tasks is the caller's own only.
"""
from __future__ import annotations

import json

import pytest

from .conftest import DAY, OWNERS, ROLES

# Whose tasks each role reads (the beat: officer1's by leader1, officer2's by an admin, officer6's by leader2).
TASKS_SEEN = {
    "admin": {"officer1", "officer2", "officer6"},  # everything
    "commander1": {"officer1", "officer2", "officer6"},  # everything
    "leader1": {"officer1", "officer2"},  # squad 1's, whoever planned them
    "officer1": {"officer1"},  # own only, not a squad mate's
    "officer2": {"officer2"},
    "supervisor1": set(),
    "dept1": set(),
    "leader2": {"officer6"},  # squad 2's
    "officer6": {"officer6"},
}
OWNER_SQUAD = {"officer1": "squad1", "officer2": "squad1", "officer6": "squad2"}


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("role", ROLES)
def test_task_reads(shared_app, shared_auth, beat, role, owner):
    client = shared_app.test_client()
    response = client.get(f"/api/v1/tasks/{beat.task_id(owner)}", headers=shared_auth.headers(role))
    if owner not in TASKS_SEEN[role]:
        nobody = client.get("/api/v1/tasks/2000000000", headers=shared_auth.headers(role))
        assert response.status_code == nobody.status_code == 404 and response.get_json() == nobody.get_json()
        return
    assert response.status_code == 200
    task = response.get_json()
    assert task["officer_id"] == beat.user[owner] and task["grid_ids"] == sorted(beat.walked[owner])
    # Progress is the task officer's coverage whoever reads it: every grid walked once.
    assert [g["visits"] for g in task["progress"]["grids"]] == [1] * len(beat.walked[owner])


def _filters(beat):
    return {
        "none": ("", set(OWNERS)),
        "date": (f"date={DAY}", set(OWNERS)),
        "date-before": ("date=2026-11-19", set()),
        "period": ("from=2026-11-01&to=2026-11-30", set(OWNERS)),
        "period-after": ("from=2026-11-21", set()),
        "officer1": (f"officer={beat.user['officer1']}", {"officer1"}),
        "officer2": (f"officer={beat.user['officer2']}", {"officer2"}),
        "officer6": (f"officer={beat.user['officer6']}", {"officer6"}),
        "squad1": (f"squad={beat.squad['squad1']}", {"officer1", "officer2"}),
        "squad2": (f"squad={beat.squad['squad2']}", {"officer6"}),
        "squad2-officer1": (f"squad={beat.squad['squad2']}&officer={beat.user['officer1']}", set()),
    }


FILTERS = ["none", "date", "date-before", "period", "period-after", "officer1", "officer2", "officer6", "squad1",
           "squad2", "squad2-officer1"]


@pytest.mark.parametrize("filter_", FILTERS)
@pytest.mark.parametrize("role", ROLES)
def test_task_lists(shared_app, shared_auth, beat, role, filter_):
    query, matching = _filters(beat)[filter_]
    response = shared_app.test_client().get(f"/api/v1/tasks?{query}", headers=shared_auth.headers(role))
    assert response.status_code == 200
    expected = {beat.task_id(o) for o in TASKS_SEEN[role] & matching}
    assert sorted(t["id"] for t in response.get_json()) == sorted(expected)
    assert json.loads(response.headers["X-Pagination"])["total"] == len(expected)


@pytest.mark.parametrize("day", [DAY, None, "2026-11-19"])
@pytest.mark.parametrize("role", ROLES)
def test_my_tasks_are_my_own(shared_app, shared_auth, beat, role, day):
    query = f"?date={day}" if day else ""  # no date: today, when nobody has a task
    response = shared_app.test_client().get(f"/api/v1/me/tasks{query}", headers=shared_auth.headers(role))
    assert response.status_code == 200
    mine = [beat.task_id(role)] if role in OWNERS and day == DAY else []
    assert [t["id"] for t in response.get_json()["items"]] == mine
