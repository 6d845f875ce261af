"""Limits per e-mail and per IP address: failed logins, and requests that send mail
(registration, password reset, confirmation links, invitations), so nobody can guess passwords
or flood an inbox through the forms.

The counters are rows in the database (`login_attempts`), so every application worker sees
the same numbers. A key is blocked while it has LIMIT events within WINDOW; the wait shown is
until the oldest of those leaves the window.

Counting is a plain INSERT (no unique key, so concurrent requests cannot collide on one row);
forgetting deletes only rows no other transaction holds (`FOR UPDATE SKIP LOCKED` on
PostgreSQL), so two requests purging the same expired rows in another order cannot deadlock
nor wait on each other. On SQLite the requests' write lock serialises them (core.database)."""

import hashlib
import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from grantflow.accounts.models import LoginAttempt
from grantflow.core.extensions import db
from grantflow.core.types import utcnow

LOGIN, MAIL = "login", "mail"
# Login keys keep their original prefixes ("email:", "ip:"); mail keys are prefixed "mail-".
PREFIX = {LOGIN: "", MAIL: "mail-"}


def _setting(kind: str, name: str) -> int:
    key = f"{kind.upper()}_LIMIT_{name}"
    return int(current_app.config[key])


def _email_key(email: str, kind: str = LOGIN) -> str:
    return PREFIX[kind] + "email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _keys(email: str, ip: str, kind: str) -> list[tuple[str, int]]:
    return [
        (_email_key(email, kind), _setting(kind, "PER_EMAIL")),
        (f"{PREFIX[kind]}ip:{ip}"[:80], _setting(kind, "PER_IP")),
    ]


def _window(kind: str) -> timedelta:
    return timedelta(seconds=_setting(kind, "WINDOW"))


def minutes_blocked(email: str, ip: str, kind: str = LOGIN) -> int:
    """How many minutes until this e-mail from this address may try again; 0 = now."""
    now = utcnow()
    window = _window(kind)
    wait = timedelta(0)
    for key, limit in _keys(email, ip, kind):
        recent = db.session.scalars(
            select(LoginAttempt.attempted_at)
            .where(LoginAttempt.key == key, LoginAttempt.attempted_at > now - window)
            .order_by(LoginAttempt.attempted_at.desc())
            .limit(limit)
        ).all()
        if len(recent) >= limit:
            wait = max(wait, recent[-1] + window - now)
    return math.ceil(wait.total_seconds() / 60) if wait > timedelta(0) else 0


def _forget(*where) -> None:
    """Delete the attempts matching `where`, skipping those another transaction is deleting."""
    ids = select(LoginAttempt.id).where(*where).with_for_update(skip_locked=True)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(ids)))


def record(email: str, ip: str, kind: str = LOGIN) -> None:
    """Count one event (a failed login, a mail sent) and forget this kind's expired ones."""
    now = utcnow()
    keys = _keys(email, ip, kind)
    for key, _ in keys:
        _forget(LoginAttempt.key == key, LoginAttempt.attempted_at <= now - _window(kind))
    db.session.add_all(LoginAttempt(key=key, attempted_at=now) for key, _ in keys)
    db.session.commit()


def record_failure(email: str, ip: str) -> None:
    record(email, ip, LOGIN)


def clear(email: str) -> None:
    """Forget the failures for an e-mail after it logged in or reset its password (not the IP's:
    one good password must not unlock guessing at other accounts). The caller commits."""
    _forget(LoginAttempt.key == _email_key(email))
