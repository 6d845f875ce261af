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
from grantflow.ideas.views import idea_for, receive_upload, task_items
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
    idea, report, away = _editable(idea_id)
    if away is not None:
        return away
    check = request.args.get("check") == "1"
    form = ops.form_class(report, locale_code())(formdata=None, data=ops.form_data(report))
    problems = ops.report_missing(report) if check else ops.kept_messages(report)
    return _render(idea, report, form, problems, check)


def _answering() -> dict:
    """What the report's form pages (the one page and each section) show beside the questions:
    the target groups, and the files' purposes, upload form and size limit."""
    return {
        "groups": [TARGET_GROUP_LABELS[g] for g in TARGET_GROUPS],
        "purposes": {k: v for k, v in ATTACHMENT_PURPOSES.items() if k in ("receipt", "photo", "other")},
        "upload": AttachmentForm(formdata=None),
        "confirm": ActionForm(formdata=None),
        "max_mb": MAX_ATTACHMENT_BYTES // (1024 * 1024),
    }


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
        **_answering(),
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
    section = ops.form_of(report).section(request.args.get("section", ""))
    back = url_for("reports.section", idea_id=idea.id, key=section.key) if section else url_for("reports.edit", idea_id=idea.id)
    return receive_upload(idea, report, back)


# --- the report as a task list: a form of more than one section, as the application is ------
def _editable(idea_id: int):
    """The idea and its report (an empty one, not stored, before the first save: a GET writes
    nothing), or the idea page's answer when the applicant may not change it."""
    idea = idea_for(idea_id, current_user)
    report = ops.report_of(idea)
    if report is None:
        if not ops.may_report(idea, current_user):
            abort(404)
        report = ops.blank_report(idea)
    if not report.can_edit(current_user):
        return idea, report, redirect(url_for("ideas.show", idea_id=idea.id) + "#report", code=303)
    return idea, report, None


@bp.route("/<int:idea_id>/sections")
@login_required
def sections(idea_id: int):
    """The report form as a task list: each section with its state, then checking the answers
    and submitting."""
    idea, report, away = _editable(idea_id)
    if away:
        return away
    items = task_items(ops.section_states(report), lambda key: url_for("reports.section", idea_id=idea.id, key=key))
    return render_template("reports/sections.html", idea=idea, report=report, items=items)


def _section_or_404(report, key):
    section = ops.form_of(report).section(key)
    if section is None:
        abort(404)
    return section


def _render_section(idea, report, section, form, status=200):
    form_answers.restore_kept(form, report.draft_raw)
    keys = [s.key for s in ops.form_of(report).sections]
    index = keys.index(section.key)
    problems = {k: m for k, m in ops.kept_messages(report).items() if k.split("-", 1)[0] in {q.key for q in section.questions}}
    return render_template(
        "reports/section.html",
        idea=idea,
        report=report,
        section=next(s for s in ops.typed_form(report).sections if s.key == section.key),
        form=form,
        problems=problems,
        loose={},
        number=index + 1,
        count=len(keys),
        previous=keys[index - 1] if index else None,
        files=any(q.type == "file" for q in section.questions),
        **_answering(),
    ), status


@bp.route("/<int:idea_id>/sections/<key>")
@login_required
def section(idea_id: int, key: str):
    idea, report, away = _editable(idea_id)
    if away:
        return away
    section = _section_or_404(report, key)
    form_class = form_answers.build_form(ops.typed_form(report), key, locale_code())
    return _render_section(idea, report, section, form_class(formdata=None, data=ops.form_data(report)))


@bp.route("/<int:idea_id>/sections/<key>", methods=["POST"])
@login_required
def save_section(idea_id: int, key: str):
    """Save and continue (the no-JavaScript autosave), save, add or remove a row: the
    section's answers are saved first, as a draft; an autosave (core.drafts) saves the same
    way and does nothing else."""
    idea, report = _report(idea_id)
    if not report.can_edit(current_user):
        if drafts.is_autosave():
            return drafts.autosave_refused()
        flash(_("This report can no longer be changed."), "error")
        return redirect(url_for("ideas.show", idea_id=idea.id) + "#report", code=303)
    section = _section_or_404(report, key)
    typed = ops.typed_form(report)
    form = form_answers.build_form(typed, key, locale_code())(formdata=request.form)
    form.validate()
    if "csrf_token" in form.errors:
        if drafts.is_autosave():
            return drafts.autosave_refused(400)
        flash(_("The form had expired or was sent from elsewhere. Please try again."), "error")
        return _render_section(idea, report, section, form, 400)
    answers, kept, messages = form_answers.read(typed, form, key)
    here = url_for("reports.section", idea_id=idea.id, key=key)
    try:
        ops.save_section(report, key, answers, kept, current_user)
        if drafts.is_autosave():
            return drafts.autosaved()
        action = request.form.get("action", "continue")
        rows = _row_action(action)
        if rows is not None and section.questions and rows[0] in {q.key for q in section.questions}:
            return redirect(here + "#" + ops.change_rows(report, rows[0], rows[1], current_user), code=303)
    except (Refused, Conflict) as refused:
        db.session.rollback()
        if drafts.is_autosave():
            return drafts.autosave_refused()
        if isinstance(refused, Refused):
            flash_refused(refused)
        else:
            flash(_("Someone else changed this report at the same moment; nothing was saved. Please check and save again."), "error")
        return redirect(here, code=303)
    if messages:
        flash(_("Saved. %(count)d field(s) could not be taken as typed; they are marked below and kept as you typed them.", count=len(messages)), "error")
        return redirect(here, code=303)
    flash(_("Saved."), "success")
    keys = [s.key for s in ops.form_of(report).sections]
    following = keys[keys.index(key) + 1] if keys.index(key) + 1 < len(keys) else None
    if action == "continue":
        return redirect(url_for("reports.section", idea_id=idea.id, key=following) if following else url_for("reports.check", idea_id=idea.id), code=303)
    return redirect(here, code=303)


@bp.route("/<int:idea_id>/check")
@login_required
def check(idea_id: int):
    """Every answer by section, each with a link to change it, what still needs attention, and
    the report's submission."""
    idea, report, away = _editable(idea_id)
    if away:
        return away
    form_def, answers = summary(report)
    missing = ops.report_missing(report)
    return render_template(
        "reports/check.html",
        idea=idea,
        report=report,
        form_def=form_def,
        answers=answers,
        missing=missing,
        problems=form_answers.problems_by_question(form_def, missing),
        confirm=ActionForm(formdata=None),
    )


@bp.route("/<int:idea_id>/submit", methods=["POST"])
@login_required
def submit(idea_id: int):
    """Submit the report as it is saved (the check page's button)."""
    idea, report = _report(idea_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form had expired or was sent from elsewhere. Please try again."), "error")
        return redirect(url_for("reports.check", idea_id=idea.id), code=303)
    try:
        ops.submit_report(report, current_user)
    except Refused as refused:
        flash_refused(refused)
        return redirect(url_for("reports.check", idea_id=idea.id) + "#problems", code=303)
    flash(_("The final report has been submitted. Thank you!"), "success")
    return redirect(url_for("ideas.show", idea_id=idea.id) + "#report", code=303)


@panels.panel("report", order=200)
def report_panel(idea, user, roles) -> panels.Panel | None:
    """The final report on the shared idea page, for everyone who may see the idea."""
    report = ops.report_of(idea)
    # Only the applicant may report (ops.may_report asks the same); `roles` saves asking again.
    may_report = APPLICANT in roles and ops.may_report(idea, user)
    if report is None and not may_report:
        return None
    context = {"idea": idea, "report": report, "may_report": may_report}
    if may_report:
        context["fill_url"] = url_for(ops.fill_endpoint(idea, report), idea_id=idea.id)
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
