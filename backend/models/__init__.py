"""All models, imported here so Alembic and the app see one metadata."""
from .audit import GENESIS_HASH, AuditEntry
from .base import Base, utcnow
from .cases import (
    CASE_ACTIONS, CASE_SOURCES, CASE_STATUSES, CLOCKS, EVIDENCE_STAGES, OPEN_STATUSES, CalendarDay, Case, CaseAction,
    CaseCategory, CaseEvidence, CaseReporter, WhistleMatter,
)
from .integrations import ApiKey
from .inspections import (
    INSPECTION_KINDS, INSPECTION_STATUSES, ITEM_STATUSES, PLAN_KINDS, PLAN_STATUSES, RECUSAL_KINDS, RESULTS,
    RISK_GRADES, Business, Draw, Inspection, InspectionInspector, InspectionItem, InspectionPlan, InspectionResult,
    InspectorConflict, RecusalRule, Scenario, ScenarioVersion,
)
from .notifications import CHANNELS, DELIVERY_STATES, Notification, NotificationDelivery, PushSubscription
from .evidence import EVIDENCE_KINDS, FILE_ROLES, UPLOADED_ROLES, Evidence, EvidenceFile, Upload
from .coverage import CoverageLattice, CoveragePatrolDay, PatrolGridVisit, PatrolTask
from .org import AREA_KINDS, Area, Department, Squad, squad_areas
from .patrols import END_REASONS, Patrol, PatrolBatch, TrackChunk
from .users import ROLES, LoginAttempt, LoginLock, RefreshToken, User, UserRole

__all__ = [
    "ApiKey",
    "INSPECTION_KINDS", "INSPECTION_STATUSES", "ITEM_STATUSES", "PLAN_KINDS", "PLAN_STATUSES", "RECUSAL_KINDS",
    "RESULTS", "RISK_GRADES", "Business", "Draw", "Inspection", "InspectionInspector", "InspectionItem",
    "InspectionPlan", "InspectionResult", "InspectorConflict", "RecusalRule", "Scenario", "ScenarioVersion",
    "CHANNELS", "DELIVERY_STATES", "Notification", "NotificationDelivery", "PushSubscription",
    "CASE_ACTIONS", "CASE_SOURCES", "CASE_STATUSES", "CLOCKS", "EVIDENCE_STAGES", "OPEN_STATUSES", "CalendarDay", "Case",
    "CaseAction", "CaseCategory", "CaseEvidence", "CaseReporter", "WhistleMatter",
    "AREA_KINDS", "END_REASONS", "ROLES", "GENESIS_HASH", "Area", "AuditEntry", "Base", "CoverageLattice", "Department",
    "CoveragePatrolDay", "EVIDENCE_KINDS", "Evidence", "EvidenceFile", "FILE_ROLES", "UPLOADED_ROLES", "Upload", "PatrolGridVisit", "PatrolTask", "LoginAttempt", "LoginLock",
    "Patrol", "PatrolBatch", "RefreshToken", "Squad", "TrackChunk", "User", "UserRole", "squad_areas", "utcnow",
]
