"""Planning and coverage: patrol tasks (排班), each region's coverage lattice, what each patrol covered per day and
region, and per patrol-grid-day visits (who came near which grid, when)."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

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

    if TYPE_CHECKING:  # not columns: set for the answer by services.patrol.tasks (declarative refuses plain annotations)
        progress: dict[str, Any]
        officer_name: str | None


class CoverageLattice(Base):
    """The raster of one coverage region (a town or street office, see services.patrol.coverage_regions): a local
    equidistant projection centred here, square cells. Fixed at the region's first use, so a grid's cells depend
    only on this and its polygon, and windows stored before grids were added still read right."""

    __tablename__ = "coverage_lattices"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(unique=True)  # see services.patrol.coverage_regions.region_of
    centre_lon: Mapped[float] = mapped_column(Float)
    centre_lat: Mapped[float] = mapped_column(Float)
    cell_size_m: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CoveragePatrolDay(Base):
    """What one patrol covered on one local day in one region: the share of each cell within R of its kept lines,
    over the window of the region's lattice it reached, and its visits. Each batch updates only its own patrol's
    rows, which the batch already holds locked, so officers sending batches at once never wait on each other;
    a day, squad or officer is the maximum over its patrols' rows (services.patrol.coverage_reader).

    `cells` is LZ4 of uint8 shares (0..255) of the lattice window [col0, col0 + width) x [row0, row0 + height),
    row-major (lattice units: cells from the lattice centre). `visits` is LZ4 of int64 rows (grid_id, first_at,
    last_at in unix seconds): the grids it came within R of, when it was first and last within R of each.
    """

    __tablename__ = "coverage_patrol_days"
    __table_args__ = (UniqueConstraint("patrol_id", "day", "region_id"),
                      Index("ix_coverage_patrol_days_region_day", "region_id", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"))
    day: Mapped[date] = mapped_column(Date)
    region_id: Mapped[int]  # a town's area id, or a tile's negative key (coverage_regions.region_of)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"))
    # Small columns before the blobs (see migration 0006: SQLite reads columns in order, through the blobs).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    col0: Mapped[int]
    row0: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    visits: Mapped[bytes] = mapped_column(LargeBinary)
    cells: Mapped[bytes] = mapped_column(LargeBinary)


class PatrolGridVisit(Base):
    """A patrol came within R of a grid on a local day, first and last time: the trace behind the counts, and
    the "not visited for N days" list."""

    __tablename__ = "patrol_grid_visits"
    __table_args__ = (UniqueConstraint("patrol_id", "grid_id", "day"),
                      Index("ix_patrol_grid_visits_grid_last", "grid_id", "last_at"),
                      Index("ix_patrol_grid_visits_day", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"))
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    day: Mapped[date] = mapped_column(Date)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"))
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
