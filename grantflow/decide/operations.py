"""Funding decisions: the money side of the fund and reject transitions."""

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from grantflow.competitions.models import Competition
from grantflow.decide.models import FUND, REJECT, Decision
from grantflow.extensions import db
from grantflow.workflow.registry import effect, guard

CENT = Decimal("0.01")


def committed(competition_id: int) -> Decimal:
    """Money committed by fund decisions in the competition."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(Decision.amount), 0)).where(
            Decision.competition_id == competition_id, Decision.kind == FUND
        )
    )
    return Decimal(total or 0).quantize(CENT) if not isinstance(total, Decimal) else total.quantize(CENT)


def remaining(competition: Competition) -> Decimal:
    return competition.budget - committed(competition.id)


def _amount(idea, ctx) -> Decimal:
    value = ctx.params.get("amount", idea.requested_amount)
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return Decimal("NaN")


@guard("amount_valid")
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


@guard("budget_covers")
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


@effect("commit_funds")
def commit_funds(idea, ctx) -> None:
    amount = _amount(idea, ctx)
    db.session.add(
        Decision(
            idea_id=idea.id,
            competition_id=idea.competition_id,
            number=_number(idea.competition_id),
            kind=FUND,
            requested=idea.requested_amount,
            amount=amount,
            reason=ctx.comment,
            adjusted_budget=ctx.params.get("adjusted_budget"),
            decided_by_id=getattr(ctx.actor, "id", None),
            decided_at=ctx.now,
        )
    )


@effect("record_rejection")
def record_rejection(idea, ctx) -> None:
    db.session.add(
        Decision(
            idea_id=idea.id,
            competition_id=idea.competition_id,
            number=_number(idea.competition_id),
            kind=REJECT,
            requested=idea.requested_amount,
            amount=Decimal("0.00"),
            reason=ctx.comment,
            decided_by_id=getattr(ctx.actor, "id", None),
            decided_at=ctx.now,
        )
    )
