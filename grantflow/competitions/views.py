"""Administrators set up competitions and their criteria."""

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from grantflow.accounts.access import role_required
from grantflow.accounts.models import ADMINISTRATOR
from grantflow.competitions import operations as ops
from grantflow.competitions.forms import (
    DOCUMENT_KINDS,
    CompetitionForm,
    CriterionForm,
    DocumentForm,
    RoundForm,
    stages_form,
    to_riga,
)
from grantflow.competitions.models import Competition, CompetitionDocument, Criterion, ReviewRound
from grantflow.core import drafts
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.forms import ActionForm
from grantflow.core.i18n import locale_code, pick
from grantflow.core.web import flash_refused
from grantflow.questionnaires.models import FormVersion
from grantflow.workflow import diagram
from grantflow.workflow.registry import WorkflowUnavailable, workflow_for

bp = Blueprint("competitions", __name__)


def _competition(competition_id: int) -> Competition:
    return db.session.get(Competition, competition_id) or abort(404)


def _criterion(competition: Competition, criterion_id: int) -> Criterion:
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None or criterion.competition_id != competition.id:
        abort(404)
    return criterion


def _round(competition: Competition, round_id) -> ReviewRound:
    """The competition's round `round_id` (a query argument; the first round without one)."""
    if round_id in (None, ""):
        return competition.rounds[0] if competition.rounds else abort(404)
    found = next((r for r in competition.rounds if str(r.id) == str(round_id)), None)
    return found or abort(404)


def _competition_form(competition: Competition | None) -> CompetitionForm:
    data = {}
    if competition is not None and request.method == "GET":
        data = {c.key: getattr(competition, c.key) for c in Competition.__table__.columns if c.key != "id"}
        data["evaluation_closes_at"] = competition.evaluation_closes_at
        for name in ("opens_at", "closes_at", "evaluation_closes_at"):
            data[name] = to_riga(data[name])
    form = CompetitionForm(data=data)
    workflows = current_app.extensions["grantflow.workflows"]
    form.workflow.choices = [SelectChoice(name, pick(w.label)) for name, w in sorted(workflows.items())]
    if competition is not None and request.method == "GET":
        for name in ("application_form_id", "report_form_id"):
            form[name].data = str(getattr(competition, name) or "")
    versions = db.session.scalars(select(FormVersion).order_by(FormVersion.name, FormVersion.number)).all()
    for name, kind in (("application_form_id", "application"), ("report_form_id", "report")):
        form[name].choices = [SelectChoice("", _("The default form"))] + [
            SelectChoice(str(v.id), _("%(title)s, version %(number)d", title=pick(v.definition["title"]), number=v.number))
            for v in versions
            if v.kind == kind
        ]
    return form


@bp.route("/competitions/new", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def new():
    return _edit(None)


@bp.route("/competitions/<int:competition_id>/edit", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def edit(competition_id: int):
    return _edit(_competition(competition_id))


def _edit(competition: Competition | None):
    form = drafts.restore(_competition_form(competition))
    if drafts.is_autosave():
        return drafts.keep(form)
    if form.validate_on_submit():
        try:
            drafts.forget()
            competition = ops.save_competition(competition, form.model_data())
        except Refused as refused:
            flash_refused(refused)
            for name, message in refused.fields.items():
                form[name].errors = [message]
        else:
            flash(_("The competition is saved."), "success")
            return redirect(url_for("pages.competition", competition_id=competition.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("competitions/edit.html", form=form, competition=competition), status


@bp.route("/competitions/<int:competition_id>/criteria", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def criteria(competition_id: int):
    competition = _competition(competition_id)
    review_round = _round(competition, request.args.get("round"))
    form = CriterionForm()
    if form.validate_on_submit():
        try:
            ops.add_criterion(review_round, form.model_data())
        except Refused as refused:
            flash_refused(refused)
        else:
            flash(_("The criterion is added."), "success")
            return redirect(_criteria_url(review_round), code=303)
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "competitions/criteria.html",
            competition=competition,
            review_round=review_round,
            form=form,
            action=ActionForm(),
            locked=ops.scoring_started(review_round),
            demo_data=competition.is_demo,
        ),
        status,
    )


@bp.route("/competitions/<int:competition_id>/criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def edit_criterion(competition_id: int, criterion_id: int):
    competition = _competition(competition_id)
    criterion = _criterion(competition, criterion_id)
    form = CriterionForm(obj=criterion)
    if form.validate_on_submit():
        try:
            ops.update_criterion(criterion, form.model_data())
        except Refused as refused:
            flash_refused(refused)
        else:
            flash(_("The criterion is saved."), "success")
            return redirect(_criteria_url(criterion.round), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("competitions/criterion.html", competition=competition, criterion=criterion, form=form), status


@bp.route("/competitions/<int:competition_id>/criteria/<int:criterion_id>/<any(remove, up, down):action>", methods=["POST"])
@role_required(ADMINISTRATOR)
def change_criterion(competition_id: int, criterion_id: int, action: str):
    competition = _competition(competition_id)
    criterion = _criterion(competition, criterion_id)
    review_round = criterion.round  # the criterion may be gone after
    if ActionForm().validate_on_submit():
        try:
            if action == "remove":
                ops.remove_criterion(criterion)
            else:
                ops.move_criterion(criterion, -1 if action == "up" else 1)
        except Refused as refused:
            flash_refused(refused)
    return redirect(_criteria_url(review_round), code=303)


def _criteria_url(review_round: ReviewRound) -> str:
    return url_for("competitions.criteria", competition_id=review_round.competition_id, round=review_round.id)


@bp.route("/competitions/<int:competition_id>/rounds", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def rounds(competition_id: int):
    """The competition's review rounds, as its workflow declares them; a POST adds those the
    workflow declares and the competition lacks."""
    competition = _competition(competition_id)
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        added = ops.sync_rounds(competition)
        if added:
            flash(_("The review rounds the workflow declares are added."), "success")
        return redirect(url_for("competitions.rounds", competition_id=competition.id), code=303)
    try:
        declared = workflow_for(competition.workflow).rounds
    except WorkflowUnavailable:
        declared = {}
    missing = [spec for key, spec in declared.items() if competition.round(key) is None]
    return render_template(
        "competitions/rounds.html", competition=competition, action=form, missing=missing, declared=declared
    )


@bp.route("/competitions/<int:competition_id>/stages", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def stages(competition_id: int):
    """The submission windows of the application stages the competition's workflow declares
    (a concept, then a full proposal), in Riga time."""
    competition = _competition(competition_id)
    data = {}
    if request.method == "GET":
        for stage in competition.stages:
            data[f"opens_{stage.id}"] = to_riga(stage.opens_at)
            data[f"closes_{stage.id}"] = to_riga(stage.closes_at)
    form = stages_form(competition.stages, data)
    if competition.stages and form.validate_on_submit():
        ops.update_stages(competition, form.windows())
        flash(_("The submission windows are saved."), "success")
        return redirect(url_for("competitions.stages", competition_id=competition.id), code=303)
    status = 422 if request.method == "POST" and competition.stages else 200
    return render_template("competitions/stages.html", competition=competition, form=form), status


@bp.route("/competitions/<int:competition_id>/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def edit_round(competition_id: int, round_id: int):
    competition = _competition(competition_id)
    review_round = _round(competition, round_id)
    data = {}
    if request.method == "GET":
        data = {name: getattr(review_round, name) for name in ("label_lv", "label_en")}
        data["evaluation_closes_at"] = to_riga(review_round.evaluation_closes_at)
    form = RoundForm(data=data)
    if form.validate_on_submit():
        ops.update_round(review_round, form.model_data())
        flash(_("The review round is saved."), "success")
        return redirect(url_for("competitions.rounds", competition_id=competition.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "competitions/round.html", competition=competition, review_round=review_round, form=form
    ), status


def _document(competition: Competition, doc_id: int) -> CompetitionDocument:
    document = db.session.get(CompetitionDocument, doc_id)
    if document is None or document.competition_id != competition.id:
        abort(404)
    return document


def _upload(form: DocumentForm) -> tuple[str, bytes]:
    """The uploaded file's name and bytes (one byte past the limit at most, so a huge file
    is refused without reading it all); ("", b"") when none was chosen."""
    file = form.file.data
    if not file or not getattr(file, "filename", ""):
        return "", b""
    return file.filename, file.read(ops.MAX_DOCUMENT_BYTES + 1)


def _documents_page(competition: Competition, form: DocumentForm, status: int = 200, editing=None):
    return render_template("competitions/documents.html", competition=competition, form=form, editing=editing,
                           kinds=DOCUMENT_KINDS, action=ActionForm(formdata=None),
                           max_mb=ops.MAX_DOCUMENT_BYTES // 1048576), status  # fmt: skip


@bp.route("/competitions/<int:competition_id>/documents", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def documents(competition_id: int):
    """The competition's rules and templates: listed, and a new one uploaded."""
    competition = _competition(competition_id)
    form = DocumentForm()
    if not form.is_submitted():
        return _documents_page(competition, DocumentForm(formdata=None))
    if form.validate():
        name, content = _upload(form)
        if not name:
            form.file.errors = [_("Choose a file to upload.")]
        else:
            try:
                ops.add_document(competition, form.data, name, content, current_user)
            except Refused as refused:
                db.session.rollback()
                form.file.errors = list(refused.fields.values()) or refused.messages
            else:
                flash(_("The document is added; visitors download it from the competition's public page."), "success")
                return redirect(url_for("competitions.documents", competition_id=competition.id), code=303)
    return _documents_page(competition, form, 422)


@bp.route("/competitions/<int:competition_id>/documents/<int:doc_id>/edit", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def edit_document(competition_id: int, doc_id: int):
    """Replace the document's file (the same public address) or change its titles."""
    competition = _competition(competition_id)
    document = _document(competition, doc_id)
    form = DocumentForm(obj=document) if request.method == "GET" else DocumentForm()
    if form.validate_on_submit():
        name, content = _upload(form)
        try:
            ops.replace_document(document, form.data, name, content, current_user)
        except Refused as refused:
            db.session.rollback()
            form.file.errors = list(refused.fields.values()) or refused.messages
        else:
            flash(_("The document is saved."), "success")
            return redirect(url_for("competitions.documents", competition_id=competition.id), code=303)
    status = 422 if request.method == "POST" else 200
    return _documents_page(competition, form, status, editing=document)


@bp.route("/competitions/<int:competition_id>/documents/<int:doc_id>/remove", methods=["POST"])
@role_required(ADMINISTRATOR)
def remove_document(competition_id: int, doc_id: int):
    competition = _competition(competition_id)
    document = _document(competition, doc_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    ops.remove_document(document, current_user)
    flash(_("The document is removed."), "success")
    return redirect(url_for("competitions.documents", competition_id=competition.id), code=303)


@bp.route("/admin/workflows/<name>")
@role_required(ADMINISTRATOR)
def workflow(name: str):
    workflow = current_app.extensions["grantflow.workflows"].get(name) or abort(404)
    return render_template(
        "competitions/workflow.html", workflow=workflow, steps=diagram.steps(workflow, locale_code())
    )


@bp.route("/admin/workflows/<name>.svg")
@role_required(ADMINISTRATOR)
def workflow_svg(name: str):
    workflow = current_app.extensions["grantflow.workflows"].get(name) or abort(404)
    return Response(diagram.svg(workflow, locale_code()), mimetype="image/svg+xml")
