"""Joint inspections: who reads the register, who writes the catalogue, who plans, approves and draws, who sees an
inspection.

  register      staff read it all; a village supervisor only their village's businesses; commanders and admins
                write it
  catalogue     everyone signed in reads it; admins write it, a department's liaison its own department's items
  plans         squad leaders, commanders and admins make, freeze and draw them; only a commander (the head of
                the enforcing body) approves, and never their own plan
  inspections   the team, the team members' squad leaders, the departments whose items are checked, commanders
                and admins
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, String, cast, exists, false, or_, select, true
from sqlalchemy.orm import Session

from ..errors import NotAllowed
from ..models import Business, Inspection, InspectionInspector, User
from .core import sees_everything, village_area_ids

REGISTER_WRITERS = ("commander", "admin")
PLAN_MAKERS = ("squad_leader", "commander", "admin")
PLAN_APPROVERS = ("commander",)
STAFF = ("officer", "squad_leader", "commander", "department", "admin")


def scoped_businesses(session: Session, stmt: Select, user: User) -> Select:
    if user.has_role(*STAFF):
        return stmt.where(true())
    if user.has_role("supervisor") and user.village_id:
        areas = village_area_ids(session, user.village_id)
        return stmt.where(Business.village_id.in_(areas) | Business.grid_id.in_(areas))
    return stmt.where(false())


def require_register_writer(user: User) -> None:
    if not user.has_role(*REGISTER_WRITERS):
        raise NotAllowed()


def require_item_writer(user: User, department_code: str) -> None:
    if user.has_role("admin"):
        return
    if user.has_role("department") and user.department is not None and user.department.code == department_code:
        return
    raise NotAllowed("item_writer_only")


def require_scenario_writer(user: User) -> None:
    if not user.has_role("admin", "commander"):
        raise NotAllowed()


def require_plan_maker(user: User) -> None:
    if not user.has_role(*PLAN_MAKERS):
        raise NotAllowed("plan_maker_only")


def require_plan_approver(user: User) -> None:
    if not user.has_role(*PLAN_APPROVERS):
        raise NotAllowed("plan_approver_only")


def may_read_plans(user: User) -> bool:
    return user.has_role(*PLAN_MAKERS)


def scoped_inspections(stmt: Select, user: User) -> Select:
    if sees_everything(user):
        return stmt
    on_team = exists().where(InspectionInspector.inspection_id == Inspection.id)
    rules: list[ColumnElement[bool]] = [on_team.where(InspectionInspector.user_id == user.id)]
    if user.has_role("squad_leader") and user.squad_id:
        rules.append(on_team.where(InspectionInspector.user_id.in_(
            select(User.id).where(User.squad_id == user.squad_id))))
    if user.has_role("department") and user.department is not None:
        # the departments are a JSON list of codes; codes are plain ASCII, quoted in the text on both databases
        rules.append(cast(Inspection.departments, String).like(f'%"{user.department.code}"%'))
    return stmt.where(or_(*rules))
