"""Administrators set up competitions and their criteria."""

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from grantflow.accounts.access import role_required
from grantflow.accounts.models import ADMINISTRATOR
from grantflow.competitions import operations as ops
from grantflow.competitions.forms import CompetitionForm, CriterionForm, RoundForm, to_riga
from grantflow.competitions.models import Competition, Criterion, ReviewRound
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.forms import ActionForm
from grantflow.core.i18n import locale_code, pick
from grantflow.core.web import flash_refused
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
    form = _competition_form(competition)
    if form.validate_on_submit():
        try:
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
