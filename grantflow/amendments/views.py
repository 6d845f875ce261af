"""Amendments: the applicant's request page, the administrator's approval or refusal, and the
amendments panel on the idea page."""

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from grantflow.accounts.access import role_required
from grantflow.accounts.models import ADMINISTRATOR, APPLICANT
from grantflow.amendments import operations as ops
from grantflow.amendments.forms import AnswerForm, request_form
from grantflow.amendments.models import Amendment, can_see_amendments
from grantflow.core import drafts
from grantflow.core.database import Conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.web import flash_refused
from grantflow.documents import operations as documents
from grantflow.documents import signatures
from grantflow.documents.views import sign_form
from grantflow.ideas import panels
from grantflow.ideas.views import idea_for

bp = Blueprint("amendments", __name__, url_prefix="/amendments")


@panels.panel("amendments", order=460)
def amendments_panel(idea, user, roles) -> panels.Panel | None:
    admin = ADMINISTRATOR in roles
    may_sign = signatures.parties_for(idea, user)  # the municipality's representative signs amendments too
    if not (can_see_amendments(idea, user, roles) or may_sign):
        return None
    amendments = ops.amendments_of(idea)
    if not (admin or APPLICANT in roles):
        amendments = [a for a in amendments if a.document is not None]
    may_request = APPLICANT in roles and ops.may_request(idea, user) and not any(a.open for a in amendments)
    if not amendments and not may_request:
        return None
    # Each issued amendment is signed like the agreement: who has, and the upload form while not in force.
    issued = [a.document for a in amendments if a.document is not None]
    signed = signatures.signatures_of(d.id for d in issued)
    return panels.Panel("amendments/_idea.html", {
        "idea": idea, "admin": admin, "amendments": amendments, "may_request": may_request,
        "answer": AnswerForm(formdata=None),
        "signing": {d.id: signatures.status(d, signed[d.id]) for d in issued},
        "current": {d.id: documents.current_version(d) for d in issued},
        "sign_form": sign_form(may_sign) if may_sign else None,
    })  # fmt: skip


def _request_idea(idea_id: int):
    idea = idea_for(idea_id, current_user)
    if not ops.may_request(idea, current_user):
        abort(404)
    return idea


def _form(idea, values: dict, formdata=None):
    data = {f"line_{row['id']}": Decimal(row["amount"]) for row in values["lines"]}
    for activity in idea.activities:
        data[f"starts_{activity.id}"], data[f"ends_{activity.id}"] = activity.starts_on, activity.ends_on
    return request_form(values["lines"], idea.activities, formdata=formdata, data=data)


def _render(idea, values, form, status=200):
    return render_template("amendments/request.html", idea=idea, values=values, form=form,
                           paid=ops.paid_so_far(idea)), status


@bp.route("/ideas/<int:idea_id>/new")
@login_required
def new(idea_id: int):
    idea = _request_idea(idea_id)
    if ops.open_amendment(idea) is not None:
        flash(_("An amendment is already waiting for a decision; wait for it before asking for another."), "error")
        return redirect(url_for("ideas.show", idea_id=idea.id) + "#amendments", code=303)
    values = ops.current_values(idea)
    return _render(idea, values, drafts.restore(_form(idea, values, formdata=None)))


@bp.route("/ideas/<int:idea_id>/new", methods=["POST"])
@login_required
def create(idea_id: int):
    idea = _request_idea(idea_id)
    values = ops.current_values(idea)
    form = _form(idea, values, formdata=request.form)
    if drafts.is_autosave():
        return drafts.keep(form)
    if not form.validate():
        return _render(idea, values, form, 422)
    lines = {row["id"]: form[f"line_{row['id']}"].data for row in values["lines"]}
    dates = {a.id: (form[f"starts_{a.id}"].data, form[f"ends_{a.id}"].data) for a in idea.activities}
    try:
        drafts.forget()
        ops.request_amendment(idea, current_user, reason=form.reason.data, lines=lines, dates=dates)
    except Refused as refused:
        db.session.rollback()
        flash_refused(refused)
        return _render(idea, values, form, 422)
    flash(_("Your request was sent; the administrator will decide on it."), "success")
    return redirect(url_for("ideas.show", idea_id=idea.id) + "#amendments", code=303)


@bp.route("/<int:amendment_id>/approve", methods=["POST"])
@role_required(ADMINISTRATOR)
def approve(amendment_id: int):
    return _decide(amendment_id, "approve")


@bp.route("/<int:amendment_id>/refuse", methods=["POST"])
@role_required(ADMINISTRATOR)
def refuse(amendment_id: int):
    return _decide(amendment_id, "refuse")


def _decide(amendment_id: int, action: str):
    amendment = db.session.get(Amendment, amendment_id) or abort(404)
    back = url_for("ideas.show", idea_id=amendment.idea_id) + "#amendments"
    form = AnswerForm()
    if not form.validate() or not form.version.data.isdigit():
        flash(_("The form was incomplete or had expired. Nothing was changed; please try again."), "error")
        return redirect(back, code=303)
    try:
        if action == "approve":
            ops.approve(amendment, current_user, answer=form.answer.data or "", version=int(form.version.data))
            flash(_("The amendment was approved and its document issued."), "success")
        else:
            ops.refuse(amendment, current_user, answer=form.answer.data or "", version=int(form.version.data))
            flash(_("The amendment was refused; the applicant sees your reason."), "success")
    except Refused as refused:
        flash_refused(refused)
    except Conflict:
        flash(_("Someone else decided this amendment after you opened the page. Nothing was changed."), "error")
    return redirect(back, code=303)
