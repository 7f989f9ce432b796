"""Rivest's SHA-256 counter sampler (sampler.py, 2011), the one election audits use, so anyone can re-run a draw.

draw_i = int(SHA-256(seed + "," + str(i)), 16) mod N + 1 for i = 1, 2, ... over UTF-8 text: 1-based positions in a
list of N. Without replacement, a position already taken is skipped and the counter goes on (Rivest's
"without replacement" mode). Public test vectors: tests/inspections/test_sampler.py.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator

ALGORITHM = "rivest-sha256-counter"


def draws(seed: str, total: int, start: int = 1) -> Iterator[int]:
    """Positions 1..total, with replacement, from counter `start` on."""
    if total < 1:
        raise ValueError("nothing to draw from")
    prefix = seed + ","
    i = start
    while True:
        yield int(hashlib.sha256(f"{prefix}{i}".encode()).hexdigest(), 16) % total + 1
        i += 1


def with_replacement(seed: str, total: int, count: int) -> list[int]:
    stream = draws(seed, total)
    return [next(stream) for _ in range(count)]


def without_replacement(seed: str, total: int, count: int) -> list[int]:
    """`count` distinct positions in the order drawn (count ≤ total)."""
    if count > total:
        raise ValueError("sample larger than the list")
    taken: dict[int, None] = {}
    for position in draws(seed, total) if count else ():
        if position not in taken:
            taken[position] = None
            if len(taken) == count:
                break
    return list(taken)
