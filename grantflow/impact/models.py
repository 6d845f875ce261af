"""A PDF programme summary an administrator asked for (the programme's or one competition's
figures and charts, in one language): its status on the task queue and, once built, the PDF,
kept in the row like exports are."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.core.extensions import db
from grantflow.core.types import UTCDateTime, utcnow


class SummaryStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImpactSummary(db.Model):
    """A worker claims a queued summary (running, `started_at`); one left running past
    EXPORT_LEASE_SECONDS belonged to a dead worker and the sweep builds it again."""

    __tablename__ = "impact_summaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int | None] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(5), default="lv")
    status: Mapped[str] = mapped_column(String(10), default=SummaryStatus.QUEUED, index=True)  # a SummaryStatus
    filename: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    competition: Mapped["Competition | None"] = relationship()  # noqa: F821
    requested_by: Mapped["User | None"] = relationship()  # noqa: F821
