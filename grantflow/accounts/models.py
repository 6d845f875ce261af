"""People who log in, and the roles they hold across the programme."""

import hmac
import secrets
from datetime import datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import JSON, Column, ForeignKey, String, Table, UniqueConstraint, bindparam, select
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from grantflow.core.extensions import db
from grantflow.core.types import UTCDateTime, utcnow
from grantflow.workflow.registry import staff_roles

APPLICANT = "applicant"
EVALUATOR = "evaluator"
ADMINISTRATOR = "administrator"
MUNICIPALITY = "municipality"
ROLES = (APPLICANT, EVALUATOR, ADMINISTRATOR, MUNICIPALITY)
ROLE_LABELS = {
    APPLICANT: _l("Applicant"),
    EVALUATOR: _l("Evaluator"),
    ADMINISTRATOR: _l("Administrator"),
    MUNICIPALITY: _l("Municipality representative"),
}


def new_session_token() -> str:
    return secrets.token_hex(16)


# The municipalities a municipality representative speaks for (one or more).
user_municipalities = Table(
    "user_municipalities",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("municipality_id", ForeignKey("municipalities.id"), primary_key=True, index=True),
)

# A password hash no password matches: an invited person who has not yet set theirs. The
# random part changes with every invitation, so an older invitation link is spent (the
# invitation token is bound to the hash, as the reset token is).
INVITED = "!invited:"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    locale: Mapped[str] = mapped_column(String(5), default="lv")
    active: Mapped[bool] = mapped_column(default=True)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Part of every session and remember cookie (see get_id): a new one ends them all.
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)
    # The optional reminders (reminders.models.OPTIONAL) this person turned off on their profile.
    reminders_off: Mapped[list | None] = mapped_column(JSON, default=list)
    # Erased (pseudonymised) on request or by the retention sweep (exports.personal): name and
    # e-mail replaced by a pseudonym, no password, no roles; their records stay under it.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    role_rows: Mapped[list["UserRole"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    memberships: Mapped[list["Membership"]] = relationship(  # noqa: F821
        back_populates="user", cascade="all, delete-orphan"
    )
    # Loaded with the user (once a request): the municipality role is checked per idea.
    municipalities: Mapped[list["Municipality"]] = relationship(  # noqa: F821
        secondary=user_municipalities, lazy="selectin", order_by="Municipality.name"
    )

    def get_id(self) -> str:
        """The session names the user and their session token, so ending the sessions
        (logout, a new password, deactivation) makes every session and remember cookie
        issued before it worthless, on the server."""
        if self.session_token is None:
            self.session_token = new_session_token()
        return f"{self.id}.{self.session_token}"

    def end_sessions(self) -> None:
        """Every session and remember cookie of this user stops working."""
        self.session_token = new_session_token()

    @classmethod
    def from_session_id(cls, session_id: str) -> "User | None":
        user_id, _, token = session_id.partition(".")
        if not user_id.isdigit() or int(user_id) > 2**31 - 1 or not token:
            return None
        # Every request of a signed-in person asks this: one statement, with what the
        # permission checks read (roles, organisations, municipalities) joined in, instead of
        # one for the user and one for each of those; built once (_signed_in).
        user = db.session.execute(_signed_in(), {"the_user": int(user_id)}).unique().scalar_one_or_none()
        if (
            user is None
            or user.session_token is None
            or not hmac.compare_digest(token.encode(), user.session_token.encode())
        ):
            return None
        return user

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    @validates("active")
    def _deactivated_ends_sessions(self, key, value):
        if value is False and self.active is not False:
            self.end_sessions()
        return value

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(row.role for row in self.role_rows)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def grant(self, role: str) -> None:
        """Give the user `role`: a built-in one (ROLES) or a staff role of this deployment
        (config STAFF_ROLES, workflow.registry.staff_roles)."""
        if role not in ROLES and role not in staff_roles():
            raise ValueError(f"unknown role {role!r}")
        if role not in self.roles:
            self.role_rows.append(UserRole(role=role))

    @property
    def email_confirmed(self) -> bool:
        """Unconfirmed users may log in, but not act for an organisation or submit ideas."""
        return self.email_confirmed_at is not None

    @property
    def is_admin(self) -> bool:
        return ADMINISTRATOR in self.roles

    @property
    def invited(self) -> bool:
        """Invited by an administrator and not yet in: no password set through the link."""
        return (self.password_hash or "").startswith(INVITED)

    def municipality_ids(self) -> set[int]:
        return {m.id for m in self.municipalities}

    def organisation_ids(self) -> set[int]:
        return {m.organisation_id for m in self.memberships}

    def __repr__(self) -> str:
        return f"<User {self.email}>"


@lru_cache(maxsize=1)
def _signed_in():
    """The signed-in person with what the permission checks read joined in (User.from_session_id),
    by the parameter `the_user`: built once, as building it costs about as much as running it."""
    return (
        select(User)
        .options(joinedload(User.role_rows), joinedload(User.memberships), joinedload(User.municipalities))
        .where(User.id == bindparam("the_user"))
    )


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="role_rows")


class LoginAttempt(db.Model):
    """A failed login, counted per e-mail and per IP address. Kept in the database so that
    the limit holds across all application workers; rows older than the window are purged."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "email:<sha256 of the address>" or "ip:<address>": no plain addresses of strangers kept.
    key: Mapped[str] = mapped_column(String(80), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
