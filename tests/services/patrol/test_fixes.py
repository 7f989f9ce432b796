"""The fast column-wise validation of a batch must decide exactly as the per-fix one that reports errors."""
from dataclasses import fields

import numpy as np
import pytest

from backend.errors import InvalidInput
from backend.services.patrol.fixes import _parse_reporting, _parse_well_formed, parse_fixes


def _fix(i: int, **extra) -> dict:
    return {"t": f"2026-11-20T08:{i // 60:02d}:{i % 60:02d}+08:00", "lon": 115.5 + i * 1e-5, "lat": 38.1,
            "accuracy_m": 5, **extra}


def _same(a, b) -> None:
    for f in fields(a):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), err_msg=f.name)


@pytest.mark.parametrize("points", [
    [_fix(i) for i in range(50)],
    [_fix(i, speed_mps=1.5, heading_deg=90, altitude_m=12.5, is_mock=i == 3) for i in range(50)],
    # optional values in some fixes only, null in others, times in other spellings and zones
    [_fix(0), _fix(1, speed_mps=None), _fix(2, heading_deg=0), {**_fix(3), "t": "2026-11-20T00:03:00.250Z"},
     {**_fix(4), "t": "2026-11-20T00:04:00+00:00"}, _fix(5, altitude_m=-3, is_mock=False)],
])
def test_the_fast_path_reads_well_formed_batches_as_the_reporting_path(points):
    fast = _parse_well_formed(points)
    assert fast is not None
    _same(fast, _parse_reporting(points))


@pytest.mark.parametrize("bad", [
    {"lon": True}, {"lat": "38.1"}, {"speed_mps": "1"}, {"accuracy_m": float("nan")}, {"heading_deg": 361},
    {"is_mock": 1}, {"t": "2026-11-20T08:00:00"}, {"t": 1763600000}, {"t": "yesterday"}, {"colour": "red"},
])
def test_a_doubtful_fix_leaves_the_fast_path_and_is_reported_by_index_and_field(bad):
    points = [_fix(i) for i in range(10)]
    points[6] = {**points[6], **bad}
    assert _parse_well_formed(points) is None
    with pytest.raises(InvalidInput) as caught:
        parse_fixes(points)
    errors = caught.value.details["fields"]["points"]
    assert list(errors) == ["6"] and set(errors["6"]) == set(bad)


def test_a_fix_without_its_time_or_position_is_reported():
    points = [_fix(i) for i in range(3)]
    del points[1]["t"], points[2]["lon"]
    with pytest.raises(InvalidInput) as caught:
        parse_fixes(points)
    assert {k: set(v) for k, v in caught.value.details["fields"]["points"].items()} == {"1": {"t"}, "2": {"lon"}}
