"""The outbox: mails written in the same transaction as the change that causes them."""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.core.extensions import db
from grantflow.core.types import UTCDateTime, utcnow


class MailStatus(StrEnum):
    """Where an outbox mail is (stored as its value)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


STATUS_LABELS = {
    MailStatus.PENDING: _l("Waiting"),
    MailStatus.SENDING: _l("Being sent"),
    MailStatus.SENT: _l("Sent"),
    MailStatus.FAILED: _l("Given up"),
}


class OutboxMail(db.Model):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=MailStatus.PENDING, index=True)  # a MailStatus
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When a worker took it for sending: a mail "sending" for longer than MAIL_LEASE_SECONDS
    # was left by a worker that died, and is taken back (mail.operations.reclaim_stale).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An attachment made when the mail is sent, not when it is queued (a PDF that takes long to
    # render, such as a receipt's copy): {"maker": <registered name>, ...its arguments}.
    attachment_job: Mapped[dict | None] = mapped_column(JSON)
    # A mail written when it is sent, not when it is queued: {"composer": <registered name>,
    # ...its arguments}, written in `locale` (the recipient's language). Subject and text stay
    # empty until the sender writes them (mail.operations.queue_composed): the deadline crowd's
    # receipts are queued without rendering a mail inside each submission.
    compose_job: Mapped[dict | None] = mapped_column(JSON)
    locale: Mapped[str] = mapped_column(String(5), default="lv", server_default="lv")

    attachments: Mapped[list["OutboxAttachment"]] = relationship(
        back_populates="mail", cascade="all, delete-orphan"
    )


class OutboxAttachment(db.Model):
    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    mail: Mapped[OutboxMail] = relationship(back_populates="attachments")
