"""Honest patrol tracks: drop implausible GPS fixes with a reason, break lines at gaps, flag what leaders must judge."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod
from shapely.geometry import LineString

__all__ = [
    "DEFAULT_RULES",
    "DROP_REASONS",
    "FLAG_FUTURE",
    "FLAG_MOCK",
    "MIN_VALID_T_UNIX_S",
    "MOVING_SPEED_MPS",
    "CleanTrack",
    "Gap",
    "TrackRules",
    "clean_track",
    "to_linestrings",
]

# Drop reason codes, in the order they are tested: a fix gets the first that applies.
DROP_REASONS = ("time", "accuracy", "spike")

# Bit flags per fix (``CleanTrack.flags``): shown to leaders, not silently acted upon.
FLAG_MOCK = 1  # the phone said the location came from a mock-location app
FLAG_FUTURE = 2  # the fix claims a time later than the server clock (+ tolerance)

# 2000-01-01T00:00:00Z. Real receivers never produce earlier times; loggers with a lost almanac do
# (GPSBabel's 1901-12-13 is INT32_MIN seconds), and such times would scramble the order of a patrol.
MIN_VALID_T_UNIX_S = 946_684_800.0

# Below this a "moving" step is GPS jitter of a standing person, not walking (walking is ~1.4 m/s).
MOVING_SPEED_MPS = 0.5

# Mean Earth radius (IUGG). Used only by the spike test, where a sphere's <0.5% error is irrelevant
# next to the 50 m/s threshold; every reported distance is geodesic on WGS-84.
_EARTH_RADIUS_M = 6_371_008.8

_GEOD_WGS84 = Geod(ellps="WGS84")

# Internal marker: kept, but starts a new part after an implausible jump (never leaves clean_track).
_REANCHORED = "jump"


@dataclass(frozen=True)
class TrackRules:
    """Thresholds of :func:`clean_track`. A value exactly at a threshold passes (tests use ``>``)."""

    max_accuracy_m: float = 50.0
    max_speed_mps: float = 50.0
    max_gap_s: float = 120.0
    max_gap_m: float = 500.0
    future_tolerance_s: float = 300.0
    # A fix that fails the speed test still starts a new part if it and the next fixes, this many in all,
    # agree with each other: then the *anchor* was wrong (a logger's stale cold-start position) or the
    # receiver really jumped, and dropping everything until the anchor is 120 s old would lose real data.
    # 0 disables it (every fast fix is a spike); 1 would make every fast fix a new start.
    reanchor_fixes: int = 3


DEFAULT_RULES = TrackRules()  # frozen, so one shared default instance is safe


@dataclass(frozen=True)
class Gap:
    """A break between two kept fixes (raw indices): nothing is drawn across it and it covers nothing."""

    start_index: int
    end_index: int
    duration_s: float  # negative only between segments that the file wrote out of time order
    distance_m: float
    reason: str  # 'segment' (the file/app started a new segment), 'time' or 'distance'


@dataclass(frozen=True)
class CleanTrack:
    """Result of :func:`clean_track`; every per-fix array is in raw (input) order and length.

    ``kept_index`` lists the raw indices of kept fixes in order; ``breaks_before``, ``step_distance_m`` and
    ``step_duration_s`` are over kept fixes: ``breaks_before[k]`` is True where kept fix ``k`` starts a new
    part, and ``step_*[k]`` is the step from kept fix ``k`` to ``k + 1`` (whether or not it is a gap).
    """

    kept: NDArray[np.bool_]
    drop_reason: NDArray[np.str_]
    flags: NDArray[np.uint8]
    kept_index: NDArray[np.int64]
    breaks_before: NDArray[np.bool_]
    step_distance_m: NDArray[np.float64]
    step_duration_s: NDArray[np.float64]
    gaps: list[Gap] = field(default_factory=list)

    @property
    def kept_count(self) -> int:
        return int(self.kept_index.size)

    @property
    def dropped_by_reason(self) -> dict[str, int]:
        """Count per drop reason, every reason present (0 when none), for the import report."""
        return {reason: int(np.count_nonzero(self.drop_reason == reason)) for reason in DROP_REASONS}

    def flagged(self, flag: int) -> NDArray[np.bool_]:
        """Per-fix mask of ``FLAG_MOCK`` or ``FLAG_FUTURE``."""
        mask: NDArray[np.bool_] = (self.flags & flag) != 0  # numpy's stubs type `!=` as Any
        return mask

    def parts(self) -> list[NDArray[np.int64]]:
        """Raw indices of kept fixes, one array per unbroken line (a part may hold a single fix)."""
        if self.kept_index.size == 0:
            return []
        return np.split(self.kept_index, np.flatnonzero(self.breaks_before))

    @property
    def _within_part(self) -> NDArray[np.bool_]:
        # A step belongs to a line unless the fix it leads to starts a new part.
        return ~self.breaks_before[1:]

    @property
    def distance_m(self) -> float:
        """Geodesic length of the drawn lines (gaps excluded)."""
        return float(self.step_distance_m[self._within_part].sum())

    @property
    def duration_s(self) -> float:
        """Time spanned by the drawn lines (gaps excluded)."""
        return float(self.step_duration_s[self._within_part].sum())

    @property
    def moving_time_s(self) -> float:
        """Time of the steps inside parts whose speed exceeds ``MOVING_SPEED_MPS``."""
        within = self._within_part
        moving = self.step_distance_m > MOVING_SPEED_MPS * self.step_duration_s
        return float(self.step_duration_s[within & moving].sum())


def clean_track(
    t_unix_s: ArrayLike,
    lon: ArrayLike,
    lat: ArrayLike,
    accuracy_m: ArrayLike | None = None,
    is_mock: ArrayLike | None = None,
    segment: ArrayLike | None = None,
    rules: TrackRules = DEFAULT_RULES,
    now_unix_s: float | None = None,
) -> CleanTrack:
    """Decide which fixes of a track to keep, why the others are dropped, and where the line breaks.

    Fixes must be given in recording order. Drop reasons, first match wins:

    ``time``
        NaN, before 2000-01-01 (bogus logger clocks), more than ``future_tolerance_s`` after
        ``now_unix_s`` (such a fix is also flagged ``FLAG_FUTURE``: a clock that runs ahead cannot order a
        patrol, so it is not used for coverage, but leaders see it), or not later than the last kept fix.
    ``accuracy``
        ``accuracy_m > max_accuracy_m``. Unknown (NaN) accuracy is kept: most GPX files have none.
    ``spike``
        The implied speed from the last kept fix exceeds ``max_speed_mps``, unless the fix and the
        following ones (``reanchor_fixes`` in all) move plausibly among themselves: then the fix starts a
        new part after a ``distance`` gap. The test is also skipped after a time gap (``> max_gap_s``) and
        at a segment boundary, where the fix starts a new part anyway. Each segment is ordered on its
        own, so segments written out of time order do not drop one another.

    Mock locations are flagged ``FLAG_MOCK`` and kept: leaders judge them. Kept fixes more than
    ``max_gap_s`` or ``max_gap_m`` apart, or in different ``segment`` values, are separated by a
    :class:`Gap`. Distances are geodesic on WGS-84 (``pyproj.Geod.inv``).

    Examples
    --------
    >>> c = clean_track([0.0, 1.0], [116.0, 116.0], [40.0, 40.0], now_unix_s=2e9)
    >>> c.kept.tolist(), c.drop_reason.tolist()
    ([False, False], ['time', 'time'])
    >>> c = clean_track([], [], [])
    >>> c.kept_count, c.parts(), c.distance_m
    (0, [], 0.0)
    """
    t = np.asarray(t_unix_s, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    n = t.size
    acc = np.full(n, np.nan) if accuracy_m is None else np.asarray(accuracy_m, dtype=np.float64)
    mock = np.zeros(n, dtype=bool) if is_mock is None else np.asarray(is_mock, dtype=bool)
    seg = np.zeros(n, dtype=np.int64) if segment is None else np.asarray(segment, dtype=np.int64)
    if not all(a.shape == (n,) for a in (lon_a, lat_a, acc, mock, seg)):
        raise ValueError("t_unix_s, lon, lat, accuracy_m, is_mock and segment must be 1-D of equal length")
    now = time.time() if now_unix_s is None else float(now_unix_s)

    future = t > now + rules.future_tolerance_s
    flags = np.where(mock, FLAG_MOCK, 0).astype(np.uint8) | np.where(future, FLAG_FUTURE, 0).astype(np.uint8)

    reason = np.full(n, "", dtype="<U8")
    bad_time = ~(t >= MIN_VALID_T_UNIX_S) | future  # ~(>=) also catches NaN
    reason[bad_time] = "time"
    reason[~bad_time & (acc > rules.max_accuracy_m)] = "accuracy"

    candidates = np.flatnonzero(reason == "")
    seq_reason = _sequential_reasons(t, lon_a, lat_a, seg, candidates, rules)
    reason[candidates] = seq_reason
    jumped = reason == _REANCHORED
    reason[jumped] = ""
    kept = reason == ""
    kept_index = np.flatnonzero(kept)

    # Steps between consecutive kept fixes, geodesic, in one vectorized call.
    a, b = kept_index[:-1], kept_index[1:]
    _az12, _az21, step_m = _GEOD_WGS84.inv(lon_a[a], lat_a[a], lon_a[b], lat_a[b])
    step_m = np.asarray(step_m, dtype=np.float64).reshape(-1)
    step_s = t[b] - t[a]

    new_segment = seg[b] != seg[a]
    long_time = step_s > rules.max_gap_s
    long_jump = (step_m > rules.max_gap_m) | jumped[b]
    is_gap = new_segment | long_time | long_jump
    # The first kept fix starts the first part; it is not a break (no gap before it).
    breaks_before = np.concatenate([np.zeros(min(kept_index.size, 1), dtype=bool), is_gap])
    gap_reason = np.where(new_segment, "segment", np.where(long_time, "time", "distance"))
    gaps = [
        Gap(int(a[k]), int(b[k]), float(step_s[k]), float(step_m[k]), str(gap_reason[k]))
        for k in np.flatnonzero(is_gap)  # one object per gap, not per fix: gaps are few
    ]
    return CleanTrack(
        kept=kept,
        drop_reason=reason,
        flags=flags,
        kept_index=kept_index.astype(np.int64),
        breaks_before=breaks_before,
        step_distance_m=step_m,
        step_duration_s=step_s,
        gaps=gaps,
    )


def _sequential_reasons(
    t: NDArray[np.float64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    seg: NDArray[np.int64],
    candidates: NDArray[np.intp],
    rules: TrackRules,
) -> NDArray[np.str_]:
    """'time'/'spike'/'' for each candidate; each depends on the last KEPT fix, hence the loop.

    Up to the first fix that is too early or too fast for the fix before it, every fix is kept and is the
    next one's anchor: that stretch is decided in one vectorized pass (all of a normal phone batch). The loop
    takes over from there, over plain Python floats with coordinates pre-converted to radians (numpy scalars
    would be ~10x slower); 100,000 fixes take well under 0.1 s.
    """
    out = np.full(candidates.size, "", dtype="<U8")
    if candidates.size == 0:
        return out
    lam_a = np.radians(lon[candidates])
    phi_a = np.radians(lat[candidates])
    cos_a = np.cos(phi_a)
    begin = _first_doubt(t[candidates], lam_a, phi_a, cos_a, seg[candidates], rules)
    if begin is None:
        return out
    ts: list[float] = t[candidates].tolist()
    lam: list[float] = lam_a.tolist()
    phi: list[float] = phi_a.tolist()
    cos_phi: list[float] = cos_a.tolist()
    segs: list[int] = seg[candidates].tolist()
    max_speed, max_gap_s, r = rules.max_speed_mps, rules.max_gap_s, _EARTH_RADIUS_M
    sqrt, pi, tau = math.sqrt, math.pi, 2.0 * math.pi
    confirmed: list[bool] = _confirmed_runs(t, lon, lat, seg, candidates, rules).tolist()
    drops: list[tuple[int, str]] = []
    reanchored: list[int] = []

    n_cand = len(ts)

    def too_fast(j: int) -> bool:
        """Fix j implies more than max_speed from the current anchor (same segment, within max_gap_s)."""
        dt = ts[j] - last_t
        if dt > max_gap_s or segs[j] != last_seg:
            return False
        if dt <= 0.0:
            return True
        dlam = lam[j] - last_lam
        if dlam > pi:  # across the antimeridian
            dlam -= tau
        elif dlam < -pi:
            dlam += tau
        # Equirectangular at the mean latitude: <0.1% error over a few km, which is all a spike test needs.
        dx = dlam * 0.5 * (cos_phi[j] + last_cos)
        dy = phi[j] - last_phi
        return r * sqrt(dx * dx + dy * dy) > max_speed * dt

    a = begin - 1  # kept, and the anchor of fix `begin`
    last_t, last_lam, last_phi, last_cos, last_seg = ts[a], lam[a], phi[a], cos_phi[a], segs[a]
    for i in range(begin, n_cand):
        if ts[i] <= last_t and segs[i] == last_seg:
            drops.append((i, "time"))
            continue
        if too_fast(i):
            # Re-anchor only when the following fixes agree with this one AND also disagree with the
            # anchor: then the anchor (or the world) moved, not this fix. Rare, so the look-ahead is cheap.
            followers = range(i + 1, min(i + rules.reanchor_fixes, n_cand))
            if not (confirmed[i] and all(too_fast(j) for j in followers)):
                drops.append((i, "spike"))
                continue
            reanchored.append(i)
        last_t, last_lam, last_phi, last_cos, last_seg = ts[i], lam[i], phi[i], cos_phi[i], segs[i]
    for i, why in drops:
        out[i] = why
    for i in reanchored:
        out[i] = _REANCHORED
    return out


def _first_doubt(
    ts: NDArray[np.float64],
    lam: NDArray[np.float64],
    phi: NDArray[np.float64],
    cos_phi: NDArray[np.float64],
    segs: NDArray[np.int64],
    rules: TrackRules,
) -> int | None:
    """The first candidate that would be dropped or re-anchored if the one before it were its anchor (the
    loop's own test, vectorized in the same order of operations); None when there is none."""
    dt = np.diff(ts)
    dlam = np.diff(lam)
    dlam = np.where(dlam > math.pi, dlam - 2.0 * math.pi, np.where(dlam < -math.pi, dlam + 2.0 * math.pi, dlam))
    dx = dlam * 0.5 * (cos_phi[1:] + cos_phi[:-1])
    dy = np.diff(phi)
    too_fast = _EARTH_RADIUS_M * np.sqrt(dx * dx + dy * dy) > rules.max_speed_mps * dt
    doubt = (segs[1:] == segs[:-1]) & ((dt <= 0.0) | ((dt <= rules.max_gap_s) & too_fast))
    hits = np.flatnonzero(doubt)
    return int(hits[0]) + 1 if hits.size else None


def _confirmed_runs(
    t: NDArray[np.float64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    seg: NDArray[np.int64],
    candidates: NDArray[np.intp],
    rules: TrackRules,
) -> NDArray[np.bool_]:
    """Per candidate: it and the next ``reanchor_fixes - 1`` candidates form a plausible chain."""
    m = candidates.size
    links = rules.reanchor_fixes - 1
    if rules.reanchor_fixes <= 0 or m == 0:
        return np.zeros(m, dtype=bool)
    if links == 0:
        return np.ones(m, dtype=bool)
    a, b = candidates[:-1], candidates[1:]
    _az12, _az21, step_m = _GEOD_WGS84.inv(lon[a], lat[a], lon[b], lat[b])
    dt = t[b] - t[a]
    ok = (dt > 0) & (np.asarray(step_m) <= rules.max_speed_mps * dt) & (seg[a] == seg[b])
    # Sliding window "all `links` links from i on are ok", via a cumulative count of bad links.
    bad = np.concatenate([[0], np.cumsum(~ok)])
    start = np.arange(m)
    end = start + links
    confirmed = np.zeros(m, dtype=bool)
    full = end <= m - 1  # the last fixes have too few followers to confirm anything
    confirmed[full] = bad[end[full]] - bad[start[full]] == 0
    return confirmed


def to_linestrings(clean: CleanTrack, lon: ArrayLike, lat: ArrayLike) -> list[LineString]:
    """One lon/lat ``LineString`` per part with at least two fixes, in order.

    A part of a single fix has no length and covers nothing, so it is skipped here; callers that want to
    show it as a point find it in ``clean.parts()``.
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    lines = [part for part in clean.parts() if part.size >= 2]
    if not lines:
        return []
    index = np.concatenate(lines)
    part_id = np.repeat(np.arange(len(lines)), [part.size for part in lines])
    coords = np.column_stack([lon_a[index], lat_a[index]])
    # cast: with `indices` shapely returns an array of lines; its stubs cannot tell that from one line
    return list(cast("NDArray[np.object_]", shapely.linestrings(coords, indices=part_id)))
