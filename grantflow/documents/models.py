"""Issued documents (decision letters, agreements, receipts) kept as records, never overwritten."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.core.extensions import db
from grantflow.core.types import UTCDateTime, utcnow


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("idea_id", "kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # decision | agreement | receipt
    version: Mapped[int] = mapped_column(default=1)
    number: Mapped[str] = mapped_column(String(40), default="")
    language: Mapped[str] = mapped_column(String(5), default="lv")
    filename: Mapped[str] = mapped_column(String(200))
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Printed as a QR code: the verification page finds the document by it.
    token: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    idea: Mapped["Idea"] = relationship()  # noqa: F821
    issued_by: Mapped["User | None"] = relationship()  # noqa: F821
