"""View decorators for role-wide pages, and the request limits views apply; per-record
checks are methods on the models."""

from functools import wraps

from flask import abort, flash, request
from flask_babel import ngettext
from flask_login import current_user, login_required

from grantflow.accounts import throttle


def role_required(role: str):
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def over_limit(email: str, kind: str) -> bool:
    """True, with a message shown, when requests of this kind are over the limits; counts
    nothing (the caller records what it did with `throttle.record`)."""
    minutes = throttle.minutes_blocked(email, request.remote_addr or "unknown", kind)
    if minutes:
        flash(
            ngettext(
                "Too many attempts. Try again in %(num)d minute.",
                "Too many attempts. Try again in %(num)d minutes.",
                minutes,
            ),
            "error",
        )
        return True
    return False


def too_many(email: str, kind: str) -> bool:
    """Count a request against the limits (`throttle`); True, with a message shown, when over.
    Mail-sending requests count when made; failed logins count when they fail."""
    if over_limit(email, kind):
        return True
    if kind == throttle.MAIL:
        throttle.record(email, request.remote_addr or "unknown", kind)
    return False
