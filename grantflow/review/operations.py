"""Eligibility screening, assignment of evaluators, conflicts of interest and scoring: every
change of state of the evaluation, plus the guards the workflow names.

Points: each criterion is scored from 0 to its maximum in whole or half points (0.5 steps:
evaluators asked for finer judgement than whole points on a 10-point scale, and halves keep
the totals exact as Decimal)."""

from collections import Counter, defaultdict
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, Numeric, cast, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from grantflow.accounts.models import EVALUATOR, User, UserRole
from grantflow.accounts.operations import administrators
from grantflow.competitions import operations as competitions_ops
from grantflow.competitions.models import Competition
from grantflow.core.database import Conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.i18n import format_when
from grantflow.core.types import utcnow
from grantflow.ideas.models import Idea
from grantflow.ideas.operations import missing_fields, submission_window
from grantflow.mail.operations import queue_mail
from grantflow.organisations.models import LEGAL_FORMS, Membership
from grantflow.review import rounds
from grantflow.review.models import (
    CHECKLIST,
    Assignment,
    ConflictOfInterest,
    EligibilityCheck,
    Recommendation,
    Review,
    ReviewStatus,
    Score,
)
from grantflow.workflow import engine
from grantflow.workflow.registry import audit_kind, guard, part, workflow_for

HALF = Decimal("0.5")
ELIGIBLE_LEGAL_FORMS = frozenset(LEGAL_FORMS) - {"other"}
CONFLICT_SCOPES = ("idea", "organisation", "municipality")

# Screening's two outcomes fire the transitions the workflow names for them.
part("screen_accept", _l("Screening finds the idea eligible"), tag="screening", capability="screen")
part("screen_reject", _l("Screening finds the idea not eligible"), tag="screening", capability="screen")
audit_kind("review_submitted", _l("An evaluator submitted a review"), applicant_sees=False)
audit_kind("conflict_declared", _l("An evaluator declared a conflict of interest and stepped back"), applicant_sees=False)
audit_kind("evaluator_removed", _l("An evaluator was removed from the idea"), applicant_sees=False)


# --- the idea's stored score ----------------------------------------------------------------
def score_of(idea_id, round_id):
    """The idea's score as the ranking orders by it, as a correlated SQL expression: the mean
    of the weighted totals of its submitted reviews in the round under active assignments,
    rounded to hundredths by the database (NULL without one)."""
    return (
        select(func.round(cast(func.avg(cast(Review.total, Float)), Numeric), 2))
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(Review.idea_id == idea_id, Review.round_id == round_id, Review.status == ReviewStatus.SUBMITTED,
               Assignment.active.is_(True))  # fmt: skip
        .scalar_subquery()
    )


def refresh_score(*ideas: Idea, competition_id: int | None = None) -> None:
    """Store `ideas`' score (Idea.score, what the ranking and the funding board order by) as
    their reviews and assignments are now, and move their competitions' scores_version on
    (the ranking's evaluator scaling is kept by it); with `competition_id`, every idea of
    that competition (bulk loads). The one place that writes Idea.score: every operation
    that submits a review or activates or deactivates an assignment calls it before it
    commits. Flushes first, so pending changes count.

    The ideas' rows are locked first (PostgreSQL; SQLite writes one at a time anyway), so of
    two evaluators submitting on one idea at once the second waits for the first to commit
    and then computes from both reviews: the UPDATE that follows is a new statement, which
    sees what was committed meanwhile. The score counts the idea's current round only
    (review.rounds.current_round)."""

    db.session.flush()
    if competition_id is not None:
        where, competitions = Idea.competition_id == competition_id, [competition_id]
        by_round: dict = defaultdict(list)
        for state, round_id in rounds.round_ids_by_state(db.session.get(Competition, competition_id)).items():
            by_round[round_id].append(state)
        groups = [(round_id, Idea.state.in_(states)) for round_id, states in by_round.items()]
    else:
        if not ideas:
            return
        where = Idea.id.in_(sorted({idea.id for idea in ideas}))
        competitions = sorted({idea.competition_id for idea in ideas})
        by_idea: dict = defaultdict(set)
        for idea in ideas:
            by_idea[rounds.current_round_id(idea)].add(idea.id)
        groups = [(round_id, Idea.id.in_(sorted(ids))) for round_id, ids in by_idea.items()]
    # FOR NO KEY UPDATE, as an UPDATE of the row takes: it does not wait on the key-share locks
    # that the reviews' and audit rows' foreign keys take (FOR UPDATE would, and two
    # submissions on one idea would deadlock).
    db.session.execute(select(Idea.id).where(where).order_by(Idea.id).with_for_update(key_share=True)).all()
    for round_id, which in groups:
        db.session.execute(
            update(Idea)
            .where(where, which)
            .values(score=score_of(Idea.id, round_id))
            .execution_options(synchronize_session=False)
        )
    db.session.execute(
        update(Competition)
        .where(Competition.id.in_(competitions))
        .values(scores_version=Competition.scores_version + 1)
        .execution_options(synchronize_session=False)
    )
    for idea in ideas:
        db.session.expire(idea, ["score"])
    for obj in list(db.session.identity_map.values()):  # read again when next asked for
        if isinstance(obj, Competition) and obj.id in competitions:
            db.session.expire(obj, ["scores_version"])


# --- guards the workflow names --------------------------------------------------------------
@competitions_ops.usage("scoring")
def scoring_started(review_round) -> bool:
    """Once any review (even a draft) exists in the round, its criteria are fixed."""
    found = db.session.scalar(select(Review.id).where(Review.round_id == review_round.id).limit(1))
    return found is not None


def latest_check(idea) -> EligibilityCheck | None:
    return db.session.scalars(
        select(EligibilityCheck)
        .where(EligibilityCheck.idea_id == idea.id)
        .order_by(EligibilityCheck.checked_at.desc(), EligibilityCheck.id.desc())
        .limit(1)
    ).first()


@guard("screened_eligible", _l("Record an eligibility check with a positive outcome first."),
       _l("An eligibility check found the idea eligible"))
def screened_eligible(idea, ctx) -> bool:
    check = latest_check(idea)
    return check is not None and check.eligible


@guard("screened_ineligible", _l("Record an eligibility check with a negative outcome and its reason first."),
       _l("An eligibility check found the idea not eligible, with the reason"))
def screened_ineligible(idea, ctx) -> bool:
    check = latest_check(idea)
    return check is not None and not check.eligible


@guard("all_reviews_in", _l("Not all assigned reviews have been submitted."),
       _l("Every assigned evaluator has submitted their review"))
def all_reviews_in(idea, ctx) -> bool:
    """Every active assignment has its review submitted, and there are at least the
    competition's `evaluators_per_idea` of them: an evaluator who steps back (a conflict) or
    is removed leaves the idea waiting for a replacement, not settled with fewer reviews."""
    round_id = rounds.current_round_id(idea)
    if round_id is None:
        return False
    rows = db.session.execute(
        select(Assignment.id, Review.status)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.idea_id == idea.id, Assignment.round_id == round_id, Assignment.active.is_(True))
    ).all()
    submitted = sum(1 for _, status in rows if status == ReviewStatus.SUBMITTED)
    return bool(rows) and submitted == len(rows) and submitted >= idea.competition.evaluators_per_idea


def weighted_total(scores) -> Decimal:
    """A review's total on a 0–100 scale: each criterion's share of its maximum, weighted."""
    weights = sum((Decimal(s.criterion.weight) for s in scores), Decimal(0))
    if not weights:
        return Decimal("0.00")
    total = sum(
        (Decimal(s.points) / s.criterion.max_points * Decimal(s.criterion.weight) for s in scores), Decimal(0)
    )
    return (total / weights * 100).quantize(Decimal("0.01"))


# --- eligibility screening ------------------------------------------------------------------
def checklist_prefill(idea) -> dict[str, bool]:
    """What the server can tell about each checklist item; the administrator confirms."""
    competition = idea.competition
    return {
        "complete": not missing_fields(idea),
        "legal_form": idea.organisation.legal_form in ELIGIBLE_LEGAL_FORMS,
        "territory": idea.municipality_id is not None,
        "grant_limits": competition.min_grant <= idea.requested_amount <= competition.max_grant,
        # by the deadline of the stage it was submitted in (a concept's, a full proposal's)
        "deadline": idea.submitted_at is not None and idea.submitted_at <= submission_window(idea)[1],
    }


def screen(idea, admin, checklist: dict, eligible: bool, reason: str) -> EligibilityCheck:
    """Record the check and move the idea on (the workflow's `screen_accept` / `screen_reject`
    part, the reason as the transition's comment). All or nothing."""
    reason = (reason or "").strip()
    if not idea.has_tag("screening"):
        raise Refused([_("This idea is not waiting for an eligibility check.")])
    if not eligible and not reason:
        raise Refused([], {"reason": _("Give the reason why the idea is not eligible; the applicant will see it.")})
    if eligible and not all(checklist.get(item) for item in CHECKLIST):
        raise Refused([], {"outcome": _("An idea can be accepted only when every condition is met.")})
    check = EligibilityCheck(
        idea_id=idea.id,
        checklist={item: bool(checklist.get(item)) for item in CHECKLIST},
        eligible=eligible,
        reason=reason,
        checked_by_id=admin.id,
    )
    db.session.add(check)
    try:
        db.session.flush()
        engine.fire(idea, idea.workflow.part("screen_accept" if eligible else "screen_reject"), admin, reason)
    except Exception:  # refused or failed: the check goes with the step
        db.session.rollback()
        raise
    db.session.commit()
    return check


# --- evaluators, conflicts, assignment ------------------------------------------------------
def evaluators() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole)
            .where(UserRole.role == EVALUATOR, User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )


def covers(conflict: ConflictOfInterest, idea, orgs_of: dict | None = None) -> bool:
    """Whether the conflict concerns the idea. `orgs_of` maps a person to the organisations
    they are a member of (needed for conflicts with people; `person_organisations`)."""
    return (
        conflict.idea_id == idea.id
        or (conflict.organisation_id is not None and conflict.organisation_id == idea.organisation_id)
        or (conflict.municipality_id is not None and conflict.municipality_id == idea.municipality_id)
        or (
            conflict.person_id is not None
            and (conflict.person_id == idea.created_by_id or idea.organisation_id in (orgs_of or {}).get(conflict.person_id, ()))
        )
    )


def person_organisations(conflicts) -> dict[int, set[int]]:
    """For the people the conflicts name: the organisations each is a member of (one query)."""
    people = {c.person_id for c in conflicts if c.person_id is not None}
    orgs_of: dict[int, set[int]] = defaultdict(set)
    if people:
        for user_id, org_id in db.session.execute(
            select(Membership.user_id, Membership.organisation_id).where(Membership.user_id.in_(people))
        ):
            orgs_of[user_id].add(org_id)
    return orgs_of


def conflict_with(evaluator_id: int, idea) -> ConflictOfInterest | None:
    """The evaluator's conflict with this idea, its organisation, its municipality, a member
    of its organisation or the person who started it, declared or standing."""
    members = select(Membership.user_id).where(Membership.organisation_id == idea.organisation_id)
    clauses = [
        ConflictOfInterest.idea_id == idea.id,
        ConflictOfInterest.organisation_id == idea.organisation_id,
        ConflictOfInterest.person_id.in_(members),
    ]
    if idea.municipality_id is not None:
        clauses.append(ConflictOfInterest.municipality_id == idea.municipality_id)
    if idea.created_by_id is not None:
        clauses.append(ConflictOfInterest.person_id == idea.created_by_id)
    return db.session.scalars(
        select(ConflictOfInterest).where(ConflictOfInterest.evaluator_id == evaluator_id, or_(*clauses)).limit(1)
    ).first()


def active_assignment(idea, user) -> Assignment | None:
    """The user's active assignment on the idea in its current round."""
    return db.session.scalars(
        select(Assignment)
        .options(selectinload(Assignment.review))
        .where(Assignment.idea_id == idea.id, Assignment.evaluator_id == user.id, Assignment.active.is_(True),
               Assignment.round_id == rounds.current_round_id(idea))  # fmt: skip
    ).first()


def _assignable_refusal(idea, evaluator) -> str | None:
    if not idea.has_tag("scoring"):
        return _("Evaluators can be assigned only while the idea is being scored.")
    if rounds.current_round(idea) is None:
        return _("The competition has no review round for this stage; add it under Review rounds.")
    if not (evaluator.active and evaluator.has_role(EVALUATOR)):
        return _("%(name)s is not an evaluator.", name=evaluator.name)
    if conflict_with(evaluator.id, idea) is not None:
        return _("%(name)s has declared a conflict of interest with this idea.", name=evaluator.name)
    return None


def _activate(idea, evaluator, admin, existing: Assignment | None, round_id: int) -> Assignment:
    assignment = existing or Assignment(idea_id=idea.id, evaluator_id=evaluator.id, round_id=round_id)
    assignment.active = True
    assignment.removed_reason = ""
    assignment.assigned_by_id = admin.id
    assignment.assigned_at = utcnow()
    db.session.add(assignment)
    return assignment


def assign(idea, evaluator, admin) -> Assignment:
    """Assign by hand; an evaluator removed earlier is reactivated (their draft kept)."""
    refusal = _assignable_refusal(idea, evaluator)
    if refusal:
        raise Refused([refusal])
    round_id = rounds.current_round_id(idea)
    existing = db.session.scalars(
        select(Assignment).where(
            Assignment.idea_id == idea.id, Assignment.evaluator_id == evaluator.id, Assignment.round_id == round_id
        )
    ).first()
    if existing is not None and existing.active:
        raise Refused([_("%(name)s is already assigned to this idea.", name=evaluator.name)])
    assignment = _activate(idea, evaluator, admin, existing, round_id)
    refresh_score(idea)
    _commit_assignments()
    return assignment


def unassign(assignment: Assignment, admin, reason: str) -> None:
    """Remove an evaluator who has not submitted; the idea may then be complete."""
    if not assignment.active:
        raise Refused([_("This evaluator is not assigned any more.")])
    if assignment.review is not None and assignment.review.submitted:
        raise Refused([_("A submitted review cannot be withdrawn by removing its evaluator.")])
    assignment.active = False
    assignment.removed_reason = (reason or "").strip() or _("Removed by an administrator.")
    engine.record(assignment.idea, "evaluator_removed", admin, "", evaluator_id=assignment.evaluator_id)
    refresh_score(assignment.idea)
    engine.settle(assignment.idea)
    db.session.commit()


def auto_assign(competition, admin) -> tuple[int, list[Idea]]:
    """Give every idea being scored `evaluators_per_idea` evaluators: each time the least
    loaded evaluator in this competition (ties by id, so the result is deterministic), never
    one with a conflict or one removed from that idea before. Returns (assignments made,
    ideas still short of evaluators)."""
    scoring = Idea.state.in_(_states_tagged(competition, "scoring"))
    by_state = rounds.round_ids_by_state(competition)
    ideas = [
        idea
        for idea in db.session.scalars(
            select(Idea).where(Idea.competition_id == competition.id, scoring).order_by(Idea.id)
        ).all()
        if idea.state in by_state
    ]
    existing: dict[int, dict[int, Assignment]] = defaultdict(dict)
    load: Counter = Counter()
    for assignment, state in db.session.execute(
        select(Assignment, Idea.state).join(Idea, Idea.id == Assignment.idea_id).where(Idea.competition_id == competition.id)
    ):
        if assignment.round_id == by_state.get(state):  # the idea's current round only
            existing[assignment.idea_id][assignment.evaluator_id] = assignment
        if assignment.active:
            load[assignment.evaluator_id] += 1
    pool = evaluators()
    conflicts = defaultdict(list)
    every = db.session.scalars(
        select(ConflictOfInterest).where(ConflictOfInterest.evaluator_id.in_([e.id for e in pool]))
    ).all()
    for conflict in every:
        conflicts[conflict.evaluator_id].append(conflict)
    orgs_of = person_organisations(every)
    made, short = 0, []
    for idea in ideas:
        taken = existing[idea.id]
        need = competition.evaluators_per_idea - sum(1 for a in taken.values() if a.active)
        if need <= 0:
            continue
        candidates = sorted(
            (
                e
                for e in pool
                if e.id not in taken and not any(covers(c, idea, orgs_of) for c in conflicts[e.id])
            ),
            key=lambda e: (load[e.id], e.id),
        )
        for evaluator in candidates[:need]:
            taken[evaluator.id] = _activate(idea, evaluator, admin, None, by_state[idea.state])
            load[evaluator.id] += 1
            made += 1
        if len(candidates) < need:
            short.append(idea)
    # Only new assignments, none with a review yet: no idea's score changes.
    _commit_assignments()
    return made, short


def _commit_assignments() -> None:
    try:
        db.session.commit()
    except IntegrityError as error:  # another administrator assigned the same pair meanwhile
        db.session.rollback()
        raise Conflict(str(error)) from error


def _states_tagged(competition, tag: str) -> list[str]:

    return workflow_for(competition.workflow).states_tagged(tag)


def declare_conflict(idea, evaluator, scope: str, reason: str) -> ConflictOfInterest:
    """The evaluator steps back: the conflict is recorded, every unsubmitted assignment it
    covers is deactivated and audited, and the administrators are asked to reassign."""
    reason = (reason or "").strip()
    assignment = active_assignment(idea, evaluator)
    if assignment is None:
        raise Refused([_("You are not assigned to this idea.")])
    if assignment.review is not None and assignment.review.submitted:
        raise Refused([_("You have already submitted your review; ask an administrator if a conflict came to light.")])
    if scope not in CONFLICT_SCOPES:
        raise Refused([], {"scope": _("Choose what the conflict concerns.")})
    if not reason:
        raise Refused([], {"reason": _("Describe the conflict of interest.")})
    conflict = ConflictOfInterest(evaluator_id=evaluator.id, reason=reason)
    if scope == "idea":
        conflict.idea_id = idea.id
    elif scope == "organisation":
        conflict.organisation_id = idea.organisation_id
    else:
        conflict.municipality_id = idea.municipality_id
    db.session.add(conflict)
    step_back(conflict, evaluator, scope, reason)
    db.session.commit()
    return conflict


def step_back(conflict: ConflictOfInterest, evaluator, scope: str, reason: str) -> list[Assignment]:
    """Every active, unsubmitted assignment of the evaluator that `conflict` covers is
    deactivated and audited, and the administrators are asked to reassign. Does not commit;
    on a failure the session is rolled back and the error raised."""
    orgs_of = person_organisations([conflict])
    covered = [
        a
        for a in db.session.scalars(
            select(Assignment)
            .options(selectinload(Assignment.review), selectinload(Assignment.idea))
            .where(Assignment.evaluator_id == evaluator.id, Assignment.active.is_(True))
        )
        if covers(conflict, a.idea, orgs_of) and not (a.review is not None and a.review.submitted)
    ]
    admins = administrators()
    try:
        for a in covered:
            a.active = False
            a.removed_reason = _("Conflict of interest declared: %(reason)s", reason=reason)
            engine.record(a.idea, "conflict_declared", evaluator, "", scope=scope, reason=reason)
            for admin in admins:
                queue_mail(admin.email, "conflict_declared", locale=admin.locale, idea=a.idea,
                           evaluator=evaluator, reason=reason)  # fmt: skip
        refresh_score(*(a.idea for a in covered))  # once, the rows locked in one order
        for a in covered:
            engine.settle(a.idea)
    except Exception:
        db.session.rollback()
        raise
    return covered


# --- scoring --------------------------------------------------------------------------------
def parse_points(raw, criterion) -> Decimal | None:
    """Points typed by a person: blank is None; otherwise 0..max in steps of 0.5, or ValueError."""
    text = str(raw if raw is not None else "").strip().replace(",", ".")
    if not text:
        return None
    try:
        points = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("Enter a number, e.g. 7 or 7.5.")) from None
    if not points.is_finite() or points < 0 or points > criterion.max_points:
        raise ValueError(_("Points must be between 0 and %(max)s.", max=criterion.max_points))
    if (points / HALF) != (points / HALF).to_integral_value():
        raise ValueError(_("Use whole or half points (e.g. 7 or 7.5)."))
    return points


def scoring_refusal(idea, evaluator, now=None) -> str | None:
    """Why `evaluator` cannot score `idea` now, or None."""
    now = now or utcnow()
    assignment = active_assignment(idea, evaluator)
    if assignment is None:
        return _("You are not assigned to this idea.")
    if conflict_with(evaluator.id, idea) is not None:
        return _("You have declared a conflict of interest with this idea, so you cannot score it.")
    if assignment.review is not None and assignment.review.submitted:
        return _("You have already submitted your review of this idea; it cannot be changed.")
    if not idea.has_tag("scoring"):
        return _("This idea is not being scored now.")
    closes = assignment.round.evaluation_closes_at
    if closes is not None and now >= closes:
        return _("The evaluation closed on %(when)s; scores can no longer be changed.", when=format_when(closes))
    return None


def save_review(idea, evaluator, points: dict, comments: dict, recommendation: str, comment: str,
                submit: bool, now=None) -> Review:  # fmt: skip
    """Save the evaluator's draft, or submit it (the server computes the weighted total).
    `points`/`comments` map criterion ids to what was typed. All checked before anything is
    written; on submission the idea moves on by itself once every review is in."""
    now = now or utcnow()
    refusal = scoring_refusal(idea, evaluator, now)
    if refusal:
        raise Refused([refusal])
    assignment = active_assignment(idea, evaluator)
    criteria = assignment.round.criteria
    errors, values = {}, {}
    for criterion in criteria:
        key = f"points_{criterion.id}"
        try:
            values[criterion.id] = parse_points(points.get(criterion.id), criterion)
        except ValueError as error:
            errors[key] = str(error)
            continue
        note = (comments.get(criterion.id) or "").strip()
        if values[criterion.id] is None and (submit or note):
            errors[key] = _("Give the points for this criterion.")
    recommendation = (recommendation or "").strip()
    if recommendation not in (*Recommendation, "") or (submit and not recommendation):
        errors["recommendation"] = _("Choose your recommendation.")
    if errors:
        raise Refused([_("Nothing was saved: please correct the marked fields.")], errors)
    review = assignment.review or Review(
        assignment=assignment, idea_id=idea.id, evaluator_id=evaluator.id, round_id=assignment.round_id
    )
    db.session.add(review)
    kept = {score.criterion_id: score for score in review.scores}
    for criterion in criteria:
        value, score = values[criterion.id], kept.get(criterion.id)
        if value is None:
            if score is not None:
                review.scores.remove(score)
            continue
        if score is None:
            score = Score(criterion=criterion)
            review.scores.append(score)
        score.points = value
        score.comment = (comments.get(criterion.id) or "").strip()
    review.recommendation = recommendation
    review.comment = (comment or "").strip()
    try:
        db.session.flush()
        if submit:
            done = db.session.execute(
                update(Review)
                .where(Review.id == review.id, Review.status == ReviewStatus.DRAFT)
                .values(status=ReviewStatus.SUBMITTED, submitted_at=now, total=weighted_total(review.scores))
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:
                raise Refused([_("You have already submitted your review of this idea; it cannot be changed.")])
            db.session.expire(review)
            engine.record(idea, "review_submitted", evaluator)
            refresh_score(idea)
            engine.settle(idea)
    except IntegrityError as error:  # the same draft saved twice at once
        db.session.rollback()
        raise Conflict(str(error)) from error
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return review
