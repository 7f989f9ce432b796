"""Rivest's SHA-256 sampler against its public test vectors, and the draw built on it: reproducible from the seed,
different with another seed, recusals and limits honoured, the same as an independent re-run."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from backend.services.inspections import draw, plans, sampler

# cjerdonek/rivest-sampler-tests, tests.json: checked against Rivest's reference sampler.py (2011-11-14),
# sampling 1..total with replacement.
RIVEST_VECTORS = [
    ("0", 1000, [905, 573, 160]),
    ("0", 2, [1, 1, 2]),
    ("1", 1000, [97, 89, 163]),
    ("0000000000", 1000, [978, 359, 132]),
    ("999999999999999999999999", 1000, [544, 800, 654]),
    ("abcde", 1000, [247, 427, 157]),
]


@pytest.mark.parametrize(("seed", "total", "expected"), RIVEST_VECTORS)
def test_the_sampler_gives_rivests_published_vectors(seed, total, expected):
    assert sampler.with_replacement(seed, total, len(expected)) == expected


def test_without_replacement_skips_what_was_drawn_and_keeps_the_order():
    # seed "0" over 2 draws 1, 1, 2: without replacement the second 1 is skipped
    assert sampler.without_replacement("0", 2, 2) == [1, 2]
    picked = sampler.without_replacement("abcde", 1000, 50)
    assert picked[:3] == [247, 427, 157] and len(set(picked)) == 50
    assert sorted(sampler.without_replacement("x", 7, 7)) == list(range(1, 8))
    with pytest.raises(ValueError):
        sampler.without_replacement("x", 3, 4)


def pools(targets=40, people=8, k=2, recusals=None, limit=None):
    return {"strata": [{"grade": "C", "size": targets, "sample": 10,
                        "targets": [{"id": 100 + i, "credit_code": f"code{i}", "name": f"b{i}"}
                                    for i in range(targets)]},
                       {"grade": "D", "size": 5, "sample": 5,
                        "targets": [{"id": 900 + i, "credit_code": f"d{i}", "name": f"d{i}"} for i in range(5)]}],
            "inspectors": [{"id": i + 1, "name": f"p{i}"} for i in range(people)],
            "inspectors_per_target": k, "max_targets_per_inspector": limit, "recusals": recusals or {}}


def test_the_same_seed_gives_the_same_targets_and_teams_and_another_seed_another():
    first = draw.run(pools(), "2026-12-04 骰子 3 1 4 1 5 9")
    again = draw.run(pools(), "2026-12-04 骰子 3 1 4 1 5 9")
    other = draw.run(pools(), "2026-12-04 骰子 2 7 1 8 2 8")
    assert first == again
    assert [t.business["id"] for t in first] != [t.business["id"] for t in other]
    assert len(first) == 15 and {t.grade for t in first} == {"C", "D"}
    assert all(len(set(t.inspector_ids)) == 2 for t in first)


def test_recusals_and_the_per_inspector_limit_hold():
    plain = draw.run(pools(), "seed")
    barred = {str(t.business["id"]): list(t.inspector_ids) for t in plain}
    redrawn = draw.run(pools(recusals=barred), "seed")
    assert all(not set(t.inspector_ids) & set(barred[str(t.business["id"])]) for t in redrawn)
    limited = draw.run(pools(limit=4), "seed")  # 15 targets × 2 = 30 places over 8 people: at most 4 each
    loads = [sum(p in t.inspector_ids for t in limited) for p in range(1, 9)]
    assert max(loads) <= 4 and sum(loads) == 30
    with pytest.raises(draw.DrawInfeasible):
        draw.run(pools(limit=3), "seed")  # 24 places for 30


@pytest.mark.parametrize(("ratio", "size", "expected"), [(0.07, 100, 7), (0.55, 100, 55), (0.55, 180, 99),
                                                          (0.1, 11, 2), (1, 5, 5), (0.3, 0, 0)])
def test_a_ratio_draws_its_share_rounded_up_without_float_noise(ratio, size, expected):
    assert plans.sample_size({"ratio": ratio}, size) == expected
    assert plans.sample_size({"count": 8}, 5) == 5


def test_an_independent_program_re_runs_the_draw(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "redraw_check", Path(__file__).resolve().parents[2] / "scripts" / "redraw_check.py")
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    p = pools(recusals={"105": [1, 2]}, limit=5)
    result = draw.result_document(draw.sha256_of(p), "seed", draw.run(p, "seed"))
    assert checker.redraw(p, "seed") == result["targets"]
    assert checker.canonical(p) == draw.canonical(p)
