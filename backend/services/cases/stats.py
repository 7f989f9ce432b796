"""Case figures with the standard ratios of 数字城管 assessment, over the cases reported in a period:

  立案率 accepted / received           派遣率 dispatched / accepted         结案率 closed / due_to_close
  按期结案率 closed_in_time / due_to_close   按期处置率 handled_in_time / due_to_handle
  返工率 reworked / due_to_close       延期率 extended / due_to_close      吹哨响应率 whistles_in_time / whistles_due

received: every report (merged duplicates included: they were received); accepted: 立案 (accepted, never rejected
or merged); dispatched: given to a squad, an officer or a department; due_to_close: accepted cases whose handling
limit has passed, or that are closed; due_to_handle: dispatched cases whose handling limit has passed, or that are
handled; whistles_due: whistles whose report-in limit has passed, or that were reported in. A ratio with nothing to
divide by is null, never 0 or 100 %. Medians are in natural minutes from the report."""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ...models import Area, Case, CaseCategory, Department, Squad
from ..core.anchors import LOCAL_TZ

GROUPS = ("none", "squad", "grid", "category", "department", "day", "week", "month")
PERIODS = ("day", "week", "month")
RATIOS = {
    "acceptance_rate": ("accepted", "received"),
    "dispatch_rate": ("dispatched", "accepted"),
    "close_rate": ("closed", "due_to_close"),
    "close_in_time_rate": ("closed_in_time", "due_to_close"),
    "handle_in_time_rate": ("handled_in_time", "due_to_handle"),
    "rework_rate": ("reworked", "due_to_close"),
    "extension_rate": ("extended", "due_to_close"),
    "whistle_response_rate": ("whistles_in_time", "whistles_due"),
}
_COLUMNS = (Case.id, Case.status, Case.squad_id, Case.grid_id, Case.category_id, Case.department_id,
            Case.whistle_matter_id, Case.reported_at, Case.accepted_at, Case.dispatched_at, Case.acknowledged_at,
            Case.handled_at, Case.closed_at, Case.handle_due_at, Case.report_in_due_at, Case.rework_count,
            Case.extension_count)


@dataclass
class Tally:
    received: int = 0
    accepted: int = 0
    dispatched: int = 0
    due_to_close: int = 0
    closed: int = 0
    closed_in_time: int = 0
    due_to_handle: int = 0
    handled_in_time: int = 0
    reworked: int = 0
    extended: int = 0
    whistled: int = 0
    whistles_due: int = 0
    whistles_in_time: int = 0

    def __post_init__(self) -> None:
        self.respond_minutes: list[float] = []
        self.close_minutes: list[float] = []


def _count(t: Tally, row: Any, now: datetime) -> None:
    t.received += 1
    if row.accepted_at is None or row.status in ("rejected", "merged"):
        return
    t.accepted += 1
    limit_passed = row.handle_due_at is not None and row.handle_due_at <= now
    if row.status == "closed" or limit_passed:
        t.due_to_close += 1
        t.reworked += row.rework_count > 0
        t.extended += row.extension_count > 0
    if row.status == "closed":
        t.closed += 1
        t.closed_in_time += row.handled_at is not None and row.handle_due_at is not None and (
            row.handled_at <= row.handle_due_at)
        t.close_minutes.append((row.closed_at - row.reported_at).total_seconds() / 60)
    if row.dispatched_at is None:
        return
    t.dispatched += 1
    if row.handled_at is not None or limit_passed:
        t.due_to_handle += 1
        t.handled_in_time += row.handled_at is not None and row.handle_due_at is not None and (
            row.handled_at <= row.handle_due_at)
    if row.acknowledged_at is not None:
        t.respond_minutes.append((row.acknowledged_at - row.reported_at).total_seconds() / 60)
    if row.whistle_matter_id is not None:
        t.whistled += 1
        reported_in = row.acknowledged_at is not None
        if reported_in or (row.report_in_due_at is not None and row.report_in_due_at <= now):
            t.whistles_due += 1
            t.whistles_in_time += reported_in and row.report_in_due_at is not None and (
                row.acknowledged_at <= row.report_in_due_at)


def _figures(t: Tally) -> dict:
    counts = {name: getattr(t, name) for name in Tally.__dataclass_fields__}
    ratios = {name: (round(counts[a] / counts[b], 4) if counts[b] else None) for name, (a, b) in RATIOS.items()}
    medians = {"respond": round(statistics.median(t.respond_minutes), 1) if t.respond_minutes else None,
               "close": round(statistics.median(t.close_minutes), 1) if t.close_minutes else None}
    return {"counts": counts, "ratios": ratios, "median_minutes": medians}


def period_of(at: datetime, period: str) -> tuple[int, str]:
    """(key, name) of the Beijing-time day, ISO week or month a report falls in: 20261203 "2026-12-03",
    202649 "2026-W49", 202612 "2026-12"; keys sort in time order."""
    local = at.astimezone(LOCAL_TZ)
    if period == "day":
        return local.year * 10000 + local.month * 100 + local.day, local.date().isoformat()
    if period == "week":
        year, week, _ = local.isocalendar()
        return year * 100 + week, f"{year}-W{week:02d}"
    return local.year * 100 + local.month, f"{local.year}-{local.month:02d}"


def case_stats(session: Session, scoped: Select, group_by: str, now: datetime) -> dict:
    """`scoped`: select(Case) already limited to what the caller may see and to the period. `group_by` a column
    (squad, grid, category, department) or a period of the report (day, week, month, Beijing time)."""
    key_column = {"none": None, "squad": "squad_id", "grid": "grid_id", "category": "category_id",
                  "department": "department_id"}.get(group_by)
    rows = session.execute(scoped.with_only_columns(*_COLUMNS)).all()
    total, groups = Tally(), defaultdict[int | None, Tally](Tally)
    period_names: dict[int | None, str] = {}
    for row in rows:
        _count(total, row, now)
        if key_column is not None:
            _count(groups[getattr(row, key_column)], row, now)
        elif group_by in PERIODS:
            key, period_names[key] = period_of(row.reported_at, group_by)
            _count(groups[key], row, now)
    names = period_names or _names(session, group_by, {k for k in groups if k is not None})
    return {"group_by": group_by, "total": _figures(total),
            "groups": [{"key": key, "name": names.get(key) if key is not None else None, **_figures(t)}
                       for key, t in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]}


def _names(session: Session, group_by: str, ids: set[int]) -> dict[int, str]:
    model = {"squad": Squad, "grid": Area, "category": CaseCategory, "department": Department}.get(group_by)
    if model is None or not ids:
        return {}
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())  # type: ignore[attr-defined]
