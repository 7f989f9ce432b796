"""Patrol sessions: start (idempotent on the phone's client id), receive batches of fixes (idempotent on the batch
id), end, and GPX imports from loggers and body cameras."""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from geo.gpx import GpxError, parse_gpx
from geo.tracks import MIN_VALID_T_UNIX_S

from ...errors import Conflict, InvalidInput, NotFound, Text
from ...extensions.plain_sql import defer_plain, fetch_plain
from ...models import Patrol, PatrolBatch, PatrolTask, User
from ...policies import AreaScope, require_patrol_owner, scoped_patrols
from ..core import audit
from . import coverage_writer, fix_store
from .fixes import FixColumns, parse_fixes
from .recount import recompute_track
from .running import OFF_DUTY_TOLERANCE, PatrolRunning, end_stale_patrols, running_patrol
from .tail import append_fixes
from .track import GPX_PREFIX, kept_track

def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def start_patrol(session: Session, officer: User, scope: AreaScope, data: dict, client_addr: str | None,
                 idle_s: float) -> tuple[Patrol, bool]:
    """Returns (patrol, created). A retry with the same client id returns the patrol it created, also when the
    retries race each other; a new client id while another patrol of the officer runs is PatrolRunning."""
    existing = _by_client_id(session, officer, data["client_id"])
    if existing is not None:
        return existing, False
    task = _own_task(session, officer, data.get("task_id"), data["started_at"])
    grid_ids = sorted(set(task.grid_ids if task else data.get("grid_ids") or []))
    hidden = [g for g in grid_ids if not scope.allows(g)]
    if hidden:
        raise InvalidInput("validation_error", details={"fields": {"grid_ids": {"unknown": hidden}}})
    end_stale_patrols(session, datetime.now(UTC), idle_s, officer_id=officer.id)
    patrol = Patrol(client_id=data["client_id"], officer_id=officer.id, squad_id=officer.squad_id,
                    started_at=data["started_at"], last_seen_at=datetime.now(UTC), grid_ids=grid_ids,
                    task_id=task.id if task else None, shift_ends_at=task.ends_at if task else None)
    try:
        with session.begin_nested():  # the unique client id and the one-running index decide between racing starts
            session.add(patrol)
    except IntegrityError:
        existing = _by_client_id(session, officer, data["client_id"])
        if existing is not None:
            return existing, False
        running = running_patrol(session, officer.id)
        if running is None:
            raise
        raise PatrolRunning(running) from None
    audit.record(session, "patrol.start", "patrol", patrol.id, actor=officer, client_addr=client_addr,
                 after={"client_id": patrol.client_id, "started_at": patrol.started_at.isoformat(),
                        "grid_ids": grid_ids, "task_id": patrol.task_id})
    return patrol, True


def _by_client_id(session: Session, officer: User, client_id: str) -> Patrol | None:
    existing = session.scalar(select(Patrol).where(Patrol.client_id == client_id))
    if existing is not None and existing.officer_id != officer.id:
        raise Conflict("duplicate", field="client_id", value=client_id)
    return existing


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
    require_patrol_owner(user, patrol)
    fixes = parse_fixes(points)
    body_hash = fixes.content_hash()
    # Claim the batch id (one statement; a retry finds it taken and gets the first answer again).
    claimed = fetch_plain(session, "INSERT INTO patrol_batches (patrol_id, batch_id, body_hash, answer, received_at) "
                                   "VALUES (:patrol, :batch, :hash, '{}', :at) ON CONFLICT (patrol_id, batch_id) "
                                   "DO NOTHING RETURNING id",
                          {"patrol": patrol.id, "batch": batch_id, "hash": body_hash, "at": datetime.now(UTC)})
    if not claimed:
        existing = session.scalars(select(PatrolBatch).where(PatrolBatch.patrol_id == patrol.id,
                                                             PatrolBatch.batch_id == batch_id)).one()
        if existing.body_hash != body_hash:
            raise Conflict("duplicate", field="batch_id", value=batch_id)
        return json.loads(existing.answer)
    batch_pk = claimed[0][0]
    received_at = datetime.now(UTC)
    defer_plain(session, "UPDATE patrols SET last_seen_at = :at WHERE id = :id", {"at": received_at, "id": patrol.id})
    set_committed_value(patrol, "last_seen_at", received_at)

    by_time = np.argsort(fixes.t_unix_s, kind="stable")
    on_duty = fixes.take(by_time[_on_duty_mask(patrol, fixes)[by_time]])
    off_duty = len(fixes) - len(on_duty)
    reasons = append_fixes(session, patrol, batch_pk, on_duty) if len(on_duty) else {}
    if off_duty:
        reasons["off_duty"] = off_duty
    answer = {"batch_id": batch_id, "received": len(fixes),
              "accepted": len(on_duty) - sum(n for r, n in reasons.items() if r != "off_duty"),
              "dropped": reasons, "point_count": patrol.point_count,
              # An ended patrol (by the officer on another phone, or by the server) takes no more fixes: the phone
              # stops recording and says why.
              "ended_at": patrol.ended_at.isoformat() if patrol.ended_at else None, "end_reason": patrol.end_reason}
    defer_plain(session, "UPDATE patrol_batches SET answer = :answer WHERE id = :id",
                {"answer": canonical(answer), "id": batch_pk})
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


def end_patrol(session: Session, user: User, patrol: Patrol, ended_at: datetime, client_addr: str | None) -> Patrol:
    require_patrol_owner(user, patrol)
    if patrol.ended_at is None:  # ending twice (a retry) keeps the first end
        patrol.ended_at, patrol.end_reason = max(ended_at, patrol.started_at), "user"
        patrol.version += 1
        audit.record(session, "patrol.end", "patrol", patrol.id, actor=user, client_addr=client_addr,
                     after={"ended_at": patrol.ended_at.isoformat(), "end_reason": "user"})
    return patrol


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
                    ended_at=ended, end_reason="import", last_seen_at=now, grid_ids=[])
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
    coverage_writer.add_kept_fixes(session, patrol, *kept_track(session, patrol))
    answer = _import_answer(patrol)
    batch.answer = canonical(answer)
    audit.record(session, "patrol.import_gpx", "patrol", patrol.id, actor=actor, client_addr=client_addr,
                 after={"file": filename, "sha256": file_hash, "officer_id": officer.id, **answer})
    return patrol, answer, True


def _import_answer(patrol: Patrol) -> dict:
    dropped = {reason: int(patrol.dropped.get(reason, 0)) for reason in ("spike", "accuracy", "time")}
    return {"patrol_id": patrol.id, "stored": patrol.raw_count, "kept": patrol.point_count, "dropped": dropped,
            "gaps": patrol.gaps}
