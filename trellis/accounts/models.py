"""Tables of the accounts area: users, API tokens, login attempts, password resets,
consents, audit events."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from trellis.clock import utcnow  # other modules import it from trellis.clock


class Role(enum.StrEnum):
    ADMIN = "admin"
    RM = "rm"
    VENDOR = "vendor"
    ANCHOR = "anchor"
    AUDITOR = "auditor"


ROLE_LABELS = {
    Role.ADMIN: "Administrator",
    Role.RM: "Relationship manager",
    Role.VENDOR: "Vendor",
    Role.ANCHOR: "Anchor firm",
    Role.AUDITOR: "Auditor",
}

FIRM_ROLES = (Role.VENDOR, Role.ANCHOR)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(254), nullable=False, unique=True))
    name: str = Field(default="", max_length=120)
    role: str = Field(sa_column=Column(String(16), nullable=False))
    firm_id: int | None = Field(default=None, foreign_key="firms.id", index=True)
    password_hash: str = Field(max_length=255)
    locale: str = Field(default="zh_CN", max_length=8)
    birth_year: int | None = Field(default=None)
    phone: str | None = Field(default=None, max_length=32)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    # the administrator who created the account on /admin/users (None: registration, an
    # invitation, the command line, the demo); the settlement account's four-eyes rule
    # refuses an approver made by the proposer (trellis.protection.settlement)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    last_login_at: datetime | None = None
    # Raised to end every session of the user (logout, password change, sign out
    # everywhere); a session cookie carries the generation it was issued under.
    session_generation: int = Field(default=0, sa_column=Column(
        Integer, nullable=False, server_default=text("0")))
    # Multi-factor login (trellis.accounts.mfa): the TOTP secret, the last time step
    # accepted (no replay) and the SHA-256 digests of unused recovery codes.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger))
    mfa_recovery: list = Field(default_factory=list, sa_column=Column(
        JSON, nullable=False, server_default=text("'[]'")))

    @property
    def role_enum(self) -> Role:
        """The user's role as a Role."""
        return Role(self.role)

    # The interface Flask-Login expects, without importing Flask here.
    @property
    def is_authenticated(self) -> bool:
        """Always True: a stored user is a logged-in one (Flask-Login asks)."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Always False (Flask-Login asks)."""
        return False

    def get_id(self) -> str:
        """The user's id as text, as Flask-Login keeps it in the session."""
        return str(self.id)


class ApiToken(SQLModel, table=True):
    """A firm's API token. Only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=16, index=True)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class LoginAttempt(SQLModel, table=True):
    """A failed login, counted to throttle guessing per e-mail and per address."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "attempted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    remote_addr: str = Field(default="", max_length=64)
    attempted_at: datetime = Field(default_factory=utcnow)


class PasswordReset(SQLModel, table=True):
    """One "forgot password" request (trellis.accounts.reset), for a known e-mail or not:
    every request is a row, so requests are counted (throttling) the same either way.

    A request for an active account is given a single-use token; only the SHA-256 of the
    token is stored (it is 256 random bits, so a fast digest is enough), with when it
    expires and when it was used."""

    __tablename__ = "password_resets"
    __table_args__ = (Index("ix_password_resets_email_at", "email", "requested_at"),
                      Index("ix_password_resets_addr_at", "remote_addr", "requested_at"))

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    remote_addr: str = Field(default="", max_length=64)
    requested_at: datetime = Field(default_factory=utcnow)
    # set once the request was looked at (a token sent, or no such account): a task run
    # twice sends one message
    processed_at: datetime | None = None
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    token_hash: str | None = Field(default=None, sa_column=Column(String(64), unique=True))
    expires_at: datetime | None = None
    used_at: datetime | None = None


class Consent(SQLModel, table=True):
    """A firm's purpose-specific consent; withdrawal sets ``withdrawn_at``."""

    __tablename__ = "consents"

    id: int | None = Field(default=None, primary_key=True)
    firm_id: int = Field(foreign_key="firms.id", index=True)
    purpose: str = Field(max_length=40)  # trade_data, credit_query, bank_account
    version: str = Field(max_length=16)
    granted_by_id: int | None = Field(default=None, foreign_key="users.id")
    granted_at: datetime = Field(default_factory=utcnow)
    withdrawn_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """Who did what, when, to which record. Append-only."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_record", "record_type", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    actor_label: str = Field(default="", max_length=254)
    action: str = Field(max_length=64)
    record_type: str = Field(default="", max_length=64)
    record_id: str = Field(default="", max_length=64)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    remote_addr: str = Field(default="", max_length=64)


class IdempotencyRecord(SQLModel, table=True):
    """A stored response for an idempotent API request (per firm and key)."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=64)
    key: str = Field(max_length=128)
    status: int = 200
    body: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
