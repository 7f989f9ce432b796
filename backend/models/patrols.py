"""Patrols: a session an officer started, its raw GPS fixes (kept or dropped, with the reason), and the batches
that delivered them (one row per client batch id, so a retried upload changes nothing)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


# Why a patrol ended: the officer ended it, the server did after PATROL_IDLE_END_S without a batch, or at its task's
# shift end; a patrol found running beside a newer one when the one-running rule came (migration 0005); a GPX file.
END_REASONS = ("user", "idle", "shift_end", "superseded", "import")


class Patrol(Base):
    __tablename__ = "patrols"
    # One running patrol per officer: a second start from another phone is refused, not a second track.
    __table_args__ = (Index("uq_patrols_running_officer", "officer_id", unique=True,
                            postgresql_where=text("ended_at IS NULL"), sqlite_where=text("ended_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)  # made by the phone: retries return this row
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"), index=True)  # the officer's at the start
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(16))  # END_REASONS; None while running
    last_seen_at: Mapped[datetime | None]  # the start or the last batch received: idle patrols end by themselves
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
    # Time of the kept fix the next batch's re-cleaning starts from (services.patrol.track.TAIL_KEPT).
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


class TrackChunk(Base):
    """The raw fixes of one batch (or one imported file), kept together as column arrays (services.patrol.fix_store):
    every fix as received, with whether the cleaner kept it and why not. One row a batch instead of one a fix:
    storing 2,000 rows cost PostgreSQL 10-14 ms of COPY and index upkeep, one row costs well under 1 ms, and a
    patrol's track is read back in a few rows."""

    __tablename__ = "track_chunks"
    # A batch re-cleans the tail of its patrol: the chunks whose last fix is at or after the anchor.
    __table_args__ = (Index("ix_track_chunks_patrol_t_last", "patrol_id", "t_last"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"))
    batch_pk: Mapped[int] = mapped_column(ForeignKey("patrol_batches.id"), index=True)
    n: Mapped[int]  # fixes in the chunk
    t_first: Mapped[float | None] = mapped_column(Float)  # earliest and latest fix time (None: no fix has one)
    t_last: Mapped[float | None] = mapped_column(Float)
    fixes: Mapped[bytes] = mapped_column(LargeBinary)  # LZ4 of the fix records, as received: never rewritten
    reasons: Mapped[bytes] = mapped_column(LargeBinary)  # one byte a fix: 0 kept, else the drop reason's code
