"""A batch of fixes onto the stored track: only the tail from a settled kept fix is re-cleaned, its decisions and
the track summary updated, and the new lines added to the coverage. The tail a worker last saw is kept in the
process for the patrol's next batch."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from sqlalchemy.orm import Session

from geo.tracks import CleanTrack
from sqlalchemy.orm.attributes import set_committed_value

from ...extensions.plain_sql import defer_plain
from ...models import Patrol
from ..core.versioned_cache import VersionedCache
from . import coverage_writer, fix_store
from .fixes import FixColumns
from .recount import rebuild_coverage, recompute_track
from .track import (
    GPX_PREFIX, TAIL_KEPT, Fixes, clean_fixes, fixes_of, flag_counts_all, gap_json, in_time_order, next_anchor_t,
    store_decisions,
)


TAIL_ROWS = 256  # past this many dropped fixes in the tail, the whole track is re-cleaned instead


def append_fixes(session: Session, patrol: Patrol, batch_pk: int, fixes: FixColumns) -> dict[str, int]:
    """Store fixes (sorted by time) and update the track summary and coverage. Fixes that all come after the
    stored ones (the normal case) re-clean only the tail; anything else re-cleans the whole patrol. Returns the
    drop reasons counted over these fixes."""
    tail = None if patrol.client_id.startswith(GPX_PREFIX) else _load_tail(session, patrol)
    in_order = tail is not None and (tail.ids.size == 0 or fixes.t_unix_s[0] > np.nanmax(tail.t))
    before = clean_fixes(tail) if tail is not None and in_order else None
    if tail is None or before is None or not np.array_equal(before.kept, tail.kept):  # before is None: not in order
        # Out of order, or stored decisions no longer hold (the clock moved past a "future" fix): start over.
        fix_store.add_chunk(session, patrol.id, batch_pk, fixes)
        return recompute_track(session, patrol, batch_pk=batch_pk, recount_coverage=True)
    # Decide first, then store the new fixes with their decisions: one row, no read-back, no update.
    window = _concat(tail, fixes, np.full(len(fixes), -1), batch_pk)
    after = clean_fixes(window)
    new_reasons = after.drop_reason[tail.ids.size:]
    chunk_id = fix_store.add_chunk(session, patrol.id, batch_pk, fixes, reasons=new_reasons)
    store_decisions(session, _head(window, tail.ids.size), _head_clean(after, tail.ids.size))
    _apply_summary_delta(patrol, window, before, after, tail.ids.size)
    patrol.tail_from_t = next_anchor_t(window.t, after.kept, float(window.t[0]))
    _write_summary(session, patrol)
    _remember_tail(session, patrol, window, after, chunk_id)
    if np.any(tail.kept & ~after.kept[:tail.ids.size]):  # a line already counted is gone: recount the days
        rebuild_coverage(session, patrol)
    else:
        k = after.kept_index
        coverage_writer.add_kept_fixes(session, patrol, window.t[k], window.lon[k], window.lat[k], after.breaks_before)
    reasons, counts = np.unique(new_reasons[new_reasons != ""], return_counts=True)
    return dict(zip(reasons.tolist(), counts.tolist(), strict=True))


def _head(fixes: Fixes, n: int) -> Fixes:
    return Fixes._make(f[:n] for f in fixes)


class _Decisions(NamedTuple):
    kept: np.ndarray
    drop_reason: np.ndarray


def _head_clean(clean: CleanTrack, n: int) -> _Decisions:
    return _Decisions(clean.kept[:n], clean.drop_reason[:n])


def _load_tail(session: Session, patrol: Patrol) -> Fixes | None:
    """The stored fixes from the anchor (TAIL_KEPT kept fixes before the end) on, oldest first; None when the
    tail is too long to be worth it. Phone fixes always have a time and segment 0 (GPX imports take the full path).

    The anchor's time is remembered on the patrol, so only the chunks holding fixes at or after it are read:
    normally the last one; and not even that when this process handled the patrol's last batch (_tails).
    """
    cached = _tails.get(session, _tail_key(patrol), patrol.version)
    return cached if cached is not None else _read_tail(session, patrol)


def _read_tail(session: Session, patrol: Patrol) -> Fixes | None:
    """_load_tail from the database."""
    if patrol.tail_from_t is not None:
        stored = fix_store.load(session, patrol.id, t_last_from=patrol.tail_from_t)
        tail = in_time_order(stored.take(np.flatnonzero(stored.records["t"] >= patrol.tail_from_t)))
        if len(tail) > TAIL_ROWS or np.any(tail.records["segment"] != 0):
            return None
        if len(tail) and tail.kept[0]:
            return fixes_of(tail)
    # No anchor yet (the patrol's first fixes), or it has been dropped since: look for it in the whole track.
    stored = fix_store.load(session, patrol.id)
    if np.any(stored.records["segment"] != 0):
        return None
    timed = in_time_order(stored.take(np.flatnonzero(~np.isnan(stored.records["t"]))))
    kept_at = np.flatnonzero(timed.kept)
    cut = int(kept_at[-TAIL_KEPT]) if kept_at.size >= TAIL_KEPT else 0  # else: the track is shorter than a tail
    if len(timed) - cut > TAIL_ROWS:
        return None
    return fixes_of(timed.take(np.arange(cut, len(timed))))


# The tail as the last batch of a patrol left it, for the next batch of that patrol in this process: reading it
# back cost PostgreSQL 1.6 ms (the last chunk, 55 KB of TOAST) and a round trip. Every change to a patrol's
# track bumps its version (services.core.versioned_cache).
_tails: VersionedCache[Fixes] = VersionedCache(max_entries=1024)


def _tail_key(patrol: Patrol) -> tuple[int, datetime]:
    return patrol.id, patrol.created_at  # with its creation time: a database restored under the same URL differs


def _remember_tail(session: Session, patrol: Patrol, window: Fixes, after: CleanTrack, chunk_id: Callable[[], int]
                   ) -> None:
    """Keep what _load_tail would read once this transaction commits: the window's fixes from the new anchor
    on, with their decisions (the window is in time order and holds every stored fix from the old anchor on;
    its new fixes, stored as chunk `chunk_id()`, get their ids then)."""
    at = np.flatnonzero(window.t >= patrol.tail_from_t)
    if at.size == 0 or at.size > TAIL_ROWS or not after.kept[at[0]]:
        return  # the next batch takes the reading path, whose rules cover these cases
    reasons = [r or None for r in after.drop_reason[at].tolist()]
    new = window.ids < 0

    def tail() -> Fixes:
        ids = window.ids.copy()
        ids[new] = (np.int64(chunk_id()) << fix_store.ID_SHIFT) + np.arange(np.count_nonzero(new), dtype=np.int64)
        return Fixes(ids[at], window.t[at], window.lon[at], window.lat[at], window.accuracy_m[at],
                     window.is_mock[at], after.kept[at], reasons, window.batch_pk[at], window.segment[at])

    _tails.put_after_commit(session, _tail_key(patrol), patrol.version, tail)


def _concat(tail: Fixes, fixes: FixColumns, new_ids: ArrayLike, batch_pk: int) -> Fixes:
    n = len(fixes)
    return Fixes(np.concatenate([tail.ids, np.asarray(new_ids, dtype=np.int64)]),
                 np.concatenate([tail.t, fixes.t_unix_s]), np.concatenate([tail.lon, fixes.lon]),
                 np.concatenate([tail.lat, fixes.lat]), np.concatenate([tail.accuracy_m, fixes.accuracy_m]),
                 np.concatenate([tail.is_mock, fixes.is_mock]), np.concatenate([tail.kept, np.ones(n, bool)]),
                 tail.drop_reason + [None] * n, np.concatenate([tail.batch_pk, np.full(n, batch_pk)]),
                 np.concatenate([tail.segment, np.zeros(n, np.int64)]))


def _apply_summary_delta(patrol: Patrol, window: Fixes, before: CleanTrack, after: CleanTrack, tail_size: int) -> None:
    """Summary = summary - what the tail contributed before + what tail and batch contribute now."""
    patrol.raw_count += len(window.ids) - tail_size
    patrol.point_count += after.kept_count - before.kept_count
    patrol.distance_m += after.distance_m - before.distance_m
    patrol.duration_s += after.duration_s - before.duration_s
    patrol.moving_time_s += after.moving_time_s - before.moving_time_s
    dropped = dict(patrol.dropped)
    for reason in set(before.dropped_by_reason) | set(after.dropped_by_reason):
        dropped[reason] = dropped.get(reason, 0) + after.dropped_by_reason.get(reason, 0) - before.dropped_by_reason.get(
            reason, 0)
    patrol.dropped = {k: v for k, v in dropped.items() if v}
    flags = dict(patrol.flags)
    for name, count in flag_counts_all(after).items():
        flags[name] = flags.get(name, 0) + count - flag_counts_all(before)[name]
    patrol.flags = {k: v for k, v in flags.items() if v}
    anchor_t = window.t[0] if tail_size else -np.inf
    kept_gaps = [g for g in patrol.gaps if datetime.fromisoformat(g["start_at"]).timestamp() < anchor_t]
    patrol.gaps = kept_gaps + [gap_json(g, window.t) for g in after.gaps]
    patrol.version += 1


_SUMMARY_COLUMNS = ("raw_count", "point_count", "distance_m", "duration_s", "moving_time_s", "dropped", "gaps",
                    "flags", "tail_from_t", "version")


_JSON_COLUMNS = {"dropped", "gaps", "flags"}


def _write_summary(session: Session, patrol: Patrol) -> None:
    """Write the track summary with one plain UPDATE, and tell the ORM it is saved: its flush of the same row
    (unit of work, change history, JSON types) cost ~1.5 ms of every batch."""
    values = {c: json.dumps(getattr(patrol, c)) if c in _JSON_COLUMNS else getattr(patrol, c) for c in _SUMMARY_COLUMNS}
    defer_plain(session, _SUMMARY_UPDATE, {**values, "id": patrol.id})
    for column in _SUMMARY_COLUMNS:
        set_committed_value(patrol, column, getattr(patrol, column))


_SUMMARY_UPDATE = f"UPDATE patrols SET {', '.join(f'{c} = :{c}' for c in _SUMMARY_COLUMNS)} WHERE id = :id"
