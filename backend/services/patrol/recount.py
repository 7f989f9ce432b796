"""Recounting what a patrol's track contributes when its decisions change: the whole track re-cleaned, and the
coverage of its days counted again."""
from __future__ import annotations

from datetime import date

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from geo.coverage import rasterize_track_coverage

from ...models import CoverageDay, Patrol, PatrolGridVisit
from . import coverage
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
    elif recount_coverage:  # only lines added: ORing the whole track again is exact (OR is idempotent)
        k = clean.kept_index
        coverage.add_kept_fixes(session, patrol, t[k], fixes.lon[k], fixes.lat[k], clean.breaks_before)
    if batch_pk is None:
        return dict(patrol.dropped)
    in_batch = batch == batch_pk
    counted: dict[str, int] = {}
    for r in reasons[in_batch]:
        if r:
            counted[r] = counted.get(r, 0) + 1
    return counted


def rebuild_coverage(session: Session, patrol: Patrol) -> None:
    """Recount every day the patrol touches (now or before) from every patrol on those days: the day bitmaps are
    ORs across patrols and officers, so one patrol's part cannot be taken out alone. Rare: only when a fix that
    had been kept is dropped after all."""
    t, lon, lat, breaks = kept_track(session, patrol)
    days = {d.astype(date) for d in np.unique(coverage.local_day(t))}
    days |= set(session.scalars(select(PatrolGridVisit.day).distinct().where(PatrolGridVisit.patrol_id == patrol.id)))
    others = set(coverage.forget_days(session, days)) - {patrol.id}
    wanted = np.array(sorted(days), dtype="datetime64[D]")
    for other in [patrol, *session.scalars(select(Patrol).where(Patrol.id.in_(others)).order_by(Patrol.id))]:
        ot, olon, olat, obreaks = (t, lon, lat, breaks) if other is patrol else kept_track(session, other)
        sel = np.flatnonzero(np.isin(coverage.local_day(ot), wanted))
        if sel.size:
            brk = obreaks[sel] | np.concatenate([[True], np.diff(sel) != 1])  # a fix whose predecessor is left out
            coverage.add_kept_fixes(session, other, ot[sel], olon[sel], olat[sel], brk)  # starts a line


def rebuild_all_coverage(session: Session) -> tuple[int, int]:
    """Forget every coverage row and visit, then add every patrol's kept track again. Returns (patrols, days)."""
    session.execute(delete(CoverageDay))
    session.execute(delete(PatrolGridVisit))
    coverage.forget_rasters()
    days: set = set()
    patrols = session.scalars(select(Patrol).order_by(Patrol.id)).all()
    for patrol in patrols:
        t, lon, lat, breaks = kept_track(session, patrol)
        coverage.add_kept_fixes(session, patrol, t, lon, lat, breaks)
        days |= set(coverage.local_day(t).tolist())
    return len(patrols), len(days)


def patrol_coverage(session: Session, patrol: Patrol) -> list[dict]:
    """Covered share and m² of every grid this one patrol's kept track came within R of."""
    raster = coverage.town_raster(session)
    t, lon, lat, breaks = kept_track(session, patrol)
    if raster is None or lon.size == 0:
        return []
    mask = rasterize_track_coverage(raster.spec, lon, lat, breaks, raster.radius_m)
    covered = raster.index.covered_cells(mask)
    cells = raster.index.cells_per_grid
    return [{"grid_id": int(raster.grid_ids[g]), "covered_ratio": round(float(covered[g] / cells[g]), 5),
             "covered_m2": round(float(covered[g] / cells[g] * raster.area_m2[g]), 1)}
            for g in np.flatnonzero(covered)]
