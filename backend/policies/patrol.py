"""Who may read and write what of daily patrol: patrols and positions, plans (排班), coverage."""
from __future__ import annotations

from sqlalchemy import Select, false, or_
from sqlalchemy.orm import InstrumentedAttribute

from ..errors import NotAllowed
from ..models import Patrol, PatrolTask, User
from .core import SEE_ALL_ROLES, sees_everything

# --- patrols --------------------------------------------------------------------------------------------------
# Positions are personal information: an officer reads their own patrols, a squad leader their squad's,
# commanders and admins all; supervisors and department liaisons none.

def _personal(stmt: Select, user: User, officer_column: InstrumentedAttribute[int],
              squad_column: InstrumentedAttribute[int | None]) -> Select:
    """Personal records (positions, plans): the officer's own, the squad's for its leader, all for commanders and
    admins, nothing for anyone else."""
    if sees_everything(user):
        return stmt
    conditions = []
    if user.has_role("officer", "squad_leader"):
        conditions.append(officer_column == user.id)
    if user.has_role("squad_leader") and user.squad_id:
        conditions.append(squad_column == user.squad_id)
    return stmt.where(or_(*conditions)) if conditions else stmt.where(false())


def scoped_patrols(stmt: Select, user: User) -> Select:
    return _personal(stmt, user, Patrol.officer_id, Patrol.squad_id)


def require_patrol_officer(user: User) -> None:
    if not user.has_role("officer"):
        raise NotAllowed()


def require_patrol_owner(user: User, patrol: Patrol) -> None:
    """Fixes and the end of a patrol come only from the officer patrolling (leaders read, never write, a track)."""
    if patrol.officer_id != user.id:
        raise NotAllowed()


# Plans (排班) and GPX imports: admins and commanders for anyone, squad leaders for their own squad.
PLANNERS = (*SEE_ALL_ROLES, "squad_leader")


def require_planner(actor: User) -> None:
    """Roles that plan or import tracks at all. Asked before anything in the request is looked up (client ids,
    officers, files), so a role that may never do it gets 403 whatever the request names: nothing to probe."""
    if not actor.has_role(*PLANNERS):
        raise NotAllowed()


def require_track_importer(actor: User, officer: User | None) -> None:
    """GPX import for `officer` (the user the request names, None if it names nobody): as for plans."""
    require_task_planner(actor, officer)


def require_task_planner(actor: User, officer: User | None) -> None:
    """Plans (排班) for `officer` (the user the request names, None if it names nobody). A leader naming anyone
    outside their squad gets 403 whether or not that is an officer, or anyone (ids cannot be probed); for
    admins and commanders, who plan for anyone, the caller then checks that the user is an active officer."""
    require_planner(actor)
    if sees_everything(actor) or (officer is not None and can_plan_for(actor, officer)):
        return
    raise NotAllowed()


def can_plan_for(actor: User, officer: User) -> bool:
    if sees_everything(actor):
        return True
    return actor.has_role("squad_leader") and actor.squad_id is not None and actor.squad_id == officer.squad_id


def scoped_tasks(stmt: Select, user: User) -> Select:
    """Tasks: an officer's own; a leader's squad's; everything for commanders and admins."""
    return _personal(stmt, user, PatrolTask.officer_id, PatrolTask.squad_id)


def coverage_filters(user: User, squad_id: int | None, officer_id: int | None) -> tuple[int | None, int | None]:
    """The squad and officer filters a coverage query runs with. Leaders read their squad (any officer of it),
    officers only their own coverage, commanders and admins anything; others nothing (403)."""
    if sees_everything(user):
        return squad_id, officer_id
    if user.has_role("squad_leader") and user.squad_id:
        if squad_id not in (None, user.squad_id):
            raise NotAllowed()
        return user.squad_id, officer_id
    if user.has_role("officer"):
        if officer_id not in (None, user.id):
            raise NotAllowed()
        return None, user.id
    raise NotAllowed()
