"""Patrol tasks (排班): a squad leader assigns an officer grids for a local date and shift, with a coverage target
and a minimum number of visits; progress is read from the coverage the officer's patrols built that day."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, UTC

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import InvalidInput, Conflict, NotFound
from ...models import Patrol, PatrolTask, User
from ...policies import area_scope, require_task_planner, scoped_tasks
from ..core import audit
from . import coverage


def shift_bounds(day: date, shift_start: str, shift_end: str) -> tuple[datetime, datetime]:
    """UTC start and end of a local shift; an end not after the start is on the next day (a night shift)."""
    start_t, end_t = (time.fromisoformat(v) for v in (shift_start, shift_end))
    starts = datetime.combine(day, start_t, coverage.LOCAL_TZ)
    ends = datetime.combine(day, end_t, coverage.LOCAL_TZ)
    if ends <= starts:
        ends += timedelta(days=1)
    return starts.astimezone(UTC), ends.astimezone(UTC)


def create_task(session: Session, actor: User, data: dict, client_addr: str | None) -> tuple[PatrolTask, bool]:
    """Returns (task, created); the same client id again returns the task it created."""
    existing = session.scalar(select(PatrolTask).where(PatrolTask.client_id == data["client_id"]))
    if existing is not None:
        if existing.created_by_id != actor.id:
            raise Conflict("duplicate", field="client_id", value=data["client_id"])
        return existing, False
    officer = session.get(User, data["officer_id"])
    if officer is None or not officer.active or not officer.has_role("officer"):
        raise InvalidInput("validation_error", details={"fields": {"officer_id": "not_an_officer"}})
    require_task_planner(actor, officer)
    grid_ids = sorted(set(data["grid_ids"]))
    officer_scope = area_scope(session, officer)
    raster = coverage.town_raster(session)
    unknown = [g for g in grid_ids if not officer_scope.allows(g) or raster is None or g not in raster.position]
    if unknown:
        raise InvalidInput("validation_error", details={"fields": {"grid_ids": {"not_the_officers_grids": unknown}}})
    starts_at, ends_at = shift_bounds(data["date"], data["shift_start"], data["shift_end"])
    task = PatrolTask(client_id=data["client_id"], officer_id=officer.id, squad_id=officer.squad_id,
                      date=data["date"], shift_start=data["shift_start"], shift_end=data["shift_end"],
                      starts_at=starts_at, ends_at=ends_at, grid_ids=grid_ids,
                      coverage_target=data["coverage_target"], min_visits=data["min_visits"],
                      note=data.get("note") or "", created_by_id=actor.id)
    session.add(task)
    session.flush()
    audit.record(session, "task.create", "patrol_task", task.id, actor=actor, client_addr=client_addr,
                 after={"officer_id": officer.id, "date": task.date.isoformat(), "shift": [task.shift_start,
                        task.shift_end], "grid_ids": grid_ids, "coverage_target": task.coverage_target,
                        "min_visits": task.min_visits})
    return task, True


def visible_task(session: Session, user: User, task_id: int) -> PatrolTask:
    task = session.scalar(scoped_tasks(select(PatrolTask).where(PatrolTask.id == task_id), user))
    if task is None:
        raise NotFound()
    return task


def delete_task(session: Session, actor: User, task: PatrolTask, client_addr: str | None) -> None:
    """A task a patrol was started from stays (the trace must hold); others can be deleted."""
    require_task_planner(actor, session.get(User, task.officer_id))
    if session.scalar(select(func.count(Patrol.id)).where(Patrol.task_id == task.id)):
        raise Conflict("task_in_use")
    audit.record(session, "task.delete", "patrol_task", task.id, actor=actor, client_addr=client_addr,
                 before={"officer_id": task.officer_id, "date": task.date.isoformat(), "grid_ids": task.grid_ids})
    session.delete(task)


def with_progress(session: Session, tasks: list[PatrolTask]) -> list[PatrolTask]:
    """Attach `progress` and `officer_name`: covered share of the task's grids by its officer on its date
    (cells over all its grids), visits (distinct patrols) per grid, and whether target and visits are met."""
    raster = coverage.town_raster(session)
    names = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_({t.officer_id for t in tasks}))).all()) if tasks else {}
    per_officer_day: dict[tuple, tuple] = {}  # a day's list holds several tasks of one officer: read once
    for task in tasks:
        key = (task.officer_id, task.date)
        if key not in per_officer_day:
            mask = coverage.covered_mask(session, raster, task.date, task.date, officer_id=task.officer_id) \
                if raster else None
            visits = coverage.period_visits(session, task.date, task.date, officer_id=task.officer_id)
            per_officer_day[key] = (raster.index.covered_cells(mask) if raster else None, dict(zip(
                *(a.tolist() for a in coverage.distinct_per_grid(visits[:, 0], visits[:, 1])), strict=True)))
        covered_cells, visits_per_grid = per_officer_day[key]
        grids, total_cells, total_covered = [], 0, 0
        for grid_id in task.grid_ids:
            pos = raster.position.get(grid_id) if raster else None
            cells = int(raster.index.cells_per_grid[pos]) if pos is not None else 0
            done = int(covered_cells[pos]) if pos is not None else 0
            total_cells, total_covered = total_cells + cells, total_covered + done
            grids.append({"grid_id": grid_id, "covered_ratio": done / cells if cells else 0.0,
                          "visits": visits_per_grid.get(grid_id, 0)})
        ratio = total_covered / total_cells if total_cells else 0.0
        task.progress = {"covered_ratio": ratio, "visits": min((g["visits"] for g in grids), default=0),
                         "met": ratio >= task.coverage_target and all(g["visits"] >= task.min_visits for g in grids),
                         "grids": grids}
        task.officer_name = names.get(task.officer_id)
    return tasks
