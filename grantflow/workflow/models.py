"""The append-only audit log: every transition, and other acts worth a record."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, event, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.core.extensions import db
from grantflow.core.types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(40), default="transition")
    trigger: Mapped[str] = mapped_column(String(60), default="")
    from_state: Mapped[str] = mapped_column(String(40), default="")
    to_state: Mapped[str] = mapped_column(String(40), default="")
    # None: the system (an automatic transition).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(20), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    # The comment is for staff only (the transition's `comment_to: internal`): applicant pages,
    # mails, documents and exports leave it out.
    internal: Mapped[bool] = mapped_column(default=False, server_default=false())
    data: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    actor: Mapped["User | None"] = relationship()  # noqa: F821


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _append_only(_mapper, _connection, target):
    raise PermissionError("the audit log is append-only")
