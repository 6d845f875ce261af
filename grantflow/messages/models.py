"""Messages on an idea: staff's questions to the applicant (which may reopen named fields or
budget lines for correction), the applicant's answers with files, and staff notes.

Who sees a message is decided here, once (`can_see`), for the idea page, the mails, the
downloads and any future API alike: staff (administrators and the deployment's staff roles)
see every message; the applicant sees questions to them and their own answers; evaluators
see what staff shared with them; nobody else sees any."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.accounts.models import ADMINISTRATOR, APPLICANT, EVALUATOR
from grantflow.core.extensions import db
from grantflow.core.types import UTCDateTime, utcnow
from grantflow.ideas.models import Idea
from grantflow.workflow.registry import staff_roles

QUESTION, NOTE, ANSWER = "question", "note", "answer"
MAX_BODY = 5000  # characters of a message


def is_staff(roles) -> bool:
    """Whether these roles (on an idea) are the programme's staff: they read and write every message."""
    return bool(roles & ({ADMINISTRATOR} | set(staff_roles())))


def can_write(idea: Idea, user, roles=None) -> bool:
    """Staff who may moderate (Idea.can_moderate: administrators, staff roles with the
    capability) ask questions and write notes on filed ideas (a draft is still the
    applicant's own)."""
    roles = idea.roles_of(user) if roles is None else roles
    return is_staff(roles) and idea.can_moderate(user)


class Message(db.Model):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    # An answer's question.
    question_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))  # question | note | answer
    body: Mapped[str] = mapped_column(Text, default="")
    # Who besides staff sees it: a question and its answer reach the applicant, a note never;
    # either may be shared with the idea's evaluators.
    to_applicant: Mapped[bool] = mapped_column(default=False, server_default=false())
    to_evaluators: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A question's reopened fields (ideas.operations.reopenable keys), open until answered.
    open_fields: Mapped[list] = mapped_column(JSON, default=list)
    # An answer's corrections: [{"field", "line", "before", "after"}] (also in the idea's audit).
    changes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A question: when it was answered (and its fields closed again).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    idea: Mapped[Idea] = relationship()
    author: Mapped["User | None"] = relationship()  # noqa: F821
    question: Mapped["Message | None"] = relationship(remote_side=[id], back_populates="answers")
    answers: Mapped[list["Message"]] = relationship(back_populates="question", order_by="Message.id")
    files: Mapped[list["MessageFile"]] = relationship(
        back_populates="message", order_by="MessageFile.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.kind == QUESTION and self.closed_at is None

    def can_see(self, user, roles=None) -> bool:
        roles = self.idea.roles_of(user) if roles is None else roles
        return (
            is_staff(roles)
            or (APPLICANT in roles and self.to_applicant)
            or (EVALUATOR in roles and self.to_evaluators)
        )

    def can_answer(self, user, roles=None) -> bool:
        """The applicant answers an open question to them, once."""
        roles = self.idea.roles_of(user) if roles is None else roles
        return self.is_open and self.to_applicant and APPLICANT in roles

    def __repr__(self) -> str:
        return f"<Message {self.id} {self.kind} idea={self.idea_id}>"


class MessageFile(db.Model):
    """A file sent with an answer (checked like the idea's own: ideas.operations.check_upload)."""

    __tablename__ = "message_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    message: Mapped[Message] = relationship(back_populates="files")

    def can_view(self, user) -> bool:
        return self.message.can_see(user)
