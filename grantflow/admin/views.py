"""Administrators' overview: competitions, their ideas and states, and the workflow picture."""

from flask import Blueprint, Response, abort, current_app, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from grantflow.apply.models import Idea
from grantflow.auth.access import role_required
from grantflow.auth.models import ADMINISTRATOR
from grantflow.competitions.models import Competition
from grantflow.decide.operations import committed
from grantflow.extensions import db
from grantflow.i18n import locale_code
from grantflow.workflow import diagram

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@role_required(ADMINISTRATOR)
def competitions():
    rows = db.session.execute(
        select(Competition, func.count(Idea.id))
        .outerjoin(Idea, Idea.competition_id == Competition.id)
        .group_by(Competition.id)
        .order_by(Competition.opens_at.desc())
    ).all()
    return render_template(
        "admin/competitions.html", rows=rows, demo_data=any(c.is_demo for c, _ in rows)
    )


@bp.route("/competitions/<int:competition_id>")
@role_required(ADMINISTRATOR)
def competition(competition_id: int):
    competition = db.session.get(Competition, competition_id) or abort(404)
    workflow = current_app.extensions["grantflow.workflows"][competition.workflow]
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
        "admin/competition.html",
        competition=competition,
        workflow=workflow,
        ideas=ideas,
        counts=counts,
        state=state,
        committed=committed(competition.id),
        demo_data=competition.is_demo,
    )


@bp.route("/workflows/<name>")
@role_required(ADMINISTRATOR)
def workflow(name: str):
    workflow = current_app.extensions["grantflow.workflows"].get(name) or abort(404)
    return render_template("admin/workflow.html", workflow=workflow)


@bp.route("/workflows/<name>.svg")
@role_required(ADMINISTRATOR)
def workflow_svg(name: str):
    workflow = current_app.extensions["grantflow.workflows"].get(name) or abort(404)
    return Response(diagram.svg(workflow, locale_code()), mimetype="image/svg+xml")
