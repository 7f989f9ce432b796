"""Patrols: a session an officer started, its raw GPS fixes (kept or dropped, with the reason), and the batches
that delivered them (one row per client batch id, so a retried upload changes nothing)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Patrol(Base):
    __tablename__ = "patrols"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)  # made by the phone: retries return this row
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"), index=True)  # the officer's at the start
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    grid_ids: Mapped[list] = mapped_column(JSON, default=list)  # planned grids; coverage counts every grid passed
    task_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_tasks.id"), index=True)
    shift_ends_at: Mapped[datetime | None]  # from the task: fixes after it are off duty, like after the end
    # Summary of the cleaned track, recomputed whenever fixes arrive.
    raw_count: Mapped[int] = mapped_column(default=0)
    point_count: Mapped[int] = mapped_column(default=0)
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    moving_time_s: Mapped[float] = mapped_column(Float, default=0.0)
    dropped: Mapped[dict] = mapped_column(JSON, default=dict)
    gaps: Mapped[list] = mapped_column(JSON, default=list)
    flags: Mapped[dict] = mapped_column(JSON, default=dict)
    # Time of the kept fix the next batch's re-cleaning starts from (services.patrols.TAIL_KEPT).
    tail_from_t: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PatrolBatch(Base):
    __tablename__ = "patrol_batches"
    __table_args__ = (UniqueConstraint("patrol_id", "batch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"))
    batch_id: Mapped[str] = mapped_column(String(64))
    body_hash: Mapped[str] = mapped_column(String(64))  # the same id with another body is a 409, not a no-op
    answer: Mapped[str] = mapped_column(Text)  # the JSON answered the first time, answered again on a retry
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrackPoint(Base):
    __tablename__ = "track_points"
    # (patrol, time, id): a batch reads the tail of its patrol backwards along it, in the order the cleaner uses.
    __table_args__ = (Index("ix_track_points_patrol_t_id", "patrol_id", "t_unix_s", "id"),)

    # No foreign keys on purpose: PostgreSQL checks each with a per-row trigger, 40 of the 60 ms of COPYing a
    # 2,000-fix batch. Rows are written only by services.patrols, under a lock on their patrol's row, right after
    # that patrol and batch exist, and are never deleted or moved.
    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int]
    batch_pk: Mapped[int]  # no index: nothing looks fixes up by batch, and each index costs every insert
    t_unix_s: Mapped[float | None] = mapped_column(Float)  # a logger's fix may have no time: kept as raw data
    segment: Mapped[int] = mapped_column(default=0)  # a GPX track segment: no line is drawn between two
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    is_mock: Mapped[bool] = mapped_column(default=False)
    kept: Mapped[bool] = mapped_column(default=True)
    drop_reason: Mapped[str | None] = mapped_column(String(16))  # raw data stays, with why it was not used
