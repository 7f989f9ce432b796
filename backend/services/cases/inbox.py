"""The in-app inbox: the cases waiting for the caller's next step (dispatched to me, whistled to my department,
to accept, dispatch, approve, verify or close), soonest limit first, with what is overdue or due soon. The primary
notification path: Chrome's push service is not reachable in mainland China."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from ...models import Case, User
from ...policies.cases import case_visibility
from . import overdue

DUE_SOON = timedelta(hours=2)
LIMIT = 200


def _needs(user: User) -> list[tuple[str, ColumnElement[bool]]]:
    """(the step the caller should take, the cases that wait for it)."""
    needs: list[tuple[str, ColumnElement[bool]]] = []
    if user.has_role("officer", "squad_leader"):
        needs += [("acknowledge", and_(Case.status == "dispatched", Case.assignee_id == user.id)),
                  ("handle", and_(Case.status == "acknowledged", Case.assignee_id == user.id))]
    if user.has_role("department") and user.department_id:
        mine = and_(Case.department_id == user.department_id, Case.assignee_id.is_(None))
        needs += [("acknowledge", and_(Case.status == "whistled", mine)),
                  ("handle", and_(Case.status == "acknowledged", mine))]
    leads: ColumnElement[bool] = false()
    if user.has_role("commander", "admin"):
        leads = Case.open.is_(True)
    elif user.has_role("squad_leader") and user.squad_id:
        leads = Case.squad_id == user.squad_id
    needs += [("accept", and_(leads, Case.status == "reported")),
              ("dispatch", and_(leads, Case.status == "accepted")),
              ("approve", and_(leads, Case.pending.is_not(None))),
              ("close", and_(leads, Case.status == "verified"))]
    verifier = or_(Case.reported_by_id == user.id,
                   and_(Case.village_id == user.village_id) if user.has_role("supervisor") and user.village_id
                   else false())
    needs.append(("verify", and_(Case.status == "handled", or_(verifier, leads))))
    return needs


def inbox(session: Session, user: User, now: datetime) -> list[dict]:
    items: dict[int, dict] = {}
    visible = case_visibility(user)
    for need, rule in _needs(user):
        for case in session.scalars(select(Case).where(visible, Case.open.is_(True), rule)
                                    .order_by(Case.handle_due_at, Case.id).limit(LIMIT)):
            if case.id in items:
                continue
            flags = overdue.flags_of(case, now)
            due = case.report_in_due_at if case.status == "whistled" else case.handle_due_at
            items[case.id] = {"case_id": case.id, "need": need, "status": case.status,
                              "category": case.category.name, "description": case.description,
                              "reported_at": case.reported_at, "due_at": due, "overdue": flags,
                              "due_soon": not flags and due is not None and due - now <= DUE_SOON,
                              "pending": case.pending}
    return sorted(items.values(), key=lambda i: (not i["overdue"], i["due_at"] or now + timedelta(days=3650),
                                                 i["case_id"]))
