"""Funding decisions: the money committed (or refused) for an idea."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.extensions import db
from grantflow.types import Money, UTCDateTime, utcnow

FUND = "fund"
REJECT = "reject"


class Decision(db.Model):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    # Decision number printed on the letter, e.g. DK-2025/12.
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # fund | reject
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
    def partial(self) -> bool:
        return self.kind == FUND and self.amount < self.requested
