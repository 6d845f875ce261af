"""Funding decisions (the money committed or refused for an idea) and the municipality's
confirmation of its part in the cooperation agreement."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.core.extensions import db
from grantflow.core.types import Money, UTCDateTime, utcnow


class DecisionKind(StrEnum):
    """What a decision does (stored as its value)."""

    FUND = "fund"
    REJECT = "reject"


class Decision(db.Model):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    # Decision number printed on the letter, e.g. DK-2025/12.
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # a DecisionKind
    requested: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    reason: Mapped[str] = mapped_column(Text, default="")
    # For partial funding: the budget lines as adjusted by the administrator.
    adjusted_budget: Mapped[list | None] = mapped_column(JSON)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    idea: Mapped["Idea"] = relationship()  # noqa: F821
    decided_by: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def funds(self) -> bool:
        """Whether it grants money (otherwise it rejects the idea)."""
        return self.kind == DecisionKind.FUND

    @property
    def partial(self) -> bool:
        return self.funds and self.amount < self.requested


def current_ids():
    """The ids of the decisions in force: each idea's latest. An amendment that raises a grant
    makes a new decision and keeps the earlier one as it was, so sums of granted or committed
    money count only these (`Decision.id.in_(current_ids())`)."""
    return select(func.max(Decision.id)).group_by(Decision.idea_id)


class CooperationConfirmation(db.Model):
    """A municipality representative's answer on what the municipality commits to an idea:
    confirmed (the agreement may be issued) or only commented (changes asked). Kept as a
    record; the latest row counts. The texts are a snapshot of what was confirmed, and the
    representative gives the municipality's details the agreement needs."""

    __tablename__ = "cooperation_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"))
    confirmed: Mapped[bool] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")
    premises: Mapped[str] = mapped_column(Text, default="")
    inventory: Mapped[str] = mapped_column(Text, default="")
    upkeep: Mapped[str] = mapped_column(Text, default="")
    sustainability_years: Mapped[int] = mapped_column(default=3)
    authority_name: Mapped[str] = mapped_column(String(200), default="")
    registration_number: Mapped[str] = mapped_column(String(11), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    signatory_position: Mapped[str] = mapped_column(String(200), default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    idea: Mapped["Idea"] = relationship()  # noqa: F821
    by: Mapped["User | None"] = relationship()  # noqa: F821
    municipality: Mapped["Municipality"] = relationship()  # noqa: F821
