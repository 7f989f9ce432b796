"""Time limits on working time follow the holiday calendar kept as data, make-up working days included."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from backend.services.cases import clock

# 2026 as the State Council set it (a slice of migrations/data/0008_case_catalogue.json)
CAL = clock.WorkCalendar(
    rest_days=frozenset({date(2026, 2, d) for d in range(15, 24)} | {date(2026, 1, 1), date(2026, 1, 2)}),
    work_days=frozenset({date(2026, 2, 14), date(2026, 2, 28), date(2026, 1, 4)}))


def local(y, m, d, h, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=clock.LOCAL_TZ)


def test_natural_time_runs_through_nights_and_holidays():
    start = local(2026, 2, 15, 23, 30)
    assert clock.add(start, 60, "natural", CAL) == local(2026, 2, 16, 0, 30)


def test_working_time_skips_lunch_and_the_night():
    assert clock.add(local(2026, 3, 2, 11, 0), 120, "working", CAL) == local(2026, 3, 2, 14, 30)
    assert clock.add(local(2026, 3, 2, 17, 0), 120, "working", CAL) == local(2026, 3, 3, 9, 30)


def test_a_report_at_night_starts_its_working_clock_in_the_morning():
    assert clock.add(local(2026, 3, 2, 22, 0), 30, "working", CAL) == local(2026, 3, 3, 9, 0)


def test_a_make_up_saturday_is_a_working_day_and_the_spring_festival_is_not():
    # Friday 13 Feb 17:00 + 2 working hours: the make-up Saturday 14 Feb counts; then nine days off
    assert clock.add(local(2026, 2, 13, 17, 0), 120, "working", CAL) == local(2026, 2, 14, 9, 30)
    assert clock.add(local(2026, 2, 14, 17, 0), 120, "working", CAL) == local(2026, 2, 24, 9, 30)
    # a Monday-Friday week would have put this on Monday 16 Feb, in the middle of the holiday
    assert clock.add(local(2026, 2, 13, 8, 30), 3 * clock.WORKING_DAY_MINUTES, "working", CAL) == local(2026, 2, 24, 18)


def test_a_sunday_made_a_working_day_counts():
    assert clock.add(local(2026, 1, 1, 9, 0), 60, "working", CAL) == local(2026, 1, 4, 9, 30)


@pytest.mark.parametrize("start, minutes", [(local(2026, 2, 13, 10, 17), 1234), (local(2026, 1, 1, 0, 0), 480),
                                            (local(2026, 3, 6, 12, 30), 61)])
def test_elapsed_working_minutes_undo_add(start, minutes):
    end = clock.add(start, minutes, "working", CAL)
    assert clock.elapsed_minutes(start, end, "working", CAL) == pytest.approx(minutes)
    assert end.tzinfo is not None and end.utcoffset() == UTC.utcoffset(None)
