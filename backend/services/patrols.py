"""Patrol sessions: start (idempotent on the phone's client id), receive batches of fixes (idempotent on the batch
id), clean the whole track with geo.tracks, end, and read the track back."""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta, UTC
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from geo.gpx import GpxError, parse_gpx
from geo.coverage import rasterize_track_coverage
from geo.tracks import FLAG_FUTURE, FLAG_MOCK, MIN_VALID_T_UNIX_S, TrackRules, clean_track

from ..errors import Conflict, InvalidInput, NotAllowed, NotFound, Text
from ..extensions.plain_sql import defer_plain, fetch_plain
from ..models import CoverageDay, Patrol, PatrolBatch, PatrolGridVisit, PatrolTask, User
from ..policies import AreaScope, scoped_patrols
from . import audit, coverage, fix_store
from .fixes import FixColumns, parse_fixes
from .versioned_cache import VersionedCache

# Fixes this far before the start or after the end of a patrol are not stored at all: off duty is private.
OFF_DUTY_TOLERANCE = timedelta(seconds=60)
GPX_PREFIX = "gpx-"  # client ids of imported files: their fixes have segments and may lack times


def canonical(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def start_patrol(session: Session, officer: User, scope: AreaScope, data: dict, client_addr: str | None):
    """Returns (patrol, created). A retry with the same client id returns the patrol it created."""
    existing = session.scalar(select(Patrol).where(Patrol.client_id == data["client_id"]))
    if existing is not None:
        if existing.officer_id != officer.id:
            raise Conflict("duplicate", field="client_id", value=data["client_id"])
        return existing, False
    task = _own_task(session, officer, data.get("task_id"), data["started_at"])
    grid_ids = sorted(set(task.grid_ids if task else data.get("grid_ids") or []))
    hidden = [g for g in grid_ids if not scope.allows(g)]
    if hidden:
        raise InvalidInput("validation_error", details={"fields": {"grid_ids": {"unknown": hidden}}})
    patrol = Patrol(client_id=data["client_id"], officer_id=officer.id, squad_id=officer.squad_id,
                    started_at=data["started_at"], grid_ids=grid_ids, task_id=task.id if task else None,
                    shift_ends_at=task.ends_at if task else None)
    session.add(patrol)
    session.flush()
    audit.record(session, "patrol.start", "patrol", patrol.id, actor=officer, client_addr=client_addr,
                 after={"client_id": patrol.client_id, "started_at": patrol.started_at.isoformat(),
                        "grid_ids": grid_ids, "task_id": patrol.task_id})
    return patrol, True


def _own_task(session: Session, officer: User, task_id: int | None, started_at: datetime) -> PatrolTask | None:
    if task_id is None:
        return None
    task = session.get(PatrolTask, task_id)
    if task is None or task.officer_id != officer.id:
        raise InvalidInput("task_not_yours", details={"fields": {"task_id": task_id}})
    if started_at >= task.ends_at:
        raise InvalidInput("task_over", details={"fields": {"task_id": task_id}})
    return task


def visible_patrol(session: Session, user: User, patrol_id: int, for_update: bool = False) -> Patrol:
    """The patrol if the user may see it; `for_update` also locks its row until commit (PostgreSQL) and reads
    it as it is once the lock is held, not as an earlier read in this session left it."""
    stmt = scoped_patrols(select(Patrol).where(Patrol.id == patrol_id), user)
    if for_update:
        stmt = stmt.with_for_update(of=Patrol).execution_options(populate_existing=True)
    patrol = session.scalar(stmt)
    if patrol is None:
        raise NotFound()
    return patrol


def add_points(session: Session, user: User, patrol: Patrol, batch_id: str, points: list[dict],
               client_addr: str | None) -> dict:
    """Store one batch, clean it onto the track and add it to the coverage. The same batch again answers the
    same and stores nothing; a malformed batch is a 400 and stores nothing.

    One batch of a patrol at a time, as the tail is re-cleaned from what is stored: the caller has the patrol
    from visible_patrol(for_update=True) (PostgreSQL locks its row; SQLite's BEGIN IMMEDIATE serialises writers).
    """
    if patrol.officer_id != user.id:
        raise NotAllowed()
    fixes = parse_fixes(points)
    body_hash = fixes.content_hash()
    # Claim the batch id (one statement; a retry finds it taken and gets the first answer again).
    claimed = fetch_plain(session, "INSERT INTO patrol_batches (patrol_id, batch_id, body_hash, answer, received_at) "
                                   "VALUES (?, ?, ?, '{}', ?) ON CONFLICT (patrol_id, batch_id) DO NOTHING RETURNING id",
                          (patrol.id, batch_id, body_hash, datetime.now(UTC)))
    if not claimed:
        existing = session.scalar(select(PatrolBatch).where(PatrolBatch.patrol_id == patrol.id,
                                                            PatrolBatch.batch_id == batch_id))
        if existing.body_hash != body_hash:
            raise Conflict("duplicate", field="batch_id", value=batch_id)
        return json.loads(existing.answer)
    batch_pk = claimed[0][0]

    by_time = np.argsort(fixes.t_unix_s, kind="stable")
    on_duty = fixes.take(by_time[_on_duty_mask(patrol, fixes)[by_time]])
    off_duty = len(fixes) - len(on_duty)
    reasons = append_fixes(session, patrol, batch_pk, on_duty) if len(on_duty) else {}
    if off_duty:
        reasons["off_duty"] = off_duty
    answer = {"batch_id": batch_id, "received": len(fixes),
              "accepted": len(on_duty) - sum(n for r, n in reasons.items() if r != "off_duty"),
              "dropped": reasons, "point_count": patrol.point_count}
    defer_plain(session, "UPDATE patrol_batches SET answer = ? WHERE id = ?", (canonical(answer), batch_pk))
    audit.record(session, "patrol.points", "patrol", patrol.id, actor=user, client_addr=client_addr,
                 after={"batch_id": batch_id, "received": len(fixes), "dropped": reasons})
    return answer


def _on_duty_mask(patrol: Patrol, fixes: FixColumns) -> np.ndarray:
    """Fixes within the patrol (and its shift), give or take OFF_DUTY_TOLERANCE. Off duty is never stored."""
    tolerance = OFF_DUTY_TOLERANCE.total_seconds()
    ends = [e for e in (patrol.ended_at, patrol.shift_ends_at) if e is not None]
    t = fixes.t_unix_s
    mask = t >= patrol.started_at.timestamp() - tolerance
    if ends:
        mask &= t <= min(ends).timestamp() + tolerance
    return mask


# The tail re-cleaned with each batch starts at the kept fix this many kept fixes before the end: every
# decision before it is final (a fix's fate depends on at most `reanchor_fixes` later fixes).
TAIL_KEPT = TrackRules().reanchor_fixes + 1
TAIL_ROWS = 256  # past this many dropped fixes in the tail, the whole track is re-cleaned instead


def append_fixes(session: Session, patrol: Patrol, batch_pk: int, fixes: FixColumns) -> dict[str, int]:
    """Store fixes (sorted by time) and update the track summary and coverage. Fixes that all come after the
    stored ones (the normal case) re-clean only the tail; anything else re-cleans the whole patrol. Returns the
    drop reasons counted over these fixes."""
    tail = None if patrol.client_id.startswith(GPX_PREFIX) else _load_tail(session, patrol)
    in_order = tail is not None and (tail.ids.size == 0 or fixes.t_unix_s[0] > np.nanmax(tail.t))
    before = _clean(tail) if in_order else None
    if not in_order or not np.array_equal(before.kept, tail.kept):
        # Out of order, or stored decisions no longer hold (the clock moved past a "future" fix): start over.
        fix_store.add_chunk(session, patrol.id, batch_pk, fixes)
        return recompute_track(session, patrol, batch_pk=batch_pk, recount_coverage=True)
    # Decide first, then store the new fixes with their decisions: one row, no read-back, no update.
    window = _concat(tail, fixes, np.full(len(fixes), -1), batch_pk)
    after = _clean(window)
    new_reasons = after.drop_reason[tail.ids.size:]
    chunk_id = fix_store.add_chunk(session, patrol.id, batch_pk, fixes, reasons=new_reasons)
    _store_decisions(session, _head(window, tail.ids.size), _head_clean(after, tail.ids.size))
    _apply_summary_delta(patrol, window, before, after, tail.ids.size)
    patrol.tail_from_t = _next_anchor_t(window.t, after.kept, float(window.t[0]))
    _write_summary(session, patrol)
    _remember_tail(session, patrol, window, after, chunk_id)
    if np.any(tail.kept & ~after.kept[:tail.ids.size]):  # a line already counted is gone: recount the days
        rebuild_coverage(session, patrol)
    else:
        k = after.kept_index
        coverage.add_kept_fixes(session, patrol, window.t[k], window.lon[k], window.lat[k], after.breaks_before)
    reasons, counts = np.unique(new_reasons[new_reasons != ""], return_counts=True)
    return dict(zip(reasons.tolist(), counts.tolist(), strict=True))


def _head(fixes: Fixes, n: int) -> Fixes:
    return Fixes(*(f[:n] for f in fixes))


class _Decisions(NamedTuple):
    kept: np.ndarray
    drop_reason: np.ndarray


def _head_clean(clean, n: int) -> _Decisions:
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
        tail = _in_time_order(stored.take(np.flatnonzero(stored.records["t"] >= patrol.tail_from_t)))
        if len(tail) > TAIL_ROWS or np.any(tail.records["segment"] != 0):
            return None
        if len(tail) and tail.kept[0]:
            return _fixes_of(tail)
    # No anchor yet (the patrol's first fixes), or it has been dropped since: look for it in the whole track.
    stored = fix_store.load(session, patrol.id)
    if np.any(stored.records["segment"] != 0):
        return None
    timed = _in_time_order(stored.take(np.flatnonzero(~np.isnan(stored.records["t"]))))
    kept_at = np.flatnonzero(timed.kept)
    cut = int(kept_at[-TAIL_KEPT]) if kept_at.size >= TAIL_KEPT else 0  # else: the track is shorter than a tail
    if len(timed) - cut > TAIL_ROWS:
        return None
    return _fixes_of(timed.take(np.arange(cut, len(timed))))


# The tail as the last batch of a patrol left it, for the next batch of that patrol in this process: reading it
# back cost PostgreSQL 1.6 ms (the last chunk, 55 KB of TOAST) and a round trip. Every change to a patrol's
# track bumps its version (services.versioned_cache).
_tails: VersionedCache[Fixes] = VersionedCache(max_entries=1024)


def _tail_key(patrol: Patrol) -> tuple:
    return patrol.id, patrol.created_at  # with its creation time: a database restored under the same URL differs


def _remember_tail(session: Session, patrol: Patrol, window: Fixes, after, chunk_id: Callable[[], int]) -> None:
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


def _in_time_order(stored: fix_store.StoredFixes) -> fix_store.StoredFixes:
    return stored.take(np.lexsort((stored.ids, stored.records["t"])))


def _next_anchor_t(t: np.ndarray, kept: np.ndarray, default: float | None) -> float | None:
    """Time of the kept fix TAIL_KEPT kept fixes before the end: where the next batch's re-cleaning starts."""
    kept_t = t[kept]
    return float(kept_t[-TAIL_KEPT]) if kept_t.size >= TAIL_KEPT else default


def _fixes_of(stored: fix_store.StoredFixes) -> Fixes:
    r = stored.records
    return Fixes(stored.ids, r["t"].copy(), r["lon"].copy(), r["lat"].copy(), r["accuracy_m"].copy(),
                 r["is_mock"].copy(), stored.kept, stored.reasons(), stored.batch_pk, r["segment"].astype(np.int64))


def _concat(tail: Fixes, fixes: FixColumns, new_ids, batch_pk: int) -> Fixes:
    n = len(fixes)
    return Fixes(np.concatenate([tail.ids, np.asarray(new_ids, dtype=np.int64)]),
                 np.concatenate([tail.t, fixes.t_unix_s]), np.concatenate([tail.lon, fixes.lon]),
                 np.concatenate([tail.lat, fixes.lat]), np.concatenate([tail.accuracy_m, fixes.accuracy_m]),
                 np.concatenate([tail.is_mock, fixes.is_mock]), np.concatenate([tail.kept, np.ones(n, bool)]),
                 tail.drop_reason + [None] * n, np.concatenate([tail.batch_pk, np.full(n, batch_pk)]),
                 np.concatenate([tail.segment, np.zeros(n, np.int64)]))


def _store_decisions(session: Session, fixes: Fixes, clean) -> None:
    """Rewrite the decisions of the stored fixes whose decision changed."""
    now = fix_store.reason_codes(np.asarray(clean.drop_reason))
    changed = np.flatnonzero(now != fix_store.reason_codes(fixes.drop_reason))
    fix_store.set_decisions(session, fixes.ids[changed], now[changed])


def _apply_summary_delta(patrol: Patrol, window: Fixes, before, after, tail_size: int) -> None:
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
    for name, count in _flag_counts_all(after).items():
        flags[name] = flags.get(name, 0) + count - _flag_counts_all(before)[name]
    patrol.flags = {k: v for k, v in flags.items() if v}
    anchor_t = window.t[0] if tail_size else -np.inf
    kept_gaps = [g for g in patrol.gaps if datetime.fromisoformat(g["start_at"]).timestamp() < anchor_t]
    patrol.gaps = kept_gaps + [_gap_json(g, window.t) for g in after.gaps]
    patrol.version += 1


_SUMMARY_COLUMNS = ("raw_count", "point_count", "distance_m", "duration_s", "moving_time_s", "dropped", "gaps",
                    "flags", "tail_from_t", "version")
_JSON_COLUMNS = {"dropped", "gaps", "flags"}


def _write_summary(session: Session, patrol: Patrol) -> None:
    """Write the track summary with one plain UPDATE, and tell the ORM it is saved: its flush of the same row
    (unit of work, change history, JSON types) cost ~1.5 ms of every batch."""
    values = [json.dumps(getattr(patrol, c)) if c in _JSON_COLUMNS else getattr(patrol, c) for c in _SUMMARY_COLUMNS]
    defer_plain(session, _SUMMARY_UPDATE, (*values, patrol.id))
    for column in _SUMMARY_COLUMNS:
        set_committed_value(patrol, column, getattr(patrol, column))


_SUMMARY_UPDATE = f"UPDATE patrols SET {', '.join(c + ' = ?' for c in _SUMMARY_COLUMNS)} WHERE id = ?"


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


def _clean(f: Fixes):
    return clean_track(f.t, f.lon, f.lat, accuracy_m=f.accuracy_m, is_mock=f.is_mock, segment=f.segment,
                       rules=TrackRules(), now_unix_s=datetime.now(UTC).timestamp())


def _load_fixes(session: Session, patrol_id: int) -> Fixes:
    """Every stored fix of the patrol, in the cleaner's order: by segment, then time (fixes without one last)."""
    stored = fix_store.load(session, patrol_id)
    t = stored.records["t"]
    return _fixes_of(stored.take(np.lexsort((stored.ids, np.nan_to_num(t), np.isnan(t), stored.records["segment"]))))


def recompute_track(session: Session, patrol: Patrol, batch_pk: int | None = None,
                    recount_coverage: bool = False) -> dict[str, int]:
    """Clean every fix of the patrol in time order; store what changed and the summary, and (with
    `recount_coverage`) recount the officer's coverage on the patrol's days. Returns the drop reasons counted
    over the fixes of `batch_pk`."""
    fixes = _load_fixes(session, patrol.id)
    ids, t, batch = fixes.ids, fixes.t, fixes.batch_pk
    clean = _clean(fixes)
    reasons = np.asarray(clean.drop_reason, dtype=object)
    _store_decisions(session, fixes, clean)
    patrol.raw_count = len(ids)
    patrol.point_count = int(clean.kept_count)
    patrol.distance_m = float(clean.distance_m)
    patrol.duration_s = float(clean.duration_s)
    patrol.moving_time_s = float(clean.moving_time_s)
    patrol.dropped = {k: int(v) for k, v in clean.dropped_by_reason.items() if v}
    patrol.gaps = [_gap_json(g, t) for g in clean.gaps]
    patrol.flags = _flag_counts(clean)
    patrol.tail_from_t = _next_anchor_t(t, clean.kept, None) if not np.any(fixes.segment) else None
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


def _gap_json(gap, t: np.ndarray) -> dict:
    return {"start_at": _iso(t[gap.start_index]), "end_at": _iso(t[gap.end_index]),
            "duration_s": round(float(gap.duration_s), 1), "distance_m": round(float(gap.distance_m), 1),
            "reason": gap.reason}


def _iso(t_unix_s: float) -> str | None:
    return None if np.isnan(t_unix_s) else datetime.fromtimestamp(t_unix_s, UTC).isoformat()


def _flag_counts_all(clean) -> dict[str, int]:
    return {"mock": int(clean.flagged(FLAG_MOCK).sum()), "future": int(clean.flagged(FLAG_FUTURE).sum())}


def _flag_counts(clean) -> dict[str, int]:
    return {name: n for name, n in _flag_counts_all(clean).items() if n}


def kept_track(session: Session, patrol: Patrol):
    """(t, lon, lat, breaks_before) of the patrol's kept fixes, cleaned afresh."""
    fixes = _load_fixes(session, patrol.id)
    clean = _clean(fixes)
    k = clean.kept_index
    return fixes.t[k], fixes.lon[k], fixes.lat[k], clean.breaks_before


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


def end_patrol(session: Session, user: User, patrol: Patrol, ended_at: datetime, client_addr: str | None) -> Patrol:
    if patrol.officer_id != user.id:
        raise NotAllowed()
    if patrol.ended_at is None:  # ending twice (a retry) keeps the first end
        patrol.ended_at = max(ended_at, patrol.started_at)
        patrol.version += 1
        audit.record(session, "patrol.end", "patrol", patrol.id, actor=user, client_addr=client_addr,
                     after={"ended_at": patrol.ended_at.isoformat()})
    return patrol


def track_geojson(session: Session, patrol: Patrol) -> dict:
    """Kept fixes as lines that never cross a gap, gaps as separate features for display, dropped fixes as points."""
    fixes = _load_fixes(session, patrol.id)
    t, lon, lat, reason = fixes.t, fixes.lon, fixes.lat, fixes.drop_reason
    clean = _clean(fixes)
    lines = [[[float(lon[i]), float(lat[i])] for i in part] for part in clean.parts() if len(part) >= 2]
    features = [{"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": lines},
                 "properties": {"kind": "track", "patrol_id": patrol.id, "point_count": patrol.point_count,
                                "distance_m": round(patrol.distance_m, 1)}}]
    for gap in clean.gaps:
        a, b = gap.start_index, gap.end_index
        features.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [
            [float(lon[a]), float(lat[a])], [float(lon[b]), float(lat[b])]]},
            "properties": {"kind": "gap", **_gap_json(gap, t)}})
    for i in np.flatnonzero(~clean.kept):
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
                         "properties": {"kind": "dropped", "reason": reason[i] or clean.drop_reason[i],
                                        "t": _iso(t[i]), "flags": _flag_names(int(clean.flags[i]))}})
    for i in np.flatnonzero(clean.kept & (clean.flags != 0)):  # kept, but leaders should judge them
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
                         "properties": {"kind": "flagged", "flags": _flag_names(int(clean.flags[i])), "t": _iso(t[i])}})
    return {"type": "FeatureCollection", "features": features}


def _flag_names(flags: int) -> list[str]:
    return [name for name, bit in (("mock", FLAG_MOCK), ("future", FLAG_FUTURE)) if flags & bit]


def import_gpx(session: Session, actor: User, officer: User, raw: bytes, filename: str | None,
               client_addr: str | None) -> tuple[Patrol, dict, bool]:
    """A GPS logger's or body camera's GPX as a patrol of `officer`. The same file again returns the same patrol."""
    try:
        gpx = parse_gpx(raw)
    except GpxError as exc:
        raise InvalidInput(exc.code, text=Text(exc.message_zh, exc.message_en)) from exc
    file_hash = hashlib.sha256(raw).hexdigest()
    client_id = f"{GPX_PREFIX}{file_hash[:40]}"
    existing = session.scalar(select(Patrol).where(Patrol.client_id == client_id))
    if existing is not None:
        if existing.officer_id != officer.id:
            raise Conflict("duplicate", field="file", value=filename or client_id)
        return existing, _import_answer(existing), False
    valid_t = gpx.t_unix_s[np.isfinite(gpx.t_unix_s) & (gpx.t_unix_s >= MIN_VALID_T_UNIX_S)]
    now = datetime.now(UTC)
    started = datetime.fromtimestamp(valid_t.min(), UTC) if valid_t.size else now
    ended = datetime.fromtimestamp(valid_t.max(), UTC) if valid_t.size else now
    patrol = Patrol(client_id=client_id, officer_id=officer.id, squad_id=officer.squad_id, started_at=started,
                    ended_at=ended, grid_ids=[])
    session.add(patrol)
    session.flush()
    batch = PatrolBatch(patrol_id=patrol.id, batch_id=client_id, body_hash=file_hash, answer="{}")
    session.add(batch)
    session.flush()
    n = len(gpx.lon)
    fix_store.add_chunk(session, patrol.id, batch.id, FixColumns(
        gpx.t_unix_s, gpx.lon, gpx.lat, gpx.accuracy_m, gpx.speed_mps, np.full(n, np.nan), gpx.ele_m,
        np.zeros(n, dtype=bool)), segment=gpx.segment + 10_000 * gpx.track)
    recompute_track(session, patrol)
    coverage.add_kept_fixes(session, patrol, *kept_track(session, patrol))
    answer = _import_answer(patrol)
    batch.answer = canonical(answer)
    audit.record(session, "patrol.import_gpx", "patrol", patrol.id, actor=actor, client_addr=client_addr,
                 after={"file": filename, "sha256": file_hash, "officer_id": officer.id, **answer})
    return patrol, answer, True


def _none_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _import_answer(patrol: Patrol) -> dict:
    dropped = {reason: int(patrol.dropped.get(reason, 0)) for reason in ("spike", "accuracy", "time")}
    return {"patrol_id": patrol.id, "stored": patrol.raw_count, "kept": patrol.point_count, "dropped": dropped,
            "gaps": patrol.gaps}


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


def last_positions(session: Session, user: User, squad_id: int | None) -> list[dict]:
    """Each visible officer's last kept fix, from their latest patrol."""
    stmt = scoped_patrols(select(Patrol), user).order_by(Patrol.started_at.desc(), Patrol.id.desc()).limit(1000)
    if squad_id is not None:
        stmt = stmt.where(Patrol.squad_id == squad_id)
    latest: dict[int, Patrol] = {}
    for patrol in session.scalars(stmt):
        latest.setdefault(patrol.officer_id, patrol)
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(latest))).all())
    items = []
    for officer_id, patrol in latest.items():
        fix = _last_kept_fix(session, patrol)
        if fix is None:
            continue
        items.append({"officer_id": officer_id, "officer_name": names.get(officer_id), "patrol_id": patrol.id,
                      "active": patrol.ended_at is None, "t": datetime.fromtimestamp(float(fix["t"]), UTC),
                      "lon": float(fix["lon"]), "lat": float(fix["lat"]),
                      "accuracy_m": _none_if_nan(fix["accuracy_m"])})
    return sorted(items, key=lambda i: i["t"], reverse=True)


def _last_kept_fix(session: Session, patrol: Patrol):
    """The latest kept fix (a FIX_RECORD), or None. The chunks from the tail's anchor on hold it when the patrol
    has one (the anchor is a kept fix); otherwise the whole track is read."""
    fix = _latest_kept(fix_store.load(session, patrol.id, t_last_from=patrol.tail_from_t))
    if fix is None and patrol.tail_from_t is not None:
        fix = _latest_kept(fix_store.load(session, patrol.id))
    return fix


def _latest_kept(stored: fix_store.StoredFixes):
    kept = stored.records[stored.kept & ~np.isnan(stored.records["t"])]
    return kept[np.argmax(kept["t"])] if kept.size else None


def track_gpx(session: Session, patrol: Patrol) -> str:
    """Kept fixes as GPX 1.1: one track, one segment per unbroken part (gaps stay gaps)."""
    t, lon, lat, breaks = kept_track(session, patrol)
    parts = np.split(np.arange(lon.size), np.flatnonzero(breaks)) if lon.size else []
    segments = "".join(
        "<trkseg>" + "".join(f'<trkpt lat="{lat[i]:.7f}" lon="{lon[i]:.7f}"><time>{_iso_z(t[i])}</time></trkpt>'
                             for i in part) + "</trkseg>" for part in parts if part.size)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="GridPatrol" '
            'xmlns="http://www.topografix.com/GPX/1/1">'
            f"<trk><name>patrol {patrol.id}</name>{segments}</trk></gpx>\n")


def track_kml(session: Session, patrol: Patrol) -> str:
    """Kept fixes as KML 2.2: one placemark, a LineString per unbroken part."""
    t, lon, lat, breaks = kept_track(session, patrol)
    parts = np.split(np.arange(lon.size), np.flatnonzero(breaks)) if lon.size else []
    lines = "".join("<LineString><coordinates>" + " ".join(f"{lon[i]:.7f},{lat[i]:.7f}" for i in part)
                    + "</coordinates></LineString>" for part in parts if part.size >= 2)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<Placemark><name>patrol {patrol.id}</name><MultiGeometry>{lines}</MultiGeometry></Placemark>"
            "</Document></kml>\n")


def _iso_z(t_unix_s: float) -> str:
    return datetime.fromtimestamp(float(t_unix_s), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
