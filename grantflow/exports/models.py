"""An export an administrator asked for: its filters, its status on the queue and, once built,
the file itself (stored in the database, like issued documents, so a backup holds it and any
web worker can serve it)."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.core.extensions import db
from grantflow.core.types import UTCDateTime, utcnow


class ExportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Export(db.Model):
    """`kind` (applications, reviews, decisions, documents, reports, or a competition's
    ranking), `format` (csv, xlsx), `filters` ({"competition": id, "tag": tag, "municipality":
    id}, each optional; a ranking's: its competition and the ranking page's filters). A worker
    claims a queued export (status running, `started_at`); one that stays running past
    EXPORT_LEASE_SECONDS was left by a dead worker and the sweep builds it again."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(4))
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=ExportStatus.QUEUED, index=True)  # an ExportStatus
    rows: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    requested_by: Mapped["User | None"] = relationship()  # noqa: F821
