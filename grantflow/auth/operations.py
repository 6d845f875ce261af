"""Accounts: creating users and checking logins."""

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from grantflow.auth.models import User
from grantflow.extensions import db
from grantflow.types import utcnow

_DUMMY_HASH = generate_password_hash("no such user")


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


def authenticate(email: str, password: str) -> User | None:
    """The user whose e-mail and password match, if active. The hash is checked even for an
    unknown e-mail, so response times do not reveal which addresses exist."""
    user = find_user(email)
    if user is None:
        User(password_hash=_DUMMY_HASH).check_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user

