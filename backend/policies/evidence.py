"""Who may add and see evidence (photos and, later, audio and video).

Evidence shows people, places and number plates: it is personal information. Until it is attached to a case, a
photo is seen by whoever took it, their squad's leader, commanders and admins. (Cases widen this to whoever may see
the case: the case cycle adds its rule here, in one place.)"""
from __future__ import annotations

from sqlalchemy import Select, false, or_

from ..errors import NotAllowed
from ..models import Evidence, User
from .core import sees_everything

# Everyone who reports or reports back: officers and leaders, village supervisors, department liaisons, the centre.
EVIDENCE_UPLOADERS = ("officer", "squad_leader", "supervisor", "department", "commander", "admin")


def require_evidence_uploader(user: User) -> None:
    if not user.has_role(*EVIDENCE_UPLOADERS):
        raise NotAllowed()


def scoped_evidence(stmt: Select, user: User) -> Select:
    if sees_everything(user):
        return stmt
    conditions = [Evidence.uploaded_by_id == user.id]
    if user.has_role("squad_leader") and user.squad_id:
        conditions.append(Evidence.squad_id == user.squad_id)
    return stmt.where(or_(*conditions)) if conditions else stmt.where(false())


def may_add_files(user: User, evidence: Evidence) -> bool:
    """Files of a record come from whoever made it (the phone that took the photo), never from someone else."""
    return evidence.uploaded_by_id == user.id
