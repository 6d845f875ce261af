"""The idea page every role shares (each sees what its role allows) and workflow steps."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from grantflow.apply.models import Idea
from grantflow.auth.models import APPLICANT
from grantflow.extensions import db
from grantflow.i18n import pick
from grantflow.ideas.forms import TransitionForm
from grantflow.ideas.operations import history, take_step
from grantflow.types import utcnow
from grantflow.workflow import engine

bp = Blueprint("ideas", __name__, url_prefix="/ideas")


def idea_for(idea_id: int, user) -> Idea:
    """The idea if `user` may see it; 404 otherwise, so others' ideas are not even confirmed to exist."""
    idea = db.session.get(Idea, idea_id)
    if idea is None or not idea.can_view(user):
        abort(404)
    return idea


@bp.route("/<int:idea_id>")
@login_required
def show(idea_id: int):
    idea = idea_for(idea_id, current_user)
    roles = idea.roles_of(current_user)
    return render_template(
        "ideas/show.html",
        idea=idea,
        roles=roles,
        applicant_view=roles == {APPLICANT},
        history=history(idea, for_applicant=roles == {APPLICANT}),
        steps=engine.available(idea, current_user),
        form=TransitionForm(version=idea.version),
        demo_data=idea.is_demo,
    )


@bp.route("/<int:idea_id>/steps/<trigger>", methods=["POST"])
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
        take_step(idea, trigger, current_user, form.comment.data or "", received_at=received_at)
    except engine.TransitionRefused as refused:
        for reason in refused.reasons:
            flash(reason, "error")
        return redirect(url_for("ideas.show", idea_id=idea_id), code=303)
    idea = db.session.get(Idea, idea_id)
    flash(_("Done: the idea is now “%(state)s”.", state=pick(idea.state_def.label)), "success")
    return redirect(url_for("ideas.show", idea_id=idea_id), code=303)
