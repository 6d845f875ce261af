"""A competition's reminder schedule, and the record of every reminder sent.

The record is what makes a reminder go out once: its key (kind, person, object, occasion) is
unique, and a reminder is recorded before its mail is queued, in one transaction, so a second
run or a second worker finds the key taken and sends nothing."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grantflow.core.extensions import db
from grantflow.core.types import UTCDateTime, utcnow

# The kinds of reminder. A person may turn off the optional ones on their profile; the others
# are owed to someone else (an evaluator's scores hold up the ranking, an overdue report and a
# waiting confirmation hold up the money and the agreement) and always go.
DRAFT = "draft"  # an unsubmitted draft before the competition closes (optional)
EVALUATION = "evaluation"  # unscored assignments before evaluation closes
REPORT_DUE = "report_due"  # a final report due soon (optional)
REPORT_OVERDUE = "report_overdue"  # a final report past its date, at most N times
CONFIRMATION = "confirmation"  # a municipality's cooperation confirmation waiting
KINDS = (DRAFT, EVALUATION, REPORT_DUE, REPORT_OVERDUE, CONFIRMATION)
OPTIONAL = (DRAFT, REPORT_DUE)


class ReminderSettings(db.Model):
    """One competition's schedule; a competition without a row has the defaults below.
    Day lists are whole days before the deadline, comma-separated ("7,1"); empty: none."""

    __tablename__ = "reminder_settings"

    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), primary_key=True)
    draft_days: Mapped[str] = mapped_column(String(60), default="7,1")
    evaluation_days: Mapped[str] = mapped_column(String(60), default="3,1")
    report_due_days: Mapped[int] = mapped_column(default=14)  # 0: no reminder before the date
    report_overdue_every: Mapped[int] = mapped_column(default=7)
    report_overdue_max: Mapped[int] = mapped_column(default=3)  # 0: none after the date
    confirmation_wait_days: Mapped[int] = mapped_column(default=7)  # 0: never

    DEFAULTS = {
        "draft_days": "7,1",
        "evaluation_days": "3,1",
        "report_due_days": 14,
        "report_overdue_every": 7,
        "report_overdue_max": 3,
        "confirmation_wait_days": 7,
    }
    FIELDS = tuple(DEFAULTS)

    @classmethod
    def default(cls, competition_id: int) -> "ReminderSettings":
        return cls(competition_id=competition_id, **cls.DEFAULTS)

    @staticmethod
    def days(text: str) -> list[int]:
        """The days of a list such as "7, 1", largest first (the form accepted the text)."""
        return sorted({int(part) for part in text.replace(" ", "").split(",") if part}, reverse=True)


class SentReminder(db.Model):
    __tablename__ = "sent_reminders"
    __table_args__ = (UniqueConstraint("kind", "user_id", "object_id", "occasion", name="uq_sent_reminders_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The idea (drafts, reports, confirmations) or the competition (evaluation) reminded of.
    object_id: Mapped[int] = mapped_column()
    # Which of the schedule's moments: "7d", "1d", "due", "overdue2", "waiting".
    occasion: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
