"""Eligibility checks, evaluator assignments, conflicts of interest, reviews and scores."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.accounts.models import EVALUATOR
from grantflow.competitions.models import ReviewRound
from grantflow.core.extensions import db
from grantflow.core.types import UTCDateTime, utcnow
from grantflow.ideas.models import Idea
from grantflow.workflow.registry import role


class ReviewStatus(StrEnum):
    """Where a review is (stored as its value)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"


class Recommendation(StrEnum):
    """What the evaluator recommends (stored as its value; "" while none is chosen)."""

    FUND = "fund"
    FUND_PARTLY = "fund_partly"
    REJECT = "reject"


# The eligibility checklist, in the order the screening page asks.
CHECKLIST = ("complete", "legal_form", "territory", "grant_limits", "deadline")


class EligibilityCheck(db.Model):
    """The administrator's screening of an idea before scoring: checklist, outcome, reason."""

    __tablename__ = "eligibility_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)  # item -> bool
    eligible: Mapped[bool] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    idea: Mapped[Idea] = relationship()


class Assignment(db.Model):
    """An evaluator asked to review an idea in a review round. Removed assignments stay,
    inactive, as a record (one row per evaluator, idea and round: assigning again in the same
    round reactivates it; the next round has rows of its own)."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("idea_id", "evaluator_id", "round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    # No index of its own: a round's assignments are read through their ideas (the unique
    # index starts with idea_id); an index on the round alone, which every assignment of a
    # one-round competition shares, lured SQLite's planner into scanning it once per idea.
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id", ondelete="CASCADE"))
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_reason: Mapped[str] = mapped_column(Text, default="")

    idea: Mapped[Idea] = relationship()
    evaluator: Mapped["User"] = relationship(foreign_keys=[evaluator_id])  # noqa: F821
    round: Mapped[ReviewRound] = relationship()
    review: Mapped["Review | None"] = relationship(back_populates="assignment", uselist=False)


def _evaluator_scope(user):
    if EVALUATOR not in user.roles:
        return None
    assigned = select(Assignment.idea_id).where(Assignment.evaluator_id == user.id, Assignment.active.is_(True))
    return Idea.id.in_(assigned)


@role(EVALUATOR, _l("Evaluator"), scope=_evaluator_scope)
def _evaluator(idea, user) -> bool:
    """An evaluator holds the role only on the ideas actively assigned to them."""
    if EVALUATOR not in user.roles:
        return False
    found = db.session.execute(
        select(Assignment.id).where(
            Assignment.idea_id == idea.id, Assignment.evaluator_id == user.id, Assignment.active.is_(True)
        ).limit(1)
    ).first()
    return found is not None


class ConflictOfInterest(db.Model):
    """An evaluator's conflict with an organisation, a municipality, a person or one idea.
    Declared on an assigned idea (stepping back from it), or standing: declared on the
    evaluator's profile, or recorded for them by an administrator (`recorded_by_id`), before
    any assignment. A conflict with a person covers the ideas of every organisation the
    person is a member of, and the ideas they started."""

    __tablename__ = "conflicts_of_interest"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # An administrator who recorded it for the evaluator; None: the evaluator declared it.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organisation: Mapped["Organisation | None"] = relationship()  # noqa: F821
    municipality: Mapped["Municipality | None"] = relationship()  # noqa: F821
    person: Mapped["User | None"] = relationship(foreign_keys=[person_id])  # noqa: F821
    recorded_by: Mapped["User | None"] = relationship(foreign_keys=[recorded_by_id])  # noqa: F821

    @property
    def scope(self) -> str:
        if self.idea_id is not None:
            return "idea"
        if self.organisation_id is not None:
            return "organisation"
        if self.municipality_id is not None:
            return "municipality"
        return "person"


class Review(db.Model):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("assignment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    # The assignment's round, kept beside it so that a round's reviews are read without it
    # (through the idea's index, as the assignments' round: no index of its own).
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id", ondelete="CASCADE"))
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ReviewStatus.DRAFT)  # a ReviewStatus
    recommendation: Mapped[str] = mapped_column(String(20), default="")  # a Recommendation, or "" while none is chosen
    comment: Mapped[str] = mapped_column(Text, default="")
    # Weighted total, computed by the server when the review is submitted.
    total: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    assignment: Mapped[Assignment] = relationship(back_populates="review")
    scores: Mapped[list["Score"]] = relationship(back_populates="review", cascade="all, delete-orphan")

    @property
    def submitted(self) -> bool:
        return self.status == ReviewStatus.SUBMITTED

    def can_see(self, user) -> bool:
        """Independent review: administrators see every review and evaluators their own; an
        evaluator sees another's review only once it and their own on the same idea (under an
        active assignment) are both submitted."""
        if getattr(user, "id", None) is None:
            return False
        if user.is_admin or self.evaluator_id == user.id:
            return True
        if not self.submitted or EVALUATOR not in user.roles:
            return False
        own = db.session.scalar(
            select(Review.id)
            .join(Assignment, Assignment.id == Review.assignment_id)
            .where(
                Review.idea_id == self.idea_id,
                Review.round_id == self.round_id,
                Review.evaluator_id == user.id,
                Review.status == ReviewStatus.SUBMITTED,
                Assignment.active.is_(True),
            )
        )
        return own is not None


class Score(db.Model):
    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("review_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    comment: Mapped[str] = mapped_column(Text, default="")

    review: Mapped[Review] = relationship(back_populates="scores")
    criterion: Mapped["Criterion"] = relationship()  # noqa: F821
