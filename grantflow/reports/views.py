"""The final report of a funded idea: the applicant fills it in and submits it; the
administrator accepts or returns it with the idea page's workflow buttons."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from grantflow.accounts.models import APPLICANT
from grantflow.core import drafts
from grantflow.core.database import Conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.forms import ActionForm
from grantflow.core.i18n import locale_code
from grantflow.core.web import flash_refused
from grantflow.ideas import panels
from grantflow.ideas.forms import ATTACHMENT_PURPOSES, TARGET_GROUP_LABELS, AttachmentForm, attach_problems
from grantflow.ideas.models import TARGET_GROUPS
from grantflow.ideas.operations import MAX_ATTACHMENT_BYTES
from grantflow.ideas.views import idea_for, receive_upload
from grantflow.questionnaires import answers as form_answers
from grantflow.reports import operations as ops

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _report(idea_id: int):
    idea = idea_for(idea_id, current_user)
    report = ops.report_of(idea)
    if report is None:
        if not ops.may_report(idea, current_user):
            abort(404)
        report = ops.start_report(idea, current_user)
    return idea, report


@bp.route("/<int:idea_id>", methods=["GET"])
@login_required
def edit(idea_id: int):
    """Shows the report; before the first save an empty one, not stored (a GET writes nothing)."""
    idea = idea_for(idea_id, current_user)
    report = ops.report_of(idea)
    if report is None:
        if not ops.may_report(idea, current_user):
            abort(404)
        report = ops.blank_report(idea)
    if not report.can_edit(current_user):
        return redirect(url_for("ideas.show", idea_id=idea.id) + "#report", code=303)
    check = request.args.get("check") == "1"
    form = ops.form_class(report, locale_code())(formdata=None, data=ops.form_data(report))
    problems = ops.report_missing(report) if check else ops.kept_messages(report)
    return _render(idea, report, form, problems, check)


def _render(idea, report, form, problems, check, status=200):
    # Text kept as typed comes back with its message (restore_kept); the rest of the
    # problems are put on their fields here, once each.
    form_answers.restore_kept(form, report.draft_raw)
    loose = attach_problems(form, {k: m for k, m in problems.items() if k not in (report.draft_raw or {})}, ops.ROW_KEY)
    return render_template(
        "reports/edit.html",
        idea=idea,
        report=report,
        form=form,
        form_def=ops.typed_form(report),
        problems=problems,
        loose=loose,
        check=check,
        given=ops.GIVEN_COLUMNS,
        groups=[TARGET_GROUP_LABELS[g] for g in TARGET_GROUPS],
        purposes={k: v for k, v in ATTACHMENT_PURPOSES.items() if k in ("receipt", "photo", "other")},
        upload=AttachmentForm(formdata=None),
        confirm=ActionForm(formdata=None),
        max_mb=MAX_ATTACHMENT_BYTES // (1024 * 1024),
    ), status


def _row_action(action: str) -> tuple[str, str] | None:
    """(question key, "add" or "remove:<i>") of a row button: `add:<key>`, `remove:<key>:<i>`,
    or the first page's `rows:add` and `rows:remove:<i>` (the activities held)."""
    if action.startswith("rows:"):
        return "activities", action.removeprefix("rows:")
    if action.startswith("add:"):
        return action.removeprefix("add:"), "add"
    if action.startswith("remove:"):
        key, _sep, index = action.removeprefix("remove:").partition(":")
        return key, f"remove:{index}"
    return None


@bp.route("/<int:idea_id>", methods=["POST"])
@login_required
def save(idea_id: int):
    """Save (the no-JavaScript autosave), add or remove a row, or check and submit. Whatever
    was typed is saved first; what cannot be taken as typed is kept with its message. An
    autosave (core.drafts) saves the same way and does nothing else."""
    idea, report = _report(idea_id)
    if not report.can_edit(current_user):
        if drafts.is_autosave():
            return drafts.autosave_refused()
        flash(_("This report can no longer be changed."), "error")
        return redirect(url_for("ideas.show", idea_id=idea.id) + "#report", code=303)
    form_def = ops.form_of(report)
    form = ops.form_class(report, locale_code())(formdata=request.form)
    form.validate()
    if "csrf_token" in form.errors:
        if drafts.is_autosave():
            return drafts.autosave_refused(400)
        flash(_("The form had expired or was sent from elsewhere. Please try again."), "error")
        return _render(idea, report, form, {}, False, 400)
    answers, kept, messages = form_answers.read(ops.typed_form(report), form)
    if drafts.is_autosave():
        try:
            ops.save_answers(report, answers, kept, current_user)
        except (Refused, Conflict):
            db.session.rollback()
            return drafts.autosave_refused()
        return drafts.autosaved()
    action = request.form.get("action", "save")
    anchor = ""
    try:
        ops.save_answers(report, answers, kept, current_user)
        rows = _row_action(action)
        if rows is not None and form_def.question(rows[0]) is not None:
            anchor = ops.change_rows(report, rows[0], rows[1], current_user)
        elif action == "submit":
            missing = ops.report_missing(report)
            if missing:
                flash(_("Not submitted yet: %(count)d field(s) need attention. Each is marked below.", count=len(missing)), "error")
                return redirect(url_for("reports.edit", idea_id=idea_id, check=1) + "#problems", code=303)
            ops.submit_report(report, current_user)
            flash(_("The final report has been submitted. Thank you!"), "success")
            return redirect(url_for("ideas.show", idea_id=idea_id) + "#report", code=303)
        elif action.startswith("save:"):
            anchor = action.removeprefix("save:")
    except Refused as refused:
        flash_refused(refused)
        return redirect(url_for("reports.edit", idea_id=idea_id), code=303)
    except Conflict:
        db.session.rollback()
        flash(_("Someone else changed this report at the same moment; nothing was saved. Please check and save again."), "error")
        return redirect(url_for("reports.edit", idea_id=idea_id), code=303)
    if messages:
        flash(_("Saved. %(count)d field(s) could not be taken as typed; they are marked below and kept as you typed them.", count=len(messages)), "error")
    elif action.startswith("save"):
        flash(_("Saved."), "success")
    return redirect(url_for("reports.edit", idea_id=idea_id) + (f"#{anchor}" if anchor else ""), code=303)


@bp.route("/<int:idea_id>/attachments", methods=["POST"])
@login_required
def upload(idea_id: int):
    """A receipt or photo for the final report (the file rules are the idea's)."""
    idea, report = _report(idea_id)  # a file before the first save starts the report
    return receive_upload(idea, report, url_for("reports.edit", idea_id=idea.id))


@panels.panel("report", order=200)
def report_panel(idea, user, roles) -> panels.Panel | None:
    """The final report on the shared idea page, for everyone who may see the idea."""
    report = ops.report_of(idea)
    # Only the applicant may report (ops.may_report asks the same); `roles` saves asking again.
    may_report = APPLICANT in roles and ops.may_report(idea, user)
    if report is None and not may_report:
        return None
    context = {"idea": idea, "report": report, "may_report": may_report}
    if report is not None and not report.with_applicant:
        context["form_def"], context["answers"] = summary(report)
    return panels.Panel("reports/_summary.html", context)


def summary(report) -> tuple:
    """The report's form and its answers as a reader sees them: every answer under the form
    version it was given under, the reach rows by target group's name (never its code) and
    only where people were reached, the activities that say what took place."""
    form = ops.form_of(report)
    answers = ops.current_answers(report)
    for question in form.questions:
        rows = answers.get(question.key) or []
        if question.meaning == "reach":
            answers[question.key] = [
                {**row, "target_group": str(TARGET_GROUP_LABELS.get(row.get("target_group"), ""))}
                for row in rows
                if row.get("people")
            ]
        elif question.meaning == "activities":
            answers[question.key] = [row for row in rows if (row.get("description") or "").strip()]
    return form, answers
