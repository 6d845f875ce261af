"""Limiting failed logins per e-mail and per IP address.

The counters are rows in the database (`login_attempts`), so every application worker sees
the same numbers. A key is blocked while it has LIMIT failures within WINDOW; the wait shown
is until the oldest of those leaves the window."""

import hashlib
import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from grantflow.auth.models import LoginAttempt
from grantflow.extensions import db
from grantflow.types import utcnow

DEFAULTS = {"LOGIN_LIMIT_PER_EMAIL": 5, "LOGIN_LIMIT_PER_IP": 30, "LOGIN_LIMIT_WINDOW": 15 * 60}


def _setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


def _email_key(email: str) -> str:
    return "email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _keys(email: str, ip: str) -> list[tuple[str, int]]:
    return [
        (_email_key(email), _setting("LOGIN_LIMIT_PER_EMAIL")),
        (f"ip:{ip}"[:80], _setting("LOGIN_LIMIT_PER_IP")),
    ]


def minutes_blocked(email: str, ip: str) -> int:
    """How many minutes until a login for this e-mail from this address may be tried; 0 = now."""
    now = utcnow()
    window = timedelta(seconds=_setting("LOGIN_LIMIT_WINDOW"))
    wait = timedelta(0)
    for key, limit in _keys(email, ip):
        recent = db.session.scalars(
            select(LoginAttempt.attempted_at)
            .where(LoginAttempt.key == key, LoginAttempt.attempted_at > now - window)
            .order_by(LoginAttempt.attempted_at.desc())
            .limit(limit)
        ).all()
        if len(recent) >= limit:
            wait = max(wait, recent[-1] + window - now)
    return math.ceil(wait.total_seconds() / 60) if wait > timedelta(0) else 0


def record_failure(email: str, ip: str) -> None:
    now = utcnow()
    window = timedelta(seconds=_setting("LOGIN_LIMIT_WINDOW"))
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at <= now - window))
    db.session.add_all(LoginAttempt(key=key, attempted_at=now) for key, _ in _keys(email, ip))
    db.session.commit()


def clear(email: str) -> None:
    """Forget the failures for an e-mail after it logged in or reset its password (not the IP's:
    one good password must not unlock guessing at other accounts). The caller commits."""
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.key == _email_key(email)))
