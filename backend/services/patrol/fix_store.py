"""Raw fixes, stored one chunk (one batch, or one imported file) per row as packed column arrays.

A fix is named by `chunk id << 32 | its position in the chunk`, so fixes of later chunks have larger ids and the
fixes of one chunk keep the order they were stored in (time order, for a phone's batch). The fix records are
written once and never change; only the one-byte decision of each fix (kept, or why it was dropped) is
rewritten, when re-cleaning the tail of a track changes it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import lz4.block
import numpy as np
from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from geo.tracks import DROP_REASONS

from ...extensions.plain_sql import defer_plain, fetch_plain
from ...models import TrackChunk
from .fixes import FixColumns

# Everything a phone or a logger sends about a fix; NaN where an optional value was absent.
FIX_RECORD = np.dtype([("t", "<f8"), ("lon", "<f8"), ("lat", "<f8"), ("accuracy_m", "<f8"), ("speed_mps", "<f8"),
                       ("heading_deg", "<f8"), ("altitude_m", "<f8"), ("segment", "<i4"), ("is_mock", "?")])
REASONS = (None, *DROP_REASONS)  # a decision byte is an index into this: 0 is kept
_CODE = {reason: code for code, reason in enumerate(REASONS)} | {"": 0}
ID_SHIFT = 32
Reasons = Sequence[str | None] | np.ndarray  # drop reasons: None or '' for kept, or the cleaner's string array


@dataclass(frozen=True)
class StoredFixes:
    """Fixes as stored, in chunk then position order."""

    ids: np.ndarray  # int64
    records: np.ndarray  # FIX_RECORD
    codes: np.ndarray  # uint8 decisions
    batch_pk: np.ndarray  # int64

    def __len__(self) -> int:
        return self.ids.size

    def take(self, index: np.ndarray) -> StoredFixes:
        return StoredFixes(self.ids[index], self.records[index], self.codes[index], self.batch_pk[index])

    @property
    def kept(self) -> np.ndarray:
        return self.codes == 0

    def reasons(self) -> list[str | None]:
        return [REASONS[c] for c in self.codes.tolist()]


def reason_codes(reasons: Reasons) -> np.ndarray:
    """Decision bytes of drop reasons given as a list (None or '' for kept) or as a string array."""
    if isinstance(reasons, np.ndarray) and reasons.dtype.kind == "U":  # the cleaner's own: compare column-wise
        codes = np.zeros(reasons.size, dtype=np.uint8)
        for code, reason in enumerate(REASONS[1:], start=1):
            codes[reasons == reason] = code
        return codes
    return np.fromiter((_CODE[r] for r in reasons), dtype=np.uint8, count=len(reasons))


def add_chunk(session: Session, patrol_id: int, batch_pk: int, fixes: FixColumns, segment: np.ndarray | None = None,
              reasons: Reasons | None = None) -> Callable[[], int]:
    """Store fixes in the given order, all kept unless their drop `reasons` are given (None or '' for kept).
    Returns how to get the chunk's id (its fixes' ids are `id << ID_SHIFT | position`): the insert goes with the
    connection's next round trip (defer_plain), so the id is known from then on, and surely after commit."""
    records = np.zeros(len(fixes), dtype=FIX_RECORD)
    for name in ("lon", "lat", "accuracy_m", "speed_mps", "heading_deg", "altitude_m", "is_mock"):
        records[name] = getattr(fixes, name)
    records["t"] = fixes.t_unix_s
    if segment is not None:
        records["segment"] = segment
    codes = np.zeros(len(fixes), dtype=np.uint8) if reasons is None else reason_codes(reasons)
    timed = fixes.t_unix_s[~np.isnan(fixes.t_unix_s)]
    inserted: list = []
    defer_plain(session, "INSERT INTO track_chunks (patrol_id, batch_pk, n, t_first, t_last, fixes, reasons) "
                         "VALUES (:patrol, :batch, :n, :t_first, :t_last, :fixes, :reasons) RETURNING id",
                {"patrol": patrol_id, "batch": batch_pk, "n": len(fixes),
                 "t_first": float(timed.min()) if timed.size else None,
                 "t_last": float(timed.max()) if timed.size else None, "fixes": _compress(records.tobytes()),
                 "reasons": codes.tobytes()}, rows=inserted)
    return lambda: inserted[0][0]


def load(session: Session, patrol_id: int, t_last_from: float | None = None) -> StoredFixes:
    """The patrol's fixes; with `t_last_from`, only those of chunks holding a fix at or after that time."""
    sql = "SELECT id, batch_pk, fixes, reasons FROM track_chunks WHERE patrol_id = :patrol"
    params: dict = {"patrol": patrol_id}
    if t_last_from is not None:
        sql += " AND t_last >= :t_from"
        params["t_from"] = t_last_from
    rows = fetch_plain(session, sql + " ORDER BY id", params)
    if not rows:
        return StoredFixes(np.zeros(0, np.int64), np.zeros(0, FIX_RECORD), np.zeros(0, np.uint8),
                           np.zeros(0, np.int64))
    records = [np.frombuffer(lz4.block.decompress(row[2]), dtype=FIX_RECORD) for row in rows]
    sizes = [r.size for r in records]
    return StoredFixes(
        np.concatenate([(np.int64(row[0]) << ID_SHIFT) + np.arange(size, dtype=np.int64)
                        for row, size in zip(rows, sizes, strict=True)]),
        np.concatenate(records),
        np.concatenate([np.frombuffer(bytes(row[3]), dtype=np.uint8) for row in rows]),
        np.repeat(np.array([row[1] for row in rows], dtype=np.int64), sizes))


def set_decisions(session: Session, ids: np.ndarray, codes: np.ndarray) -> None:
    """Rewrite the decision bytes of these fixes (read, patched and written back a chunk at a time)."""
    if ids.size == 0:
        return
    chunk_ids = ids >> ID_SHIFT
    positions = ids & ((1 << ID_SHIFT) - 1)
    wanted = np.unique(chunk_ids)
    stored = {row[0]: row[1] for row in fetch_plain(
        session, f"SELECT id, reasons FROM track_chunks WHERE id IN ({', '.join(f':c{k}' for k in range(wanted.size))})",
        {f"c{k}": int(c) for k, c in enumerate(wanted)})}
    changes = []
    for chunk_id in wanted.tolist():
        decisions = np.frombuffer(bytes(stored[chunk_id]), dtype=np.uint8).copy()
        mine = chunk_ids == chunk_id
        decisions[positions[mine]] = codes[mine]
        changes.append({"chunk_id": chunk_id, "reasons": decisions.tobytes()})
    table = cast(Table, TrackChunk.__table__)  # a mapped class's table; SQLAlchemy types __table__ FromClause
    session.execute(update(table).where(table.c.id == bindparam("chunk_id")).values(reasons=bindparam("reasons")),
                    changes)


def _compress(data: bytes) -> bytes:
    return lz4.block.compress(data, store_size=True)
