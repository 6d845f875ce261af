"""Accounts: registering, confirming the e-mail, logging in, resetting a forgotten password."""

import hashlib
import secrets
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from grantflow.accounts.models import ADMINISTRATOR, User, UserRole
from grantflow.accounts.throttle import clear
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.mail.operations import queue_mail, render_mail
from grantflow.workflow.registry import guard


@cache
def _dummy_hash() -> str:
    """Made on first use, not at import: every process start (CLI, workers) would pay for it."""
    return generate_password_hash("no such user")



def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalars(select(User).where(func.lower(User.email) == normalise_email(email))).first()


def create_user(email: str, name: str, password: str, roles=(), locale: str = "lv", confirmed: bool = False) -> User:
    user = User(email=normalise_email(email), name=name.strip(), locale=locale)
    user.set_password(password)
    for role in roles:
        user.grant(role)
    if confirmed:
        user.email_confirmed_at = utcnow()
    db.session.add(user)
    return user


def _spend_a_hash(password: str) -> None:
    """The work of checking a password, for the paths that have none to check, so every path
    of login, registration and password reset costs the same and response times do not
    reveal which addresses have (active) accounts."""
    check_password_hash(_dummy_hash(), password)


def authenticate(email: str, password: str) -> User | None:
    """The user whose e-mail and password match, if active. One password hash is checked on
    every path (an unknown e-mail, an inactive account, one without a password), so response
    times do not reveal which addresses exist."""
    user = find_user(email)
    if user is None or not user.active or "$" not in user.password_hash:
        _spend_a_hash(password)
        return None
    if not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def end_sessions(user: User) -> None:
    """Logging out ends every session of the user on the server: a session or remember cookie
    copied before it no longer works."""
    user.end_sessions()
    db.session.commit()


# --- signed links -----------------------------------------------------------------------------
def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"grantflow.{purpose}")


def _fingerprint(value: str) -> str:
    """A short digest put in a token instead of the value (token payloads are readable)."""
    return hashlib.sha256(value.encode()).hexdigest()[:20]


def _user_from(token: str, purpose: str, max_age: int, bound_to) -> User | None:
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
        user = db.session.get(User, int(data["u"]))
    except (BadData, KeyError, TypeError, ValueError):
        return None
    if user is None or not user.active or data.get("f") != _fingerprint(bound_to(user)):
        return None
    return user


def confirmation_token(user: User) -> str:
    """Bound to the address, so it cannot confirm a different one later."""
    return _serializer("confirm").dumps({"u": user.id, "f": _fingerprint(user.email)})


def reset_token(user: User) -> str:
    """Bound to the current password hash: once the password changes, the link is spent."""
    return _serializer("reset").dumps({"u": user.id, "f": _fingerprint(user.password_hash)})


def send_confirmation(user: User) -> None:
    queue_mail(user.email, "confirm_email", user.locale, user=user, token=confirmation_token(user))
    db.session.commit()


def register(name: str, email: str, password: str, locale: str, confirmed: bool = False) -> User | None:
    """A new account and the mail to confirm it. For an address already registered, no account
    and no hint on the page: its owner gets a mail instead (so the form reveals no addresses)."""
    existing = find_user(email)
    if existing is not None:
        generate_password_hash(password)  # the work a new account's password costs: no timing hint
        queue_mail(existing.email, "account_exists", existing.locale, user=existing)
        db.session.commit()
        return None
    user = create_user(email, name, password, locale=locale, confirmed=confirmed)
    db.session.flush()
    if not confirmed:
        queue_mail(user.email, "confirm_email", user.locale, user=user, token=confirmation_token(user))
    db.session.commit()
    return user


def confirm_email(token: str) -> User | None:
    """The user whose address the link confirms, or None for a bad or expired link."""
    max_age = current_app.config["EMAIL_CONFIRM_MAX_AGE"]
    user = _user_from(token, "confirm", max_age, lambda u: u.email)
    if user is not None and not user.email_confirmed:
        user.email_confirmed_at = utcnow()
        db.session.commit()
    return user


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address has an account; silently nothing otherwise."""
    user = find_user(email)
    _spend_a_hash(email)  # the same expensive work whether or not the address has an account
    if user is not None and user.active:
        queue_mail(user.email, "reset_password", user.locale, user=user, token=reset_token(user))
    else:  # the mail is written all the same, and not sent: no timing hint either
        render_mail("reset_password", "lv", user=User(name=email, email=email), token=secrets.token_urlsafe(32))
    db.session.commit()


def user_for_reset(token: str) -> User | None:
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    return _user_from(token, "reset", max_age, lambda u: u.password_hash)


def reset_password(user: User, password: str) -> None:
    """Set the new password. The link came by mail, so it also proves the address."""

    user.set_password(password)
    if not user.email_confirmed:
        user.email_confirmed_at = utcnow()
    clear(user.email)
    db.session.commit()


@guard("email_confirmed", _l("Confirm your e-mail address first: open the link we mailed you."),
       _l("The applicant has confirmed their e-mail address"))
def email_confirmed(idea, ctx) -> bool:
    return bool(getattr(ctx.actor, "email_confirmed", False))


def administrators() -> list[User]:
    """The active administrators, whom notices about ideas and reports go to."""
    return list(
        db.session.scalars(
            select(User).join(UserRole).where(UserRole.role == ADMINISTRATOR, User.active.is_(True))
        )
    )
