"""Accounts: registering, confirming the e-mail, logging in, resetting a forgotten password."""

import hashlib
import secrets
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from grantflow.accounts.models import ADMINISTRATOR, EVALUATOR, INVITED, MUNICIPALITY, ROLES, User, UserRole
from grantflow.accounts.throttle import clear
from grantflow.adminlog.operations import log_kind, object_kind
from grantflow.adminlog.operations import record as log
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.mail.operations import queue_mail, render_mail
from grantflow.territory.models import Municipality
from grantflow.workflow.registry import guard

# Whom administrators invite: staff, evaluators, municipality representatives (applicants
# register themselves).
STAFF_ROLES = (ADMINISTRATOR, EVALUATOR, MUNICIPALITY)

object_kind("account", _l("Account"))
log_kind("account_created", _l("Account created"))
log_kind("account_invited", _l("Person invited"))
log_kind("roles_changed", _l("Roles or municipalities changed"))
log_kind("account_deactivated", _l("Account deactivated"))
log_kind("account_reactivated", _l("Account reactivated"))
log_kind("profile_changed", _l("Own profile changed"))


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


# --- people and roles, by administrators ------------------------------------------------------
def _person(user: User) -> dict:
    """What the administration log keeps of an account's roles and municipalities."""
    return {"roles": sorted(user.roles), "municipalities": sorted(m.name for m in user.municipalities)}


def _municipalities(ids) -> list[Municipality]:
    ids = {int(i) for i in ids}
    found = list(db.session.scalars(select(Municipality).where(Municipality.id.in_(ids)))) if ids else []
    if len(found) != len(ids):
        raise Refused(fields={"municipalities": _("Choose municipalities from the list.")})
    return found


def _check_roles(roles, municipalities, allowed=ROLES) -> None:
    unknown = set(roles) - set(allowed)
    if unknown or not roles:
        raise Refused(fields={"roles": _("Choose at least one role from the list.")})
    if MUNICIPALITY in roles and not municipalities:
        raise Refused(fields={"municipalities": _("A municipality representative needs at least one municipality.")})


def invitation_token(user: User) -> str:
    """Bound to the invited account's placeholder hash: spent once the password is set, and
    replaced by a new invitation."""
    return _serializer("invite").dumps({"u": user.id, "f": _fingerprint(user.password_hash)})


def user_for_invitation(token: str) -> User | None:
    max_age = current_app.config["INVITATION_DAYS"] * 24 * 3600
    user = _user_from(token, "invite", max_age, lambda u: u.password_hash)
    return user if user is not None and user.invited else None


def _send_invitation(user: User, inviter: User | None) -> None:
    user.password_hash = INVITED + secrets.token_hex(16)
    queue_mail(user.email, "staff_invitation", user.locale, user=user, inviter=inviter,
               token=invitation_token(user), days=current_app.config["INVITATION_DAYS"])  # fmt: skip


def invite(email: str, name: str, roles, municipality_ids, locale: str, inviter: User) -> User:
    """An account for a member of staff, an evaluator or a municipality representative, and
    the mail with the link where they set their password. Refused beside the field for an
    address that already has an account, no role or a representative with no municipality;
    then nothing is stored and no mail written."""
    email = normalise_email(email)
    roles = sorted(set(roles))
    municipalities = _municipalities(municipality_ids)
    if find_user(email) is not None:
        raise Refused(fields={"email": _("%(email)s already has an account.", email=email)})
    _check_roles(roles, municipalities, STAFF_ROLES)
    user = User(email=email, name=name.strip(), locale=locale, password_hash=INVITED)
    for role in roles:
        user.grant(role)
    user.municipalities = municipalities if MUNICIPALITY in roles else []
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same address invited or registered at this very moment
        db.session.rollback()
        raise Refused(fields={"email": _("%(email)s already has an account.", email=email)}) from None
    _send_invitation(user, inviter)
    log("account_invited", "account", user.id, user.email, after={"email": user.email, "name": user.name, **_person(user)})
    db.session.commit()
    return user


def reinvite(user: User, inviter: User) -> None:
    """A new invitation link for someone who has not set their password yet; older links die."""
    if not user.invited:
        raise Refused(_("%(name)s has already set a password.", name=user.name))
    _send_invitation(user, inviter)
    log("account_invited", "account", user.id, user.email, after={"email": user.email, "resent": True})
    db.session.commit()


def accept_invitation(user: User, password: str) -> None:
    """The invited person sets their password; the link came by mail, so it proves the address."""
    user.set_password(password)
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    db.session.commit()


def _lock_administrators() -> list[int]:
    """The active administrators' ids, their rows locked in id order (PostgreSQL; SQLite
    writing requests hold the write lock already), so two administrators removing each other
    at once cannot both succeed and leave none."""
    return list(
        db.session.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == ADMINISTRATOR, User.active.is_(True))
            .order_by(User.id)
            .with_for_update(of=User)
        )
    )


def _keep_an_administrator(user: User, field: str) -> None:
    if user.active and user.is_admin and not [i for i in _lock_administrators() if i != user.id]:
        raise Refused(fields={field: _("%(name)s is the last active administrator: make someone else an "
                                       "administrator first.", name=user.name)})  # fmt: skip


def change_roles(user: User, roles, municipality_ids, actor: User) -> None:
    """Set the person's roles and (for a municipality representative) municipalities. The
    last active administrator keeps the role."""
    roles = sorted(set(roles))
    municipalities = _municipalities(municipality_ids)
    _check_roles(roles, municipalities)
    if ADMINISTRATOR not in roles:
        _keep_an_administrator(user, "roles")
    before = _person(user)
    for row in list(user.role_rows):
        if row.role not in roles:
            user.role_rows.remove(row)
    for role in roles:
        user.grant(role)
    user.municipalities = municipalities if MUNICIPALITY in roles else []
    db.session.flush()
    log("roles_changed", "account", user.id, user.email, before=before, after=_person(user), actor=actor)
    db.session.commit()


def set_active(user: User, active: bool, actor: User) -> None:
    """Deactivate (every session of theirs ends at once: User.active's validator renews the
    session token) or reactivate. The last active administrator cannot be deactivated."""
    if user.active == active:
        return
    if not active:
        _keep_an_administrator(user, "active")
    user.active = active
    kind = "account_reactivated" if active else "account_deactivated"
    log(kind, "account", user.id, user.email, before={"active": not active}, after={"active": active}, actor=actor)
    db.session.commit()


def log_created(user: User) -> None:
    """Record an account made outside the invitation (`flask user create`)."""
    log("account_created", "account", user.id, user.email, after={"email": user.email, "name": user.name, **_person(user)})


def update_profile(user: User, name: str, locale: str) -> None:
    """A person's own name and language (mails and, once logged in, the pages)."""
    before = {"name": user.name, "locale": user.locale}
    user.name, user.locale = name.strip(), locale
    log("profile_changed", "account", user.id, user.email, before=before, after={"name": user.name, "locale": locale},
        actor=user)  # fmt: skip
    db.session.commit()
