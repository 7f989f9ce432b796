"""What the database and Python can hold: the bounds every input is checked against at the edge, so a value
that cannot be stored or computed with is a 400 naming its field, never a 500 (and never stored)."""
from __future__ import annotations

from datetime import UTC, date, datetime

# Every id and count column is INTEGER: PostgreSQL's int4 overflows at 2^31 (SQLite's at 2^63).
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1

# Python's datetimes end at years 1 and 9999, and times are converted to UTC, to local (UTC+8) days and shifted by
# days (a night shift ends the next day, a period query adds one): a margin of centuries keeps all of that inside.
# Phones with a wrong clock still send 1970 or 1999 (GPS week roll-over): inside, and dropped by the cleaner.
EARLIEST_UTC = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_UTC = datetime(3000, 1, 1, tzinfo=UTC)  # exclusive
EARLIEST_T_UNIX_S = EARLIEST_UTC.timestamp()
LATEST_T_UNIX_S = LATEST_UTC.timestamp()
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)

# PostgreSQL text cannot hold U+0000 (psycopg refuses to send it); SQLite would store it.
NUL = "\x00"


def datetime_in_range(value: datetime) -> bool:
    """True when an aware datetime's UTC lies in [EARLIEST_UTC, LATEST_UTC) (False also when the conversion to
    UTC itself overflows, as 9999-12-31T23:59:59-14:00 does)."""
    try:
        return EARLIEST_UTC <= value.astimezone(UTC) < LATEST_UTC
    except (OverflowError, ValueError):
        return False


def date_in_range(value: date) -> bool:
    return EARLIEST_DATE <= value <= LATEST_DATE
