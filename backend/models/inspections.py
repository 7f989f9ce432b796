"""Joint inspections (综合查一次): the business register, inspection items and scenario checklists (versioned), plans
and their 双随机 draws, recusal rules, and each inspection with its team, results and signature."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, one_of, utcnow

RISK_GRADES = ("A", "B", "C", "D", "E")  # A: lowest credit risk (互联网+监管 企业信用风险分类)
ITEM_STATUSES = ("draft", "published", "retired")
PLAN_KINDS = ("random", "directed")  # 双随机 or named targets (a complaint, a re-check)
PLAN_STATUSES = ("draft", "approved", "frozen", "drawn", "cancelled")
INSPECTION_KINDS = ("initial", "reinspection")
INSPECTION_STATUSES = ("assigned", "in_progress", "submitted", "cancelled")
RESULTS = ("pass", "fail", "na")  # 合格 / 不合格 / 不涉及
RECUSAL_KINDS = ("previous_inspector", "declared_conflict", "own_area")


class Business(Base):
    """An entry of the register (检查对象名录库), placed in grid, village, zone and town from its position."""

    __tablename__ = "businesses"
    __table_args__ = (
        CheckConstraint(one_of("risk_grade", RISK_GRADES), name="risk_grade"),
        CheckConstraint("annual_cap >= 0", name="annual_cap"),
        Index("ix_businesses_filter", "town_id", "risk_grade", "industry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_rep: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    industry: Mapped[str] = mapped_column(String(64), default="")
    scenario_code: Mapped[str | None] = mapped_column(String(32), index=True)
    risk_grade: Mapped[str] = mapped_column(String(1), default="B")
    annual_cap: Mapped[int] = mapped_column(Integer, default=2)  # inspections a year, all departments together
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InspectionItem(Base):
    """A 检查事项 owned by a department, with its legal basis and check method; only published items are checked."""

    __tablename__ = "inspection_items"
    __table_args__ = (CheckConstraint(one_of("status", ITEM_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    department_code: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[str] = mapped_column(String(64), default="")
    rectify_days: Mapped[int] = mapped_column(Integer, default=15)
    case_category_code: Mapped[str | None] = mapped_column(String(32))  # a failure that is also a case
    status: Mapped[str] = mapped_column(String(16), default="draft")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Scenario(Base):
    """A scenario checklist (场景清单): items of several departments under a lead department."""

    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    lead_department_code: Mapped[str] = mapped_column(String(32))
    industries: Mapped[list] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ScenarioVersion(Base):
    """One version of a checklist, the items' text copied in: an inspection keeps the version it used."""

    __tablename__ = "scenario_versions"
    __table_args__ = (UniqueConstraint("scenario_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    items: Mapped[list] = mapped_column(JSON)  # [{code, department_code, name, legal_basis, method, rectify_days}]
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    scenario: Mapped[Scenario] = relationship(lazy="joined")


class RecusalRule(Base):
    """A recusal rule (回避规则) applied at the draw: kind and parameters are data."""

    __tablename__ = "recusal_rules"
    __table_args__ = (CheckConstraint(one_of("kind", RECUSAL_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)


class InspectorConflict(Base):
    """A declared conflict of interest (利害关系): this inspector never inspects this business."""

    __tablename__ = "inspector_conflicts"
    __table_args__ = (UniqueConstraint("user_id", "business_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    declared_at: Mapped[datetime] = mapped_column(default=utcnow)


class InspectionPlan(Base):
    __tablename__ = "inspection_plans"
    __table_args__ = (
        CheckConstraint(one_of("kind", PLAN_KINDS), name="kind"),
        CheckConstraint(one_of("status", PLAN_STATUSES), name="status"),
        CheckConstraint("inspectors_per_target >= 2", name="two_inspectors"),
        UniqueConstraint("created_by_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="random")
    enforcing_body: Mapped[str] = mapped_column(String(200))
    task_source: Mapped[str] = mapped_column(String(200), default="")
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"), index=True)
    scenario_version_id: Mapped[int] = mapped_column(ForeignKey("scenario_versions.id"))
    target_filter: Mapped[dict] = mapped_column(JSON, default=dict)  # industries, area_ids, risk_grades
    business_ids: Mapped[list] = mapped_column(JSON, default=list)  # a directed plan's targets
    sample: Mapped[dict] = mapped_column(JSON, default=dict)  # grade -> {"count": n} or {"ratio": r}
    inspectors_per_target: Mapped[int] = mapped_column(Integer, default=2)
    max_targets_per_inspector: Mapped[int | None] = mapped_column(Integer)
    department_codes: Mapped[list] = mapped_column(JSON, default=list)  # the inspector pool's departments
    include_town_officers: Mapped[bool] = mapped_column(default=True)
    inspector_ids: Mapped[list] = mapped_column(JSON, default=list)  # or a pool named person by person
    recusal_rule_codes: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # None: every active rule
    recent_days: Mapped[int] = mapped_column(Integer, default=180)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    approval_note: Mapped[str] = mapped_column(Text, default="")
    frozen_at: Mapped[datetime | None]
    pools: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # the frozen document, published
    pools_sha256: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    scenario_version: Mapped[ScenarioVersion] = relationship(lazy="joined")


class Draw(Base):
    """A draw's result, stored once and never changed; a re-draw supersedes it with a reason and keeps it."""

    __tablename__ = "draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id"), index=True)
    seed: Mapped[str] = mapped_column(String(200))
    seed_source: Mapped[str] = mapped_column(Text)
    algorithm: Mapped[str] = mapped_column(String(64))
    pools_sha256: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict] = mapped_column(JSON)
    result_sha256: Mapped[str] = mapped_column(String(64))
    drawn_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    redraw_of_id: Mapped[int | None] = mapped_column(ForeignKey("draws.id"))
    redraw_reason: Mapped[str | None] = mapped_column(Text)
    superseded_at: Mapped[datetime | None]


class Inspection(Base):
    __tablename__ = "inspections"
    __table_args__ = (
        CheckConstraint(one_of("kind", INSPECTION_KINDS), name="kind"),
        CheckConstraint(one_of("status", INSPECTION_STATUSES), name="status"),
        Index("ix_inspections_business_due", "business_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_plans.id"), index=True)
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("draws.id"), index=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    scenario_version_id: Mapped[int] = mapped_column(ForeignKey("scenario_versions.id"))
    kind: Mapped[str] = mapped_column(String(16), default="initial")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    item_codes: Mapped[list] = mapped_column(JSON)  # what is checked: the version's items, a re-check's failed ones
    departments: Mapped[list] = mapped_column(JSON)  # the departments those items come from (joint: two or more)
    status: Mapped[str] = mapped_column(String(16), default="assigned")
    due_on: Mapped[date] = mapped_column(index=True)
    public_code: Mapped[str] = mapped_column(String(43), unique=True)  # 亮码检查: what the business scans
    checked_in_at: Mapped[datetime | None]
    check_in_lon: Mapped[float | None] = mapped_column(Float)
    check_in_lat: Mapped[float | None] = mapped_column(Float)
    check_in_accuracy_m: Mapped[float | None] = mapped_column(Float)
    check_in_distance_m: Mapped[float | None] = mapped_column(Float)
    check_in_flagged: Mapped[bool] = mapped_column(default=False)
    signature: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # strokes with their times
    signer_name: Mapped[str | None] = mapped_column(String(64))
    submit_client_id: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notice_no: Mapped[str | None] = mapped_column(String(64), unique=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(String(500))
    rated_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    business: Mapped[Business] = relationship(lazy="joined")
    scenario_version: Mapped[ScenarioVersion] = relationship(lazy="joined")
    team: Mapped[list[InspectionInspector]] = relationship(
        lazy="selectin", order_by="InspectionInspector.position", cascade="all, delete-orphan")
    results: Mapped[list[InspectionResult]] = relationship(
        lazy="selectin", order_by="InspectionResult.id", cascade="all, delete-orphan")


class InspectionInspector(Base):
    __tablename__ = "inspection_inspectors"

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1: the lead inspector (主办)


class InspectionResult(Base):
    __tablename__ = "inspection_results"
    __table_args__ = (
        CheckConstraint(one_of("result", RESULTS), name="result"),
        UniqueConstraint("inspection_id", "item_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    item_code: Mapped[str] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")
    evidence_ids: Mapped[list] = mapped_column(JSON, default=list)
    rectify_by: Mapped[date | None]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
