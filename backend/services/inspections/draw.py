"""The 双随机 draw from a frozen pools document: pure, so the server, the tests and anyone with the published JSON get
the same targets and teams from the same seed (scripts/redraw_check.py does it with nothing but the standard
library).

1. Each stratum (risk grade) in the listed order: Rivest's sampler without replacement over its targets with the
   seed text `SEED:GRADE`; the positions drawn give the targets in draw order.
2. The teams: one stream of Rivest draws over the inspector list with the seed text `SEED:inspectors`, going on from
   target to target in the order of step 1; a drawn inspector is skipped when already on the team, recused for the
   target, or at the plan's limit of targets per inspector.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from . import sampler

ALGORITHM = f"{sampler.ALGORITHM}/strata-then-teams-v1"


class DrawInfeasible(Exception):
    """No inspector is left for a target: the pool is too small for the recusals and limits."""

    def __init__(self, business: dict) -> None:
        super().__init__(business.get("name", ""))
        self.business = business


def canonical(document: dict) -> bytes:
    """The bytes that are hashed and published: UTF-8 JSON, keys sorted, no spaces."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def sha256_of(document: dict) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


@dataclass(frozen=True)
class DrawnTarget:
    business: dict
    grade: str
    inspector_ids: tuple[int, ...]


def run(pools: dict, seed: str) -> list[DrawnTarget]:
    targets: list[tuple[dict, str]] = []
    for stratum in pools["strata"]:
        grade, listed = stratum["grade"], stratum["targets"]
        for position in sampler.without_replacement(f"{seed}:{grade}", len(listed), stratum["sample"]):
            targets.append((listed[position - 1], grade))
    inspectors = pools["inspectors"]
    k, limit = pools["inspectors_per_target"], pools.get("max_targets_per_inspector")
    recusals = pools.get("recusals", {})  # business id (text) -> inspector ids; read only for the drawn targets
    load: dict[int, int] = {}
    stream = sampler.draws(f"{seed}:inspectors", len(inspectors)) if inspectors else iter(())
    drawn: list[DrawnTarget] = []
    for business, grade in targets:
        barred = set(recusals.get(str(business["id"]), ()))
        team: list[int] = []
        while len(team) < k:
            person = inspectors[next(stream) - 1]["id"]
            if _fits(person, team, barred, load, limit):
                team.append(person)
                load[person] = load.get(person, 0) + 1
            elif not any(_fits(p["id"], team, barred, load, limit) for p in inspectors):  # only after a skip
                raise DrawInfeasible(business)
        drawn.append(DrawnTarget(business, grade, tuple(team)))
    return drawn


def _fits(person: int, team: list[int], barred: set[int], load: dict[int, int], limit: int | None) -> bool:
    return person not in team and person not in barred and (limit is None or load.get(person, 0) < limit)


def result_document(pools_sha256: str, seed: str, drawn: list[DrawnTarget]) -> dict:
    return {"algorithm": ALGORITHM, "pools_sha256": pools_sha256, "seed": seed,
            "targets": [{"business_id": t.business["id"], "credit_code": t.business["credit_code"],
                         "grade": t.grade, "inspector_ids": list(t.inspector_ids)} for t in drawn]}
