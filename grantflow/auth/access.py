"""View decorators for role-wide pages; per-record checks are methods on the models."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


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
