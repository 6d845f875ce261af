"""Payments pages: the programme's and a competition's money, due payments and SEPA files,
a payment made another way, the plan, refunds; and the schedule panel on the idea page."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from grantflow.accounts.access import role_required
from grantflow.accounts.models import ADMINISTRATOR, APPLICANT
from grantflow.competitions.models import Competition
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.forms import ActionForm
from grantflow.core.web import flash_refused
from grantflow.funding.models import Decision, DecisionKind, current_ids
from grantflow.ideas import panels
from grantflow.ideas.models import Idea
from grantflow.payments import operations as ops
from grantflow.payments.forms import PaymentForm, ReturnForm, RunForm, RunPaidForm
from grantflow.payments.models import EVENT_LABELS, EVENTS, Instalment, PaymentRun, RunStatus
from grantflow.payments.refunds import issue_refund_request
from grantflow.payments.schedule import MAX_INSTALMENTS

bp = Blueprint("payments", __name__, url_prefix="/payments")


@panels.panel("payments", order=450)
def payments_panel(idea, user, roles) -> panels.Panel | None:
    """The idea's schedule, payments and refund, for its applicants and administrators."""
    admin = ADMINISTRATOR in roles
    if not (admin or APPLICANT in roles):
        return None
    schedule = ops.schedule_of(idea)
    refund = ops.refund_of(idea)
    if not schedule and refund is None:
        return None
    due = set(db.session.scalars(select(Instalment.id).where(Instalment.idea_id == idea.id, ops.event_done())))
    return panels.Panel("payments/_idea.html", {
        "idea": idea, "admin": admin, "schedule": schedule, "due": due, "refund": refund,
        "totals": ops.totals_for([idea.id])[idea.id], "payments": ops.payments_of(idea) if admin else [],
        "action": ActionForm(formdata=None),
    })  # fmt: skip


def _competition(competition_id: int) -> Competition:
    return db.session.get(Competition, competition_id) or abort(404)


@bp.route("/")
@role_required(ADMINISTRATOR)
def index():
    competitions = db.session.scalars(select(Competition).order_by(Competition.opens_at.desc())).all()
    totals = ops.competition_totals()
    programme = ops.Totals()
    for t in totals.values():
        programme.add(t)
    return render_template("payments/index.html", competitions=competitions, totals=totals, programme=programme)


@bp.route("/competitions/<int:competition_id>")
@role_required(ADMINISTRATOR)
def competition(competition_id: int, form=None, status=200):
    competition = _competition(competition_id)
    ideas = db.session.scalars(
        select(Idea).options(selectinload(Idea.organisation)).join(Decision, Decision.idea_id == Idea.id)
        .where(Decision.competition_id == competition.id, Decision.kind == DecisionKind.FUND, Decision.id.in_(current_ids()))
        .order_by(Idea.reference)
    ).all()  # fmt: skip
    if form is None:
        form = RunForm(formdata=None, execution_date=ops.today())
    return render_template(
        "payments/competition.html", competition=competition, due=ops.due(competition.id), form=form,
        ideas=ideas, totals=ops.totals_for([i.id for i in ideas]), sums=ops.competition_totals([competition.id]).get(competition.id, ops.Totals()),
        runs=ops.runs_of(competition.id), plan=ops.plan_of(competition.id), labels=EVENT_LABELS,
        started=ops.payments_started(competition.id), chosen=set(),
    ), status  # fmt: skip


@bp.route("/competitions/<int:competition_id>/runs", methods=["POST"])
@role_required(ADMINISTRATOR)
def create_run(competition_id: int):
    competition = _competition(competition_id)
    form = RunForm()
    ids = [int(v) for v in request.form.getlist("instalment") if v.isascii() and v.isdecimal() and len(v) < 10]
    if not form.validate():
        return competition_view(competition_id, form)
    try:
        run = ops.create_run(competition, ids, form.execution_date.data, current_user)
    except Refused as error:
        for name, message in error.fields.items():
            getattr(form, name).errors = [message]
        flash_refused(error)
        return competition_view(competition_id, form)
    flash(_("The payment file is ready: download it and upload it to the bank, then mark it paid."), "success")
    return redirect(url_for("payments.run", run_id=run.id), code=303)


def competition_view(competition_id, form):
    return competition(competition_id, form=form, status=422)


@bp.route("/competitions/<int:competition_id>/plan", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def plan(competition_id: int):
    competition = _competition(competition_id)
    form = ActionForm()
    rows, errors, status = ops.plan_of(competition.id), {}, 200
    if request.method == "POST" and form.validate():
        count = min(len([k for k in request.form if k.startswith("rows-") and k.endswith("-percent")]), MAX_INSTALMENTS + 1)
        rows = [{"percent": request.form.get(f"rows-{i}-percent", "")[:20], "due": request.form.get(f"rows-{i}-due", "")}
                for i in range(count)]  # fmt: skip
        rows = [r for r in rows if r["percent"].strip()] if request.form.get("action") != "add" else rows + [{"percent": "", "due": "report"}]
        if request.form.get("action") == "save":
            try:
                ops.change_plan(competition, rows, current_user)
            except Refused as error:
                errors, status = error.fields, 422
                flash_refused(Refused(error.messages)) if error.messages else None
            else:
                flash(_("The payment schedule is saved; the funded ideas' schedules follow it."), "success")
                return redirect(url_for("payments.competition", competition_id=competition.id), code=303)
    elif request.method == "POST":
        status = 400
    return render_template("payments/plan.html", competition=competition, rows=rows, errors=errors, form=form,
                           events=EVENTS, labels=EVENT_LABELS, started=ops.payments_started(competition.id)), status  # fmt: skip


def _run(run_id: int) -> PaymentRun:
    return db.session.get(PaymentRun, run_id) or abort(404)


@bp.route("/runs/<int:run_id>")
@role_required(ADMINISTRATOR)
def run(run_id: int, form=None, status=200):
    run = _run(run_id)
    rows = db.session.scalars(select(Instalment).options(selectinload(Instalment.idea).selectinload(Idea.organisation))
                              .where(Instalment.run_id == run.id).order_by(Instalment.idea_id)).all()  # fmt: skip
    paid = ops.run_payments(run.id) if run.status == RunStatus.PAID else []
    return render_template("payments/run.html", run=run, rows=rows, paid=paid, competition=db.session.get(Competition, run.competition_id),
                           form=form or RunPaidForm(formdata=None, paid_on=min(run.execution_date, ops.today())),
                           cancel=ActionForm(formdata=None)), status  # fmt: skip


@bp.route("/runs/<int:run_id>/pain001.xml")
@role_required(ADMINISTRATOR)
def run_file(run_id: int):
    run = _run(run_id)
    return Response(run.xml, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{run.filename}"', "Cache-Control": "private, no-store"})


@bp.route("/runs/<int:run_id>/paid", methods=["POST"])
@role_required(ADMINISTRATOR)
def run_paid(run_id: int):
    run_row = _run(run_id)
    form = RunPaidForm()
    if not form.validate():
        return run(run_id, form=form, status=422)
    if form.paid_on.data > ops.today():
        form.paid_on.errors = [_("The payment date cannot be in the future.")]
        return run(run_id, form=form, status=422)
    try:
        ops.mark_run_paid(run_row, form.paid_on.data, current_user)
    except Refused as error:
        flash_refused(error)
    else:
        flash(_("The payments of this file are recorded as paid."), "success")
    return redirect(url_for("payments.run", run_id=run_id), code=303)


@bp.route("/runs/<int:run_id>/cancel", methods=["POST"])
@role_required(ADMINISTRATOR)
def run_cancel(run_id: int):
    run_row = _run(run_id)
    if not ActionForm().validate():
        abort(400)
    try:
        ops.cancel_run(run_row, current_user)
    except Refused as error:
        flash_refused(error)
    else:
        flash(_("The payment file is cancelled; its payments are due again."), "success")
    return redirect(url_for("payments.run", run_id=run_id), code=303)


@bp.route("/instalments/<int:instalment_id>/record", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def record(instalment_id: int):
    row = db.session.get(Instalment, instalment_id) or abort(404)
    form = PaymentForm() if request.method == "POST" else PaymentForm(formdata=None, amount=row.outstanding, paid_on=ops.today())
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                ops.record_payment(row, form.amount.data, form.paid_on.data, form.reference.data or "", current_user)
            except Refused as error:
                for name, message in error.fields.items():
                    getattr(form, name).errors = [message]
                flash_refused(Refused(error.messages)) if error.messages else None
            else:
                flash(_("The payment is recorded."), "success")
                return redirect(url_for("ideas.show", idea_id=row.idea_id) + "#payments", code=303)
        db.session.refresh(row)
    return render_template("payments/record.html", row=row, idea=row.idea, form=form), status


def _idea(idea_id: int) -> Idea:
    return db.session.get(Idea, idea_id) or abort(404)


@bp.route("/ideas/<int:idea_id>/refund", methods=["POST"])
@role_required(ADMINISTRATOR)
def refund_request(idea_id: int):
    idea = _idea(idea_id)
    if not ActionForm().validate():
        abort(400)
    try:
        document = issue_refund_request(idea, ops.refund_of(idea), current_user)
    except Refused as error:
        db.session.rollback()
        flash_refused(error)
    else:
        flash(_("Issued: %(file)s (version %(version)d).", file=document.filename, version=document.version), "success")
    return redirect(url_for("ideas.show", idea_id=idea.id) + "#payments", code=303)


@bp.route("/ideas/<int:idea_id>/refund/returned", methods=["GET", "POST"])
@role_required(ADMINISTRATOR)
def refund_returned(idea_id: int):
    idea = _idea(idea_id)
    refund = ops.refund_of(idea) or abort(404)
    form = ReturnForm() if request.method == "POST" else ReturnForm(formdata=None, amount=refund.to_return, returned_on=ops.today())
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                ops.record_return(refund, form.amount.data, form.returned_on.data, form.reference.data or "", current_user)
            except Refused as error:
                for name, message in error.fields.items():
                    getattr(form, name).errors = [message]
                flash_refused(Refused(error.messages)) if error.messages else None
            else:
                flash(_("The returned money is recorded."), "success")
                return redirect(url_for("ideas.show", idea_id=idea.id) + "#payments", code=303)
        db.session.refresh(refund)
    return render_template("payments/returned.html", idea=idea, refund=refund, form=form), status
