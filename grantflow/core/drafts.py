"""Autosave: the one server convention behind static/autosave.js.

A form with the attribute `data-autosave` is posted in the background to its own URL, as it
stands, with the header `X-Autosave: 1` (and its CSRF token, like any post). The view answers:
- `autosaved()`: 204 No Content with `X-Saved-At: HH:MM` (Riga time), when it kept the draft;
- `autosave_refused(status)`: a short 4xx, when it could not (the page then says "not saved").
An autosave never requires a complete form and never does the form's real action.

Forms whose object keeps its own draft (an idea, a final report) save it as their "Save"
button would. Forms without a draft of their own (an answer to a question, an amendment
request, the profile, administrators' forms) keep what was typed here, in `form_drafts`, one
per person and page: `keep()` stores it, `restored()` gives it back when the page is opened
again (as the form's formdata), `forget()` drops it when the form is really sent."""

from datetime import datetime

from flask import Response, flash, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import MultiDict

from grantflow.core.extensions import db
from grantflow.core.i18n import format_when, riga
from grantflow.core.types import UTCDateTime, utcnow

HEADER = "X-Autosave"
SAVED_AT = "X-Saved-At"
# Fields never kept in a draft: the form's token, and which button was pressed.
SKIPPED = ("csrf_token", "action")
MAX_DRAFT_CHARS = 200_000


class FormDraft(db.Model):
    """What a person had typed into the form at `path` and not yet sent (field -> values)."""

    __tablename__ = "form_drafts"
    __table_args__ = (UniqueConstraint("user_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(300))
    fields: Mapped[dict] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def is_autosave() -> bool:
    """Whether this post is an autosave (the background save of a form being typed into)."""
    return request.method == "POST" and request.headers.get(HEADER) == "1"


def autosaved(at: datetime | None = None) -> Response:
    """The answer to an autosave that kept the draft: no content, the time it was kept."""
    response = Response(status=204)
    response.headers[SAVED_AT] = riga(at or utcnow()).strftime("%H:%M")
    response.headers["Cache-Control"] = "no-store"
    return response


def autosave_refused(status: int = 409) -> Response:
    """The answer to an autosave that could not be kept (the form can no longer be changed,
    its token expired, someone else changed it): the page says it was not saved."""
    return Response(status=status, headers={"Cache-Control": "no-store"})


def _key() -> str:
    return request.path[:300]


def keep(form) -> Response:
    """Keep what was typed into `form` (a Flask-WTF form built from the request) as the
    person's draft of this page; only its CSRF token is checked, nothing else is required."""
    token = getattr(form, "csrf_token", None)  # only the token is checked: nothing else is required
    if token is not None and not token.validate(form):
        return autosave_refused(400)
    fields = {k: v for k, v in request.form.lists() if k not in SKIPPED}
    if sum(len(v) for values in fields.values() for v in values) > MAX_DRAFT_CHARS:
        return autosave_refused(413)
    now = utcnow()
    draft = db.session.scalar(select(FormDraft).where(FormDraft.user_id == current_user.id, FormDraft.path == _key()))
    if draft is None:
        draft = FormDraft(user_id=current_user.id, path=_key())
        db.session.add(draft)
    draft.fields, draft.saved_at = fields, now
    db.session.commit()
    return autosaved(now)


def restored() -> MultiDict | None:
    """The person's kept draft of this page, as formdata, or None; says so on the page."""
    if not current_user.is_authenticated:
        return None
    draft = db.session.scalar(select(FormDraft).where(FormDraft.user_id == current_user.id, FormDraft.path == _key()))
    if draft is None:
        return None
    flash(_("What you typed here at %(time)s and did not send has been kept; it is filled in below.", time=format_when(draft.saved_at)), "info")
    return MultiDict([(k, v) for k, values in draft.fields.items() for v in values])


def forget(path: str | None = None) -> None:
    """Drop the person's kept draft of this page (it was sent). Does not commit: the caller's
    operation does, with the change the form made."""
    if current_user.is_authenticated:
        db.session.execute(delete(FormDraft).where(FormDraft.user_id == current_user.id, FormDraft.path == (path or _key())))


def restore(form):
    """On opening the page (GET), fill `form` with the person's kept draft of it, if any;
    returns the form. Fields the draft does not name (a box left unticked) take their
    defaults, as when the form is sent."""
    if request.method == "GET":
        data = restored()
        if data is not None:
            form.process(formdata=data)
    return form
