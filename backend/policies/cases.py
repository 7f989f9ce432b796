"""Who may see and move cases.

Seeing: admins and commanders everything; officers and squad leaders their squad's cases (the squad the case's
grid belongs to) and what they reported or were given; village supervisors their village's cases and what they
reported; a department liaison only what was whistled to their department; anyone what they reported or co-report
(a merged duplicate's reporter hears about progress).

Moving: the allowed moves per role live in services.cases.cycle (one table); the checks of who counts as the
case's leader, handler or verifier are here."""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, or_, select, true

from ..errors import NotAllowed
from ..models import Case, CaseReporter, User
from .core import sees_everything

CASE_REPORTERS = ("officer", "squad_leader", "supervisor", "commander", "admin")
APPROVERS = ("squad_leader", "commander", "admin")  # accept, dispatch, whistle, close, and approve exceptions


def require_case_reporter(user: User) -> None:
    if not user.has_role(*CASE_REPORTERS):
        raise NotAllowed()


def case_visibility(user: User) -> ColumnElement[bool]:
    if sees_everything(user):
        return true()
    conditions: list[ColumnElement[bool]] = [
        Case.reported_by_id == user.id,
        Case.id.in_(select(CaseReporter.case_id).where(CaseReporter.user_id == user.id)),
    ]
    if user.has_role("officer", "squad_leader") and user.squad_id:
        conditions += [Case.squad_id == user.squad_id, Case.assignee_id == user.id]
    if user.has_role("supervisor") and user.village_id:
        conditions.append(Case.village_id == user.village_id)
    if user.has_role("department") and user.department_id:
        conditions.append(Case.department_id == user.department_id)
    return or_(*conditions) if conditions else false()


def scoped_cases(stmt: Select, user: User) -> Select:
    return stmt.where(case_visibility(user))


def leads_case(user: User, case: Case) -> bool:
    """Accepts, dispatches, whistles, closes and approves exceptions for this case."""
    if user.has_role("commander", "admin"):
        return True
    return user.has_role("squad_leader") and user.squad_id is not None and user.squad_id == case.squad_id


def handles_case(user: User, case: Case) -> bool:
    """Acknowledges, handles and reports back: the department it was whistled to, or the squad it was given."""
    if case.status == "whistled" or (case.department_id is not None and case.assignee_id is None):
        return user.has_role("department") and user.department_id == case.department_id
    if case.assignee_id is not None:
        return user.id == case.assignee_id or leads_case(user, case)
    return user.has_role("officer", "squad_leader") and user.squad_id == case.squad_id and case.squad_id is not None


def verifies_case(user: User, case: Case, co_reporters: set[int]) -> bool:
    """Verifies on site (核查): the reporter, the village's supervisor, the case's leader, the centre."""
    return (leads_case(user, case) or user.id == case.reported_by_id or user.id in co_reporters
            or (user.has_role("supervisor") and user.village_id is not None and user.village_id == case.village_id))
