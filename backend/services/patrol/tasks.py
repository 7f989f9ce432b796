"""Patrol tasks (排班): a squad leader assigns an officer grids for a local date and shift, with a coverage target
and a minimum number of visits; progress is read from the coverage the officer's patrols built that day."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, UTC

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import InvalidInput, Conflict, NotFound
from ...models import Patrol, PatrolTask, User
from ...policies import area_scope, require_planner, require_task_planner, scoped_tasks
from ..core import audit
from . import coverage_reader, coverage_regions
from .coverage_days import LOCAL_TZ


def shift_bounds(day: date, shift_start: str, shift_end: str) -> tuple[datetime, datetime]:
    """UTC start and end of a local shift; an end not after the start is on the next day (a night shift)."""
    start_t, end_t = (time.fromisoformat(v) for v in (shift_start, shift_end))
    starts = datetime.combine(day, start_t, LOCAL_TZ)
    ends = datetime.combine(day, end_t, LOCAL_TZ)
    if ends <= starts:
        ends += timedelta(days=1)
    return starts.astimezone(UTC), ends.astimezone(UTC)


def create_task(session: Session, actor: User, data: dict, client_addr: str | None) -> tuple[PatrolTask, bool]:
    """Returns (task, created); the same client id again returns the task it created."""
    require_planner(actor)
    existing = session.scalar(select(PatrolTask).where(PatrolTask.client_id == data["client_id"]))
    if existing is not None:
        if existing.created_by_id != actor.id:
            raise Conflict("duplicate", field="client_id", value=data["client_id"])
        return existing, False
    officer = session.get(User, data["officer_id"])
    require_task_planner(actor, officer)
    if officer is None or not officer.active or not officer.has_role("officer"):
        raise InvalidInput("validation_error", details={"fields": {"officer_id": "not_an_officer"}})
    grid_ids = sorted(set(data["grid_ids"]))
    officer_scope = area_scope(session, officer)
    known = coverage_regions.region_map(session).region_of_grid
    unknown = [g for g in grid_ids if not officer_scope.allows(g) or g not in known]
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
    """Attach `progress` and `officer_name`: covered share of the task's grids by its officer on its date (area
    over all its grids), visits (distinct patrols) per grid, and whether target and visits are met."""
    names = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_({t.officer_id for t in tasks}))).all()) if tasks else {}
    wanted: dict[tuple, set[int]] = {}  # a day's list holds several tasks of one officer: read once
    for task in tasks:
        wanted.setdefault((task.officer_id, task.date), set()).update(task.grid_ids)
    figures = {}
    for (officer_id, day), grid_ids in wanted.items():
        table = coverage_reader.coverage_by_grid(session, sorted(grid_ids), day, day, officer_id=officer_id)
        figures[(officer_id, day)] = {g: (m2, area, n) for g, m2, area, n in zip(
            table.grid_ids, table.covered_m2, table.area_m2, table.patrols, strict=True)}
    for task in tasks:
        per_grid = figures[(task.officer_id, task.date)]
        grids, total_area, total_covered = [], 0.0, 0.0
        for grid_id in task.grid_ids:
            covered_m2, area_m2, visits = per_grid.get(grid_id, (0.0, 0.0, 0))
            total_area, total_covered = total_area + area_m2, total_covered + covered_m2
            grids.append({"grid_id": grid_id, "covered_ratio": covered_m2 / area_m2 if area_m2 else 0.0,
                          "visits": visits})
        ratio = total_covered / total_area if total_area else 0.0
        task.progress = {"covered_ratio": ratio, "visits": min((g["visits"] for g in grids), default=0),
                         "met": ratio >= task.coverage_target and all(g["visits"] >= task.min_visits for g in grids),
                         "grids": grids}
        task.officer_name = names.get(task.officer_id)
    return tasks
