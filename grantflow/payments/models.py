"""Payment plans, instalments, payment runs (SEPA files), payments and refunds.

Money is Decimal euros stored as cents (core.types.Money). An instalment's `paid` only ever
grows by a conditional UPDATE (operations), and a CHECK keeps it within the amount, so no
instalment is paid twice or beyond what is due, whatever runs at once."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.core.extensions import db
from grantflow.core.types import Money, UTCDateTime, utcnow

# The events that make an instalment due, in the order they happen.
EVENTS = ("decision", "agreement", "report")
EVENT_LABELS = {
    "decision": _l("when the funding decision is made"),
    "agreement": _l("when the cooperation agreement is issued"),
    "report": _l("when the final report is accepted"),
}
# 80 % once the agreement is issued, 20 % once the final report is accepted.
DEFAULT_PLAN = [{"percent": "80", "due": "agreement"}, {"percent": "20", "due": "report"}]


class RunStatus(StrEnum):
    EXPORTED = "exported"  # the file was made; the bank has not confirmed yet
    PAID = "paid"
    CANCELLED = "cancelled"


class Method(StrEnum):
    SEPA = "sepa"
    OTHER = "other"


class PaymentPlan(db.Model):
    """How a competition pays its grants: instalments as percentages of the grant, each due
    on an event. Without a row the competition pays DEFAULT_PLAN."""

    __tablename__ = "payment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), unique=True)
    instalments: Mapped[list] = mapped_column(JSON)  # [{"percent": "80", "due": "agreement"}, ...]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Instalment(db.Model):
    """One part of an idea's grant. `planned` is what the schedule gave it; `amount` is what
    is owed now (lowered when the accepted report shows less spent); `paid` what was paid."""

    __tablename__ = "instalments"
    __table_args__ = (
        UniqueConstraint("idea_id", "position"),
        CheckConstraint("paid >= 0 AND paid <= amount AND amount <= planned", name="paid_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    position: Mapped[int] = mapped_column()
    due_on: Mapped[str] = mapped_column(String(20))  # one of EVENTS
    planned: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    paid: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    # The payment run (SEPA file) it is in, while that run waits for the bank.
    run_id: Mapped[int | None] = mapped_column(ForeignKey("payment_runs.id"), index=True)

    idea: Mapped["Idea"] = relationship()  # noqa: F821
    run: Mapped["PaymentRun | None"] = relationship(back_populates="instalments")

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid

    @property
    def due_label(self) -> str:
        return str(EVENT_LABELS.get(self.due_on, self.due_on))


class PaymentRun(db.Model):
    """A SEPA credit transfer file (pain.001) made for selected due instalments. Its
    instalments are held by it until it is marked paid (they are paid) or cancelled."""

    __tablename__ = "payment_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.EXPORTED)  # a RunStatus
    message_id: Mapped[str] = mapped_column(String(35))
    execution_date: Mapped[date] = mapped_column(Date)
    total: Mapped[Decimal] = mapped_column(Money())
    count: Mapped[int] = mapped_column()
    xml: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    instalments: Mapped[list[Instalment]] = relationship(back_populates="run", order_by="Instalment.id")
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])  # noqa: F821

    @property
    def filename(self) -> str:
        return f"pain001-{self.message_id}.xml"


class Payment(db.Model):
    """Money paid towards an instalment: by a SEPA run or another way (cash, another bank)."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("instalments.id", ondelete="CASCADE"), index=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("payment_runs.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    paid_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(10))  # a Method
    reference: Mapped[str] = mapped_column(String(140), default="")
    iban: Mapped[str] = mapped_column(String(34), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Refund(db.Model):
    """What a community must return: worked out when its final report is accepted (paid
    more than was spent), requested with a document, tracked until returned."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("returned >= 0 AND returned <= amount", name="returned_within_amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    returned: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    returned_on: Mapped[date | None] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(140), default="")

    document: Mapped["Document | None"] = relationship()  # noqa: F821

    @property
    def to_return(self) -> Decimal:
        return self.amount - self.returned

    @property
    def settled(self) -> bool:
        return self.returned >= self.amount
