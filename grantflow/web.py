"""What every page shares: template filters, error pages, security headers."""

from flask import flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from grantflow import i18n
from grantflow.database import Conflict
from grantflow.workflow.registry import audit_label


def init_app(app) -> None:
    app.jinja_env.filters.update(
        money=i18n.format_money,
        when=i18n.format_when,
        day=i18n.format_day,
        pick=i18n.pick,
    )

    app.jinja_env.globals["audit_label"] = audit_label

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
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        flash(_("The form had expired or was sent from elsewhere. Please try again."), "error")
        return render_template("errors/error.html", code=400, message=error.description), 400

    @app.errorhandler(Conflict)
    def conflict(error):
        flash(_("Someone else changed this at the same moment. Nothing was saved; please look and try again."), "error")
        return redirect(request.referrer or "/", code=303)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code and error.code < 400:
            return error
        return render_template("errors/error.html", code=error.code, message=error.description), error.code
