"""An amendment: the applicant's request to change a funded idea's budget lines, grant or
activity dates, the administrator's answer, and (when approved) its number and document.
`before` keeps the values the approval replaced, so the history shows what was agreed first."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.accounts.models import ADMINISTRATOR, APPLICANT
from grantflow.core.extensions import db
from grantflow.core.types import Money, UTCDateTime, utcnow


class Status(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"


STATUS_LABELS = {
    Status.REQUESTED: _l("Waiting for a decision"),
    Status.APPROVED: _l("Approved"),
    Status.REFUSED: _l("Refused"),
}


def can_see_amendments(idea, user, roles=None) -> bool:
    """Who reads an idea's amendments (its page's panel, the API): its applicants, who ask
    for them, and the administrators, who decide them."""
    roles = idea.roles_of(user) if roles is None else roles
    return ADMINISTRATOR in roles or APPLICANT in roles


class Amendment(db.Model):
    __tablename__ = "amendments"
    __table_args__ = (UniqueConstraint("idea_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    # "Grozījumi Nr. N": given on approval, 1, 2, ... per idea.
    number: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default=Status.REQUESTED)  # a Status
    # Moved on by every decision with the old value in the WHERE clause: two administrators
    # deciding at once never both succeed.
    version: Mapped[int] = mapped_column(default=1)
    reason: Mapped[str] = mapped_column(Text, default="")
    # What is asked: the grant, each funded budget line's amount, each activity's dates.
    amount: Mapped[Decimal] = mapped_column(Money())
    lines: Mapped[list] = mapped_column(JSON, default=list)  # [{"id", "item", "amount"}]
    dates: Mapped[list] = mapped_column(JSON, default=list)  # [{"id", "description", "starts_on", "ends_on"}]
    # The values when asked (and, once approved, the ones it replaced), in the same shape.
    before: Mapped[dict] = mapped_column(JSON, default=dict)  # {"amount", "lines", "dates"}
    answer: Mapped[str] = mapped_column(Text, default="")  # the administrator's reason
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))

    idea: Mapped["Idea"] = relationship()  # noqa: F821
    requested_by: Mapped["User | None"] = relationship(foreign_keys=[requested_by_id])  # noqa: F821
    decided_by: Mapped["User | None"] = relationship(foreign_keys=[decided_by_id])  # noqa: F821
    document: Mapped["Document | None"] = relationship()  # noqa: F821

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def open(self) -> bool:
        return self.status == Status.REQUESTED

    @property
    def changes_amount(self) -> Decimal:
        """How much the grant changes (negative: lowered)."""
        return self.amount - Decimal(self.before.get("amount", self.amount))

    def changed_lines(self) -> list[dict]:
        old = {row["id"]: row for row in self.before.get("lines", [])}
        return [
            {"item": row["item"], "before": Decimal(old[row["id"]]["amount"]) if row["id"] in old else Decimal("0.00"),
             "after": Decimal(row["amount"])}
            for row in self.lines
            if row["id"] not in old or Decimal(old[row["id"]]["amount"]) != Decimal(row["amount"])
        ]

    def changed_dates(self) -> list[dict]:
        old = {row["id"]: row for row in self.before.get("dates", [])}
        return [
            {"description": row["description"], "before": old.get(row["id"], {}), "after": row}
            for row in self.dates
            if (old.get(row["id"], {}).get("starts_on"), old.get(row["id"], {}).get("ends_on"))
            != (row.get("starts_on"), row.get("ends_on"))
        ]
