"""Admin changes to users, squads and departments; every change audited, nobody with history deleted."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...errors import InvalidInput, Conflict, NotFound
from ...models import Area, Department, RefreshToken, Squad, User, UserRole
from ...security import check_password_rules, hash_password
from . import audit
from .auth import set_password

M = TypeVar("M")

USER_FIELDS = ("display_name", "phone", "squad_id", "village_id", "department_id", "certificate_no",
               "certificate_expires_on", "active")


def user_summary(user: User) -> dict:
    return {"username": user.username, "display_name": user.display_name, "roles": user.roles,
            "squad_id": user.squad_id, "village_id": user.village_id, "department_id": user.department_id,
            "certificate_no": user.certificate_no, "active": user.active,
            "certificate_expires_on": user.certificate_expires_on.isoformat() if user.certificate_expires_on else None}


def create_user(session: Session, actor: User | None, data: dict, client_addr: str | None = None) -> User:
    username = data["username"].strip()
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise Conflict("duplicate", field="username", value=username, details={"fields": {"username": "exists"}})
    check_password_rules(username, data["password"])
    user = User(username=username, display_name=data["display_name"], password_hash=hash_password(data["password"]))
    _apply(session, user, {k: v for k, v in data.items() if k in USER_FIELDS or k == "roles"})
    session.add(user)
    session.flush()
    audit.record(session, "user.create", "user", user.id, actor=actor, after=user_summary(user),
                 client_addr=client_addr)
    return user


def update_user(session: Session, actor: User, user: User, data: dict, client_addr: str | None) -> User:
    if data.get("active") is False and user.id == actor.id:
        raise InvalidInput("cannot_deactivate_self")
    before = user_summary(user)
    _apply(session, user, data)
    user.version += 1
    if data.get("active") is False:
        revoke_refresh_tokens(session, user)
    audit.record(session, "user.update", "user", user.id, actor=actor, before=before, after=user_summary(user),
                 client_addr=client_addr)
    return user


def revoke_refresh_tokens(session: Session, user: User) -> None:
    # A deactivated user's phones must sign in again (and will be refused).
    session.execute(update(RefreshToken).where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=datetime.now(UTC)))


def reset_password(session: Session, actor: User, user: User, password: str, client_addr: str | None) -> None:
    set_password(session, user, password)
    audit.record(session, "user.password_reset", "user", user.id, actor=actor, client_addr=client_addr)


def _apply(session: Session, user: User, data: dict) -> None:
    for key in USER_FIELDS:
        if key in data:
            setattr(user, key, data[key])
    if "roles" in data:
        wanted = sorted(set(data["roles"]))
        if not wanted:
            raise InvalidInput("user_has_no_role")
        user.role_rows = [r for r in user.role_rows if r.role in wanted] + [
            UserRole(role=r) for r in wanted if r not in user.roles
        ]
    roles = set(data.get("roles", user.roles))
    if user.squad_id is not None and session.get(Squad, user.squad_id) is None:
        raise InvalidInput("validation_error", details={"fields": {"squad_id": "not_found"}})
    if user.department_id is not None and session.get(Department, user.department_id) is None:
        raise InvalidInput("validation_error", details={"fields": {"department_id": "not_found"}})
    if user.village_id is not None:
        village = session.get(Area, user.village_id)
        if village is None or village.kind != "village":
            raise InvalidInput("not_a_village", details={"fields": {"village_id": "not_a_village"}})
    if "supervisor" in roles and user.village_id is None:
        raise InvalidInput("supervisor_needs_village", details={"fields": {"village_id": "required"}})
    if "department" in roles and user.department_id is None:
        raise InvalidInput("department_role_needs_department", details={"fields": {"department_id": "required"}})


# --- squads ------------------------------------------------------------------------------------------------

def squad_summary(squad: Squad) -> dict:
    return {"name": squad.name, "active": squad.active, "area_ids": [a.id for a in squad.areas]}


def _squad_areas(session: Session, area_ids: list[int]) -> list[Area]:
    found = session.scalars(select(Area).where(Area.id.in_(area_ids))).all() if area_ids else []
    if len(found) != len(set(area_ids)) or any(a.kind not in ("zone", "grid") for a in found):
        raise InvalidInput("squad_area_kind", details={"fields": {"area_ids": "zones_and_grids_only"}})
    return sorted(found, key=lambda a: a.id)


def create_squad(session: Session, actor: User | None, data: dict, client_addr: str | None = None) -> Squad:
    _unique(session, Squad, "name", data["name"])
    squad = Squad(name=data["name"], areas=_squad_areas(session, data.get("area_ids", [])))
    session.add(squad)
    session.flush()
    audit.record(session, "squad.create", "squad", squad.id, actor=actor, after=squad_summary(squad),
                 client_addr=client_addr)
    return squad


def update_squad(session: Session, actor: User, squad: Squad, data: dict, client_addr: str | None) -> Squad:
    before = squad_summary(squad)
    if "name" in data and data["name"] != squad.name:
        _unique(session, Squad, "name", data["name"])
        squad.name = data["name"]
    if "active" in data:
        squad.active = data["active"]
    if "area_ids" in data:
        squad.areas = _squad_areas(session, data["area_ids"])
    squad.version += 1
    audit.record(session, "squad.update", "squad", squad.id, actor=actor, before=before, after=squad_summary(squad),
                 client_addr=client_addr)
    return squad


# --- departments -------------------------------------------------------------------------------------------

def department_summary(dept: Department) -> dict:
    return {"name": dept.name, "code": dept.code, "field": dept.field, "active": dept.active}


def create_department(session: Session, actor: User | None, data: dict, client_addr: str | None = None) -> Department:
    _unique(session, Department, "name", data["name"])
    _unique(session, Department, "code", data["code"])
    dept = Department(name=data["name"], code=data["code"], field=data.get("field", ""))
    session.add(dept)
    session.flush()
    audit.record(session, "department.create", "department", dept.id, actor=actor, after=department_summary(dept),
                 client_addr=client_addr)
    return dept


def update_department(session: Session, actor: User, dept: Department, data: dict, client_addr: str | None
                      ) -> Department:
    before = department_summary(dept)
    for key in ("name", "code"):
        if key in data and data[key] != getattr(dept, key):
            _unique(session, Department, key, data[key])
    for key in ("name", "code", "field", "active"):
        if key in data:
            setattr(dept, key, data[key])
    dept.version += 1
    audit.record(session, "department.update", "department", dept.id, actor=actor, before=before,
                 after=department_summary(dept), client_addr=client_addr)
    return dept


def _unique(session: Session, model: type[Any], field: str, value: object) -> None:
    if session.scalar(select(model.id).where(getattr(model, field) == value)):
        raise Conflict("duplicate", field=field, value=value, details={"fields": {field: "exists"}})


def get_or_404(session: Session, model: type[M], ident: int) -> M:
    obj = session.get(model, ident)
    if obj is None:
        raise NotFound()
    return obj
