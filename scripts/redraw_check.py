#!/usr/bin/env python3
"""Re-run a published 双随机 draw on your own and compare it with what was published. Standard library only (no
GridPatrol code), so anyone can read it in a few minutes and trust what it says:

    python3 redraw_check.py https://town.example/public/draws/12.json
    python3 redraw_check.py draw-12.json

It checks that the published pools hash to pools_sha256, re-draws targets and teams from the seed with Rivest's
SHA-256 counter sampler, and compares them with the published result. Exit status 0: the same; 1: not.
"""
from __future__ import annotations

import hashlib
import json
import sys
import urllib.request


def canonical(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def rivest(seed: str, n: int):
    """draw_i = int(SHA-256(seed + "," + i), 16) mod n + 1, for i = 1, 2, ..."""
    i = 1
    while True:
        yield int(hashlib.sha256(f"{seed},{i}".encode()).hexdigest(), 16) % n + 1
        i += 1


def redraw(pools: dict, seed: str) -> list[dict]:
    chosen = []
    for stratum in pools["strata"]:
        picked: list[int] = []
        stream = rivest(f"{seed}:{stratum['grade']}", stratum["size"]) if stratum["size"] else iter(())
        while len(picked) < stratum["sample"]:
            p = next(stream)
            if p not in picked:
                picked.append(p)
        chosen += [(stratum["targets"][p - 1], stratum["grade"]) for p in picked]
    people = pools["inspectors"]
    k, limit = pools["inspectors_per_target"], pools.get("max_targets_per_inspector")
    recused = {int(b): set(ids) for b, ids in pools.get("recusals", {}).items()}
    load: dict[int, int] = {}
    stream = rivest(f"{seed}:inspectors", len(people))
    out = []
    for target, grade in chosen:
        team: list[int] = []
        while len(team) < k:
            person = people[next(stream) - 1]["id"]
            if person in team or person in recused.get(target["id"], ()) or \
                    (limit is not None and load.get(person, 0) >= limit):
                continue
            team.append(person)
            load[person] = load.get(person, 0) + 1
        out.append({"business_id": target["id"], "credit_code": target["credit_code"], "grade": grade,
                    "inspector_ids": team})
    return out


def main(source: str) -> int:
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:
            published = json.load(response)
    else:
        with open(source, encoding="utf-8") as f:
            published = json.load(f)
    draw, pools = published["draw"], published["pools"]
    pools_hash = hashlib.sha256(canonical(pools)).hexdigest()
    print(f"pools SHA-256   {pools_hash}  {'matches' if pools_hash == draw['pools_sha256'] else 'DIFFERS'}")
    mine = redraw(pools, draw["seed"])
    same = mine == published["result"]["targets"]
    print(f"seed            {draw['seed']!r} ({draw['seed_source']})")
    print(f"targets         {len(mine)} re-drawn, {'the same as published' if same else 'NOT the same as published'}")
    return 0 if same and pools_hash == draw["pools_sha256"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
