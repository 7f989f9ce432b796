"""Cases (问题/案件) and their catalogue: categories, the whistle list (吹哨事项), the working calendar; each case's
actions (the timeline), evidence and reporters."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, one_of, utcnow

CASE_SOURCES = ("patrol", "supervisor", "hotline", "inspection", "open311")
CASE_STATUSES = ("reported", "accepted", "rejected", "dispatched", "whistled", "acknowledged", "handled",
                 "verified", "closed", "parked", "merged")
OPEN_STATUSES = ("reported", "accepted", "dispatched", "whistled", "acknowledged", "handled", "verified", "parked")
CASE_ACTIONS = ("report", "accept", "reject", "dispatch", "whistle", "acknowledge", "handle", "verify", "close",
                "rework", "extend", "return", "park", "resume", "merge", "escalate")
CLOCKS = ("natural", "working")
EVIDENCE_STAGES = ("before", "after", "verify")


class CaseCategory(Base):
    """A kind of matter, with who handles it by default and its tiered time limits (minutes on its clock)."""

    __tablename__ = "case_categories"
    __table_args__ = (CheckConstraint(one_of("clock", CLOCKS), name="clock"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(32))  # 市容环境, 街面秩序, ...
    default_department_code: Mapped[str | None] = mapped_column(String(32))  # None: the grid's squad
    whistleable: Mapped[bool] = mapped_column(default=False)
    close_conditions: Mapped[str] = mapped_column(Text, default="")
    clock: Mapped[str] = mapped_column(String(8), default="natural")
    respond_minutes: Mapped[int] = mapped_column(Integer)
    handle_minutes: Mapped[int] = mapped_column(Integer)
    works_minutes: Mapped[int | None] = mapped_column(Integer)  # handling that needs works (None: never)
    duplicate_radius_m: Mapped[float | None] = mapped_column(Float)  # None: the reporter's default radius
    active: Mapped[bool] = mapped_column(default=True)


class WhistleMatter(Base):
    """An entry of the whistle list (吹哨事项清单): the department that must report in, and by when."""

    __tablename__ = "whistle_matters"
    __table_args__ = (CheckConstraint(one_of("clock", CLOCKS), name="clock"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(32))
    department_code: Mapped[str] = mapped_column(String(32), index=True)
    report_in_minutes: Mapped[int] = mapped_column(Integer)
    clock: Mapped[str] = mapped_column(String(8), default="natural")
    active: Mapped[bool] = mapped_column(default=True)


class CalendarDay(Base):
    """A day that is not what its weekday says: a public holiday (rest) or a make-up working day (调休 上班)."""

    __tablename__ = "calendar_days"
    __table_args__ = (CheckConstraint("kind IN ('rest','work')", name="kind"),)

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(32))
    provisional: Mapped[bool] = mapped_column(default=False)  # statutory days only, before the State Council notice


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("reported_by_id", "client_id"),  # a retried report returns this row
        CheckConstraint(one_of("status", CASE_STATUSES), name="status"),
        CheckConstraint(one_of("source", CASE_SOURCES), name="source"),
        Index("ix_cases_open_near", "category_id", "open", "lon", "lat"),  # the duplicate lookup
        Index("ix_cases_status_reported", "status", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    category_id: Mapped[int] = mapped_column(ForeignKey("case_categories.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    # Filled from the position by the server
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"), index=True)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reporter_name: Mapped[str | None] = mapped_column(String(64))  # hotline and Open311: never shown publicly
    reporter_contact: Mapped[str | None] = mapped_column(String(120))  # Open311 email or phone: never public
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), index=True)  # the integration
    public_token: Mapped[str | None] = mapped_column(String(43), unique=True)  # Open311 token
    # Where it stands
    status: Mapped[str] = mapped_column(String(16), default="reported")
    open: Mapped[bool] = mapped_column(default=True, index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    whistle_matter_id: Mapped[int | None] = mapped_column(ForeignKey("whistle_matters.id"))
    needs_works: Mapped[bool] = mapped_column(default=False)
    pending: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # an exception awaiting approval
    parked_status: Mapped[str | None] = mapped_column(String(16))  # where a parked case goes back to
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    rework_count: Mapped[int] = mapped_column(default=0)
    extension_count: Mapped[int] = mapped_column(default=0)
    # Times and limits
    reported_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    accepted_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    respond_due_at: Mapped[datetime | None]
    report_in_due_at: Mapped[datetime | None]  # a whistle's 报到 limit
    handle_due_at: Mapped[datetime | None] = mapped_column(index=True)
    parked_at: Mapped[datetime | None]
    overdue: Mapped[str] = mapped_column(String(32), default="")  # set by the sweep: "respond,report_in,handle"
    escalated_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    category: Mapped[CaseCategory] = relationship(lazy="joined", innerjoin=True)
    actions: Mapped[list[CaseAction]] = relationship(lazy="raise", order_by="CaseAction.id",
                                                    back_populates="case")
    evidence_links: Mapped[list[CaseEvidence]] = relationship(lazy="selectin", order_by="CaseEvidence.id")


class CaseAction(Base):
    """One step of a case's timeline: who, when, where, what, with which evidence."""

    __tablename__ = "case_actions"
    __table_args__ = (
        CheckConstraint(one_of("action", CASE_ACTIONS), name="action"),
        UniqueConstraint("actor_id", "client_id"),  # a retried action is answered, never applied twice
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # the action's own fields: target, deadline, flags
    evidence_ids: Mapped[list] = mapped_column(JSON, default=list)

    case: Mapped[Case] = relationship(back_populates="actions", lazy="raise")


class CaseEvidence(Base):
    __tablename__ = "case_evidence"
    __table_args__ = (UniqueConstraint("case_id", "evidence_id"),
                      CheckConstraint(one_of("stage", EVIDENCE_STAGES), name="stage"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    stage: Mapped[str] = mapped_column(String(8))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("case_actions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseReporter(Base):
    """Reporters beyond the first (a merged duplicate's): they hear about progress too."""

    __tablename__ = "case_reporters"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    from_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
