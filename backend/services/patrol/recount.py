"""Recounting what a patrol's track contributes when its decisions change: the whole track re-cleaned, and its
coverage counted again."""
from __future__ import annotations

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ...models import CoveragePatrolDay, Patrol, PatrolGridVisit
from . import coverage_regions, coverage_writer
from .coverage_days import local_day
from .track import clean_fixes, flag_counts, gap_json, kept_track, load_fixes, next_anchor_t, store_decisions


def recompute_track(session: Session, patrol: Patrol, batch_pk: int | None = None,
                    recount_coverage: bool = False) -> dict[str, int]:
    """Clean every fix of the patrol in time order; store what changed and the summary, and (with
    `recount_coverage`) recount the officer's coverage on the patrol's days. Returns the drop reasons counted
    over the fixes of `batch_pk`."""
    fixes = load_fixes(session, patrol.id)
    ids, t, batch = fixes.ids, fixes.t, fixes.batch_pk
    clean = clean_fixes(fixes)
    reasons = np.asarray(clean.drop_reason, dtype=object)
    store_decisions(session, fixes, clean)
    patrol.raw_count = len(ids)
    patrol.point_count = int(clean.kept_count)
    patrol.distance_m = float(clean.distance_m)
    patrol.duration_s = float(clean.duration_s)
    patrol.moving_time_s = float(clean.moving_time_s)
    patrol.dropped = {k: int(v) for k, v in clean.dropped_by_reason.items() if v}
    patrol.gaps = [gap_json(g, t) for g in clean.gaps]
    patrol.flags = flag_counts(clean)
    patrol.tail_from_t = next_anchor_t(t, clean.kept, None) if not np.any(fixes.segment) else None
    patrol.version += 1
    if recount_coverage and np.any(fixes.kept & ~clean.kept):
        rebuild_coverage(session, patrol)  # a line already counted is gone: recount its days
    elif recount_coverage:  # only lines added: adding the whole track again is exact (a maximum is idempotent)
        k = clean.kept_index
        coverage_writer.add_kept_fixes(session, patrol, t[k], fixes.lon[k], fixes.lat[k], clean.breaks_before)
    if batch_pk is None:
        return dict(patrol.dropped)
    in_batch = batch == batch_pk
    counted: dict[str, int] = {}
    for r in reasons[in_batch]:
        if r:
            counted[r] = counted.get(r, 0) + 1
    return counted


def rebuild_coverage(session: Session, patrol: Patrol) -> None:
    """Recount the patrol's coverage from its kept track: its own rows and visits go, then the whole track is
    added again (other patrols' rows are theirs and stay). Only when a fix that had been kept is dropped after
    all: lines are never taken out of a row otherwise."""
    session.execute(delete(CoveragePatrolDay).where(CoveragePatrolDay.patrol_id == patrol.id))
    session.execute(delete(PatrolGridVisit).where(PatrolGridVisit.patrol_id == patrol.id))
    coverage_writer.add_kept_fixes(session, patrol, *kept_track(session, patrol))


def rebuild_all_coverage(session: Session) -> tuple[int, int]:
    """Forget every coverage row and visit, then add every patrol's kept track again. Returns (patrols, days)."""
    session.execute(delete(CoveragePatrolDay))
    session.execute(delete(PatrolGridVisit))
    coverage_regions.forget_rasters()
    days: set = set()
    patrols = session.scalars(select(Patrol).order_by(Patrol.id)).all()
    for patrol in patrols:
        t, lon, lat, breaks = kept_track(session, patrol)
        coverage_writer.add_kept_fixes(session, patrol, t, lon, lat, breaks)
        days |= set(local_day(t).tolist())
    return len(patrols), len(days)
