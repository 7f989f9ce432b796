"""The holiday calendar kept as data: each year's public holidays and make-up working days (调休) replaced as a
whole when the State Council publishes its notice (usually in the November before), so next year's provisional
statutory days give way to the real schedule. Limits already set on cases keep the calendar they were set with."""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete, extract, select
from sqlalchemy.orm import Session

from ...errors import InvalidInput
from ...models import CalendarDay, User
from ..core import audit


def replace_year(session: Session, year: int, days: list[dict], actor: User,
                 client_addr: str | None) -> list[CalendarDay]:
    """`days`: [{day, kind: rest|work, name}], every one in `year` or in the December before it (a notice may
    move the last days of the year before: the 2019 notice made 2018-12-29 a working day), each day once. Those
    December days are replaced one by one; the year's own days all at once. A make-up working day must be a
    Saturday or Sunday, and a rest day may not be one: the calendar only records days that are not what their
    weekday says."""
    problems: dict[str, list[str]] = {}
    seen: set[date] = set()
    for i, entry in enumerate(days):
        day: date = entry["day"]
        if day.year != year and not (day.year == year - 1 and day.month == 12):
            problems[f"days.{i}.day"] = [f"不在 {year} 年（或其前一年 12 月）/ not in {year} or the December before"]
        elif day in seen:
            problems[f"days.{i}.day"] = ["重复的日期 / listed twice"]
        elif entry["kind"] == "work" and day.weekday() < 5:
            problems[f"days.{i}.kind"] = ["调休上班日应为周六或周日 / a make-up working day falls on a weekend"]
        elif entry["kind"] == "rest" and day.weekday() >= 5:
            problems[f"days.{i}.kind"] = ["周末本来就休息，无需列出 / a weekend is a rest day already"]
        seen.add(day)
    if problems:
        raise InvalidInput("validation_error", details={"fields": problems})
    before = session.scalars(select(CalendarDay).where(extract("year", CalendarDay.day) == year)).all()
    was = {"days": len(before), "provisional": any(d.provisional for d in before)}
    session.execute(delete(CalendarDay).where(extract("year", CalendarDay.day) == year))
    december = [e["day"] for e in days if e["day"].year == year - 1]
    if december:
        session.execute(delete(CalendarDay).where(CalendarDay.day.in_(december)))
    rows = [CalendarDay(day=e["day"], kind=e["kind"], name=e["name"], provisional=False)
            for e in sorted(days, key=lambda e: e["day"])]
    session.add_all(rows)
    audit.record(session, "calendar.replace", "calendar_year", year, actor=actor, client_addr=client_addr,
                 before=was, after={"days": len(rows), "rest": sum(r.kind == "rest" for r in rows),
                                    "work": sum(r.kind == "work" for r in rows)})
    return rows
