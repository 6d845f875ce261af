"""Final reports of funded ideas: what was done, who was reached, what was spent."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.accounts.models import APPLICANT
from grantflow.core.extensions import db
from grantflow.core.types import Money, UTCDateTime, utcnow
from grantflow.questionnaires.models import Answer, FormVersion


class ReportStatus(StrEnum):
    """Where a final report is (stored as its value)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"


class Report(db.Model):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("idea_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=ReportStatus.DRAFT)  # a ReportStatus
    participants: Mapped[int] = mapped_column(default=0)
    organisations_count: Mapped[int] = mapped_column(default=0)
    organisations_names: Mapped[str] = mapped_column(Text, default="")
    volunteers: Mapped[int] = mapped_column(default=0)
    return_comment: Mapped[str] = mapped_column(Text, default="")
    # Every answer to the report form (see Idea.answers) and the form version it was given
    # under; answers with a meaning are also in the columns and child tables.
    answers: Mapped[dict | None] = mapped_column(JSON, default=dict)
    form_version_id: Mapped[int | None] = mapped_column(ForeignKey("form_versions.id"))
    # Typed text the server could not take as it was (see Idea.draft_raw).
    draft_raw: Mapped[dict | None] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The community report's questions without a meaning: in the answers document only.
    changed = Answer()
    continues = Answer()

    idea: Mapped["Idea"] = relationship()  # noqa: F821
    form_version: Mapped[FormVersion | None] = relationship()
    activities: Mapped[list["ReportActivity"]] = relationship(
        back_populates="report", order_by="ReportActivity.id", cascade="all, delete-orphan"
    )
    reach: Mapped[list["ReportReach"]] = relationship(back_populates="report", cascade="all, delete-orphan")
    spending: Mapped[list["ReportSpending"]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportSpending.id"
    )
    attachments: Mapped[list["Attachment"]] = relationship(  # noqa: F821
        cascade="all, delete-orphan", order_by="Attachment.id", overlaps="attachments,idea"
    )

    # --- permissions ----------------------------------------------------------------------
    def can_view(self, user) -> bool:
        return self.idea.can_view(user)

    def can_edit(self, user) -> bool:
        """The applicant fills it while the idea is in a reporting state and the report is
        not with the administrator (draft, or returned for changes)."""

        return (
            APPLICANT in self.idea.roles_of(user)
            and self.idea.has_tag("reporting")
            and self.with_applicant
        )

    @property
    def with_applicant(self) -> bool:
        """Not handed in: a draft, or returned for changes."""
        return self.status in (ReportStatus.DRAFT, ReportStatus.RETURNED)

    @property
    def returned(self) -> bool:
        """Returned to the applicant for changes."""
        return self.status == ReportStatus.RETURNED

    @property
    def planned_total(self) -> Decimal:
        return sum((s.planned for s in self.spending), Decimal("0.00"))

    @property
    def actual_total(self) -> Decimal:
        return sum((s.actual for s in self.spending), Decimal("0.00"))


class ReportActivity(db.Model):
    __tablename__ = "report_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date | None] = mapped_column()
    description: Mapped[str] = mapped_column(Text, default="")
    participants: Mapped[int] = mapped_column(default=0)

    report: Mapped[Report] = relationship(back_populates="activities")


class ReportReach(db.Model):
    """People reached in one target group."""

    __tablename__ = "report_reach"
    __table_args__ = (UniqueConstraint("report_id", "target_group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    target_group: Mapped[str] = mapped_column(String(40))
    people: Mapped[int] = mapped_column(default=0)

    report: Mapped[Report] = relationship(back_populates="reach")


class ReportSpending(db.Model):
    """Actual spending against one planned budget line."""

    __tablename__ = "report_spending"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    budget_line_id: Mapped[int | None] = mapped_column(ForeignKey("budget_lines.id", ondelete="SET NULL"))
    item: Mapped[str] = mapped_column(String(300), default="")
    planned: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    actual: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))

    report: Mapped[Report] = relationship(back_populates="spending")

    @property
    def difference(self) -> Decimal:
        return self.actual - self.planned
