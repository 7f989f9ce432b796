"""Patrol sessions: start (idempotent on the phone's client id), receive batches of fixes (idempotent on the batch
id), clean the whole track with geo.tracks, end, and read the track back."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, UTC
from typing import NamedTuple

import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from geo.gpx import GpxError, parse_gpx
from geo.tracks import FLAG_FUTURE, FLAG_MOCK, MIN_VALID_T_UNIX_S, TrackRules, clean_track

from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..i18n import pick
from ..models import Patrol, PatrolBatch, TrackPoint, User
from ..policies import AreaScope, scoped_patrols
from . import audit

# Fixes this far before the start or after the end of a patrol are not stored at all: off duty is private.
OFF_DUTY_TOLERANCE = timedelta(seconds=60)


def canonical(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def start_patrol(session: Session, officer: User, scope: AreaScope, data: dict, client_addr: str | None):
    """Returns (patrol, created). A retry with the same client id returns the patrol it created."""
    existing = session.scalar(select(Patrol).where(Patrol.client_id == data["client_id"]))
    if existing is not None:
        if existing.officer_id != officer.id:
            raise Conflict("duplicate", field="client_id", value=data["client_id"])
        return existing, False
    grid_ids = sorted(set(data.get("grid_ids") or []))
    hidden = [g for g in grid_ids if not scope.allows(g)]
    if hidden:
        raise BadRequest("validation_error", details={"fields": {"grid_ids": {"unknown": hidden}}})
    patrol = Patrol(client_id=data["client_id"], officer_id=officer.id, squad_id=officer.squad_id,
                    started_at=data["started_at"], grid_ids=grid_ids)
    session.add(patrol)
    session.flush()
    audit.record(session, "patrol.start", "patrol", patrol.id, actor=officer, client_addr=client_addr,
                 after={"client_id": patrol.client_id, "started_at": patrol.started_at.isoformat(),
                        "grid_ids": grid_ids})
    return patrol, True


def visible_patrol(session: Session, user: User, patrol_id: int) -> Patrol:
    patrol = session.scalar(scoped_patrols(select(Patrol).where(Patrol.id == patrol_id), user))
    if patrol is None:
        raise NotFound()
    return patrol


def add_points(session: Session, user: User, patrol: Patrol, batch_id: str, points: list[dict],
               client_addr: str | None) -> dict:
    """Store one batch and re-clean the track. The same batch again answers the same and stores nothing."""
    if patrol.officer_id != user.id:
        raise Forbidden()
    body_hash = hashlib.sha256(canonical(points).encode()).hexdigest()
    existing = session.scalar(select(PatrolBatch).where(PatrolBatch.patrol_id == patrol.id,
                                                        PatrolBatch.batch_id == batch_id))
    if existing is not None:
        if existing.body_hash != body_hash:
            raise Conflict("duplicate", field="batch_id", value=batch_id)
        return json.loads(existing.answer)

    on_duty, off_duty = _split_on_duty(patrol, points)
    batch = PatrolBatch(patrol_id=patrol.id, batch_id=batch_id, body_hash=body_hash, answer="{}")
    session.add(batch)
    session.flush()
    if on_duty:
        session.execute(insert(TrackPoint), [{
            "patrol_id": patrol.id, "batch_pk": batch.id, "t_unix_s": p["t"].timestamp(), "lon": p["lon"],
            "lat": p["lat"], "accuracy_m": p.get("accuracy_m"), "speed_mps": p.get("speed_mps"),
            "heading_deg": p.get("heading_deg"), "altitude_m": p.get("altitude_m"),
            "is_mock": bool(p.get("is_mock")), "kept": True, "drop_reason": None,
        } for p in on_duty])
    reasons = recompute_track(session, patrol, batch_pk=batch.id)
    if off_duty:
        reasons["off_duty"] = reasons.get("off_duty", 0) + off_duty
    answer = {"batch_id": batch_id, "received": len(points), "accepted": len(on_duty) - sum(
        n for r, n in reasons.items() if r != "off_duty"), "dropped": reasons, "point_count": patrol.point_count}
    batch.answer = canonical(answer)
    audit.record(session, "patrol.points", "patrol", patrol.id, actor=user, client_addr=client_addr,
                 after={"batch_id": batch_id, "received": len(points), "dropped": reasons})
    return answer


def _split_on_duty(patrol: Patrol, points: list[dict]) -> tuple[list[dict], int]:
    start = patrol.started_at - OFF_DUTY_TOLERANCE
    end = patrol.ended_at + OFF_DUTY_TOLERANCE if patrol.ended_at else None
    on_duty = [p for p in points if p["t"] >= start and (end is None or p["t"] <= end)]
    return on_duty, len(points) - len(on_duty)


class Fixes(NamedTuple):
    ids: np.ndarray
    t: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    accuracy_m: np.ndarray
    is_mock: np.ndarray
    kept: np.ndarray
    drop_reason: list
    batch_pk: np.ndarray
    segment: np.ndarray


def _clean(f: Fixes):
    return clean_track(f.t, f.lon, f.lat, accuracy_m=f.accuracy_m, is_mock=f.is_mock, segment=f.segment,
                       rules=TrackRules(), now_unix_s=datetime.now(UTC).timestamp())


def _floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _load_fixes(session: Session, patrol_id: int) -> Fixes:
    rows = session.execute(
        select(TrackPoint.id, TrackPoint.t_unix_s, TrackPoint.lon, TrackPoint.lat, TrackPoint.accuracy_m,
               TrackPoint.is_mock, TrackPoint.kept, TrackPoint.drop_reason, TrackPoint.batch_pk, TrackPoint.segment)
        .where(TrackPoint.patrol_id == patrol_id)
        .order_by(TrackPoint.segment, TrackPoint.t_unix_s.is_(None), TrackPoint.t_unix_s, TrackPoint.id)
    ).all()
    cols = list(zip(*rows, strict=True)) if rows else [[] for _ in range(10)]
    ids, t, lon, lat, acc, mock, kept, reason, batch, segment = cols
    return Fixes(np.array(ids, dtype=np.int64), _floats(t), np.array(lon, dtype=float), np.array(lat, dtype=float),
                 _floats(acc), np.array(mock, dtype=bool), np.array(kept, dtype=bool), list(reason),
                 np.array(batch, dtype=np.int64), np.array(segment, dtype=np.int64))


def recompute_track(session: Session, patrol: Patrol, batch_pk: int | None = None) -> dict[str, int]:
    """Clean every fix of the patrol in time order; store what changed and the summary. Returns the drop
    reasons counted over the fixes of `batch_pk`."""
    fixes = _load_fixes(session, patrol.id)
    ids, t, kept_before, reason_before, batch = fixes.ids, fixes.t, fixes.kept, fixes.drop_reason, fixes.batch_pk
    clean = _clean(fixes)
    reasons = np.asarray(clean.drop_reason, dtype=object)
    changed = [i for i in range(len(ids))
               if bool(clean.kept[i]) != bool(kept_before[i]) or (reasons[i] or None) != reason_before[i]]
    if changed:
        session.execute(update(TrackPoint), [  # one executemany, keyed by primary key
            {"id": int(ids[i]), "kept": bool(clean.kept[i]), "drop_reason": reasons[i] or None} for i in changed])
    patrol.raw_count = len(ids)
    patrol.point_count = int(clean.kept_count)
    patrol.distance_m = float(clean.distance_m)
    patrol.duration_s = float(clean.duration_s)
    patrol.moving_time_s = float(clean.moving_time_s)
    patrol.dropped = {k: int(v) for k, v in clean.dropped_by_reason.items() if v}
    patrol.gaps = [_gap_json(g, t) for g in clean.gaps]
    patrol.flags = _flag_counts(clean)
    patrol.version += 1
    if batch_pk is None:
        return dict(patrol.dropped)
    in_batch = batch == batch_pk
    counted: dict[str, int] = {}
    for r in reasons[in_batch]:
        if r:
            counted[r] = counted.get(r, 0) + 1
    return counted


def _gap_json(gap, t: np.ndarray) -> dict:
    return {"start_at": _iso(t[gap.start_index]), "end_at": _iso(t[gap.end_index]),
            "duration_s": round(float(gap.duration_s), 1), "distance_m": round(float(gap.distance_m), 1),
            "reason": gap.reason}


def _iso(t_unix_s: float) -> str | None:
    return None if np.isnan(t_unix_s) else datetime.fromtimestamp(t_unix_s, UTC).isoformat()


def _flag_counts(clean) -> dict[str, int]:
    counts = {"mock": int(clean.flagged(FLAG_MOCK).sum()), "future": int(clean.flagged(FLAG_FUTURE).sum())}
    return {name: n for name, n in counts.items() if n}


def end_patrol(session: Session, user: User, patrol: Patrol, ended_at: datetime, client_addr: str | None) -> Patrol:
    if patrol.officer_id != user.id:
        raise Forbidden()
    if patrol.ended_at is None:  # ending twice (a retry) keeps the first end
        patrol.ended_at = max(ended_at, patrol.started_at)
        patrol.version += 1
        audit.record(session, "patrol.end", "patrol", patrol.id, actor=user, client_addr=client_addr,
                     after={"ended_at": patrol.ended_at.isoformat()})
    return patrol


def track_geojson(session: Session, patrol: Patrol) -> dict:
    """Kept fixes as lines that never cross a gap, gaps as separate features for display, dropped fixes as points."""
    fixes = _load_fixes(session, patrol.id)
    t, lon, lat, reason = fixes.t, fixes.lon, fixes.lat, fixes.drop_reason
    clean = _clean(fixes)
    lines = [[[float(lon[i]), float(lat[i])] for i in part] for part in clean.parts() if len(part) >= 2]
    features = [{"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": lines},
                 "properties": {"kind": "track", "patrol_id": patrol.id, "point_count": patrol.point_count,
                                "distance_m": round(patrol.distance_m, 1)}}]
    for gap in clean.gaps:
        a, b = gap.start_index, gap.end_index
        features.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [
            [float(lon[a]), float(lat[a])], [float(lon[b]), float(lat[b])]]},
            "properties": {"kind": "gap", **_gap_json(gap, t)}})
    for i in np.flatnonzero(~clean.kept):
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
                         "properties": {"kind": "dropped", "reason": reason[i] or clean.drop_reason[i],
                                        "t": _iso(t[i])}})
    return {"type": "FeatureCollection", "features": features}


def import_gpx(session: Session, actor: User, officer: User, raw: bytes, filename: str | None,
               client_addr: str | None) -> tuple[Patrol, dict, bool]:
    """A GPS logger's or body camera's GPX as a patrol of `officer`. The same file again returns the same patrol."""
    try:
        gpx = parse_gpx(raw)
    except GpxError as exc:
        raise BadRequest(exc.code, text=pick(exc.message_zh, exc.message_en)) from exc
    file_hash = hashlib.sha256(raw).hexdigest()
    client_id = f"gpx-{file_hash[:40]}"
    existing = session.scalar(select(Patrol).where(Patrol.client_id == client_id))
    if existing is not None:
        if existing.officer_id != officer.id:
            raise Conflict("duplicate", field="file", value=filename or client_id)
        return existing, _import_answer(existing), False
    valid_t = gpx.t_unix_s[np.isfinite(gpx.t_unix_s) & (gpx.t_unix_s >= MIN_VALID_T_UNIX_S)]
    now = datetime.now(UTC)
    started = datetime.fromtimestamp(valid_t.min(), UTC) if valid_t.size else now
    ended = datetime.fromtimestamp(valid_t.max(), UTC) if valid_t.size else now
    patrol = Patrol(client_id=client_id, officer_id=officer.id, squad_id=officer.squad_id, started_at=started,
                    ended_at=ended, grid_ids=[])
    session.add(patrol)
    session.flush()
    batch = PatrolBatch(patrol_id=patrol.id, batch_id=client_id, body_hash=file_hash, answer="{}")
    session.add(batch)
    session.flush()
    session.execute(insert(TrackPoint), [{
        "patrol_id": patrol.id, "batch_pk": batch.id, "t_unix_s": _none_if_nan(gpx.t_unix_s[i]),
        "lon": float(gpx.lon[i]), "lat": float(gpx.lat[i]), "accuracy_m": _none_if_nan(gpx.accuracy_m[i]),
        "speed_mps": _none_if_nan(gpx.speed_mps[i]), "altitude_m": _none_if_nan(gpx.ele_m[i]),
        "segment": int(gpx.segment[i]) + 10_000 * int(gpx.track[i]), "is_mock": False, "kept": True,
    } for i in range(len(gpx.lon))])
    recompute_track(session, patrol)
    answer = _import_answer(patrol)
    batch.answer = canonical(answer)
    audit.record(session, "patrol.import_gpx", "patrol", patrol.id, actor=actor, client_addr=client_addr,
                 after={"file": filename, "sha256": file_hash, "officer_id": officer.id, **answer})
    return patrol, answer, True


def _none_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _import_answer(patrol: Patrol) -> dict:
    dropped = {reason: int(patrol.dropped.get(reason, 0)) for reason in ("spike", "accuracy", "time")}
    return {"patrol_id": patrol.id, "stored": patrol.raw_count, "kept": patrol.point_count, "dropped": dropped,
            "gaps": patrol.gaps}
