"""Evaluation pages: the evaluator's desk, scoring and conflicts; the administrators'
screening, assignment, ranking (with exports) and progress."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from grantflow.accounts.access import role_required
from grantflow.accounts.models import EVALUATOR, User
from grantflow.competitions.models import Competition
from grantflow.core import drafts
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.forms import ActionForm
from grantflow.core.safety import small_int
from grantflow.core.web import flash_refused
from grantflow.ideas import panels
from grantflow.ideas.forms import TARGET_GROUP_LABELS
from grantflow.ideas.models import PARTNER_KINDS, Idea
from grantflow.ideas.operations import asked_fields, other_answers, submission_window
from grantflow.ideas.views import idea_for
from grantflow.review import operations as ops
from grantflow.review import ranking as agg
from grantflow.review import rounds
from grantflow.review.forms import (
    CHECKLIST_LABELS,
    RECOMMENDATION_LABELS,
    AssignForm,
    ConflictForm,
    RemoveForm,
    ScreeningForm,
    score_form,
)
from grantflow.review.models import CHECKLIST, Assignment, Review, ReviewStatus
from grantflow.workflow.registry import workflow_for

bp = Blueprint("review", __name__, url_prefix="/review")

@bp.app_context_processor
def statuses():
    """The review statuses, for templates that compare one (the desk is also on the home page)."""
    return {"ReviewStatus": ReviewStatus}

@panels.panel("evaluation", order=300)
def evaluation_panel(idea, user, roles) -> panels.Panel:
    """What the shared idea page shows about the evaluation to this user: the eligibility
    outcome (the applicant sees the reason), the administrator's and the evaluator's links."""
    check = ops.latest_check(idea)
    panel = {"check": check, "assignment": None, "screen": idea.can_screen(user), "assign": idea.can_assign(user),
             "reviews": idea.can_see_reviews(user)}  # fmt: skip
    panel["admin"] = panel["screen"] or panel["assign"] or panel["reviews"]  # staff: any of the links
    if user.has_role(EVALUATOR):
        panel["assignment"] = ops.active_assignment(idea, user)
    return panels.Panel("review/_idea_panel.html", {"idea": idea, "panel": panel})

# --- evaluator ------------------------------------------------------------------------------
@bp.route("/")
@role_required(EVALUATOR)
def desk():
    return render_template("review/desk.html", desk=agg.desk(current_user))

def _scoring_context(idea_id: int):
    """The idea if the current user is actively assigned to it; 404 for everyone else."""
    idea = idea_for(idea_id, current_user)
    assignment = ops.active_assignment(idea, current_user)
    if assignment is None:
        abort(404)
    return idea, assignment

@bp.route("/ideas/<int:idea_id>/score", methods=["GET", "POST"])
@login_required
def score(idea_id: int):
    idea, assignment = _scoring_context(idea_id)
    criteria = assignment.round.criteria
    review = assignment.review
    form = score_form(criteria, review)
    if drafts.is_autosave():
        return _autosave(idea, form, criteria)
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("Nothing was saved: please correct the marked fields."), "error")
        else:
            submit = "submit" in request.form
            try:
                ops.save_review(
                    idea, current_user,
                    points={c.id: form[f"points_{c.id}"].data for c in criteria},
                    comments={c.id: form[f"comment_{c.id}"].data for c in criteria},
                    recommendation=form.recommendation.data, comment=form.comment.data, submit=submit,
                )  # fmt: skip
            except Refused as refused:
                flash_refused(refused)
                for name, message in refused.fields.items():
                    form[name].errors = [message]
                return render_template(**_score_page(idea, assignment, form)), 422 if refused.fields else 409
            flash(_("Your review has been submitted.") if submit else _("Your draft has been saved."), "success")
            return redirect(url_for("review.score", idea_id=idea.id), code=303)
    return render_template(**_score_page(idea, assignment, form))

def _autosave(idea, form, criteria):
    """The background save while the evaluator types (core.drafts): kept as a draft review
    when the points are readable; otherwise not saved, and "Save" then marks the fields."""
    if not form.validate_on_submit():
        return drafts.autosave_refused(422)
    try:
        ops.save_review(
            idea, current_user,
            points={c.id: form[f"points_{c.id}"].data for c in criteria},
            comments={c.id: form[f"comment_{c.id}"].data for c in criteria},
            recommendation=form.recommendation.data, comment=form.comment.data, submit=False,
        )  # fmt: skip
    except Refused:
        db.session.rollback()
        return drafts.autosave_refused()
    return drafts.autosaved()


def _score_page(idea, assignment, form) -> dict:
    review = assignment.review
    return {
        "template_name_or_list": "review/score.html",
        "idea": idea,
        "review": review,
        "form": form,
        "criteria": assignment.round.criteria,
        "review_round": assignment.round,
        "asked": asked_fields(idea),
        "other_answers": other_answers(idea),
        "refusal": ops.scoring_refusal(idea, current_user),
        "others": _visible_reviews(idea, assignment.round_id, exclude=current_user.id),
        "conflict_form": ConflictForm(formdata=None),
        "recommendations": RECOMMENDATION_LABELS,
        "target_group_labels": TARGET_GROUP_LABELS,
        "partner_kinds": PARTNER_KINDS,
        "demo_data": idea.is_demo,
    }

def _visible_reviews(idea, round_id: int | None, exclude: int | None = None) -> list[Review]:
    """The reviews of the idea in the round that the current user may see (Review.can_see)."""
    reviews = db.session.scalars(
        select(Review)
        .join(Assignment, Assignment.id == Review.assignment_id)
        .options(selectinload(Review.scores), selectinload(Review.assignment).joinedload(Assignment.evaluator))
        .where(Review.idea_id == idea.id, Review.round_id == round_id, Assignment.active.is_(True))
        .order_by(Review.submitted_at, Review.id)
    ).all()
    return [r for r in reviews if r.evaluator_id != exclude and r.can_see(current_user)]

@bp.route("/ideas/<int:idea_id>/conflict", methods=["POST"])
@login_required
def conflict(idea_id: int):
    idea, assignment = _scoring_context(idea_id)
    form = ConflictForm()
    if form.validate_on_submit():
        try:
            ops.declare_conflict(idea, current_user, form.scope.data, form.reason.data)
        except Refused as refused:
            flash_refused(refused)
            for name, message in refused.fields.items():
                form[name].errors = [message]
        else:
            flash(_("Your conflict of interest is recorded; the administrators will assign someone else."), "success")
            return redirect(url_for("review.desk"), code=303)
    else:
        flash(_("Nothing was saved: please correct the marked fields."), "error")
    page = _score_page(idea, assignment, score_form(assignment.round.criteria, assignment.review))
    page["conflict_form"] = form
    return render_template(**page), 422

@bp.route("/ideas/<int:idea_id>/reviews")
@login_required
def reviews(idea_id: int):
    """All reviews of an idea the user may see, with the idea's aggregate. Evaluators get
    here only once they have submitted their own."""
    idea = idea_for(idea_id, current_user)
    review_round = rounds.current_round(idea)
    if not idea.can_see_reviews(current_user):
        assignment = ops.active_assignment(idea, current_user)
        if assignment is None or assignment.review is None or not assignment.review.submitted:
            abort(404)
    else:  # staff see earlier rounds too
        chosen = request.args.get("round")
        review_round = next((r for r in idea.competition.rounds if str(r.id) == chosen), review_round)
    round_id = review_round.id if review_round is not None else None
    return render_template(
        "review/reviews.html",
        idea=idea,
        review_round=review_round,
        reviews=_visible_reviews(idea, round_id),
        summary=agg.idea_summary(idea, round_id),
        criteria=review_round.criteria if review_round is not None else [],
        recommendations=RECOMMENDATION_LABELS,
        demo_data=idea.is_demo,
    )

# --- administrator: screening ---------------------------------------------------------------
@bp.route("/ideas/<int:idea_id>/screening", methods=["GET", "POST"])
@login_required
def screening(idea_id: int):
    idea = db.session.get(Idea, idea_id) or abort(404)
    if not idea.can_screen(current_user):
        abort(403)
    prefill = ops.checklist_prefill(idea)
    form = ScreeningForm(data=prefill) if request.method == "GET" else ScreeningForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            checklist = {item: form[item].data for item in CHECKLIST}
            try:
                ops.screen(idea, current_user, checklist, form.outcome.data == "eligible", form.reason.data)
            except Refused as refused:
                flash_refused(refused)
                for name, message in refused.fields.items():
                    form[name].errors = [message]
                status = 422
            else:
                flash(_("The eligibility check is recorded."), "success")
                return redirect(url_for("ideas.show", idea_id=idea.id), code=303)
        else:
            status = 422
    return (
        render_template(
            "review/screening.html",
            idea=idea,
            form=form,
            prefill=prefill,
            checklist=CHECKLIST,
            labels=CHECKLIST_LABELS,
            check=ops.latest_check(idea),
            deadline=submission_window(idea)[1],
            demo_data=idea.is_demo,
        ),
        status,
    )

# --- administrator: assignment --------------------------------------------------------------
def _competition(competition_id: int) -> Competition:
    return db.session.get(Competition, competition_id) or abort(404)

@bp.route("/competitions/<int:competition_id>/assignments")
@login_required
def assignments(competition_id: int):
    competition = _competition(competition_id)
    if not competition.can_assign(current_user):
        abort(403)
    workflow = workflow_for(competition.workflow)
    ideas = db.session.scalars(
        select(Idea)
        .where(Idea.competition_id == competition.id, Idea.state.in_(workflow.states_tagged("scoring")))
        .order_by(Idea.reference, Idea.id)
    ).all()
    rows = db.session.execute(
        select(Assignment, Review.status)
        .options(selectinload(Assignment.evaluator))
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.idea_id.in_([i.id for i in ideas]))
        .order_by(Assignment.assigned_at, Assignment.id)
    ).all()
    # Each idea's assignments in its current round only: in a second round the first round's
    # reviews are done, and the same evaluator may be assigned again.
    round_of = rounds.round_ids_by_state(competition)
    current = {i.id: round_of.get(i.state) for i in ideas}
    by_idea: dict[int, list] = {i.id: [] for i in ideas}
    for assignment, status in rows:
        if assignment.round_id == current[assignment.idea_id]:
            by_idea[assignment.idea_id].append((assignment, status))
    by_id = {r.id: r for r in competition.rounds}
    round_of_idea = {idea_id: by_id.get(round_id) for idea_id, round_id in current.items()}
    pool = ops.evaluators()
    form = AssignForm(formdata=None)
    # Nothing preselected: the first evaluator was offered on every row, already assigned or not.
    form.evaluator_id.choices = [SelectChoice("", _("— choose an evaluator —"))] + [SelectChoice(str(e.id), e.name) for e in pool]
    return render_template(
        "review/assignments.html",
        competition=competition,
        ideas=ideas,
        by_idea=by_idea,
        round_of_idea=round_of_idea,
        form=form,
        action=ActionForm(),
        remove=RemoveForm(),
        demo_data=competition.is_demo,
    )

@bp.route("/competitions/<int:competition_id>/assignments/auto", methods=["POST"])
@login_required
def auto_assign(competition_id: int):
    competition = _competition(competition_id)
    if not competition.can_assign(current_user):
        abort(403)
    if ActionForm().validate_on_submit():
        made, short = ops.auto_assign(competition, current_user)
        flash(_("%(count)d assignment(s) made.", count=made), "success")
        if short:
            flash(
                _("Not enough evaluators without a conflict for: %(ideas)s",
                  ideas=", ".join(i.reference or i.title for i in short)),
                "error",
            )  # fmt: skip
    return redirect(url_for("review.assignments", competition_id=competition.id), code=303)

@bp.route("/ideas/<int:idea_id>/assignments", methods=["POST"])
@login_required
def assign(idea_id: int):
    idea = db.session.get(Idea, idea_id) or abort(404)
    if not idea.can_assign(current_user):
        abort(403)
    form = AssignForm()
    form.evaluator_id.choices = [SelectChoice(str(e.id), e.name) for e in ops.evaluators()]
    if not form.validate_on_submit():
        flash(_("Choose an evaluator."), "error")
    else:
        evaluator = db.session.get(User, form.evaluator_id.data) or abort(404)
        try:
            ops.assign(idea, evaluator, current_user)
        except Refused as refused:
            flash_refused(refused)
        else:
            flash(_("%(name)s is assigned.", name=evaluator.name), "success")
    return redirect(url_for("review.assignments", competition_id=idea.competition_id) + f"#idea-{idea.id}", code=303)

@bp.route("/assignments/<int:assignment_id>/remove", methods=["POST"])
@login_required
def unassign(assignment_id: int):
    assignment = db.session.get(Assignment, assignment_id) or abort(404)
    if not assignment.idea.can_moderate(current_user):
        abort(403)
    competition_id = assignment.idea.competition_id
    form = RemoveForm()
    if form.validate_on_submit():
        try:
            ops.unassign(assignment, current_user, form.reason.data or "")
        except Refused as refused:
            flash_refused(refused)
        else:
            flash(_("The evaluator is removed from the idea."), "success")
    return redirect(url_for("review.assignments", competition_id=competition_id), code=303)

# --- administrator: ranking and progress ----------------------------------------------------
@bp.route("/competitions/<int:competition_id>/ranking")
@login_required
def ranking(competition_id: int):
    competition = _competition(competition_id)
    if not competition.can_see_reviews(current_user):
        abort(403)
    filters = agg.Filters.from_args(request.args, competition)
    page = request.args.get("page", "1")
    result = agg.ranking(competition, filters, page=small_int(page, maximum=100_000) or 1)
    return render_template(
        "review/ranking.html",
        competition=competition,
        workflow=workflow_for(competition.workflow),
        result=result,
        filters=filters,
        review_round=next((r for r in competition.rounds if r.id == result.round_id), None),
        round_endpoint="review.ranking",
        round_args={k: v for k, v in filters.as_args().items() if k != "round"} | {"competition_id": competition.id},
        municipalities=agg.municipalities_in(competition.id),
        target_groups=agg.TARGET_GROUP_LABELS,
        demo_data=competition.is_demo,
        # Exports are the administrators' (their page holds the files): staff who read the ranking
        # are not offered a button that would refuse them.
        export_form=ActionForm() if current_user.is_admin else None,
    )

@bp.route("/competitions/<int:competition_id>/progress")
@login_required
def progress(competition_id: int):
    competition = _competition(competition_id)
    if not competition.can_assign(current_user):
        abort(403)
    return render_template(
        "review/progress.html",
        competition=competition,
        rows=agg.progress_by_evaluator(competition.id),
        demo_data=competition.is_demo,
    )
