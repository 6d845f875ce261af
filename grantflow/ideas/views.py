"""The idea: the page every role shares (each sees what its role allows), its workflow steps,
and filing it: choose the competition, fill the form in sittings, attach files, submit."""

from functools import lru_cache
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from grantflow.accounts.models import APPLICANT
from grantflow.competitions import operations as competitions_ops
from grantflow.competitions.models import Competition
from grantflow.core import drafts
from grantflow.core.database import Conflict, reads_first
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.forms import ActionForm
from grantflow.core.i18n import locale_code, pick, riga
from grantflow.core.types import utcnow
from grantflow.core.web import flash_refused
from grantflow.ideas import operations as ops
from grantflow.ideas import panels
from grantflow.ideas.forms import (
    ATTACHMENT_PURPOSES,
    TARGET_GROUP_LABELS,
    AttachmentForm,
    IdeaForm,
    NewIdeaForm,
    TransitionForm,
    attach_problems,
)
from grantflow.ideas.models import PARTNER_KINDS, Attachment, Idea
from grantflow.organisations.models import Organisation
from grantflow.questionnaires import answers as form_answers
from grantflow.territory.models import Municipality
from grantflow.workflow import engine
from grantflow.workflow.registry import audit_label

bp = Blueprint("ideas", __name__)


def idea_for(idea_id: int, user) -> Idea:
    """The idea if `user` may see it; 404 otherwise, so others' ideas are not even confirmed to exist."""
    idea = db.session.execute(_idea_in_context(), {"the_idea": idea_id}).scalar_one_or_none()
    if idea is None or not idea.can_view(user):
        abort(404)
    return idea


@lru_cache(maxsize=1)
def _idea_in_context():
    """An idea with its competition (its workflow), organisation and form version, which every
    page of it asks for; built once, as building it costs about as much as running it."""
    return (
        select(Idea)
        .options(joinedload(Idea.competition), joinedload(Idea.organisation), joinedload(Idea.form_version))
        .where(Idea.id == bindparam("the_idea"))
    )


@bp.route("/ideas/<int:idea_id>")
@login_required
def show(idea_id: int):
    idea = idea_for(idea_id, current_user)
    roles = idea.roles_of(current_user)
    return render_template(
        "ideas/show.html",
        idea=idea,
        roles=roles,
        applicant_view=roles == {APPLICANT},
        history=ops.history_for(idea, current_user, roles),
        panels=panels.render(idea, current_user, roles),
        steps=engine.available(idea, current_user),
        form=TransitionForm(version=idea.version),
        demo_data=idea.is_demo,
    )


@panels.panel("idea", order=100)
def idea_panel(idea: Idea, user, roles) -> panels.Panel:
    """The idea's content, its files and the other areas' (documents), the way back to editing."""
    can_edit = idea.can_edit(user)
    stage = ops.current_stage(idea) if can_edit else None
    return panels.Panel(
        "ideas/_idea_panels.html",
        {
            "idea": idea,
            "can_edit": can_edit,
            # A stage not yet submitted (an invited full proposal) is new, not returned.
            "new_stage": stage if stage is not None and all(r.stage != stage.key for r in idea.revisions) else None,
            "closes_at": ops.submission_window(idea)[1] if can_edit else None,
            "asked": ops.asked_fields(idea),
            "other_answers": ops.other_answers(idea),
            "target_group_labels": TARGET_GROUP_LABELS,
            "partner_kinds": PARTNER_KINDS,
            "attachment_purposes": ATTACHMENT_PURPOSES,
            "files": panels.files_of(idea, user),
            "attachments": idea.attachments,
        },
    )


@panels.panel("stages", order=105)
def stages_panel(idea: Idea, user, roles) -> panels.Panel | None:
    """Each stage's submission as it was submitted (a concept stays readable after the full
    proposal is written): its answers under the form version they were given under."""
    if not idea.workflow.stages or not idea.revisions:
        return None
    stages = idea.workflow.stages
    return panels.Panel(
        "ideas/_revisions.html",
        {
            "idea": idea,
            "revisions": [
                (revision, stages.get(revision.stage), revision.form_version.form if revision.form_version else None)
                for revision in reversed(idea.revisions)
            ],
            "place_names": ops.place_names_of(answers for answers in (r.answers for r in idea.revisions)),
        },
    )


@bp.route("/ideas/<int:idea_id>/steps/<trigger>", methods=["POST"])
@login_required
def step(idea_id: int, trigger: str):
    received_at = utcnow()
    idea = idea_for(idea_id, current_user)
    form = TransitionForm()
    if not form.validate_on_submit():
        flash(_("The comment is too long."), "error")
        return redirect(url_for("ideas.show", idea_id=idea.id), code=303)
    if form.version.data and form.version.data != str(idea.version):
        flash(_("The idea changed after you opened this page; nothing was done. Please look again."), "error")
        return redirect(url_for("ideas.show", idea_id=idea.id), code=303)
    try:
        ops.take_step(idea, trigger, current_user, form.comment.data or "", received_at=received_at)
    except Refused as refused:
        flash_refused(refused)
        return redirect(url_for("ideas.show", idea_id=idea_id), code=303)
    idea = db.session.get(Idea, idea_id)
    flash(_("Done: the idea is now “%(state)s”.", state=pick(idea.state_def.label)), "success")
    return redirect(url_for("ideas.show", idea_id=idea_id), code=303)


@bp.route("/ideas/<int:idea_id>/steps/<trigger>/confirm")
@login_required
def confirm_step(idea_id: int, trigger: str):
    """An irreversible step (into a final state: withdrawing) is taken from this page, which
    says what will happen; the idea page only links here."""
    idea = idea_for(idea_id, current_user)
    step = next((t for t in engine.available(idea, current_user) if t.trigger == trigger), None)
    if step is None:
        abort(404)
    return render_template(
        "ideas/confirm_step.html",
        idea=idea,
        step=step,
        dest=idea.workflow.states.get(step.dest),
        form=TransitionForm(version=idea.version),
        demo_data=idea.is_demo,
    )


# --- filing an idea ----------------------------------------------------------------------
def _my_organisations() -> list[Organisation]:
    ids = current_user.organisation_ids()
    if not ids:
        return []
    return db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)).all()


@bp.route("/apply/new", methods=["GET", "POST"])
@login_required
def new():
    now = utcnow()
    form = NewIdeaForm()
    competitions = competitions_ops.open_competitions(now)
    organisations = _my_organisations()
    form.competition_id.choices = [SelectChoice(str(c.id), c.title(locale_code())) for c in competitions]
    form.organisation_id.choices = [SelectChoice(str(o.id), o.name) for o in organisations]
    if not organisations:
        flash(_("First create your organisation's profile or ask a member to invite you."), "error")
    if request.method == "GET" and request.args.get("competition", "").isdecimal():
        form.competition_id.data = int(request.args["competition"])
    if organisations and form.validate_on_submit():
        # The choices hold only open competitions and the user's own organisations, so an
        # edited value is refused by validation as "Not a valid choice".
        competition = db.session.get(Competition, form.competition_id.data)
        organisation = db.session.get(Organisation, form.organisation_id.data)
        try:
            idea = ops.create_idea(competition, organisation, current_user, now)
        except Refused as refused:
            flash_refused(refused)
        else:
            flash(_("A draft has been started. Fill in its sections in any order; what you type is saved as you go."), "success")
            return redirect(url_for("ideas.sections", idea_id=idea.id), code=303)
    return render_template("ideas/new.html", form=form, competitions=competitions, organisations=organisations)


def _build_form(idea: Idea, formdata=None) -> IdeaForm:
    """The form with what was typed (or what is stored); its place lists are added only when
    it is shown (_place_choices), so a save or a submit does not load them."""
    return IdeaForm(formdata=formdata, data=None if formdata else ops.form_data(idea))


def _place_choices(form: IdeaForm) -> None:
    municipalities = db.session.scalars(
        select(Municipality).options(selectinload(Municipality.units)).order_by(Municipality.name)
    ).all()
    form.municipality_id.choices = [SelectChoice("", _("— choose —"))] + [
        SelectChoice(str(m.id), m.name) for m in municipalities
    ]
    # The parishes grouped by municipality (<optgroup>); the blank choice belongs to no group.
    form.parish_id.choices = [SelectChoice("", _("— none or not known —"))] + [
        SelectChoice(str(p.id), p.name, optgroup=m.name) for m in municipalities for p in m.units
    ]


def _attach(form: IdeaForm, problems: dict[str, str]) -> dict[str, str]:
    return attach_problems(form, problems, ops.ROW_KEY)


def _window_open(idea) -> bool:
    """Whether the idea's submission window (its stage's, else the competition's) is open now."""
    opens, closes = ops.submission_window(idea)
    return opens <= utcnow() < closes


@bp.route("/apply/<int:idea_id>", methods=["GET"])
@login_required
def edit(idea_id: int):
    idea = idea_for(idea_id, current_user)
    if not idea.can_edit(current_user):
        return redirect(url_for("ideas.show", idea_id=idea.id), code=303)
    form = _build_form(idea)
    check = request.args.get("check") == "1"
    problems = ops.missing_fields(idea) if check else ops.raw_problems(idea.draft_raw)
    return _render_edit(idea, form, problems, check)


def _render_edit(idea, form, problems, check):
    _place_choices(form)
    loose = _attach(form, problems)
    opens, closes = ops.submission_window(idea)
    now = utcnow()
    return render_template(
        "ideas/edit.html",
        idea=idea,
        form=form,
        problems=problems,
        loose=loose,
        check=check,
        target_group_labels=TARGET_GROUP_LABELS,
        partner_kinds=PARTNER_KINDS,
        purposes=ATTACHMENT_PURPOSES,
        upload=AttachmentForm(formdata=None),
        confirm=ActionForm(formdata=None),
        last_day=riga(now).date() == riga(closes).date() and now < closes,
        seconds_left=max(0, int((closes - now).total_seconds())),
        is_open=opens <= now < closes,
        closes_at=closes,
        max_mb=ops.MAX_ATTACHMENT_BYTES // (1024 * 1024),
    )


@bp.route("/apply/<int:idea_id>", methods=["POST"])
@login_required
@reads_first  # every button's first write is the idea's version check (ops.save_idea)
def save(idea_id: int):
    """One form, several buttons: save, add or remove a row, submit. Every button saves what
    was typed first, so nothing is lost whichever is pressed."""
    received_at = utcnow()
    idea = idea_for(idea_id, current_user)
    action = request.form.get("action", "save")
    if not idea.can_edit(current_user):
        if drafts.is_autosave():
            return drafts.autosave_refused()
        if action == "submit" and idea.reference:
            flash(_("This idea was already submitted as %(reference)s.", reference=idea.reference), "success")
        else:
            flash(_("This idea can no longer be changed."), "error")
        return redirect(url_for("ideas.show", idea_id=idea.id), code=303)
    form = _build_form(idea, request.form)
    if drafts.is_autosave():
        return _autosave(idea, form)
    if not form.validate_on_submit():  # only the CSRF token is validated here
        flash(_("The form had expired or was sent from elsewhere. Please try again."), "error")
        return _render_edit(idea, form, {}, False), 400
    try:
        if action == "submit":
            return _save_and_submit(idea, form.data, received_at)
        problems = ops.save_idea(idea, form.data, current_user)
        anchor = action.partition(":")[2] if action.startswith("save:") else ""
        if action.startswith("add:"):
            which = action.removeprefix("add:")
            index = ops.add_row(idea, which, current_user)
            anchor = f"{which}-{index}"
        elif action.startswith("remove:"):
            which, _sep, index = action.removeprefix("remove:").partition(":")
            if index.isdecimal():
                ops.remove_row(idea, which, int(index), current_user)
            anchor = which
        elif action == "check":
            # "Check and submit": saved; what is missing is marked, or the confirmation page says what submitting does.
            db.session.commit()
            missing = ops.missing_fields(idea)
            if missing:
                return _incomplete(missing, url_for("ideas.edit", idea_id=idea.id, check=1))
            return redirect(url_for("ideas.confirm_submit", idea_id=idea.id), code=303)
    except Refused as refused:
        flash_refused(refused)
        return redirect(url_for("ideas.edit", idea_id=idea_id), code=303)
    except Conflict:
        db.session.rollback()
        idea = db.session.get(Idea, idea_id)
        if action == "submit" and idea.reference and not idea.can_edit(current_user):  # the same tab twice
            flash(_("This idea was already submitted as %(reference)s.", reference=idea.reference), "success")
            return redirect(url_for("ideas.show", idea_id=idea_id), code=303)
        flash(_("Someone else changed this idea at the same moment; nothing was saved. Please check and save again."), "error")
        return _render_edit(idea, form, {}, False), 409
    if problems:
        flash(_("Saved. %(count)d field(s) could not be taken as typed; they are marked below and kept as you typed them.", count=len(problems)), "error")
    elif action.startswith("save"):
        flash(_("Saved."), "success")
    return redirect(url_for("ideas.edit", idea_id=idea_id) + (f"#{anchor}" if anchor else ""), code=303)


def _autosave(idea: Idea, form: IdeaForm):
    """The background save while the applicant types (core.drafts): the draft is saved as the
    "Save" button saves it, and nothing else is done."""
    if not form.validate_on_submit():  # only the CSRF token is validated here
        return drafts.autosave_refused(400)
    try:
        ops.save_idea(idea, form.data, current_user)
    except (Refused, Conflict):
        db.session.rollback()
        return drafts.autosave_refused()
    return drafts.autosaved()


def _save_and_submit(idea: Idea, data: dict, received_at):
    """The one-page form's "Submit": what was typed is saved and submitted together, or saved
    alone when it cannot be submitted (ops.save_and_submit), so nothing typed is lost."""
    idea_id, back = idea.id, url_for("ideas.edit", idea_id=idea.id, check=1)
    try:
        reference = ops.save_and_submit(idea, data, current_user, received_at)
    except ops.Incomplete as incomplete:
        return _incomplete(incomplete.missing, back)
    except Refused as refused:
        return _not_submitted(idea_id, refused, back)
    return _submitted(idea_id, reference)


def _submit(idea: Idea, received_at, back: str):
    """Submit what is saved (the "check your answers" way); `back` is the page that lists
    what needs attention."""
    missing = ops.missing_fields(idea)
    if missing:
        return _incomplete(missing, back)
    idea_id = idea.id
    try:
        reference = ops.submit_idea(idea, current_user, received_at, checked=missing)
    except Refused as refused:
        db.session.rollback()  # the refused submission leaves nothing
        return _not_submitted(idea_id, refused, back)
    return _submitted(idea_id, reference)


def _incomplete(missing: dict, back: str):
    flash(_("Not submitted yet: %(count)d field(s) need attention. Each is marked below.", count=len(missing)), "error")
    return redirect(back + "#problems", code=303)


def _not_submitted(idea_id: int, refused: Refused, back: str):
    idea = db.session.get(Idea, idea_id)
    if idea.reference and not idea.can_edit(current_user):  # a second click after the first went through
        flash(_("This idea was already submitted as %(reference)s.", reference=idea.reference), "success")
        return redirect(url_for("ideas.show", idea_id=idea_id), code=303)
    flash_refused(refused)
    return redirect(back, code=303)


def _submitted(idea_id: int, reference: str):
    flash(
        _("Submitted. Reference number %(reference)s; a receipt with a copy has been mailed to you.", reference=reference),
        "success",
    )
    return redirect(url_for("ideas.show", idea_id=idea_id), code=303)


@bp.route("/apply/<int:idea_id>/submit")
@login_required
def confirm_submit(idea_id: int):
    """What submitting does (the idea can no longer be changed, a reference number and a
    receipt follow), with the button that does it."""
    idea = idea_for(idea_id, current_user)
    if not idea.can_edit(current_user):
        return redirect(url_for("ideas.show", idea_id=idea.id), code=303)
    return render_template(
        "ideas/confirm_submit.html",
        idea=idea,
        form=ActionForm(formdata=None),
        missing=ops.missing_fields(idea),
        is_open=_window_open(idea),
        demo_data=idea.is_demo,
    )


@bp.route("/apply/<int:idea_id>/submit", methods=["POST"])
@login_required
@reads_first  # its first write is the transition's version check
def submit(idea_id: int):
    received_at = utcnow()
    idea = idea_for(idea_id, current_user)
    if not idea.can_edit(current_user):
        if idea.reference:
            flash(_("This idea was already submitted as %(reference)s.", reference=idea.reference), "success")
        else:
            flash(_("This idea can no longer be changed."), "error")
        return redirect(url_for("ideas.show", idea_id=idea.id), code=303)
    if not ActionForm().validate_on_submit():
        flash(_("The form had expired or was sent from elsewhere. Please try again."), "error")
        return redirect(url_for("ideas.confirm_submit", idea_id=idea.id), code=303)
    try:
        return _submit(idea, received_at, url_for("ideas.check_answers", idea_id=idea.id))
    except Conflict:
        db.session.rollback()
        flash(_("Someone else changed this idea at the same moment; nothing was saved. Please check and save again."), "error")
        return redirect(url_for("ideas.confirm_submit", idea_id=idea_id), code=303)


# --- attachments ------------------------------------------------------------------------------
@bp.route("/apply/<int:idea_id>/attachments", methods=["POST"])
@login_required
def upload(idea_id: int):
    idea = idea_for(idea_id, current_user)
    return receive_upload(idea, None, _files_page(idea))


def _files_page(idea: Idea) -> str:
    """Where an idea's files are managed from: the section page named by ?section= (a key of
    the idea's own form, so nothing else can be asked for), else the one-page form."""
    key = request.args.get("section", "")
    if key and ops.form_of(idea).section(key) is not None:
        return url_for("ideas.section", idea_id=idea.id, key=key)
    return url_for("ideas.edit", idea_id=idea.id)


def receive_upload(idea: Idea, report, back: str):
    """Take one uploaded file for an idea or (from the reports area) for its report."""
    form = AttachmentForm()
    if not form.validate_on_submit():
        flash(_("Choose what kind of file it is, then upload it again."), "error")
        return redirect(back + "#attachments", code=303)
    file = form.file.data
    if not file or not getattr(file, "filename", ""):
        flash(_("Choose a file to upload."), "error")
        return redirect(back + "#attachments", code=303)
    data = file.read(ops.MAX_ATTACHMENT_BYTES + 1)
    try:
        attachment = ops.store_attachment(idea, file.filename, data, form.purpose.data, current_user, report=report)
    except Refused as refused:
        flash_refused(refused, lambda reason: _("“%(name)s” was not accepted: %(reason)s", name=file.filename[:120], reason=reason))
    else:
        flash(_("“%(name)s” has been added.", name=attachment.filename), "success")
    return redirect(back + "#attachments", code=303)


def _attachment_for(attachment_id: int) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or not attachment.can_view(current_user):
        abort(404)
    return attachment


@bp.route("/apply/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    attachment = _attachment_for(attachment_id)
    return send_file_download(attachment.data, attachment.content_type, attachment.filename)


@bp.route("/apply/attachments/<int:attachment_id>/delete", methods=["POST"])
@login_required
def delete(attachment_id: int):
    attachment = _attachment_for(attachment_id)
    idea_id, report_id = attachment.idea_id, attachment.report_id
    if ActionForm().validate_on_submit():
        try:
            ops.delete_attachment(attachment, current_user)
            flash(_("The file has been removed."), "success")
        except Refused as refused:
            flash_refused(refused)
    if report_id:  # the report's section page it was removed from (the reports area checks the key), else its one page
        section = request.args.get("section", "")
        back = url_for("reports.section", idea_id=idea_id, key=section) if section.isidentifier() else url_for("reports.edit", idea_id=idea_id)
    else:
        back = _files_page(db.session.get(Idea, idea_id))
    return redirect(back + "#attachments", code=303)


def send_file_download(data: bytes, content_type: str, filename: str) -> Response:
    """Always a download, never shown inline: an uploaded file cannot run in our pages."""

    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.app_template_filter("audit_label")
def _audit_label(kind: str) -> str:
    """What a history line says of an audited act other than a transition."""
    return audit_label(kind)



# --- the form as a task list of sections, each on its own page --------------------------------
SECTION_STATES = {"not_started": "grey", "in_progress": "light-blue", "complete": ""}


def _editable(idea_id: int):
    idea = idea_for(idea_id, current_user)
    if not idea.can_edit(current_user):
        return idea, redirect(url_for("ideas.show", idea_id=idea.id), code=303)
    return idea, None


def _section_places():
    municipalities = db.session.scalars(
        select(Municipality).options(selectinload(Municipality.units)).order_by(Municipality.name)
    ).all()
    return (
        [SelectChoice("", _("— choose —"))] + [SelectChoice(str(m.id), m.name) for m in municipalities],
        [SelectChoice("", _("— none or not known —"))]
        + [SelectChoice(str(p.id), p.name, optgroup=m.name) for m in municipalities for p in m.units],
    )


def _state_label(state: str) -> str:
    return {"not_started": _("Not started"), "in_progress": _("In progress"), "complete": _("Completed")}[state]


def task_items(states, href) -> list[tuple]:
    """A form's sections as the items of a task list (_ui.task_list): address, title, state
    and its colour; `href(key)` is a section's address (the application's or the report's)."""
    locale = locale_code()
    return [(href(s.key), pick(s.title, locale), _state_label(state), SECTION_STATES[state]) for s, state in states]


@bp.route("/apply/<int:idea_id>/sections")
@login_required
def sections(idea_id: int):
    """The application form as a task list: each section with its state, then checking the
    answers and submitting."""
    idea, away = _editable(idea_id)
    if away:
        return away
    items = task_items(ops.section_states(idea), lambda key: url_for("ideas.section", idea_id=idea.id, key=key))
    return render_template(
        "ideas/sections.html", idea=idea, items=items, is_open=_window_open(idea), closes_at=ops.submission_window(idea)[1]
    )


def _render_section(idea, section, form, status=200):
    form_def = ops.form_of(idea)
    keys = [s.key for s in form_def.sections]
    index = keys.index(section.key)
    return render_template(
        "ideas/section.html",
        idea=idea,
        section=section,
        form=form,
        locale=locale_code(),
        number=index + 1,
        count=len(keys),
        previous=keys[index - 1] if index else None,
        budget=any(q.meaning == "budget_lines" for q in section.questions),
        files=any(q.type == "file" for q in section.questions),
        purposes=ATTACHMENT_PURPOSES,
        upload=AttachmentForm(formdata=None),
        confirm=ActionForm(formdata=None),
        max_mb=ops.MAX_ATTACHMENT_BYTES // (1024 * 1024),
    ), status


def _section_or_404(idea, key):
    section = ops.form_of(idea).section(key)
    if section is None:
        abort(404)
    return section


@bp.route("/apply/<int:idea_id>/sections/<key>")
@login_required
def section(idea_id: int, key: str):
    idea, away = _editable(idea_id)
    if away:
        return away
    section = _section_or_404(idea, key)
    form_def = ops.form_of(idea)
    form_class = form_answers.build_form(form_def, key, locale_code(), places=_section_places())
    form = form_class(formdata=None, data=form_answers.form_data(form_def, ops.current_answers(idea)))
    # What was kept as typed is shown with its message, as on the save that kept it.
    form_answers.restore_kept(form, idea.draft_raw)
    return _render_section(idea, section, form)


@bp.route("/apply/<int:idea_id>/sections/<key>", methods=["POST"])
@login_required
def save_section(idea_id: int, key: str):
    """Save and continue (the no-JavaScript autosave): a plain POST that saves the section as
    a draft, complete or not; add and remove a row save first too. An autosave (core.drafts)
    saves the section the same way and does nothing else."""
    idea, away = _editable(idea_id)
    if away:
        return drafts.autosave_refused() if drafts.is_autosave() else away
    section = _section_or_404(idea, key)
    form_def = ops.form_of(idea)
    form_class = form_answers.build_form(form_def, key, locale_code(), places=_section_places())
    form = form_class(formdata=request.form)
    form.validate()
    if "csrf_token" in form.errors:
        if drafts.is_autosave():
            return drafts.autosave_refused(400)
        flash(_("The form had expired or was sent from elsewhere. Please try again."), "error")
        return _render_section(idea, section, form, 400)
    answers, kept, messages = form_answers.read(form_def, form, key)
    if drafts.is_autosave():
        try:
            ops.save_section(idea, key, answers, kept, current_user)
        except (Refused, Conflict):
            db.session.rollback()
            return drafts.autosave_refused()
        return drafts.autosaved()
    action = request.form.get("action", "continue")
    try:
        ops.save_section(idea, key, answers, kept, current_user)
        if action.startswith("add:"):
            index = ops.add_answer_row(idea, action.removeprefix("add:"), current_user)
            return redirect(url_for("ideas.section", idea_id=idea.id, key=key) + f"#{action[4:]}-{index}", code=303)
        if action.startswith("remove:"):
            which, _sep, index = action.removeprefix("remove:").partition(":")
            if index.isdecimal():
                ops.remove_answer_row(idea, which, int(index), current_user)
            return redirect(url_for("ideas.section", idea_id=idea.id, key=key) + f"#{which}", code=303)
    except Refused as refused:
        flash_refused(refused)
        return redirect(url_for("ideas.section", idea_id=idea.id, key=key), code=303)
    except Conflict:
        db.session.rollback()
        flash(_("Someone else changed this idea at the same moment; nothing was saved. Please check and save again."), "error")
        return _render_section(db.session.get(Idea, idea_id), section, form, 409)
    if messages:
        flash(_("Saved. %(count)d field(s) could not be taken as typed; they are marked below and kept as you typed them.", count=len(messages)), "error")
        return _render_section(idea, section, form)
    flash(_("Saved."), "success")
    keys = [s.key for s in form_def.sections]
    following = keys[keys.index(key) + 1] if keys.index(key) + 1 < len(keys) else None
    if action == "continue" and following:
        return redirect(url_for("ideas.section", idea_id=idea.id, key=following), code=303)
    if action == "continue":
        return redirect(url_for("ideas.check_answers", idea_id=idea.id), code=303)
    return redirect(url_for("ideas.section", idea_id=idea.id, key=key), code=303)


@bp.route("/apply/<int:idea_id>/check")
@login_required
def check_answers(idea_id: int):
    """Every answer by section, each with a link to change it, what still needs attention, and
    the way on to the submission's confirmation."""
    idea, away = _editable(idea_id)
    if away:
        return away
    form_def = ops.form_of(idea)
    missing = ops.missing_fields(idea)
    answers = ops.current_answers(idea)
    return render_template(
        "ideas/check_answers.html",
        idea=idea,
        form_def=form_def,
        answers=answers,
        missing=missing,
        problems=form_answers.problems_by_question(form_def, missing),
        locale=locale_code(),
        place_names=ops.place_names_of([answers]),
        is_open=_window_open(idea),
    )

