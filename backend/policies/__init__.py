"""Who may read and write what: decided here only, one module a job, applied in every query (routes and services
import from this package, never decide access themselves).

Each role's reach in words:
  admin, commander   everything
  squad_leader       their squad's zones and grids (and everything under them); their squad's members, patrols,
                     plans and coverage
  officer            the same areas as their squad leader; their own patrols, plans and coverage
  supervisor         their village and the grids it spans; themselves; no positions
  department         only the cases whistled to them (and those cases' evidence)

Evidence (policies.evidence): the uploader, their squad's leader, commanders and admins, and whoever sees a case
it is attached to. Cases (policies.cases): see its docstring; the moves per role are services.cases.cycle.MOVES.
"""
from .core import (
    ADMINS, AREA_WRITERS, SEE_ALL_ROLES, VILLAGE_OVERLAP_MIN_RATIO, AreaScope, area_scope, can_read_user_admin_fields,
    descendant_ids, grids_under, require_admin, require_area_writer, require_audit_reader, require_visible_area,
    scoped_areas, scoped_departments, scoped_squads, scoped_users, sees_everything, village_area_ids,
)
from .evidence import EVIDENCE_UPLOADERS, may_add_files, require_evidence_uploader, scoped_evidence
from .patrol import (
    PLANNERS, can_plan_for, coverage_filters, require_patrol_officer, require_patrol_owner, require_planner,
    require_task_planner, require_track_importer, scoped_patrols, scoped_tasks,
)

__all__ = [
    "EVIDENCE_UPLOADERS", "may_add_files", "require_evidence_uploader", "scoped_evidence",
    "ADMINS", "AREA_WRITERS", "PLANNERS", "SEE_ALL_ROLES", "VILLAGE_OVERLAP_MIN_RATIO", "AreaScope", "area_scope",
    "can_plan_for", "can_read_user_admin_fields", "coverage_filters", "descendant_ids", "grids_under",
    "require_admin", "require_area_writer", "require_audit_reader", "require_patrol_officer", "require_patrol_owner",
    "require_planner", "require_task_planner", "require_track_importer", "require_visible_area", "scoped_areas", "scoped_departments",
    "scoped_patrols", "scoped_squads", "scoped_tasks", "scoped_users", "sees_everything", "village_area_ids",
]
