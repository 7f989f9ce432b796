"""The access matrix of coverage and of the audit export: every role × squad/officer filters naming itself or
others × areas inside/outside its reach, for the per-grid figures, the unvisited list and the map tiles.

Coverage (backend/policies/patrol.py coverage_filters, core.py grids_under): a squad leader reads their squad's
coverage (any officer of it), an officer only their own, commanders and admins anything; supervisors and liaisons
get 403. The grids are always those of the caller's areas; an `area` outside them is 404 (ids cannot be probed).
A filter naming a squad other than the leader's is 403; an officer naming anyone but themselves is 403, while a
squad filter of theirs is ignored (they get their own coverage). Every figure is checked per grid id: a grid
someone outside the reach walked shows as unvisited, never as covered.
"""
from __future__ import annotations

import json

import pytest

from tests.resources.test_coverage import decode_png, tile_of

from .conftest import DAY, OWNERS, ROLES

COVERED = 2  # palette index of a covered cell in a tile (1: uncovered, 0: outside the grids asked for)
ALL = set(OWNERS)
NO = 403

# role: (the grids it reads, {filter: whose coverage it gets, or 403})
COVERAGE = {
    "admin": ("town", {"": ALL, "squad=squad1": {"officer1", "officer2"}, "squad=squad2": {"officer6"},
                       "officer=officer1": {"officer1"}, "officer=officer2": {"officer2"},
                       "officer=officer6": {"officer6"}}),
    "commander1": ("town", {"": ALL, "squad=squad1": {"officer1", "officer2"}, "squad=squad2": {"officer6"},
                            "officer=officer1": {"officer1"}, "officer=officer2": {"officer2"},
                            "officer=officer6": {"officer6"}}),
    # a leader: the squad's, narrowed to one officer of it on request (an officer elsewhere: nothing)
    "leader1": ("squad1", {"": {"officer1", "officer2"}, "squad=squad1": {"officer1", "officer2"}, "squad=squad2": NO,
                           "officer=officer1": {"officer1"}, "officer=officer2": {"officer2"},
                           "officer=officer6": set()}),
    # an officer: their own, whatever the squad filter; naming someone else is refused
    "officer1": ("squad1", {"": {"officer1"}, "squad=squad1": {"officer1"}, "squad=squad2": {"officer1"},
                            "officer=officer1": {"officer1"}, "officer=officer2": NO, "officer=officer6": NO}),
    "officer2": ("squad1", {"": {"officer2"}, "squad=squad1": {"officer2"}, "squad=squad2": {"officer2"},
                            "officer=officer1": NO, "officer=officer2": {"officer2"}, "officer=officer6": NO}),
    "supervisor1": (None, dict.fromkeys(["", "squad=squad1", "squad=squad2", "officer=officer1", "officer=officer2",
                                         "officer=officer6"], NO)),
    "dept1": (None, dict.fromkeys(["", "squad=squad1", "squad=squad2", "officer=officer1", "officer=officer2",
                                   "officer=officer6"], NO)),
    "leader2": ("squad2", {"": {"officer6"}, "squad=squad1": NO, "squad=squad2": {"officer6"},
                           "officer=officer1": set(), "officer=officer2": set(), "officer=officer6": {"officer6"}}),
    "officer6": ("squad2", {"": {"officer6"}, "squad=squad1": {"officer6"}, "squad=squad2": {"officer6"},
                            "officer=officer1": NO, "officer=officer2": NO, "officer=officer6": {"officer6"}}),
}
FILTERS = ["", "squad=squad1", "squad=squad2", "officer=officer1", "officer=officer2", "officer=officer6"]
ENDPOINTS = ["coverage", "unvisited", "tile:officer1", "tile:officer2", "tile:officer6"]


def _query(beat, filter_: str) -> str:
    if not filter_:
        return ""
    key, name = filter_.split("=")
    return f"&{key}={(beat.user if key == 'officer' else beat.squad)[name]}"


def _tile_url(beat, owner: str, z: int = 16) -> str:
    x, y = tile_of(*beat.middle[owner], z)
    return f"/api/v1/coverage/tiles/{z}/{x}/{y}.png"


def _get(shared_app, shared_auth, role, url):
    return shared_app.test_client().get(url, headers=shared_auth.headers(role))


def _check_tile(response, beat, owner, grids, seen):
    assert response.status_code == 200 and response.mimetype == "image/png"
    pixels = decode_png(response.data)
    covered = (pixels == COVERED).sum()
    if owner in seen and beat.walked[owner][0] in grids:
        assert covered > 100
    else:
        assert covered == 0  # their walk is not drawn: neither as covered nor by leaving a hole
        if beat.walked[owner][0] in grids:
            assert (pixels == 1).sum() > 100  # the grid itself is there, uncovered


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("filter_", FILTERS, ids=lambda f: f or "none")
@pytest.mark.parametrize("role", ROLES)
def test_coverage_by_role_and_filter(shared_app, shared_auth, beat, role, filter_, endpoint):
    scope, table = COVERAGE[role]
    seen = table[filter_]
    query = f"from={DAY}{_query(beat, filter_)}"
    url = {"coverage": f"/api/v1/coverage?{query}",
           "unvisited": f"/api/v1/coverage/unvisited?days=3650{_query(beat, filter_)}"}
    owner = endpoint.removeprefix("tile:")
    response = _get(shared_app, shared_auth, role, url.get(endpoint) or f"{_tile_url(beat, owner)}?{query}")
    if seen == NO:
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
        return
    grids = beat.grids[scope]
    visited = set().union(*(beat.walked[o] for o in seen)) & grids
    if endpoint == "coverage":
        assert response.status_code == 200
        items = {i["grid_id"]: i for i in response.get_json()["items"]}
        assert set(items) == grids  # exactly the caller's grids
        assert {g for g, i in items.items() if i["patrols"]} == visited
        assert {g for g, i in items.items() if i["covered_ratio"] > 0} == visited
        assert {g for g, i in items.items() if i["last_visited_at"]} == visited
        assert all(items[g]["officers"] == 1 and items[g]["patrols"] == 1 for g in visited)
    elif endpoint == "unvisited":
        assert response.status_code == 200
        assert {i["grid_id"] for i in response.get_json()["items"]} == grids - visited
    else:
        _check_tile(response, beat, owner, grids, seen)


# Areas named by `area`: the squads' zones, a grid of each (the first officer1 / officer6 walked), the town,
# supervisor1's village (outside both zones), and an id that names nothing.
AREAS = ["zone:squad1", "zone:squad2", "grid:officer1", "grid:officer6", "town", "village1", "nothing"]
# role: {area: the grids it gets (a key of beat.grids, or "one", "village"), or 404/403}
AREA_REACH = {
    **{r: {"zone:squad1": "squad1", "zone:squad2": "squad2", "grid:officer1": "one", "grid:officer6": "one",
           "town": "town", "village1": "village", "nothing": "none"} for r in ("admin", "commander1")},
    # squad 1: its zone, its grids, the town (narrowed to its grids); nothing else, an unknown id alike
    **{r: {"zone:squad1": "squad1", "zone:squad2": 404, "grid:officer1": "one", "grid:officer6": 404,
           "town": "squad1", "village1": 404, "nothing": 404} for r in ("leader1", "officer1", "officer2")},
    **{r: {"zone:squad1": 404, "zone:squad2": "squad2", "grid:officer1": 404, "grid:officer6": "one",
           "town": "squad2", "village1": 404, "nothing": 404} for r in ("leader2", "officer6")},
    **{r: dict.fromkeys(AREAS, 403) for r in ("supervisor1", "dept1")},  # no coverage at all
}
TILE_OF_AREA = {"zone:squad1": "officer1", "zone:squad2": "officer6", "grid:officer1": "officer1",
                "grid:officer6": "officer6", "town": "officer6", "village1": "officer1", "nothing": "officer1"}


@pytest.fixture(scope="module")
def village1_grids(shared_app, shared_auth):
    features = _get(shared_app, shared_auth, "supervisor1", "/api/v1/areas?kind=grid").get_json()["features"]
    return {f["id"] for f in features}


def _area_id(beat, area: str) -> int:
    kind, _, name = area.partition(":")
    return {"zone": lambda: beat.zone.get(name), "grid": lambda: beat.walked.get(name, [0])[0],
            "town": lambda: beat.town, "village1": lambda: beat.village1, "nothing": lambda: 2_000_000_000}[kind]()


@pytest.mark.parametrize("endpoint", ["coverage", "unvisited", "tile"])
@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("role", ROLES)
def test_coverage_by_role_and_area(shared_app, shared_auth, beat, village1_grids, role, area, endpoint):
    reach = AREA_REACH[role][area]
    area_id = _area_id(beat, area)
    owner = TILE_OF_AREA[area]
    url = {"coverage": f"/api/v1/coverage?from={DAY}&area={area_id}",
           "unvisited": f"/api/v1/coverage/unvisited?days=3650&area={area_id}",
           "tile": f"{_tile_url(beat, owner)}?from={DAY}&area={area_id}"}[endpoint]
    response = _get(shared_app, shared_auth, role, url)
    if reach in (403, 404):
        nowhere = _get(shared_app, shared_auth, role, url.replace(f"area={area_id}", "area=2000000000"))
        assert response.status_code == reach
        assert response.get_json() == nowhere.get_json()  # an area outside is answered as one that does not exist
        return
    grids = {"one": {area_id}, "village": village1_grids, "none": set()}.get(reach, beat.grids.get(reach))
    seen = COVERAGE[role][1][""]
    visited = set().union(*(beat.walked[o] for o in seen)) & grids
    if endpoint == "coverage":
        items = response.get_json()["items"]
        assert response.status_code == 200 and {i["grid_id"] for i in items} == grids
        assert {i["grid_id"] for i in items if i["patrols"]} == visited
    elif endpoint == "unvisited":
        assert response.status_code == 200
        assert {i["grid_id"] for i in response.get_json()["items"]} == grids - visited
    else:
        _check_tile(response, beat, owner, grids, seen)


@pytest.mark.parametrize("role", ROLES)
def test_coverage_of_a_day_nobody_patrolled(shared_app, shared_auth, beat, role):
    # The same reads a day earlier: the caller's grids, nothing covered (the beat's day is what the others show).
    response = _get(shared_app, shared_auth, role, "/api/v1/coverage?from=2026-11-19")
    scope = COVERAGE[role][0]
    if scope is None:
        assert response.status_code == 403
        return
    items = response.get_json()["items"]
    assert {i["grid_id"] for i in items} == beat.grids[scope] and not any(i["patrols"] for i in items)


# ---- the audit log and its export (commanders and admins) --------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/audit/export", "/api/v1/audit/export?from_id=1&to_id=5",
                                  "/api/v1/audit?entity=patrol", "/api/v1/audit?entity=patrol_task"])
@pytest.mark.parametrize("role", ROLES)
def test_audit_export(shared_app, shared_auth, beat, role, path):
    response = _get(shared_app, shared_auth, role, path)
    if role not in ("admin", "commander1"):
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
        assert "rows" not in response.get_json()
        return
    assert response.status_code == 200
    body = response.get_json()
    if path.startswith("/api/v1/audit/export"):
        assert body["rows"] and body["head"] and body["public_key"]
        if "to_id" in path:
            assert [r["id"] for r in body["rows"]] == [1, 2, 3, 4, 5]
        else:
            actions = {r["action"] for r in body["rows"]}
            assert {"patrol.start", "patrol.points", "patrol.end", "task.create"} <= actions
    else:
        entity = path.rsplit("=", 1)[1]
        assert body and {e["entity"] for e in body} == {entity}
        ids = {json.loads(e["entity_id"]) for e in body}
        expected = ({beat.patrol_id(o) for o in OWNERS} if entity == "patrol" else {beat.task_id(o) for o in OWNERS})
        assert ids == expected

