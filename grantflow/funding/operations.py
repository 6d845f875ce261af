"""Funding decisions: the board (built on the review area's ranking), the suggestion, the
money side of the fund and reject transitions, and the municipality's confirmation of its
commitments."""

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, and_, case, func, or_, select, type_coerce
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import selectinload

from grantflow.accounts.models import MUNICIPALITY
from grantflow.competitions import operations as competitions_ops
from grantflow.competitions.models import Competition, Criterion
from grantflow.core.database import Conflict, is_conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.i18n import format_money, format_points
from grantflow.core.types import CENT, utcnow
from grantflow.funding.models import CooperationConfirmation, Decision, DecisionKind, current_ids
from grantflow.ideas.models import Idea
from grantflow.review.models import Assignment, Review, ReviewStatus, Score
from grantflow.review.ranking import Filters, ranked, round_of
from grantflow.review.rounds import current_round_id
from grantflow.workflow import engine
from grantflow.workflow.registry import audit_kind, effect, guard, part, workflow_for

# The municipality's answers to an idea (answer_cooperation); the comment is theirs.
# The funding board's and the municipality's steps fire the transitions the workflow names.
part("fund", _l("The funding board funds the idea in full"), tag="decidable", capability="fund")
part("part_fund", _l("The funding board funds part of the amount (the full funding step where not named)"),
     tag="decidable", required=False, capability="fund")  # fmt: skip
part("reject", _l("The funding board rejects the idea"), tag="decidable", capability="fund")
part("confirm_cooperation", _l("The municipality confirms its cooperation"), required=False)
audit_kind("cooperation_confirmed", _l("The municipality confirmed its cooperation"))
audit_kind("cooperation_commented", _l("The municipality commented on the cooperation without confirming it"))


def committed(competition_id: int) -> Decimal:
    """Money committed by fund decisions in the competition."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(Decision.amount), 0)).where(
            Decision.competition_id == competition_id, Decision.kind == DecisionKind.FUND, Decision.id.in_(current_ids())
        )
    )
    return Decimal(total or 0).quantize(CENT) if not isinstance(total, Decimal) else total.quantize(CENT)


@competitions_ops.usage("committed")
def committed_in(competition: Competition) -> Decimal:
    """For competitions.operations: a budget cannot go below what is committed."""
    return committed(competition.id)


def remaining(competition: Competition) -> Decimal:
    return competition.budget - committed(competition.id)


def _amount(idea, ctx) -> Decimal:
    value = ctx.params.get("amount", idea.requested_amount)
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return Decimal("NaN")


@guard("amount_valid", description=_l("The amount is within the competition's grant limits and the request"))
def amount_valid(idea, ctx):
    amount = _amount(idea, ctx)
    if amount.is_nan() or amount != amount.quantize(CENT):
        return str(_l("The amount must be in euros with at most two decimals."))
    if amount <= 0:
        return str(_l("The amount must be more than zero."))
    if amount > idea.requested_amount:
        return str(_l("The amount cannot be more than was requested (%(requested)s €).", requested=idea.requested_amount))
    if amount < idea.requested_amount and not ctx.comment.strip():
        return str(_l("Give the reason for funding only part of the amount."))
    return True


@guard("budget_covers", description=_l("The remaining budget covers the amount"))
def budget_covers(idea, ctx):
    """Locks the competition row, so of two administrators funding at once the second
    waits and then sees what the first committed."""
    competition = db.session.execute(
        select(Competition).where(Competition.id == idea.competition_id).with_for_update()
    ).scalar_one()
    left = remaining(competition)
    amount = _amount(idea, ctx)
    if amount.is_nan() or amount > left:
        return str(_l("The budget does not cover this amount: %(left)s € remain.", left=left))
    return True


def _number(competition_id: int) -> str:
    code = db.session.scalar(select(Competition.code).where(Competition.id == competition_id))
    count = db.session.scalar(select(func.count(Decision.id)).where(Decision.competition_id == competition_id))
    return f"{code}/{count + 1}"


@effect("commit_funds", _l("Records the funding decision and commits the money"))
def commit_funds(idea, ctx) -> None:
    amount = _amount(idea, ctx)
    db.session.add(
        Decision(
            idea_id=idea.id,
            competition_id=idea.competition_id,
            number=_number(idea.competition_id),
            kind=DecisionKind.FUND,
            requested=idea.requested_amount,
            amount=amount,
            reason=ctx.public_comment,  # the decision letter shows it: never an internal comment
            adjusted_budget=ctx.params.get("adjusted_budget"),
            decided_by_id=getattr(ctx.actor, "id", None),
            decided_at=ctx.now,
        )
    )


@effect("record_rejection", _l("Records the rejection decision"))
def record_rejection(idea, ctx) -> None:
    db.session.add(
        Decision(
            idea_id=idea.id,
            competition_id=idea.competition_id,
            number=_number(idea.competition_id),
            kind=DecisionKind.REJECT,
            requested=idea.requested_amount,
            amount=Decimal("0.00"),
            reason=ctx.public_comment,
            decided_by_id=getattr(ctx.actor, "id", None),
            decided_at=ctx.now,
        )
    )


# --- ranking and suggestion -----------------------------------------------------------------


PAGE_SIZE = 100


@dataclass
class Ranked:
    """One idea on the funding board, as the review area's ranking placed it."""

    idea: Idea
    score: Decimal | None  # the ranking's mean weighted total (0–100) of the submitted reviews
    reviews: int
    rank: int | None  # the idea's rank in the competition's ranking (the ranking page's number)
    running_total: Decimal | None = None  # the board's scored ideas' requested amounts, best first, to here
    within_budget: bool = False


def _points(value) -> str:
    return format_points(value, empty="—")


@dataclass
class Suggestion:
    idea_id: int
    pick: bool
    reason: str


class Candidate(NamedTuple):
    """What the suggestion needs of an undecided idea, and no more (one light row): plain
    numbers, as thousands of them are read for every page of the board."""

    idea_id: int
    score: float | None  # the ranking's mean, rounded to hundredths as shown
    cents: int  # the amount requested, in cents
    municipality_id: int | None
    rank: int | None


def _euros(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def suggest(candidates: list[Candidate], left: Decimal, min_score: Decimal, balance: bool = False,
            explain=None, municipality_names: dict | None = None) -> dict[int, Suggestion]:
    """Which of `candidates` (undecided ideas, best first) to fund with `left` euros: in rank
    order from the minimum score up, skipping an idea that no longer fits and going on. With
    `balance`, first the best-ranked idea of every municipality that has an eligible one.
    Every choice says why; the administrator decides.

    The choice runs over every candidate (an idea far down can take money first when
    balancing), in whole cents; the reasons, which cost a translation and money formatting
    each, are written only for the ideas in `explain` (the page shown; all when None)."""
    out: dict[int, Suggestion] = {}
    names = municipality_names or {}
    wanted = (lambda idea_id: True) if explain is None else (lambda idea_id: idea_id in explain)
    minimum = float(min_score)
    left_cents = int(left * 100)
    eligible = []
    for row in candidates:
        if row.score is None or row.score < minimum:
            if wanted(row.idea_id):
                out[row.idea_id] = Suggestion(row.idea_id, False, _(
                    "Not suggested: its score %(score)s is below the competition's minimum of %(min)s.",
                    score=_points(_shown(row.score)), min=_points(min_score)))
        else:
            eligible.append(row)
    taken = set()

    def take(row, why):
        nonlocal left_cents
        left_cents -= row.cents
        taken.add(row.idea_id)
        if wanted(row.idea_id):
            out[row.idea_id] = Suggestion(row.idea_id, True, why() + " " + _(
                "%(left)s remain after it.", left=format_money(_euros(left_cents))))

    if balance:
        seen = set()
        for row in eligible:
            place = row.municipality_id
            if place in seen or row.cents > left_cents:
                continue
            seen.add(place)
            take(row, lambda row=row: _(
                "Balancing: the best-ranked idea from %(municipality)s that fits the budget (rank %(rank)d, score %(score)s).",
                municipality=names.get(row.municipality_id) or "—", rank=row.rank, score=_points(_shown(row.score))))
    for row in eligible:
        if row.idea_id in taken:
            continue
        if row.cents <= left_cents:
            take(row, lambda row=row: _("Rank %(rank)d, score %(score)s: it fits the budget.", rank=row.rank,
                                        score=_points(_shown(row.score))))  # fmt: skip
        elif wanted(row.idea_id):
            out[row.idea_id] = Suggestion(row.idea_id, False, _(
                "Skipped: it asks for %(asked)s but only %(left)s remain; the next ideas were considered.",
                asked=format_money(_euros(row.cents)), left=format_money(_euros(left_cents))))
    return out


@dataclass
class Board:
    competition: Competition
    rows: list[Ranked]  # the page's decidable and decided ideas, best first
    decisions: dict[int, Decision]  # of the page's ideas
    committed: Decimal
    remaining: Decimal
    waiting: int  # filed ideas not ready for a decision yet
    suggestions: dict[int, Suggestion]  # for the page's ideas
    count: int  # ideas on the board (all pages)
    page: int
    pages: int


def board(competition: Competition, balance: bool = False, page: int = 1, page_size: int | None = None) -> Board:
    """A page of the funding board, in a fixed number of queries whatever the number of
    ideas. The order, rank numbers and scores are the review area's ranking (the ranking
    page's, so both number an idea alike); the board keeps of it the ideas ready for a
    decision and those decided, and adds the decisions, the budget and the suggestion.

    One light query reads the board's rows in rank order as (id, state, score, requested
    amount, municipality, rank, decided, running total), the running total being the
    database's window sum over the board's scored ideas. The suggestion has to see every
    undecided idea above the page (and, when balancing, the best idea of every municipality
    however far down), so it runs over those light rows: the ones up to the page's last
    (all of them when balancing); that is the one part of the board that grows with the
    number of ideas (at 10,000 ideas balanced, some 10,000 tuples of numbers, no objects). Only the page's ideas are then loaded as objects, with
    their decisions, and only their suggestions are explained."""
    page_size = page_size or PAGE_SIZE
    page = max(1, page)
    workflow = workflow_for(competition.workflow)
    decidable = workflow.states_tagged("decidable")
    round_id = round_of(competition, Filters())  # the current review round counts
    order = ranked(competition, Filters(), round_id=round_id)
    decided = select(Decision.idea_id).where(Decision.competition_id == competition.id)
    on_board = or_(order.c.state.in_(decidable), order.c.id.in_(decided))
    window = {"order_by": order.c.position, "rows": (None, 0)}
    # Plain integers (cents) and floats: no Decimal made for the thousands of rows off the page.
    light = (
        select(
            order.c.id, order.c.state, order.c.score, type_coerce(order.c.requested_amount, Integer),
            order.c.municipality_id, order.c.position, order.c.id.in_(decided),
            type_coerce(func.sum(case((order.c.score.is_not(None), order.c.requested_amount), else_=0)).over(**window), Integer),
            func.count().over().label("on_board"),  # all of the board's rows, before any LIMIT
        )  # fmt: skip
        .where(on_board)
        .order_by(order.c.position)
    )
    if not balance:
        # In rank order, an idea's suggestion depends only on the ideas above it (`suggest`):
        # the rows below the page are not read.
        light = light.limit(page * page_size)
    rows = db.session.execute(light).all()
    on_board_count = rows[0].on_board if rows else 0
    shown = rows[(page - 1) * page_size : page * page_size]
    ids = [r[0] for r in shown]
    ideas = {
        idea.id: idea
        for idea in db.session.scalars(
            select(Idea).options(selectinload(Idea.organisation), selectinload(Idea.municipality)).where(Idea.id.in_(ids))
        )
    }
    reviews = dict(
        db.session.execute(
            select(Review.idea_id, func.count(Review.id))
            .join(Assignment, and_(Assignment.id == Review.assignment_id, Assignment.active.is_(True)))
            .where(Review.idea_id.in_(ids), Review.round_id == round_id, Review.status == ReviewStatus.SUBMITTED)
            .group_by(Review.idea_id)
        ).all()
    )
    out = []
    for idea_id, _state, score, _cents, _place, position, _decided, running, _count in shown:
        total = _euros(int(running)) if score is not None else None
        out.append(Ranked(ideas[idea_id], _shown(score), reviews.get(idea_id, 0), position if score is not None else None,
                          total, total is not None and total <= competition.budget))  # fmt: skip
    spent = committed(competition.id)
    left = competition.budget - spent
    decidable_states = set(decidable)
    candidates = [
        Candidate(r[0], None if r[2] is None else round(float(r[2]), 2), int(r[3]), r[4], r[5] if r[2] is not None else None)
        for r in rows
        if r[1] in decidable_states and not r[6]
    ]
    names = {i.municipality_id: i.municipality.name for i in ideas.values() if i.municipality is not None}
    suggestions = suggest(candidates, left, competition.min_score, balance, explain=set(ids), municipality_names=names)
    return Board(competition, out, decisions_by_idea(competition.id, ids), spent, left,
                 waiting(competition), suggestions, on_board_count, page, max(1, math.ceil(on_board_count / page_size)))


def _shown(value) -> Decimal | None:
    """The score as the ranking page shows it: to the hundredth."""
    return None if value is None else Decimal(str(round(float(value), 2))).quantize(CENT)


def waiting(competition: Competition) -> int:
    """Filed ideas that are neither ready for a decision, nor decided, nor over (one count)."""
    workflow = workflow_for(competition.workflow)
    states = [
        name for name in workflow.states_tagged("filed")
        if name not in workflow.states_tagged("decidable") and not workflow.states[name].final
    ]  # fmt: skip
    return db.session.scalar(
        select(func.count(Idea.id)).where(
            Idea.competition_id == competition.id,
            Idea.state.in_(states),
            Idea.id.not_in(select(Decision.idea_id).where(Decision.competition_id == competition.id)),
        )
    )


def decisions_by_idea(competition_id: int, idea_ids: list[int] | None = None) -> dict[int, Decision]:
    """The decisions of the competition (of these ideas only, if given), the latest per idea."""
    query = select(Decision).where(Decision.competition_id == competition_id)
    if idea_ids is not None:
        query = query.where(Decision.idea_id.in_(idea_ids))
    rows = db.session.scalars(query.order_by(Decision.decided_at)).all()
    return {d.idea_id: d for d in rows}


def decision_of(idea) -> Decision | None:
    return db.session.scalars(
        select(Decision).where(Decision.idea_id == idea.id).order_by(Decision.decided_at.desc(), Decision.id.desc()).limit(1)
    ).first()


def earlier_decision(decision: Decision) -> Decision | None:
    """The decision this one replaced (an amendment that raised the grant), or None."""
    return db.session.scalars(
        select(Decision).where(Decision.idea_id == decision.idea_id, Decision.id < decision.id)
        .order_by(Decision.id.desc()).limit(1)
    ).first()


def further_decision(previous: Decision, actor, *, amount: Decimal, reason: str) -> Decision:
    """A new funding decision replacing `previous` (an amendment raising the grant): its own
    number, the grant `amount`, the earlier decision kept unchanged as the record of what was
    decided first. The caller holds the competition row lock and has checked the budget;
    does not commit."""
    decision = Decision(
        idea_id=previous.idea_id, competition_id=previous.competition_id, number=_number(previous.competition_id),
        kind=DecisionKind.FUND, requested=previous.requested, amount=amount, reason=reason,
        adjusted_budget=previous.adjusted_budget, decided_by_id=getattr(actor, "id", None),
        decided_at=max(utcnow(), previous.decided_at),
    )  # fmt: skip
    db.session.add(decision)
    db.session.flush()
    return decision


def score_summary(idea) -> dict:
    """What the letter says of the evaluation: the average total and each criterion's
    average points over the submitted reviews of the idea's current review round."""
    round_id = current_round_id(idea)
    rows = db.session.execute(
        select(Criterion, func.avg(Score.points))
        .join(Score, Score.criterion_id == Criterion.id)
        .join(Review, Review.id == Score.review_id)
        .where(Review.idea_id == idea.id, Review.round_id == round_id, Review.status == ReviewStatus.SUBMITTED)
        .group_by(Criterion.id)
        .order_by(Criterion.position)
    ).all()
    total, count = db.session.execute(
        select(func.avg(Review.total), func.count(Review.id)).where(
            Review.idea_id == idea.id, Review.round_id == round_id, Review.status == ReviewStatus.SUBMITTED
        )
    ).one()
    as_decimal = lambda v: None if v is None else Decimal(str(v)).quantize(CENT)  # noqa: E731
    return {
        "total": as_decimal(total),
        "reviews": count,
        "criteria": [(criterion, as_decimal(points)) for criterion, points in rows],
        "min_score": idea.competition.min_score,
    }


# --- deciding -------------------------------------------------------------------------------




def decide(idea, actor, action: str, *, reason: str = "", amount: Decimal | None = None,
           adjusted_budget: list | None = None, version: int | None = None,
           committed_seen: Decimal | None = None) -> Decision:
    """Fund (in full or partly) or reject `idea` and commit. `version` and `committed_seen`
    come from the form: if the idea or the competition's committed total changed since the
    page was shown, Refused is raised and nothing changes. The idea's and then the
    competition's rows are locked, so a concurrent decision waits and then sees this one.
    Raises Refused, Refused or Conflict with the session rolled back."""
    try:
        db.session.refresh(idea, with_for_update=True)
        if version is not None and idea.version != version:
            raise Refused(_("Someone else changed or decided this idea after you opened the page. Nothing was changed; here is the current state."))
        if committed_seen is not None:
            competition = db.session.execute(
                select(Competition).where(Competition.id == idea.competition_id).with_for_update()
            ).scalar_one()
            now = committed(competition.id)
            if now != committed_seen:
                raise Refused(_(
                    "Another decision was made after you opened the page: %(now)s are committed now, not %(seen)s. Nothing was changed; please look again.",
                    now=format_money(now), seen=format_money(committed_seen)))
        if action == DecisionKind.FUND:
            params = {"amount": amount if amount is not None else idea.requested_amount}
            if adjusted_budget is not None:
                params["adjusted_budget"] = adjusted_budget
            amount = params["amount"]
            partial = isinstance(amount, Decimal) and amount.is_finite() and amount < idea.requested_amount
            trigger = (partial and idea.workflow.part("part_fund")) or idea.workflow.part("fund")
            engine.fire(idea, trigger, actor, reason, **params)
        elif action == DecisionKind.REJECT:
            engine.fire(idea, idea.workflow.part("reject"), actor, reason)
        else:
            raise ValueError(action)
        db.session.commit()
    except DBAPIError as error:
        db.session.rollback()
        if is_conflict(error):
            raise Conflict(str(error)) from error
        raise
    except BaseException:  # refused, stale or conflicting: nothing of it stays, locks are released
        db.session.rollback()
        raise
    return decision_of(idea)


# --- the municipality's part ----------------------------------------------------------------


def authority_name(municipality) -> str:
    """The municipality as a legal person: Rēzeknes novads → Rēzeknes novada pašvaldība."""
    name = municipality.name
    if name.endswith(" novads"):
        return name.removesuffix(" novads") + " novada pašvaldība"
    return f"{name} valstspilsētas pašvaldība" if municipality.kind == "valstspilsēta" else f"{name} pašvaldība"


def can_answer_cooperation(idea, user) -> bool:
    """A representative of the idea's municipality, while the idea is filed and not over."""
    return MUNICIPALITY in idea.roles_of(user) and idea.has_tag("filed") and not idea.state_def.final


def latest_confirmation(idea) -> CooperationConfirmation | None:
    return db.session.scalars(
        select(CooperationConfirmation)
        .where(CooperationConfirmation.idea_id == idea.id)
        .order_by(CooperationConfirmation.at.desc(), CooperationConfirmation.id.desc())
        .limit(1)
    ).first()


def confirmed_cooperation(idea) -> CooperationConfirmation | None:
    """The confirmation the agreement is made from, or None while there is none in force."""
    latest = latest_confirmation(idea)
    return latest if latest is not None and latest.confirmed else None


@guard(
    "cooperation_recorded",
    _l("The municipality confirms its cooperation with the cooperation form, which records its commitments."),
    _l("The municipality has recorded its commitments in the cooperation form"),
)
def cooperation_recorded(idea, ctx) -> bool:
    """The step `confirm_cooperation` only follows a confirmation recorded with its commitments
    (answer_cooperation), never as a bare step: the agreement is made from that record."""
    return confirmed_cooperation(idea) is not None


def answer_cooperation(idea, user, *, confirmed: bool, comment: str, **details) -> CooperationConfirmation:
    """Record the municipality's answer; a confirmation also fires the workflow's
    `confirm_cooperation` part where it declares one that leaves the idea's state now (the
    resource-centre track). Commits."""
    row = CooperationConfirmation(
        idea_id=idea.id,
        municipality_id=idea.municipality_id,
        confirmed=confirmed,
        comment=comment.strip(),
        premises=idea.coop_premises,
        inventory=idea.coop_inventory,
        upkeep=idea.coop_upkeep,
        by_id=user.id,
        **details,
    )
    db.session.add(row)
    kind = "cooperation_confirmed" if confirmed else "cooperation_commented"
    engine.record(idea, kind, user, comment.strip())
    try:
        trigger = idea.workflow.part("confirm_cooperation")
        if confirmed and trigger and idea.workflow.transition(trigger, idea.state):
            engine.fire(idea, trigger, user, comment.strip())
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return row
