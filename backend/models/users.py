"""People and their sign-in state: users, roles, refresh tokens, login attempts."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .org import Area, Department, Squad

ROLES = ("officer", "squad_leader", "supervisor", "commander", "department", "admin")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    certificate_no: Mapped[str | None] = mapped_column(String(64))
    certificate_expires_on: Mapped[date | None]
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    role_rows: Mapped[list[UserRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="UserRole.role"
    )
    squad: Mapped[Squad | None] = relationship(lazy="select")
    village: Mapped[Area | None] = relationship(lazy="selectin")
    department: Mapped[Department | None] = relationship(lazy="selectin")

    @property
    def roles(self) -> list[str]:
        return [r.role for r in self.role_rows]

    def has_role(self, *roles: str) -> bool:
        return any(r.role in roles for r in self.role_rows)


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (
        CheckConstraint(
            "role IN ('officer','squad_leader','supervisor','commander','department','admin')", name="role"
        ),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class RefreshToken(Base):
    """Only a hash of each refresh token is kept; a family shares one login, so reuse revokes them all."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(36), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    client_addr: Mapped[str | None] = mapped_column(String(64))


class LoginAttempt(Base):
    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # success | failed | locked | inactive
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    client_addr: Mapped[str | None] = mapped_column(String(64))


class LoginLock(Base):
    __tablename__ = "login_locks"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    locked_until: Mapped[datetime]
