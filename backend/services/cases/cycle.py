"""The case cycle, in one place: which action moves a case from which status, who may take it, and what it
records (who, when, where, which evidence).

    reported --accept--> accepted --dispatch--> dispatched --acknowledge--> acknowledged --handle--> handled
        \\--reject--> rejected      \\--whistle--> whistled --acknowledge (报到)--/                         |
    handled --verify (passed)--> verified --close--> closed;  verify (failed) or rework --> acknowledged (返工)

Exception flows need an approval and are kept out of the normal clock: extend (延期: the handling limit moves),
return (回退: back to accepted, to be dispatched again, 改派), park (挂账: the clock stops until resume). A leader's
own exception takes effect at once; a handler's is a request that waits (case.pending) until a leader approves or
refuses it with the same action and `approve`. merge folds a duplicate into its original: the reporter becomes a
co-reporter of the original and hears about its progress.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, InvalidInput, NotAllowed, NotFound, Text
from ...i18n import MESSAGES
from ...models import (
    Case, CaseAction, CaseEvidence, CaseReporter, Department, User, WhistleMatter,
)
from ...policies.cases import case_visibility, handles_case, leads_case, verifies_case
from ...settings import Settings
from ..core import audit
from ..notifications import outbox as notices
from . import clock
from .intake import visible_evidence_in_order
from .labels import ACTION_ZH, STATUS_ZH
from geo.projection import geodesic_distance_m

EXCEPTIONS = ("extend", "return", "park")


@dataclass(frozen=True)
class Move:
    from_statuses: tuple[str, ...]
    who: str  # leader | handler | verifier | rework (leader or verifier) | exception (leader, or handler asking)


MOVES: dict[str, Move] = {
    "accept": Move(("reported",), "leader"),
    "reject": Move(("reported",), "leader"),
    "dispatch": Move(("accepted", "dispatched", "acknowledged"), "leader"),  # again from dispatched: 改派
    "whistle": Move(("accepted",), "leader"),
    "acknowledge": Move(("dispatched", "whistled"), "handler"),
    "handle": Move(("acknowledged",), "handler"),
    "verify": Move(("handled",), "verifier"),
    "close": Move(("verified",), "leader"),
    "rework": Move(("handled", "verified"), "rework"),
    "extend": Move(("dispatched", "whistled", "acknowledged"), "exception"),
    "return": Move(("dispatched", "whistled", "acknowledged"), "exception"),
    "park": Move(("accepted", "dispatched", "whistled", "acknowledged"), "exception"),
    "resume": Move(("parked",), "leader"),
    "merge": Move(("reported", "accepted"), "leader"),
}
EVIDENCE_STAGE = {"handle": "after", "verify": "verify", "rework": "verify"}


@dataclass(frozen=True)
class ActionRequest:
    action: str
    client_id: str | None = None
    lon: float | None = None
    lat: float | None = None
    accuracy_m: float | None = None
    note: str = ""
    evidence_ids: tuple[int, ...] = ()
    reason: str | None = None
    squad_id: int | None = None
    assignee_id: int | None = None
    matter: str | None = None
    needs_works: bool | None = None
    passed: bool | None = None
    minutes: int | None = None
    approve: bool | None = None
    into: int | None = None
    extra: dict = field(default_factory=dict)


def co_reporters(session: Session, case: Case) -> set[int]:
    return set(session.scalars(select(CaseReporter.user_id).where(CaseReporter.case_id == case.id)))


def _check_actor(session: Session, user: User, case: Case, req: ActionRequest) -> str:
    """'direct' or 'request' (an exception asked for by its handler); raises NotAllowed with the reason."""
    who = MOVES[req.action].who
    if who == "leader" and leads_case(user, case):
        return "direct"
    if who == "handler" and handles_case(user, case):
        return "direct"
    if who == "verifier" and verifies_case(user, case, co_reporters(session, case)):
        return "direct"
    if who == "rework" and (leads_case(user, case) or verifies_case(user, case, co_reporters(session, case))):
        return "direct"
    if who == "exception":
        if leads_case(user, case):
            return "direct"
        if handles_case(user, case):
            if req.approve is not None:
                raise NotAllowed("case_approval_by_leader")
            return "request"
    raise NotAllowed(f"case_actor_{who}", text=_named(f"case_actor_{who}", req.action))


def _named(code: str, action: str) -> Text:
    """A message naming an action: its Chinese name in Chinese, its code in English."""
    zh, en = MESSAGES[code]
    return Text(zh.format(action=ACTION_ZH.get(action, action)), en.format(action=action))


def _required(req: ActionRequest, *names: str) -> None:
    missing = [n for n in names if getattr(req, n) in (None, "", ())]
    if missing:
        raise InvalidInput("validation_error", details={"fields": {n: ["required"] for n in missing}})


def apply(session: Session, settings: Settings, user: User, case: Case, req: ActionRequest,
          client_addr: str | None) -> tuple[CaseAction, bool]:
    """(the recorded action, created). A retry with the same client id returns the stored action."""
    if req.client_id:
        done = session.scalar(select(CaseAction).where(CaseAction.actor_id == user.id,
                                                       CaseAction.client_id == req.client_id))
        if done is not None:
            if done.case_id != case.id or done.action != req.action:
                raise Conflict("duplicate", field="client_id", value=req.client_id)
            return done, False
    if req.action not in MOVES:
        raise InvalidInput("validation_error", details={"fields": {"action": list(MOVES)}})
    move = MOVES[req.action]
    approving = req.action in EXCEPTIONS and req.approve is not None
    mode = _check_actor(session, user, case, req)  # who first: a move the caller may never take is a 403
    if approving:
        if not case.pending or case.pending.get("action") != req.action:
            raise Conflict("case_nothing_to_approve", text=_named("case_nothing_to_approve", req.action))
    elif case.status not in move.from_statuses:
        raise Conflict("case_move_not_allowed", details={"allowed_from": list(move.from_statuses)}, text=Text(
            f"案件当前为“{STATUS_ZH[case.status]}”，不能{ACTION_ZH[req.action]}；可在"
            f"{'、'.join(STATUS_ZH[s] for s in move.from_statuses)}时进行",
            f"The case is {case.status}: {req.action} is possible only when it is "
            f"{', '.join(move.from_statuses)}"))
    now = datetime.now(UTC)
    evidence = visible_evidence_in_order(session, user, req.evidence_ids)
    before = {"status": case.status, "assignee_id": case.assignee_id, "department_id": case.department_id}
    data: dict = dict(req.extra)
    if mode == "request":
        _request_exception(case, user, req, data, now)
        to_status = case.status
    elif approving:
        to_status = _decide_exception(session, case, user, req, data, now)
    else:
        to_status = _APPLY[req.action](session, settings, user, case, req, data, now, evidence)
    action = CaseAction(case_id=case.id, client_id=req.client_id, action=req.action, actor_id=user.id, at=now,
                        lon=req.lon, lat=req.lat, accuracy_m=req.accuracy_m, from_status=before["status"],
                        to_status=to_status, note=req.note or (req.reason or ""), data=data,
                        evidence_ids=[e.id for e in evidence])
    session.add(action)
    session.flush()
    stage = EVIDENCE_STAGE.get(req.action, "before")
    linked = set(session.scalars(select(CaseEvidence.evidence_id).where(CaseEvidence.case_id == case.id)))
    for item in evidence:
        if item.id not in linked:
            session.add(CaseEvidence(case_id=case.id, evidence_id=item.id, stage=stage, action_id=action.id))
    case.status = to_status
    case.version += 1
    audit.record(session, f"case.{req.action}", "case", case.id, actor=user, client_addr=client_addr,
                 before=before, after={"status": to_status, "assignee_id": case.assignee_id,
                                       "department_id": case.department_id, **_plain(data)})
    notices.on_action(session, settings, case, action)
    return action, True


def _plain(data: dict) -> dict:
    return {k: v for k, v in data.items() if isinstance(v, (str, int, float, bool, list, type(None)))}


# --- the normal cycle ----------------------------------------------------------------------------------------

def _accept(session, settings, user, case, req, data, now, evidence):
    case.accepted_at = now
    return "accepted"


def _reject(session, settings, user, case, req, data, now, evidence):
    _required(req, "reason")
    case.open = False
    data["reason"] = req.reason
    return "rejected"


def _dispatch(session, settings, user, case, req, data, now, evidence):
    if req.squad_id is None and req.assignee_id is None:
        _required(req, "assignee_id")
    squad_id = req.squad_id if req.squad_id is not None else case.squad_id
    if req.assignee_id is not None:
        officer = session.get(User, req.assignee_id)
        if officer is None or not officer.active or not officer.has_role("officer", "squad_leader"):
            raise InvalidInput("case_assignee_not_officer")
        if req.squad_id is not None and officer.squad_id != req.squad_id:
            raise InvalidInput("case_assignee_other_squad")
        squad_id = officer.squad_id
    if squad_id != case.squad_id and not user.has_role("commander", "admin"):
        raise NotAllowed("case_dispatch_other_squad")  # another squad's work is the centre's to hand out
    if req.action == "dispatch" and case.status != "accepted":
        data["redispatch"] = True  # 改派
    case.squad_id, case.assignee_id, case.department_id, case.whistle_matter_id = squad_id, req.assignee_id, None, None
    case.dispatched_at, case.acknowledged_at = now, None
    data.update({"squad_id": squad_id, "assignee_id": req.assignee_id})
    return "dispatched"


def _whistle(session, settings, user, case, req, data, now, evidence):
    _required(req, "matter")
    if not case.category.whistleable:
        raise Conflict("case_not_whistleable", category=case.category.name)
    matter = session.scalar(select(WhistleMatter).where(WhistleMatter.code == req.matter,
                                                        WhistleMatter.active.is_(True)))
    if matter is None:
        raise InvalidInput("case_whistle_matter_unknown", matter=req.matter)
    department = session.scalar(select(Department).where(Department.code == matter.department_code,
                                                         Department.active.is_(True)))
    if department is None:
        raise Conflict("case_department_missing", department=matter.department_code)
    calendar = clock.load_calendar(session)
    case.department_id, case.whistle_matter_id, case.assignee_id = department.id, matter.id, None
    case.dispatched_at, case.acknowledged_at = now, None
    case.report_in_due_at = clock.add(now, matter.report_in_minutes, matter.clock, calendar)
    data.update({"matter": matter.code, "department_id": department.id,
                 "report_in_due_at": case.report_in_due_at.isoformat()})
    return "whistled"


def _acknowledge(session, settings, user, case, req, data, now, evidence):
    case.acknowledged_at = now
    data["in_time"] = {"respond": case.respond_due_at is None or now <= case.respond_due_at}
    if case.status == "whistled":
        data["in_time"]["report_in"] = case.report_in_due_at is None or now <= case.report_in_due_at
    if req.needs_works:
        works = case.category.works_minutes
        if works is None:
            raise Conflict("case_no_works_limit", category=case.category.name)
        case.needs_works = True
        case.handle_due_at = clock.add(case.reported_at, works, case.category.clock, clock.load_calendar(session))
        data["needs_works"] = True
    return "acknowledged"


def _handle(session, settings, user, case, req, data, now, evidence):
    if not evidence:
        raise InvalidInput("case_after_photo_required")
    far = [e.id for e in evidence if e.lon is not None and e.lat is not None
           and geodesic_distance_m(case.lon, case.lat, e.lon, e.lat) > settings.case_after_photo_gap_m]
    if far:
        data["flags"] = ["after_photo_far"]
        data["far_evidence_ids"] = far
    case.handled_at = now
    data["in_time"] = case.handle_due_at is None or now <= case.handle_due_at
    return "handled"


def _verify(session, settings, user, case, req, data, now, evidence):
    _required(req, "passed")
    data["passed"] = bool(req.passed)
    if req.passed:
        return "verified"
    return _back_to_work(case, data)


def _rework(session, settings, user, case, req, data, now, evidence):
    return _back_to_work(case, data)


def _back_to_work(case: Case, data: dict) -> str:
    case.rework_count += 1
    case.handled_at = None
    data["rework"] = case.rework_count
    return "acknowledged"


def _close(session, settings, user, case, req, data, now, evidence):
    case.closed_at, case.open = now, False
    data["in_time"] = case.handled_at is not None and (case.handle_due_at is None
                                                        or case.handled_at <= case.handle_due_at)
    return "closed"


def _merge(session, settings, user, case, req, data, now, evidence):
    _required(req, "into")
    original = session.scalar(select(Case).where(Case.id == req.into, case_visibility(user)))
    if original is None:
        raise NotFound("case_not_found")
    if original.id == case.id or not original.open or original.status == "merged":
        raise Conflict("case_merge_target_closed")
    reporters = ({case.reported_by_id} if case.reported_by_id else set()) | co_reporters(session, case)
    known = co_reporters(session, original) | {original.reported_by_id}
    for reporter in sorted(reporters - known):
        session.add(CaseReporter(case_id=original.id, user_id=reporter, from_case_id=case.id))
    linked = set(session.scalars(select(CaseEvidence.evidence_id).where(CaseEvidence.case_id == original.id)))
    for link in case.evidence_links:
        if link.evidence_id not in linked:
            session.add(CaseEvidence(case_id=original.id, evidence_id=link.evidence_id, stage="before"))
    session.add(CaseAction(case_id=original.id, action="merge", actor_id=user.id, at=now, from_status=original.status,
                           to_status=original.status, note=req.note, data={"merged_case_id": case.id}))
    original.version += 1
    case.merged_into_id, case.open = original.id, False
    data["into"] = original.id
    return "merged"


# --- exceptions: asked for, approved, kept out of the clock --------------------------------------------------

def _request_exception(case: Case, user: User, req: ActionRequest, data: dict, now: datetime) -> None:
    if case.pending:
        raise Conflict("case_pending_exists", action=case.pending.get("action"))
    if req.action == "extend":
        _required(req, "minutes", "reason")
    else:
        _required(req, "reason")
    case.pending = {"action": req.action, "by": user.id, "at": now.isoformat(), "reason": req.reason,
                    "minutes": req.minutes}
    data.update({"requested": True, "reason": req.reason, "minutes": req.minutes})


def _decide_exception(session: Session, case: Case, user: User, req: ActionRequest, data: dict,
                      now: datetime) -> str:
    pending = dict(case.pending or {})
    case.pending = None
    data.update({"approved": bool(req.approve), "requested_by": pending.get("by")})
    if not req.approve:
        return case.status
    asked = ActionRequest(action=req.action, reason=pending.get("reason"), minutes=pending.get("minutes"))
    return _EXCEPTION[req.action](session, case, asked, data, now)


def _direct_exception(session, settings, user, case, req, data, now, evidence):
    if case.pending and case.pending.get("action") == req.action:
        raise Conflict("case_pending_exists", text=_named("case_pending_exists", req.action))
    if req.action == "extend":
        _required(req, "minutes", "reason")
    else:
        _required(req, "reason")
    data["approved"] = True
    return _EXCEPTION[req.action](session, case, req, data, now)


def _extend(session: Session, case: Case, req: ActionRequest, data: dict, now: datetime) -> str:
    if not req.minutes or req.minutes <= 0:
        raise InvalidInput("validation_error", details={"fields": {"minutes": ["> 0"]}})
    base = case.handle_due_at or now
    case.handle_due_at = clock.add(base, req.minutes, case.category.clock, clock.load_calendar(session))
    case.extension_count += 1
    data.update({"minutes": req.minutes, "reason": req.reason, "handle_due_at": case.handle_due_at.isoformat()})
    return case.status


def _return(session: Session, case: Case, req: ActionRequest, data: dict, now: datetime) -> str:
    data.update({"reason": req.reason, "returned_by_department_id": case.department_id,
                 "returned_by_assignee_id": case.assignee_id})
    case.assignee_id = case.department_id = case.whistle_matter_id = None
    case.dispatched_at = case.acknowledged_at = case.report_in_due_at = None
    return "accepted"


def _park(session: Session, case: Case, req: ActionRequest, data: dict, now: datetime) -> str:
    calendar, kind = clock.load_calendar(session), case.category.clock
    remaining = {name: clock.elapsed_minutes(now, due, kind, calendar)
                 for name, due in (("respond", case.respond_due_at if case.acknowledged_at is None else None),
                                   ("report_in", case.report_in_due_at if case.status == "whistled" else None),
                                   ("handle", case.handle_due_at)) if due is not None}
    case.parked_status, case.parked_at = case.status, now
    data.update({"reason": req.reason, "remaining_minutes": remaining})
    return "parked"


def _resume(session, settings, user, case, req, data, now, evidence):
    park = session.scalar(select(CaseAction).where(CaseAction.case_id == case.id, CaseAction.to_status == "parked")
                          .order_by(CaseAction.id.desc()).limit(1))
    remaining = (park.data.get("remaining_minutes") if park else None) or {}
    calendar, kind = clock.load_calendar(session), case.category.clock
    for name, column in (("respond", "respond_due_at"), ("report_in", "report_in_due_at"),
                         ("handle", "handle_due_at")):
        if name in remaining:
            setattr(case, column, clock.add(now, round(remaining[name]), kind, calendar))
    status = case.parked_status or "accepted"
    data["parked_minutes"] = round((now - case.parked_at).total_seconds() / 60) if case.parked_at else None
    case.parked_status = case.parked_at = None
    case.overdue = ""
    return status


_EXCEPTION = {"extend": _extend, "return": _return, "park": _park}
_APPLY = {"accept": _accept, "reject": _reject, "dispatch": _dispatch, "whistle": _whistle,
          "acknowledge": _acknowledge, "handle": _handle, "verify": _verify, "close": _close, "rework": _rework,
          "extend": _direct_exception, "return": _direct_exception, "park": _direct_exception,
          "resume": _resume, "merge": _merge}

