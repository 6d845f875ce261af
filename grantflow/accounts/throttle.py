"""Limits on failed logins and on requests that send mail (registration, password reset,
confirmation links, invitations), so nobody can guess passwords or flood an inbox through the
forms.

Failed logins count per pair of e-mail and client address, and per address. The lock-out is
the pair's: LIMIT_PER_EMAIL failures for one e-mail from one address block that address for
that e-mail, while the owner, from their own address, can still log in (a stranger cannot
lock anyone out). Before it, the pair waits longer after each failure past the second (one
minute, then two, ...). The address's own, higher, limit stops guessing across many e-mails.
Mail-sending requests count per e-mail and per address.

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


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _pair_prefix(email: str) -> str:
    return "pair:" + _digest(email.strip().lower()) + ":"


def _keys(email: str, ip: str, kind: str) -> list[tuple[str, int]]:
    first = (
        (_pair_prefix(email) + _digest(ip), _setting(kind, "PER_EMAIL"))
        if kind == LOGIN
        else (_email_key(email, kind), _setting(kind, "PER_EMAIL"))
    )
    return [first, (f"{PREFIX[kind]}ip:{ip}"[:80], _setting(kind, "PER_IP"))]


# Failed logins of one e-mail from one address before the growing waits begin.
FREE_FAILURES = 2


def _window(kind: str) -> timedelta:
    return timedelta(seconds=_setting(kind, "WINDOW"))


def minutes_blocked(email: str, ip: str, kind: str = LOGIN) -> int:
    """How many minutes until this e-mail from this address may try again; 0 = now."""
    now = utcnow()
    window = _window(kind)
    wait = timedelta(0)
    for number, (key, limit) in enumerate(_keys(email, ip, kind)):
        recent = db.session.scalars(
            select(LoginAttempt.attempted_at)
            .where(LoginAttempt.key == key, LoginAttempt.attempted_at > now - window)
            .order_by(LoginAttempt.attempted_at.desc())
            .limit(limit)
        ).all()
        if len(recent) >= limit:
            wait = max(wait, recent[-1] + window - now)
        elif kind == LOGIN and number == 0 and len(recent) > FREE_FAILURES:
            # A growing wait after the latest failure: 1, 2, 4 ... minutes.
            wait = max(wait, recent[0] + timedelta(minutes=2 ** (len(recent) - FREE_FAILURES - 1)) - now)
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


def clear(email: str, ip: str | None = None) -> None:
    """Forget the failures for an e-mail after it logged in (those from that address only: the
    owner's login does not unlock a stranger's) or reset its password (all of them). Never the
    address's own count: one good password must not unlock guessing at other accounts. The
    caller commits."""
    if ip is not None:
        _forget(LoginAttempt.key == _keys(email, ip, LOGIN)[0][0])
        return
    _forget(LoginAttempt.key.startswith(_pair_prefix(email), autoescape=True) | (LoginAttempt.key == _email_key(email)))
