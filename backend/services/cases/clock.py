"""Time limits on a case's clock: natural time, or working time (working hours on working days, on the holiday
calendar kept as data, with its make-up working days: a Monday-Friday week is wrong twice a year or more)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import CalendarDay

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# Office hours of a township government: 8 working hours, so a working day is 480 working minutes.
WORKING_HOURS = ((time(8, 30), time(12, 0)), (time(13, 30), time(18, 0)))
WORKING_DAY_MINUTES = 480
_MAX_DAYS = 3660  # no limit runs ten years: a guard against an empty calendar loop, never reached


@dataclass(frozen=True)
class WorkCalendar:
    rest_days: frozenset[date]
    work_days: frozenset[date]  # make-up working days (调休上班), often a Saturday or Sunday

    def is_working_day(self, day: date) -> bool:
        if day in self.work_days:
            return True
        return day not in self.rest_days and day.weekday() < 5


def load_calendar(session: Session) -> WorkCalendar:
    rows = session.execute(select(CalendarDay.day, CalendarDay.kind)).all()
    return WorkCalendar(frozenset(d for d, k in rows if k == "rest"), frozenset(d for d, k in rows if k == "work"))


def _windows(day: date) -> list[tuple[datetime, datetime]]:
    return [(datetime.combine(day, a, LOCAL_TZ), datetime.combine(day, b, LOCAL_TZ)) for a, b in WORKING_HOURS]


def add(start: datetime, minutes: int, clock: str, calendar: WorkCalendar) -> datetime:
    """The moment `minutes` of the clock have run from `start`."""
    if clock == "natural":
        return start + timedelta(minutes=minutes)
    left = timedelta(minutes=minutes)
    at = start.astimezone(LOCAL_TZ)
    day = at.date()
    for _ in range(_MAX_DAYS):
        if calendar.is_working_day(day):
            for opens, closes in _windows(day):
                begin = max(at, opens)
                if begin >= closes:
                    continue
                if begin + left <= closes:
                    return (begin + left).astimezone(UTC)
                left -= closes - begin
        day += timedelta(days=1)
    raise ValueError("time limit beyond the calendar")


def elapsed_minutes(start: datetime, end: datetime, clock: str, calendar: WorkCalendar) -> float:
    """How many minutes of the clock ran between start and end (0 when end is not after start)."""
    if end <= start:
        return 0.0
    if clock == "natural":
        return (end - start).total_seconds() / 60
    total = timedelta()
    a, b = start.astimezone(LOCAL_TZ), end.astimezone(LOCAL_TZ)
    day = a.date()
    while day <= b.date():
        if calendar.is_working_day(day):
            for opens, closes in _windows(day):
                lo, hi = max(a, opens), min(b, closes)
                if hi > lo:
                    total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 60
