"""The funding board, the decision page and the municipality's answer on its commitments."""

from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from grantflow.accounts.models import MUNICIPALITY
from grantflow.competitions.models import Competition
from grantflow.core import drafts
from grantflow.core.database import Conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.i18n import format_money, format_points, pick
from grantflow.core.web import flash_refused
from grantflow.funding import operations as ops
from grantflow.funding.forms import CooperationForm, FundForm, PartialForm, RejectForm
from grantflow.funding.models import DecisionKind
from grantflow.ideas import panels
from grantflow.ideas.models import Idea

bp = Blueprint("funding", __name__, url_prefix="/decide")
FORMS = {"fund": FundForm, "partial": PartialForm, "reject": RejectForm}


@bp.app_context_processor
def helpers():
    """Scores as the board, the decision page and the letters show them (formatting; no query)."""
    return {"points": lambda value: format_points(value, empty="—")}


@panels.panel("funding", order=400)
def funding_panel(idea, user, roles) -> panels.Panel:
    """The decision and the municipality's cooperation on the shared idea page."""
    decision = ops.decision_of(idea)
    return panels.Panel(
        "funding/_idea.html",
        {
            "idea": idea,
            "roles": roles,
            "decision": decision,
            # A grant raised by an amendment: the decision this one replaced, kept as it was.
            "earlier": ops.earlier_decision(decision) if decision is not None else None,
            "coop": ops.latest_confirmation(idea),
            # Only the municipality may answer (the operation asks the same); `roles` saves asking again.
            "can_answer_cooperation": MUNICIPALITY in roles and ops.can_answer_cooperation(idea, user),
        },
    )


def _stamp(form, idea, committed):
    form.version.data = idea.version
    form.committed.data = str(committed)
    return form


def _idea_or_404(idea_id: int) -> Idea:
    idea = db.session.get(Idea, idea_id)
    if idea is None or not idea.can_view(current_user):
        abort(404)
    return idea


@bp.route("/competitions/<int:competition_id>")
@login_required
def board(competition_id: int):
    competition = db.session.get(Competition, competition_id) or abort(404)
    if not competition.can_fund(current_user):
        abort(403)
    balance = request.args.get("balance") == "1"
    page = request.args.get("page", "1")
    data = ops.board(competition, balance=balance, page=int(page) if page.isdigit() else 1)
    # One "fund in full" form for the page's rows: each row's copy differs only in the idea's
    # version (the template renders that field per row), so a page of 100 rows builds one form
    # and one CSRF token instead of a hundred.
    fund_form = FundForm(formdata=None, prefix="fund")
    fund_form.committed.data = str(data.committed)
    return render_template("funding/board.html", board=data, balance=balance, fund_form=fund_form,
                           demo_data=competition.is_demo, page_args={"balance": "1"} if balance else {})  # fmt: skip


def _grant_lines(idea):
    return [line for line in idea.budget_lines if not line.own]


def _decide_page(idea, fund=None, partial=None, reject=None, status=200):
    committed = ops.committed(idea.competition_id)
    lines = _grant_lines(idea)
    if partial is None:
        partial = PartialForm(formdata=None, prefix="partial", lines=[line.total for line in lines])
    return render_template(
        "funding/decide.html",
        idea=idea,
        lines=lines,
        committed=committed,
        remaining=idea.competition.budget - committed,
        score=ops.score_summary(idea),
        fund=fund or _stamp(FundForm(formdata=None, prefix="fund"), idea, committed),
        partial=partial if partial.version.data else _stamp(partial, idea, committed),
        reject=reject or _stamp(RejectForm(formdata=None, prefix="reject"), idea, committed),
        demo_data=idea.is_demo,
    ), status


@bp.route("/ideas/<int:idea_id>")
@login_required
def decide_page(idea_id: int):
    idea = _idea_or_404(idea_id)
    if not idea.can_fund(current_user):
        abort(403)
    if not idea.has_tag("decidable"):
        flash(_("This idea cannot be decided now: it is “%(state)s”.", state=pick(idea.state_def.label)), "error")
        return redirect(url_for("ideas.show", idea_id=idea.id), code=303)
    return _decide_page(idea)


@bp.route("/ideas/<int:idea_id>", methods=["POST"])
@login_required
def decide(idea_id: int):
    idea = _idea_or_404(idea_id)
    if not idea.can_fund(current_user):
        abort(403)
    board_url = url_for("funding.board", competition_id=idea.competition_id)
    if not idea.has_tag("decidable"):
        flash(_("This idea cannot be decided now: it is “%(state)s”.", state=pick(idea.state_def.label)), "error")
        return redirect(board_url, code=303)
    name = request.form.get("action", "fund")
    if name not in FORMS:
        abort(400)
    form = FORMS[name](prefix=name)
    action = DecisionKind.REJECT if name == "reject" else DecisionKind.FUND
    if not form.validate():
        if form.errors.keys() & {"version", "committed", "csrf_token"}:
            flash(_("The form was incomplete or had expired. Nothing was changed; please try again."), "error")
            return redirect(board_url, code=303)
        return _decide_page(idea, **{name: form}, status=422)
    params = {}
    if isinstance(form, PartialForm):
        lines = _grant_lines(idea)
        if len(form.lines.entries) != len(lines):
            flash(_("The budget lines changed meanwhile. Nothing was changed; please try again."), "error")
            return redirect(url_for("funding.decide_page", idea_id=idea.id), code=303)
        granted = form.granted(lines, idea.requested_amount)
        if granted is None:
            return _decide_page(idea, partial=form, status=422)
        params = {"amount": granted[0], "adjusted_budget": granted[1]}
    try:
        version, seen = int(form.version.data), Decimal(form.committed.data)
    except (ValueError, InvalidOperation):
        abort(400)
    try:
        reason = form.reason.data if isinstance(form, PartialForm | RejectForm) else ""
        decision = ops.decide(idea, current_user, action, reason=reason, version=version, committed_seen=seen, **params)
    except Conflict:
        flash(_("Another administrator decided at the same moment. Nothing was changed; here is the current state."), "error")
        return redirect(board_url, code=303)
    except Refused as refused:
        flash_refused(refused)
        return redirect(board_url, code=303)
    if decision.funds:
        flash(_("Funded: %(title)s, %(amount)s (decision %(number)s).", title=idea.title, amount=format_money(decision.amount), number=decision.number), "success")
    else:
        flash(_("Rejected: %(title)s (decision %(number)s).", title=idea.title, number=decision.number), "success")
    return redirect(board_url, code=303)


@bp.route("/ideas/<int:idea_id>/cooperation", methods=["GET", "POST"])
@login_required
def cooperation(idea_id: int):
    idea = _idea_or_404(idea_id)
    if not ops.can_answer_cooperation(idea, current_user):
        abort(404 if not idea.can_view(current_user) else 403)
    latest = ops.latest_confirmation(idea)
    form = CooperationForm(obj=latest) if request.method == "GET" and latest else CooperationForm()
    if request.method == "GET":
        form.comment.data = ""
        form.authority_name.data = form.authority_name.data or ops.authority_name(idea.municipality)
        form.signatory_name.data = form.signatory_name.data or current_user.name
    # Autosave: what the representative types is kept (core.drafts) until the answer is sent.
    if drafts.is_autosave():
        return drafts.keep(form)
    drafts.restore(form)
    if form.validate_on_submit():
        drafts.forget()  # committed with the answer; a refused answer rolls back and keeps it
        details = {} if form.comment_only.data else {
            name: getattr(form, name).data.strip() if isinstance(getattr(form, name).data, str) else getattr(form, name).data
            for name in CooperationForm.DETAILS
        }
        try:
            ops.answer_cooperation(idea, current_user, confirmed=not form.comment_only.data, comment=form.comment.data or "", **details)
        except Refused as refused:
            flash_refused(refused)
            return redirect(url_for("funding.cooperation", idea_id=idea.id), code=303)
        flash(_("Thank you: the municipality's commitments are confirmed.") if not form.comment_only.data
              else _("Your comment was sent; the commitments are not confirmed yet."), "success")
        return redirect(url_for("ideas.show", idea_id=idea.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("funding/cooperation.html", idea=idea, form=form, latest=latest, demo_data=idea.is_demo), status
