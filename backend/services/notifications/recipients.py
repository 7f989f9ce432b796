"""Who hears of a move: whoever the case now waits for (the officer dispatched, the department whistled, the
verifiers, the leaders), and the reporters, who hear of its progress. Never the person who made the move."""
from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ...models import Case, CaseAction, CaseReporter, User, UserRole


def _with_role(session: Session, role: str, *where: ColumnElement[bool]) -> list[User]:
    return list(session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                                .where(UserRole.role == role, User.active.is_(True), *where)))


def leaders(session: Session, case: Case) -> list[User]:
    """The squad's leaders; for a case in no squad's area (or a squad with no leader), the command centre."""
    found = _with_role(session, "squad_leader", User.squad_id == case.squad_id) if case.squad_id else []
    return found or commanders(session)


def commanders(session: Session) -> list[User]:
    return _with_role(session, "commander")


def liaisons(session: Session, case: Case) -> list[User]:
    return _with_role(session, "department", User.department_id == case.department_id) if case.department_id else []


def handlers(session: Session, case: Case) -> list[User]:
    if case.assignee_id:
        found = session.get(User, case.assignee_id)
        return [found] if found and found.active else []
    return liaisons(session, case) if case.department_id else leaders(session, case)


def reporters(session: Session, case: Case) -> list[User]:
    ids = set(session.scalars(select(CaseReporter.user_id).where(CaseReporter.case_id == case.id)))
    if case.reported_by_id:
        ids.add(case.reported_by_id)
    return list(session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True)))) if ids else []


def verifiers(session: Session, case: Case) -> list[User]:
    """The reporter, and the supervisor of the case's village (核查 on site); leaders hear of it by the inbox."""
    village = _with_role(session, "supervisor", User.village_id == case.village_id) if case.village_id else []
    return reporters(session, case) + village


def for_action(session: Session, case: Case, action: CaseAction) -> list[tuple[User, str]]:
    """(person, kind) for a recorded move; messages.KINDS names the kinds."""
    data = action.data or {}
    out: list[tuple[User, str]] = []
    if action.action == "accept":
        out = [(u, "accepted") for u in reporters(session, case)]
    elif action.action == "reject":
        out = [(u, "rejected") for u in reporters(session, case)]
    elif action.action == "dispatch":
        out = [(u, "dispatched") for u in handlers(session, case)] if case.assignee_id else \
            [(u, "squad_dispatched") for u in leaders(session, case)]
    elif action.action == "whistle":
        out = [(u, "whistled") for u in liaisons(session, case)]
    elif action.action == "handle":
        out = [(u, "to_verify") for u in verifiers(session, case)]
    elif action.action == "verify":
        out = [(u, "to_close") for u in leaders(session, case)] if case.status == "verified" else \
            [(u, "rework") for u in handlers(session, case)]
    elif action.action == "rework":
        out = [(u, "rework") for u in handlers(session, case)]
    elif action.action == "close":
        out = [(u, "closed") for u in reporters(session, case)]
    elif data.get("requested"):  # a handler asks for an exception
        out = [(u, "to_approve") for u in leaders(session, case)]
    elif data.get("requested_by"):  # a leader decided what a handler asked for
        requester = session.get(User, data["requested_by"])
        out = [(requester, "decided")] if requester else []
    return _unique([(u, k) for u, k in out if u.id != action.actor_id])


def for_escalation(session: Session, case: Case, people: dict | None = None) -> list[tuple[User, str]]:
    """The handler, the squad's leaders and the command centre; `people` caches the last two over one sweep."""
    people = {} if people is None else people
    if ("squad", case.squad_id) not in people:
        people[("squad", case.squad_id)] = leaders(session, case)
    if ("department", case.department_id) not in people:
        people[("department", case.department_id)] = liaisons(session, case)
    if "centre" not in people:
        people["centre"] = commanders(session)
    if case.assignee_id:
        handling = handlers(session, case)
    else:  # the department whistled, or the squad's leaders: as handlers() says, from the cache
        handling = people[("department", case.department_id)] if case.department_id else \
            people[("squad", case.squad_id)]
    return _unique([(u, "overdue") for u in handling + people[("squad", case.squad_id)] + people["centre"]])


def new_report(session: Session, case: Case) -> list[tuple[User, str]]:
    return _unique([(u, "to_accept") for u in leaders(session, case) if u.id != case.reported_by_id])


def _unique(pairs: list[tuple[User, str]]) -> list[tuple[User, str]]:
    seen: set[int] = set()
    out = []
    for user, kind in pairs:
        if user.id not in seen:
            seen.add(user.id)
            out.append((user, kind))
    return out

