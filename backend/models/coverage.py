"""Planning and coverage: patrol tasks (排班), the coverage lattice, per grid-day-officer bitmaps of covered cells,
and per patrol-grid-day visits (the counts and times the bitmaps cannot hold)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class PatrolTask(Base):
    """One officer, one local date and shift, the grids to patrol, the coverage target and minimum visits."""

    __tablename__ = "patrol_tasks"
    __table_args__ = (Index("ix_patrol_tasks_officer_date", "officer_id", "date"),
                      Index("ix_patrol_tasks_squad_date", "squad_id", "date"))

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)  # made by the planner's device
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"))
    date: Mapped[date] = mapped_column(Date)  # local (Asia/Shanghai) day
    shift_start: Mapped[str] = mapped_column(String(5))  # 'HH:MM' local
    shift_end: Mapped[str] = mapped_column(String(5))  # earlier than shift_start: the shift ends the next day
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    grid_ids: Mapped[list] = mapped_column(JSON, default=list)
    coverage_target: Mapped[float] = mapped_column(Float, default=0.8)
    min_visits: Mapped[int] = mapped_column(default=1)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CoverageLattice(Base):
    """The one raster every coverage bitmap refers to: a local equidistant projection centred here, square cells.

    Fixed at first use; a grid's cells (and so its bitmaps' bit order) depend only on this and its polygon.
    """

    __tablename__ = "coverage_lattice"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_lon: Mapped[float] = mapped_column(Float)
    centre_lat: Mapped[float] = mapped_column(Float)
    cell_size_m: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GridCoverage(Base):
    """Cells of one grid covered on one local day by one officer's kept tracks: 1 bit per cell of the grid, in
    the grid's cell order. ORed as batches arrive, so a query reads one row per grid, day and officer."""

    __tablename__ = "grid_coverage"
    __table_args__ = (UniqueConstraint("day", "grid_id", "officer_id"),
                      Index("ix_grid_coverage_grid_day", "grid_id", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    day: Mapped[date] = mapped_column(Date)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"), index=True)
    cell_count: Mapped[int]
    covered_cells: Mapped[int]
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PatrolGridVisit(Base):
    """A patrol came within R of a grid on a local day: counts patrols and officers, and the last visit."""

    __tablename__ = "patrol_grid_visits"
    __table_args__ = (UniqueConstraint("patrol_id", "grid_id", "day"),
                      Index("ix_patrol_grid_visits_grid_day", "grid_id", "day"),
                      Index("ix_patrol_grid_visits_day", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"))
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    day: Mapped[date] = mapped_column(Date)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"))
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
