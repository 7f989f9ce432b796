"""Merkle trees as RFC 9162 (Certificate Transparency 2.0, §2.1) defines them, so that anyone can check a day's
root and an inclusion proof with a published algorithm rather than ours: a leaf is SHA-256(0x00 || data), a node
SHA-256(0x01 || left || right), a tree of n leaves splits at the largest power of two below n.

>>> leaves = [leaf_hash(bytes([i])) for i in range(7)]
>>> root = tree_root(leaves)
>>> all(root_from_proof(leaves[i], i, 7, inclusion_proof(leaves, i)) == root for i in range(7))
True
>>> root_from_proof(leaves[3], 2, 7, inclusion_proof(leaves, 3)) == root
False
>>> tree_root([]).hex()[:16]  # SHA-256 of nothing: the root of an empty day
'e3b0c44298fc1c14'
"""
from __future__ import annotations

import hashlib


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def tree_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    # Bottom-up pairing with an odd last node carried up unchanged gives exactly RFC 9162's split-based tree.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(leaves: list[bytes], index: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]): the sibling hashes from the leaf up to the root."""
    if not 0 <= index < len(leaves):
        raise IndexError(index)
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return inclusion_proof(leaves[:k], index) + [tree_root(leaves[k:])]
    return inclusion_proof(leaves[k:], index - k) + [tree_root(leaves[:k])]


def root_from_proof(leaf: bytes, index: int, size: int, proof: list[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2: the root a leaf at `index` of a tree of `size` leaves and its proof lead to (None when
    the proof has the wrong length for that position)."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None
