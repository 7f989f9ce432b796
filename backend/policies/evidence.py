"""Who may add and see evidence (photos and, later, audio and video).

Evidence shows people, places and number plates: it is personal information. A photo is seen by whoever took it,
their squad's leader, commanders and admins, and by whoever may see a case it is attached to (policies.cases)."""
from __future__ import annotations

from sqlalchemy import Select, or_, select

from ..errors import NotAllowed
from ..models import Case, CaseEvidence, Evidence, User
from .cases import case_visibility
from .core import sees_everything

# Everyone who reports or reports back: officers and leaders, village supervisors, department liaisons, the centre.
EVIDENCE_UPLOADERS = ("officer", "squad_leader", "supervisor", "department", "commander", "admin")


def require_evidence_uploader(user: User) -> None:
    if not user.has_role(*EVIDENCE_UPLOADERS):
        raise NotAllowed()


def scoped_evidence(stmt: Select, user: User) -> Select:
    if sees_everything(user):
        return stmt
    conditions = [Evidence.uploaded_by_id == user.id,
                  Evidence.id.in_(select(CaseEvidence.evidence_id).join(Case, Case.id == CaseEvidence.case_id)
                                  .where(case_visibility(user)))]
    if user.has_role("squad_leader") and user.squad_id:
        conditions.append(Evidence.squad_id == user.squad_id)
    return stmt.where(or_(*conditions))


def may_add_files(user: User, evidence: Evidence) -> bool:
    """Files of a record come from whoever made it (the phone that took the photo), never from someone else."""
    return evidence.uploaded_by_id == user.id
