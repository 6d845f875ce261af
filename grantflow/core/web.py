"""What every page shares: template filters, error pages, security headers, and how a refusal
is shown.

Error pages first roll the request's transaction back: the error may have left it failed, and
the page itself reads (the user, the language) through the same session."""

from flask import current_app, flash, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from grantflow.core import i18n
from grantflow.core.database import Conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db


def flash_refused(refused: Refused, wrap=None) -> None:
    """Show each of a refusal's messages as an error (its field messages stand beside their
    fields, put there by the view); `wrap(message)` may put each in a sentence of the page's."""
    for message in refused.messages:
        flash(wrap(message) if wrap else message, "error")


def render_errors_under(app, prefix: str, render) -> None:
    """Errors of requests under `prefix` (a part of the site that is not pages: the JSON API)
    are answered by `render(error: HTTPException) -> response` instead of an error page."""
    app.extensions.setdefault("grantflow.error_renderers", {})[prefix] = render


def _renderer():
    renderers = current_app.extensions.get("grantflow.error_renderers", {})
    return next((render for prefix, render in renderers.items() if request.path.startswith(prefix)), None)


def init_app(app) -> None:
    app.jinja_env.filters.update(
        money=i18n.format_money,
        when=i18n.format_when,
        day=i18n.format_day,
        pick=i18n.pick,
    )

    @app.context_processor
    def shared():
        return {"locale": i18n.locale_code(), "languages": app.config["LANGUAGES"], "user": current_user}

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'",
        )
        if current_app.config["GRANTFLOW_ENV"] == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # A signed-in person's pages (and files) are theirs: no cache on the way or on a shared
        # computer keeps them. The session names the user (Flask-Login's key): no query here.
        if "_user_id" in session and request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        db.session.rollback()
        if render := _renderer():
            return render(error)
        flash(_("The form had expired or was sent from elsewhere. Please try again."), "error")
        return render_template("errors/error.html", code=400, message=error.description), 400

    @app.errorhandler(Conflict)
    def conflict(error):
        db.session.rollback()
        if render := _renderer():
            return render(error)
        flash(_("Someone else changed this at the same moment. Nothing was saved; please look and try again."), "error")
        return redirect(request.referrer or "/", code=303)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code and error.code < 400:
            return error
        db.session.rollback()
        if render := _renderer():
            return render(error)
        return render_template("errors/error.html", code=error.code, message=error.description), error.code

    @app.errorhandler(InternalServerError)
    def server_error(error):
        """Any unexpected exception (Flask has logged it with its traceback, and passes it here
        as a 500): the error page in the person's language, never the traceback. Under
        PROPAGATE_EXCEPTIONS (testing, debug) Flask raises it instead."""
        try:
            db.session.rollback()
            if render := _renderer():
                return render(error)
            message = _("The error has been recorded. Please try again in a moment; if it happens again, tell us.")
            return render_template("errors/error.html", code=500, message=message), 500
        except Exception:  # the database itself is gone: werkzeug's plain page needs nothing
            current_app.logger.exception("The error page could not be drawn")
            db.session.remove()
            return InternalServerError().get_response()
