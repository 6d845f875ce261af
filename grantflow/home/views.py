"""The front door: the home page for each role, the language switch, the health check."""

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from grantflow.apply.models import Idea
from grantflow.auth.models import MUNICIPALITY
from grantflow.competitions.models import Competition
from grantflow.extensions import csrf, db
from grantflow.home.operations import applicant_overview, impact_figures
from grantflow.safety import safe_next
from grantflow.types import utcnow

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    now = utcnow()
    open_competitions = db.session.scalars(
        select(Competition).where(Competition.opens_at <= now, Competition.closes_at > now).order_by(Competition.closes_at)
    ).all()
    context = {"open_competitions": open_competitions, "impact": impact_figures()}
    context["demo_data"] = any(c.is_demo for c in open_competitions) or context["impact"]["demo"]
    if not current_user.is_authenticated:
        return render_template("home/public.html", **context)
    ideas_of = lambda *where: db.session.scalars(  # noqa: E731
        select(Idea)
        .options(joinedload(Idea.competition), joinedload(Idea.organisation), joinedload(Idea.municipality))
        .where(*where)
        .order_by(Idea.updated_at.desc())
    ).all()
    org_ids = current_user.organisation_ids()
    if org_ids:
        context["my_ideas"] = ideas_of(Idea.organisation_id.in_(org_ids))
        context["overview"] = applicant_overview(context["my_ideas"])
    if current_user.has_role(MUNICIPALITY) and current_user.municipality_id:
        context["municipality_ideas"] = ideas_of(
            Idea.municipality_id == current_user.municipality_id, Idea.reference.is_not(None)
        )
    return render_template("home/index.html", **context)


@bp.route("/language", methods=["POST"])
def set_language():
    language = request.form.get("language")
    if language in current_app.config["LANGUAGES"]:
        session["locale"] = language
    return redirect(safe_next(request.form.get("next")) or url_for("home.index"), code=303)


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
