"""Eligibility screening and evaluation: guards the workflow names."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from grantflow.extensions import db
from grantflow.review.models import Assignment, EligibilityCheck, Review
from grantflow.workflow.registry import guard


def latest_check(idea) -> EligibilityCheck | None:
    return db.session.scalars(
        select(EligibilityCheck)
        .where(EligibilityCheck.idea_id == idea.id)
        .order_by(EligibilityCheck.checked_at.desc(), EligibilityCheck.id.desc())
        .limit(1)
    ).first()


@guard("screened_eligible", _l("Record an eligibility check with a positive outcome first."))
def screened_eligible(idea, ctx) -> bool:
    check = latest_check(idea)
    return check is not None and check.eligible


@guard("screened_ineligible", _l("Record an eligibility check with a negative outcome and its reason first."))
def screened_ineligible(idea, ctx) -> bool:
    check = latest_check(idea)
    return check is not None and not check.eligible


@guard("all_reviews_in", _l("Not all assigned reviews have been submitted."))
def all_reviews_in(idea, ctx) -> bool:
    rows = db.session.execute(
        select(Assignment.id, Review.status)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.idea_id == idea.id, Assignment.active.is_(True))
    ).all()
    return bool(rows) and all(status == "submitted" for _, status in rows)


def weighted_total(scores) -> Decimal:
    """A review's total on a 0–100 scale: each criterion's share of its maximum, weighted."""
    weights = sum((Decimal(s.criterion.weight) for s in scores), Decimal(0))
    if not weights:
        return Decimal("0.00")
    total = sum(
        (Decimal(s.points) / s.criterion.max_points * Decimal(s.criterion.weight) for s in scores), Decimal(0)
    )
    return (total / weights * 100).quantize(Decimal("0.01"))
