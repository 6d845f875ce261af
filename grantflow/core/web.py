"""What every page shares: template filters, error pages, security headers, and how a refusal
is shown.

Error pages first roll the request's transaction back: the error may have left it failed, and
the page itself reads (the user, the language) through the same session."""

from datetime import date
from decimal import Decimal

from flask import current_app, flash, has_request_context, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from grantflow.core import i18n
from grantflow.core.database import Conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db

# Each error page's heading and text, in the reader's language (never werkzeug's English
# description).
ERROR_PAGES = {
    400: (_l("Bad request"), _l("The request could not be read. Go back, reload the page and try again.")),
    403: (_l("Not allowed"), _l("You do not have access to this page. If you think you should, ask the administrator.")),
    404: (_l("Not found"), _l("There is no such page here. The address may be mistyped, or what it showed has been removed.")),
    405: (_l("Not allowed"), _l("This address cannot be used this way.")),
    413: (_l("The file is too large"), _l("The file or form sent is too large. Send a smaller file.")),
    429: (_l("Too many attempts"), _l("Too many attempts in a short time. Wait a while and try again.")),
    503: (_l("Not available"), _l("This is not available at the moment. Please try again later.")),
}
OTHER_ERROR = (_l("Something went wrong"), _l("The request could not be completed. Please try again."))


def error_page(code: int, message: str | None = None):
    """The error page for `code`: its heading and our own text (or `message`)."""
    title, text = ERROR_PAGES.get(code, OTHER_ERROR)
    return render_template("errors/error.html", code=code, title=title, message=message or text), code


def flash_refused(refused: Refused, wrap=None) -> None:
    """Show each of a refusal's messages as an error (its field messages stand beside their
    fields, put there by the view); `wrap(message)` may put each in a sentence of the page's."""
    for message in refused.messages:
        flash(wrap(message) if wrap else message, "error")


def filesize(size: int) -> str:
    """A file's size for people: "6 KB", "1,2 MB" (in the page's way of writing numbers)."""
    if size < 1024 * 1024:
        return f"{max(1, -(-size // 1024))} KB"
    return f"{i18n.format_number(round(size / 1048576, 1))} MB"


def public_page(view):
    """Marks a page visitors and search engines read: it gets `hreflang` alternates (lv, en,
    x-default) and a canonical address, language links a crawler follows (`?lang=`), and a
    place in the sitemap's alternates."""
    view.public_page = True
    return view


def language_url(code: str | None, external: bool = False) -> str:
    """This page's address in language `code` (`?lang=code`), or without a language (None:
    the x-default, which shows the visitor's own choice, else Latvian)."""
    args = {k: v for k, v in request.args.items(multi=False) if k != "lang"}
    if code:
        args["lang"] = code
    return url_for(request.endpoint, **(request.view_args or {}), **args, _external=external)


def alternates(endpoint: str, values: dict | None = None) -> dict[str, str]:
    """{hreflang: absolute URL} of a public page: one per language and x-default."""
    values = values or {}
    links = {code: url_for(endpoint, **values, lang=code, _external=True) for code in current_app.config["LANGUAGES"]}
    links["x-default"] = url_for(endpoint, **values, _external=True)
    return links


def _public_links() -> dict:
    """The template's `alternates` and `canonical` on a public page (else empty)."""
    if not request.endpoint or request.method != "GET":
        return {}
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "public_page", False):
        return {}
    links = {code: language_url(code, external=True) for code in current_app.config["LANGUAGES"]}
    links["x-default"] = language_url(None, external=True)
    return {"alternates": links, "canonical": links.get(i18n.locale_code())}


# A state's tag colour says what it means, read from its tags (first match wins), never from
# its name: a new workflow's states get the right colours by their tags alone.
TAG_COLOURS = (
    ("withdrawn", "red"),
    ("reporting", "yellow"),
    ("funded", "green"),
    ("decidable", "purple"),
    ("scoring", "teal"),
    ("screening", "blue"),
    ("editable", "grey"),
)


def state_colour(state) -> str:
    """The GOV.UK tag colour of a workflow state (anything with `tags` and `final`): a final
    state that is neither funded nor withdrawn was refused (red); any other filed state waits
    on someone (blue)."""
    tags = state.tags
    for tag, colour in TAG_COLOURS:
        if tag in tags:
            return colour
    return "red" if state.final else "blue"


def render_errors_under(app, prefix: str, render) -> None:
    """Errors of requests under `prefix` (a part of the site that is not pages: the JSON API)
    are answered by `render(error: HTTPException) -> response` instead of an error page."""
    app.extensions.setdefault("grantflow.error_renderers", {})[prefix] = render


def _renderer():
    renderers = current_app.extensions.get("grantflow.error_renderers", {})
    return next((render for prefix, render in renderers.items() if request.path.startswith(prefix)), None)


def init_app(app) -> None:
    app.jinja_env.filters.update(
        state_colour=state_colour,
        money=i18n.format_money,
        when=i18n.format_when,
        day=i18n.format_day,
        number=i18n.format_number,
        score=lambda value: i18n.format_points(value, empty="—"),
        quoted=i18n.quoted,
        pick=i18n.pick,
        filesize=filesize,
        # An answers document keeps amounts and dates as JSON text (questionnaires.answers).
        answer_decimal=lambda value: Decimal(str(value)),
        answer_date=date.fromisoformat,
    )

    @app.context_processor
    def shared():
        name = app.config["PROGRAMME_NAME"]
        return {
            "locale": i18n.locale_code(),
            "languages": app.config["LANGUAGES"],
            "user": current_user,
            "programme_name": i18n.pick(name) if isinstance(name, dict) else name,
            **(_public_links() if has_request_context() else {}),
        }

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
        return error_page(400)

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
        return error_page(error.code)

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
            return error_page(500, message)
        except Exception:  # the database itself is gone: werkzeug's plain page needs nothing
            current_app.logger.exception("The error page could not be drawn")
            db.session.remove()
            return InternalServerError().get_response()
