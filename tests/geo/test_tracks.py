"""Honest tracks: drop reasons, gaps and flags on real GPS files and on the edge cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo.gpx import GpxTrackSet, parse_gpx
from geo.tracks import (
    FLAG_FUTURE,
    FLAG_MOCK,
    MIN_VALID_T_UNIX_S,
    CleanTrack,
    TrackRules,
    clean_track,
    to_linestrings,
)

NOW_S = 1_750_000_000.0  # a fixed "server now" (2025-06-15) so no test depends on the clock
T0_S = 1_714_550_400.0  # 2024-05-01T08:00:00Z
LAT0 = 40.0
M_PER_DEG_LAT = 111_035.0  # at 40°N on WGS-84, enough to place synthetic fixes a known distance apart
_GEOD = Geod(ellps="WGS84")
DEFAULT_RULES = TrackRules()


def _clean(track: GpxTrackSet, rules: TrackRules = DEFAULT_RULES) -> CleanTrack:
    return clean_track(
        track.t_unix_s, track.lon, track.lat, track.accuracy_m, segment=track.segment, rules=rules, now_unix_s=NOW_S
    )


@pytest.fixture(scope="module")
def gps(shared_data: Path) -> dict[str, GpxTrackSet]:
    names = {
        "korita": "gpxpy__korita-zbevnica.gpx",
        "cerknicko": "gpxpy__cerknicko-jezero.gpx",
        "mojstrovka": "gpxpy__Mojstrovka.gpx",
        "visnjan": "gpxpy__around-visnjan-with-car.gpx",
        "mtk": "gpsbabel__mtk_logger.gpx",
        "sbn": "gpsbabel__sbn-v13.gpx",
        "skytraq": "gpsbabel__skytraq-miniHomer2_8.gpx",
    }
    return {key: parse_gpx((shared_data / "gps" / name).read_bytes()) for key, name in names.items()}


def _assert_no_line_across_gaps(clean: CleanTrack, track: GpxTrackSet, rules: TrackRules = DEFAULT_RULES) -> None:
    """Every drawn step is inside one segment and within the gap thresholds."""
    for part in clean.parts():
        assert np.all(track.segment[part] == track.segment[part[0]])
        if part.size > 1:
            _a, _b, step_m = _GEOD.inv(track.lon[part[:-1]], track.lat[part[:-1]], track.lon[part[1:]], track.lat[part[1:]])
            assert np.max(step_m) <= rules.max_gap_m
            assert np.max(np.diff(track.t_unix_s[part])) <= rules.max_gap_s


def _assert_consistent(clean: CleanTrack, n: int) -> None:
    assert clean.kept.shape == clean.drop_reason.shape == clean.flags.shape == (n,)
    assert np.array_equal(clean.kept, clean.drop_reason == "")
    assert clean.kept_count + sum(clean.dropped_by_reason.values()) == n
    parts = clean.parts()
    assert sum(p.size for p in parts) == clean.kept_count
    assert len(parts) == len(clean.gaps) + (1 if clean.kept_count else 0)


# --- real files ---------------------------------------------------------------------------------------


def test_korita_segments_are_never_joined(gps: dict[str, GpxTrackSet]) -> None:
    track = gps["korita"]
    clean = _clean(track)
    _assert_consistent(clean, track.point_count)
    # The first segment (358 fixes) has no <time> at all: untimed fixes cannot order a patrol.
    first = track.segment == 0
    assert np.all(clean.drop_reason[first] == "time")
    assert clean.dropped_by_reason == {"time": 358, "accuracy": 0, "spike": 0}
    assert len(clean.parts()) >= 4
    assert any(g.reason == "segment" for g in clean.gaps)
    _assert_no_line_across_gaps(clean, track)


def test_korita_12_7_km_jump_between_segments_is_a_gap_once_timed(gps: dict[str, GpxTrackSet]) -> None:
    # Give the untimed first segment plausible times (1 s apart, ending before the second starts) to
    # see the 12.7 km jump itself: it must be a segment gap, not a line.
    track = gps["korita"]
    t = track.t_unix_s.copy()
    first = np.flatnonzero(track.segment == 0)
    t[first] = np.nanmin(t) - 3600.0 + np.arange(first.size)
    clean = clean_track(t, track.lon, track.lat, segment=track.segment, now_unix_s=NOW_S)
    jump = [g for g in clean.gaps if g.start_index == first[-1]]
    assert len(jump) == 1 and jump[0].reason == "segment"
    assert jump[0].distance_m == pytest.approx(12_700, rel=0.02)
    assert len(clean.parts()) >= 4
    lines = to_linestrings(clean, track.lon, track.lat)
    assert not any(line.distance(shapely.Point(track.lon[first[-1]], track.lat[first[-1]])) < 1e-9
                   and line.distance(shapely.Point(track.lon[first[-1] + 1], track.lat[first[-1] + 1])) < 1e-9
                   for line in lines)


def test_cerknicko_5_3_km_jump_is_a_gap(gps: dict[str, GpxTrackSet]) -> None:
    track = gps["cerknicko"]
    clean = _clean(track)
    _assert_consistent(clean, track.point_count)
    big = [g for g in clean.gaps if g.distance_m > 5_000]
    assert len(big) == 1
    assert big[0].reason == "segment"
    assert big[0].distance_m == pytest.approx(5_300, rel=0.02)
    assert len(clean.parts()) >= track.segment_count
    _assert_no_line_across_gaps(clean, track)
    # Nothing drawn spans the jump: the drawn length is the sum of steps inside parts only.
    assert clean.distance_m < float(clean.step_distance_m.sum()) - 5_000


def test_mojstrovka_1901_times_draw_nothing(gps: dict[str, GpxTrackSet]) -> None:
    track = gps["mojstrovka"]
    clean = _clean(track)
    assert clean.dropped_by_reason == {"time": 184, "accuracy": 0, "spike": 0}
    assert clean.kept_count == 0
    assert clean.parts() == [] and clean.gaps == []
    assert clean.distance_m == 0.0 and clean.duration_s == 0.0 and clean.moving_time_s == 0.0
    assert to_linestrings(clean, track.lon, track.lat) == []


def test_mtk_2_km_jump_in_a_second_is_a_spike_and_the_track_goes_on(gps: dict[str, GpxTrackSet]) -> None:
    track = gps["mtk"]
    clean = _clean(track)
    _assert_consistent(clean, track.point_count)
    # Fixes 0-9 repeat the logger's stale cold-start position; fix 10 jumps 2 km in 1 s, fix 12 another
    # 1.8 km in 1 s, and from 12 on the fixes agree with each other: 10 and 11 are the spikes, and the
    # track resumes at 12 after a distance gap instead of being dropped until the stale anchor ages out.
    _a, _b, jump_m = _GEOD.inv(track.lon[9], track.lat[9], track.lon[10], track.lat[10])
    assert jump_m == pytest.approx(2_000, rel=0.1)
    assert track.t_unix_s[10] - track.t_unix_s[9] == pytest.approx(1.0, abs=0.05)
    assert np.flatnonzero(clean.drop_reason == "spike").tolist() == [10, 11]
    assert clean.kept[12:].all()
    assert any(g.start_index == 9 and g.end_index == 12 and g.reason == "distance" for g in clean.gaps)
    _assert_no_line_across_gaps(clean, track)


def test_mtk_without_reanchoring_drops_until_the_anchor_is_plausible(gps: dict[str, GpxTrackSet]) -> None:
    clean = _clean(gps["mtk"], TrackRules(reanchor_fixes=0))
    assert clean.dropped_by_reason["spike"] > 2
    assert clean.kept[24:].all()  # by then the stale anchor is far enough in the past to be plausible


def test_sbn_accuracy_drops_match_hdop_times_five(gps: dict[str, GpxTrackSet]) -> None:
    track = gps["sbn"]
    clean = _clean(track)
    _assert_consistent(clean, track.point_count)
    expected = int(np.count_nonzero(track.hdop * 5.0 > 50.0))  # NaN hdop compares False: not dropped
    assert expected > 0
    assert clean.dropped_by_reason["accuracy"] == expected
    assert np.array_equal(clean.drop_reason == "accuracy", track.hdop * 5.0 > 50.0)
    # Its few single-fix jumps (~50 m in 1 s) are spikes; the fix after each is kept.
    spikes = np.flatnonzero(clean.drop_reason == "spike")
    assert spikes.size > 0 and clean.kept[spikes + 1].all()
    assert len(clean.parts()) == 1


def test_skytraq_day_parses_with_plausible_distance_and_gaps(gps: dict[str, GpxTrackSet]) -> None:
    track = gps["skytraq"]
    clean = _clean(track)
    _assert_consistent(clean, track.point_count)
    # The logger repeats fixes with the same second while standing: every repeat is a 'time' drop.
    repeats = int(np.count_nonzero(np.diff(track.t_unix_s) <= 0))
    assert clean.dropped_by_reason == {"time": repeats, "accuracy": 0, "spike": 0}
    # Two pauses of the logger (9.6 h and ~5 min) are time gaps.
    assert [g.reason for g in clean.gaps] == ["time", "time"]
    assert max(g.duration_s for g in clean.gaps) > 9 * 3600
    _assert_no_line_across_gaps(clean, track)
    # A day on foot or by bike covers 5-40 km: below 5 km the day would be a stroll, above 40 km a line
    # would have been drawn across the pauses. It must also agree with how fast the logger moved:
    # median step speed times moving time, within 30%.
    assert 5_000 < clean.distance_m < 40_000
    within = ~clean.breaks_before[1:]
    speed = np.median(clean.step_distance_m[within] / clean.step_duration_s[within])
    assert clean.distance_m == pytest.approx(speed * clean.moving_time_s, rel=0.3)
    assert clean.moving_time_s <= clean.duration_s


def test_visnjan_drive_is_no_spike_at_50_but_is_at_20(gps: dict[str, GpxTrackSet]) -> None:
    track = gps["visnjan"]
    clean = _clean(track)
    assert clean.dropped_by_reason["spike"] == 0
    assert clean.kept_count == 104
    strict = _clean(track, TrackRules(max_speed_mps=20.0, reanchor_fixes=0))
    assert strict.dropped_by_reason["spike"] > 0
    assert _clean(track, TrackRules(max_speed_mps=20.0)).dropped_by_reason["spike"] > 0


# --- synthetic edge cases -----------------------------------------------------------------------------


def _line(n: int, step_m: float = 10.0, step_s: float = 10.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n fixes walking north, step_m apart and step_s apart."""
    t = T0_S + step_s * np.arange(n)
    lat = LAT0 + step_m * np.arange(n) / M_PER_DEG_LAT
    return t, np.full(n, 116.3), lat


def test_empty_and_single_fix() -> None:
    empty = clean_track([], [], [], now_unix_s=NOW_S)
    assert empty.kept_count == 0 and empty.parts() == [] and empty.gaps == []
    assert empty.distance_m == empty.duration_s == empty.moving_time_s == 0.0
    assert empty.dropped_by_reason == {"time": 0, "accuracy": 0, "spike": 0}
    one = clean_track([T0_S], [116.3], [LAT0], now_unix_s=NOW_S)
    assert one.kept.tolist() == [True]
    assert [p.tolist() for p in one.parts()] == [[0]]
    assert to_linestrings(one, [116.3], [LAT0]) == []  # a single fix has no line; parts() still has it


def test_equal_and_decreasing_times_drop_the_later_fix() -> None:
    t, lon, lat = _line(4)
    t[2] = t[1]
    t[3] = t[0]
    clean = clean_track(t, lon, lat, now_unix_s=NOW_S)
    assert clean.drop_reason.tolist() == ["", "", "time", "time"]


def test_nan_and_pre_2000_times_are_dropped() -> None:
    t, lon, lat = _line(3)
    t[0] = np.nan
    t[1] = MIN_VALID_T_UNIX_S - 1.0
    clean = clean_track(t, lon, lat, now_unix_s=NOW_S)
    assert clean.drop_reason.tolist() == ["time", "time", ""]


def test_mock_is_flagged_and_kept_future_is_flagged_and_dropped() -> None:
    t, lon, lat = _line(4)
    t[3] = NOW_S + 301.0
    clean = clean_track(t, lon, lat, is_mock=[False, True, False, False], now_unix_s=NOW_S)
    assert clean.kept.tolist() == [True, True, True, False]
    assert clean.drop_reason[3] == "time"
    assert clean.flagged(FLAG_MOCK).tolist() == [False, True, False, False]
    assert clean.flagged(FLAG_FUTURE).tolist() == [False, False, False, True]
    # Within the tolerance (clock skew of a phone) a time slightly ahead is fine.
    t[3] = NOW_S + 300.0
    assert clean_track(t, lon, lat, now_unix_s=NOW_S).kept.all()


def test_accuracy_threshold_and_unknown_accuracy() -> None:
    t, lon, lat = _line(4)
    clean = clean_track(t, lon, lat, accuracy_m=[50.0, 50.1, np.nan, 5.0], now_unix_s=NOW_S)
    assert clean.drop_reason.tolist() == ["", "accuracy", "", ""]


def test_a_bad_time_wins_over_bad_accuracy() -> None:
    t, lon, lat = _line(2)
    t[1] = np.nan
    clean = clean_track(t, lon, lat, accuracy_m=[5.0, 500.0], now_unix_s=NOW_S)
    assert clean.drop_reason.tolist() == ["", "time"]


def test_single_spike_is_dropped_and_the_next_fix_kept() -> None:
    t, lon, lat = _line(6)
    lat[3] += 1_000 / M_PER_DEG_LAT  # 1 km off for one fix, 10 s from its neighbours: 100 m/s
    clean = clean_track(t, lon, lat, now_unix_s=NOW_S)
    assert clean.drop_reason.tolist() == ["", "", "", "spike", "", ""]
    assert clean.gaps == []
    assert clean.distance_m == pytest.approx(50.0, rel=0.01)


@pytest.mark.parametrize(
    ("step_s", "step_m", "gap_reason"),
    [
        (120.0, 10.0, None),  # exactly at max_gap_s: no gap (the rule is >)
        (120.5, 10.0, "time"),
        (60.0, 499.0, None),  # just below max_gap_m (exact metres depend on the ellipsoid)
        (60.0, 501.0, "distance"),
    ],
)
def test_gap_thresholds_are_strictly_greater(step_s: float, step_m: float, gap_reason: str | None) -> None:
    t = np.array([T0_S, T0_S + step_s])
    lat = np.array([LAT0, LAT0 + step_m / M_PER_DEG_LAT])
    lon = np.array([116.3, 116.3])
    clean = clean_track(t, lon, lat, now_unix_s=NOW_S)
    assert clean.kept.all()
    assert [g.reason for g in clean.gaps] == ([gap_reason] if gap_reason else [])
    assert len(to_linestrings(clean, lon, lat)) == (0 if gap_reason else 1)


def test_gap_at_exact_distance_threshold_is_not_a_gap() -> None:
    t, lon, lat = _line(2)
    _a, _b, d_m = _GEOD.inv(lon[0], lat[0], lon[1], lat[1])
    rules = TrackRules(max_gap_m=float(d_m))
    assert clean_track(t, lon, lat, rules=rules, now_unix_s=NOW_S).gaps == []
    rules = TrackRules(max_gap_m=float(d_m) - 1e-6)
    assert [g.reason for g in clean_track(t, lon, lat, rules=rules, now_unix_s=NOW_S).gaps] == ["distance"]


def test_segment_boundary_breaks_the_line_and_parts_helpers() -> None:
    t, lon, lat = _line(6, step_m=10.0, step_s=10.0)
    clean = clean_track(t, lon, lat, segment=[0, 0, 0, 1, 1, 1], now_unix_s=NOW_S)
    assert [p.tolist() for p in clean.parts()] == [[0, 1, 2], [3, 4, 5]]
    assert clean.breaks_before.tolist() == [False, False, False, True, False, False]
    (gap,) = clean.gaps
    assert (gap.start_index, gap.end_index, gap.reason) == (2, 3, "segment")
    assert gap.duration_s == 10.0 and gap.distance_m == pytest.approx(10.0, rel=0.01)
    assert clean.distance_m == pytest.approx(40.0, rel=0.01)
    assert clean.duration_s == 40.0
    assert clean.moving_time_s == 40.0  # 1 m/s > 0.5 m/s
    lines = to_linestrings(clean, lon, lat)
    assert [len(line.coords) for line in lines] == [3, 3]


def test_standing_still_is_not_moving_time() -> None:
    t, lon, lat = _line(5, step_m=1.0, step_s=10.0)  # 0.1 m/s: jitter of someone standing
    clean = clean_track(t, lon, lat, now_unix_s=NOW_S)
    assert clean.duration_s == 40.0 and clean.moving_time_s == 0.0


def test_mismatched_lengths_are_a_programming_error() -> None:
    with pytest.raises(ValueError):
        clean_track([T0_S, T0_S + 1], [116.3], [LAT0, LAT0], now_unix_s=NOW_S)


def test_100k_fixes_vectorized_path_is_correct() -> None:
    # Size check, not a timing assertion (timings live in bench/): the loop must cope with 100k fixes.
    n = 100_000
    t, lon, lat = _line(n, step_m=1.4, step_s=1.0)
    lat[::1000] += 2_000 / M_PER_DEG_LAT
    clean = clean_track(t, lon, lat, now_unix_s=NOW_S)
    spikes = np.flatnonzero(clean.drop_reason == "spike")
    assert spikes.tolist() == list(range(1000, n, 1000))  # fix 0 is the first anchor, kept
    assert clean.distance_m == pytest.approx(1.4 * (n - 1), rel=0.01)


def _loop_only(monkeypatch) -> None:
    """Make the loop decide every fix, as before the vectorized stretch existed."""
    import geo.tracks

    monkeypatch.setattr(geo.tracks, "_first_doubt", lambda *args: 1)


@pytest.mark.parametrize("name", ["korita", "cerknicko", "mojstrovka", "visnjan", "mtk", "sbn", "skytraq"])
def test_the_vectorized_stretch_decides_real_tracks_as_the_loop_does(gps, name, monkeypatch) -> None:
    fast = _clean(gps[name])
    _loop_only(monkeypatch)
    slow = _clean(gps[name])
    assert fast.drop_reason.tolist() == slow.drop_reason.tolist()
    assert [(g.start_index, g.end_index, g.reason) for g in fast.gaps] == [
        (g.start_index, g.end_index, g.reason) for g in slow.gaps]


@pytest.mark.parametrize("seed", range(6))
def test_the_vectorized_stretch_decides_noisy_tracks_as_the_loop_does(seed, monkeypatch) -> None:
    # Walking and driving with spikes, repeated and reversed times, bad accuracy and a few time gaps: the loop
    # takes over somewhere in the middle, from a state the vectorized stretch set up.
    rng = np.random.default_rng(seed)
    n = 3_000
    t = T0_S + np.cumsum(rng.choice([1.0, 1.0, 1.0, 0.0, -2.0, 200.0], size=n, p=[.9, .04, .02, .01, .01, .02]))
    step = rng.choice([1.4, 12.0, 45.0], size=n, p=[.6, .3, .1])
    heading = np.cumsum(rng.normal(0, 0.3, n))
    lat = LAT0 + np.cumsum(step * np.sin(heading)) / M_PER_DEG_LAT
    lon = 116.3 + np.cumsum(step * np.cos(heading)) / (M_PER_DEG_LAT * np.cos(np.radians(LAT0)))
    spikes = rng.random(n) < 0.01 * (seed % 3)  # seeds 0 and 3: no spikes at all
    lat[spikes] += rng.uniform(500, 5_000, spikes.sum()) / M_PER_DEG_LAT
    acc = rng.uniform(3, 70, n)
    fast = clean_track(t, lon, lat, acc, now_unix_s=NOW_S)
    _loop_only(monkeypatch)
    slow = clean_track(t, lon, lat, acc, now_unix_s=NOW_S)
    assert fast.drop_reason.tolist() == slow.drop_reason.tolist()
    assert fast.breaks_before.tolist() == slow.breaks_before.tolist()
