"""Issued documents (decision letters, agreements, receipts) kept as records, never overwritten,
and the batches that issue a competition's due documents on the task queue."""

import uuid
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
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


class BatchStatus(StrEnum):
    """Where a document batch is (stored as its value)."""

    QUEUED = "queued"  # waiting for a worker
    RUNNING = "running"  # a worker is issuing; heartbeat_at moves with every document
    DONE = "done"  # every due document tried (see failed)
    FAILED = "failed"  # stopped by an unexpected error (see error)


BATCH_STATUS_LABELS = {
    BatchStatus.QUEUED: _l("Waiting for the worker"),
    BatchStatus.RUNNING: _l("Issuing"),
    BatchStatus.DONE: _l("Finished"),
    BatchStatus.FAILED: _l("Stopped by an error"),
}


class DocumentBatch(db.Model):
    """One run of "issue every due decision letter and agreement" of a competition, started by
    an administrator and worked off by the task queue: its progress for the competition's page,
    and the record of who started it and what came of it. A worker that dies leaves it
    "running" with an old heartbeat; the sweep resumes it (documents already issued are
    skipped, so none is issued twice)."""

    __tablename__ = "document_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=BatchStatus.QUEUED)  # a BatchStatus
    total: Mapped[int] = mapped_column(default=0)  # due when started
    done: Mapped[int] = mapped_column(default=0)  # issued by this batch
    failed: Mapped[int] = mapped_column(default=0)  # refused (why: in error)
    waiting: Mapped[int] = mapped_column(default=0)  # agreements waiting for the municipality
    error: Mapped[str] = mapped_column(Text, default="")
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    started_by: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def finished(self) -> bool:
        return self.status in (BatchStatus.DONE, BatchStatus.FAILED)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * (self.done + self.failed) / self.total))


OPERATOR, ORGANISATION, MUNICIPALITY_PARTY = "operator", "organisation", "municipality"
PARTY_LABELS = {
    OPERATOR: _l("Programme operator"),
    ORGANISATION: _l("Community organisation"),
    MUNICIPALITY_PARTY: _l("Municipality"),
}


class Signature(db.Model):
    """A party's signature on an issued document: the operator's, made when the document was
    issued, or one found in a signed copy a party uploaded and GrantFlow verified (the copy is
    kept). Who signed is the certificate's subject; when is the signer's signing time."""

    __tablename__ = "document_signatures"
    __table_args__ = (UniqueConstraint("document_id", "party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    party: Mapped[str] = mapped_column(String(20))  # operator | organisation | municipality
    signer: Mapped[str] = mapped_column(String(300))  # the certificate's common name
    subject: Mapped[str] = mapped_column(Text, default="")
    issuer: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The signed copy as uploaded (None for the operator's: the document itself carries it).
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="", index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[Document] = relationship()
    uploaded_by: Mapped["User | None"] = relationship()  # noqa: F821
