"""Pages made of several areas: the home page for each role, the administrators' overview of
competitions and their ideas; the language switch and the health check."""

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from grantflow.accounts.access import role_required
from grantflow.accounts.models import ADMINISTRATOR, EVALUATOR, MUNICIPALITY
from grantflow.competitions import operations as competitions_ops
from grantflow.competitions.models import Competition
from grantflow.core.extensions import csrf, db
from grantflow.core.safety import safe_next
from grantflow.core.types import utcnow
from grantflow.core.web import public_page
from grantflow.documents.models import BATCH_STATUS_LABELS
from grantflow.documents.tasks import batches_of
from grantflow.funding.operations import committed
from grantflow.ideas.models import Idea
from grantflow.mail import operations as mail_ops
from grantflow.mail.models import STATUS_LABELS, MailStatus
from grantflow.pages.desks import administrator_desk, ideas_with_context, municipality_desk
from grantflow.pages.operations import applicant_overview, impact_figures
from grantflow.questionnaires import operations as forms_ops
from grantflow.review.ranking import desk as evaluation_desk
from grantflow.workflow.registry import WorkflowUnavailable, broken_workflows, workflow_for

bp = Blueprint("pages", __name__)


@bp.route("/")
@public_page
def index():
    now = utcnow()
    open_competitions = competitions_ops.open_competitions(now)
    context = {"open_competitions": open_competitions, "impact": impact_figures()}
    context["demo_data"] = any(c.is_demo for c in open_competitions) or context["impact"]["demo"]
    if not current_user.is_authenticated:
        return render_template("pages/public.html", **context)
    org_ids = current_user.organisation_ids()
    if org_ids:
        ideas = ideas_with_context(Idea.organisation_id.in_(org_ids))
        context["overview"] = overview = applicant_overview(ideas)
        # What waits for the applicant first (a draft to submit, a report to file), then the rest,
        # each group most recently changed first.
        context["my_ideas"] = sorted(ideas, key=lambda idea: not (overview[idea.id]["next"] or (None, None))[1])
    if current_user.is_admin:
        context["tasks"] = administrator_desk(now)
    if current_user.has_role(EVALUATOR):
        context["desk"] = evaluation_desk(current_user)
    if current_user.has_role(MUNICIPALITY) and current_user.municipalities:
        context["municipality_ideas"] = ideas_with_context(
            Idea.municipality_id.in_(current_user.municipality_ids()), Idea.reference.is_not(None)
        )
        context["confirmations"] = municipality_desk(context["municipality_ideas"])
    return render_template("pages/index.html", **context)


@bp.route("/language", methods=["POST"])
def set_language():
    language = request.form.get("language")
    if language in current_app.config["LANGUAGES"]:
        session["locale"] = language
    return redirect(safe_next(request.form.get("next")) or url_for("pages.index"), code=303)


@bp.route("/privacy")
@public_page
def privacy():
    return render_template("pages/privacy.html")


@bp.route("/accessibility")
@public_page
def accessibility():
    return render_template("pages/accessibility.html")


@bp.route("/healthz")
@csrf.exempt
def healthz():
    """200 with {"database": "ok"} when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError as error:
        db.session.rollback()
        return jsonify(status="error", database="unreachable", error=type(error).__name__), 503
    return jsonify(status="ok", database="ok")


@bp.route("/admin/")
@role_required(ADMINISTRATOR)
def competitions():
    rows = db.session.execute(
        select(Competition, func.count(Idea.id))
        .outerjoin(Idea, Idea.competition_id == Competition.id)
        .group_by(Competition.id)
        .order_by(Competition.opens_at.desc())
    ).all()
    broken = broken_workflows()
    return render_template(
        "pages/competitions.html",
        rows=rows,
        demo_data=any(c.is_demo for c, _ in rows),
        broken_workflows=broken,
        broken_forms=forms_ops.broken_forms(),
        workflow_labels={name: w.label for name, w in current_app.extensions["grantflow.workflows"].items()},
        # a workflow that did not load is shown as unavailable, with the file that declares it
        broken_sources={b.name: b.source for b in broken if b.name},
    )


@bp.route("/admin/competitions/<int:competition_id>")
@role_required(ADMINISTRATOR)
def competition(competition_id: int):
    competition = db.session.get(Competition, competition_id) or abort(404)
    workflow = workflow_for(competition.workflow)
    state = request.args.get("state")
    query = (
        select(Idea)
        .options(joinedload(Idea.organisation), joinedload(Idea.municipality), joinedload(Idea.competition))
        .where(Idea.competition_id == competition.id)
        .order_by(Idea.reference.is_(None), Idea.reference, Idea.id)
    )
    if state in workflow.states:
        query = query.where(Idea.state == state)
    ideas = db.session.scalars(query).all()
    counts = dict(
        db.session.execute(
            select(Idea.state, func.count(Idea.id)).where(Idea.competition_id == competition.id).group_by(Idea.state)
        ).all()
    )
    return render_template(
        "pages/competition.html",
        competition=competition,
        workflow=workflow,
        ideas=ideas,
        counts=counts,
        state=state,
        committed=committed(competition.id),
        demo_data=competition.is_demo,
        batches=batches_of(competition.id),
        batch_status_labels=BATCH_STATUS_LABELS,
    )


@bp.route("/admin/outbox")
@role_required(ADMINISTRATOR)
def outbox():
    """Every mail GrantFlow wrote, newest first, with its links: in development (no mail
    server) this is where confirmation and invitation links are read."""
    status = request.args.get("status") or None
    mails = mail_ops.recent(100, status)
    return render_template(
        "pages/outbox.html",
        mails=mails,
        unwritten={mail.id: label for mail in mails if (label := mail_ops.unwritten_label(mail)) is not None},
        reasons={mail.id: mail_ops.failure_reason(mail.last_error) for mail in mails if mail.last_error},
        status=status,
        statuses=list(MailStatus),
        mail_status_labels=STATUS_LABELS,
    )


@bp.app_errorhandler(WorkflowUnavailable)
def workflow_unavailable(error: WorkflowUnavailable):
    """Any page of a competition whose workflow did not load: it says so, not a server error;
    administrators see which file is broken and why."""
    db.session.rollback()
    broken = []
    if current_user.is_authenticated and current_user.has_role(ADMINISTRATOR):
        broken = broken_workflows(error.name) or broken_workflows()
    return render_template("pages/workflow_unavailable.html", name=error.name, broken_workflows=broken), 503
