"""Coverage days are the squad's working days: local days in Asia/Shanghai (UTC+8 all year, no daylight saving)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_day(t_unix_s: np.ndarray) -> np.ndarray:
    """Local day of each time, as numpy datetime64[D]."""
    return (np.asarray(t_unix_s, dtype=np.float64) + 8 * 3600).astype("datetime64[s]").astype("datetime64[D]")


def day_bounds_utc(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), LOCAL_TZ).astimezone(UTC)
    return start, start + timedelta(days=1)


def today_local(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(LOCAL_TZ).date()
