"""A patrol's stored fixes as the cleaner sees them: loading, cleaning (geo.tracks), the decisions kept per fix,
and the kept track."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple, Protocol

import numpy as np
from sqlalchemy.orm import Session

from geo.tracks import FLAG_FUTURE, FLAG_MOCK, CleanTrack, Gap, TrackRules, clean_track

from ...models import Patrol
from . import fix_store

GPX_PREFIX = "gpx-"  # client ids of imported files: their fixes have segments and may lack times


# The tail re-cleaned with each batch starts at the kept fix this many kept fixes before the end: every
# decision before it is final (a fix's fate depends on at most `reanchor_fixes` later fixes).
TAIL_KEPT = TrackRules().reanchor_fixes + 1


class Fixes(NamedTuple):
    ids: np.ndarray
    t: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    accuracy_m: np.ndarray
    is_mock: np.ndarray
    kept: np.ndarray
    drop_reason: list
    batch_pk: np.ndarray
    segment: np.ndarray


def fixes_of(stored: fix_store.StoredFixes) -> Fixes:
    r = stored.records
    return Fixes(stored.ids, r["t"].copy(), r["lon"].copy(), r["lat"].copy(), r["accuracy_m"].copy(),
                 r["is_mock"].copy(), stored.kept, stored.reasons(), stored.batch_pk, r["segment"].astype(np.int64))


def in_time_order(stored: fix_store.StoredFixes) -> fix_store.StoredFixes:
    return stored.take(np.lexsort((stored.ids, stored.records["t"])))


def clean_fixes(f: Fixes) -> CleanTrack:
    return clean_track(f.t, f.lon, f.lat, accuracy_m=f.accuracy_m, is_mock=f.is_mock, segment=f.segment,
                       rules=TrackRules(), now_unix_s=datetime.now(UTC).timestamp())


def load_fixes(session: Session, patrol_id: int) -> Fixes:
    """Every stored fix of the patrol, in the cleaner's order: by segment, then time (fixes without one last)."""
    stored = fix_store.load(session, patrol_id)
    t = stored.records["t"]
    return fixes_of(stored.take(np.lexsort((stored.ids, np.nan_to_num(t), np.isnan(t), stored.records["segment"]))))


class Decided(Protocol):
    """What store_decisions reads: a CleanTrack, or the head of one (tail._Decisions)."""

    @property
    def drop_reason(self) -> np.ndarray: ...


def store_decisions(session: Session, fixes: Fixes, clean: Decided) -> None:
    """Rewrite the decisions of the stored fixes whose decision changed."""
    now = fix_store.reason_codes(np.asarray(clean.drop_reason))
    changed = np.flatnonzero(now != fix_store.reason_codes(fixes.drop_reason))
    fix_store.set_decisions(session, fixes.ids[changed], now[changed])


def next_anchor_t(t: np.ndarray, kept: np.ndarray, default: float | None) -> float | None:
    """Time of the kept fix TAIL_KEPT kept fixes before the end: where the next batch's re-cleaning starts."""
    kept_t = t[kept]
    return float(kept_t[-TAIL_KEPT]) if kept_t.size >= TAIL_KEPT else default


def gap_json(gap: Gap, t: np.ndarray) -> dict:
    return {"start_at": iso(t[gap.start_index]), "end_at": iso(t[gap.end_index]),
            "duration_s": round(float(gap.duration_s), 1), "distance_m": round(float(gap.distance_m), 1),
            "reason": gap.reason}


def iso(t_unix_s: float) -> str | None:
    return None if np.isnan(t_unix_s) else datetime.fromtimestamp(t_unix_s, UTC).isoformat()


def flag_counts_all(clean: CleanTrack) -> dict[str, int]:
    return {"mock": int(clean.flagged(FLAG_MOCK).sum()), "future": int(clean.flagged(FLAG_FUTURE).sum())}


def flag_counts(clean: CleanTrack) -> dict[str, int]:
    return {name: n for name, n in flag_counts_all(clean).items() if n}


def flag_names(flags: int) -> list[str]:
    return [name for name, bit in (("mock", FLAG_MOCK), ("future", FLAG_FUTURE)) if flags & bit]


def kept_track(session: Session, patrol: Patrol) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(t, lon, lat, breaks_before) of the patrol's kept fixes, cleaned afresh."""
    fixes = load_fixes(session, patrol.id)
    clean = clean_fixes(fixes)
    k = clean.kept_index
    return fixes.t[k], fixes.lon[k], fixes.lat[k], clean.breaks_before
