"""Every change to an idea's messages: staff write a question or a note; the applicant answers
a question, with files and the corrections of the fields it reopened. Each is one transaction
with its audit row and its mails (the outbox), so nothing is ever half-done."""

import hashlib

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from grantflow.accounts.operations import administrators
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.ideas import operations as ideas_ops
from grantflow.ideas.models import Idea
from grantflow.mail.operations import queue_mails
from grantflow.messages.forms import field_labels
from grantflow.messages.models import ANSWER, MAX_BODY, NOTE, QUESTION, Message, MessageFile, can_write
from grantflow.review.models import Assignment
from grantflow.workflow import engine
from grantflow.workflow.registry import audit_kind

MAX_FILES = 5

audit_kind("message_question", _l("Question to the applicant"))
audit_kind("message_note", _l("Staff note"), applicant_sees=False)
audit_kind("message_answered", _l("The applicant answered a question"))


def thread(idea: Idea, user, roles) -> list[Message]:
    """The questions and notes `user` may see, oldest first, each with its answers (one query
    for the messages, one for the authors, one for the files)."""
    messages = db.session.scalars(
        select(Message)
        .options(selectinload(Message.author), selectinload(Message.files))
        .where(Message.idea_id == idea.id)
        .order_by(Message.created_at, Message.id)
    ).all()
    by_question: dict[int, list[Message]] = {}
    for message in messages:
        if message.question_id is not None:
            by_question.setdefault(message.question_id, []).append(message)
    return [
        (message, [a for a in by_question.get(message.id, []) if a.can_see(user, roles)])
        for message in messages
        if message.question_id is None and message.can_see(user, roles)
    ]


def evaluator_addresses(idea: Idea) -> list[tuple[str, str]]:
    """(e-mail, locale) of the idea's evaluators (active assignments, active accounts)."""
    rows = db.session.scalars(
        select(Assignment).options(selectinload(Assignment.evaluator)).where(
            Assignment.idea_id == idea.id, Assignment.active.is_(True)
        )
    ).all()
    return [(a.evaluator.email, a.evaluator.locale) for a in rows if a.evaluator.active]


def write(idea: Idea, actor, kind: str, body: str, to_evaluators: bool, open_fields=()) -> Message:
    """A question to the applicant (reopening `open_fields` until answered) or a staff note;
    either may be shared with the evaluators. Mails whom it reaches. Commits."""
    if not can_write(idea, actor):
        raise Refused([_l("You may not write messages on this idea.")])
    body = (body or "").strip()
    fields = {}
    if kind not in (QUESTION, NOTE):
        fields["kind"] = _l("Choose whether it is a question to the applicant or a staff note.")
    if not body:
        fields["body"] = _l("Write the message.")
    elif len(body) > MAX_BODY:
        fields["body"] = _l("At most %(count)d characters.", count=MAX_BODY)
    open_fields = list(dict.fromkeys(open_fields or ()))
    if open_fields and kind != QUESTION:
        fields["open_fields"] = _l("Only a question to the applicant can reopen fields.")
    elif set(open_fields) - set(ideas_ops.reopenable(idea)):
        fields["open_fields"] = _l("Choose among the idea's fields and budget lines.")
    if fields:
        raise Refused(fields=fields)
    message = Message(
        idea_id=idea.id,
        author_id=actor.id,
        kind=kind,
        body=body,
        to_applicant=kind == QUESTION,
        to_evaluators=bool(to_evaluators),
        open_fields=open_fields if kind == QUESTION else [],
    )
    db.session.add(message)
    db.session.flush()
    entry = engine.record(idea, f"message_{kind}", actor, message_id=message.id, open_fields=message.open_fields)
    entry.internal = kind == NOTE
    if kind == QUESTION:
        queue_mails(
            ideas_ops.applicant_addresses(idea), "message_question", idea=idea, message=message,
            reopened=field_labels(idea, message.open_fields),
        )  # fmt: skip
    if message.to_evaluators:
        queue_mails(evaluator_addresses(idea), "message_shared", idea=idea, message=message)
    db.session.commit()
    return message


def answer(question: Message, actor, body: str, values: dict, uploads=()) -> Message:
    """The applicant's answer: the text, files (each checked as the idea's own are) and the
    corrections of the reopened fields, recorded before and after in the idea's audit; the
    question closes. Raises Refused (messages tied to fields) with nothing stored. Commits."""
    idea = question.idea
    if not question.can_answer(actor):
        raise Refused([_l("This question has already been answered or is not yours to answer.")])
    body = (body or "").strip()
    fields = {}
    if not body:
        fields["body"] = _l("Write your answer.")
    elif len(body) > MAX_BODY:
        fields["body"] = _l("At most %(count)d characters.", count=MAX_BODY)
    checked = []
    uploads = [(name, data) for name, data in uploads if name or data]
    if len(uploads) > MAX_FILES:
        fields["files"] = _l("At most %(count)d files.", count=MAX_FILES)
    for name, data in uploads[:MAX_FILES]:
        try:
            checked.append((*ideas_ops.check_upload(name, data), data))
        except Refused as refused:
            fields["files"] = _l("“%(name)s” was not accepted: %(reason)s", name=(name or "")[:120], reason=refused.messages[0])
    changes = []
    if question.open_fields:
        problems, changes = ideas_ops.correct_fields(idea, values, question.open_fields, actor)
        fields.update(problems)
    if fields:
        db.session.rollback()
        raise Refused(fields=fields)
    now = utcnow()
    # One conditional UPDATE: of two answers sent at once, only one closes the question.
    closed = db.session.execute(
        update(Message).where(Message.id == question.id, Message.closed_at.is_(None)).values(closed_at=now)
    )
    if closed.rowcount != 1:
        db.session.rollback()
        raise Refused([_l("This question has already been answered or is not yours to answer.")])
    reply = Message(
        idea_id=idea.id,
        question_id=question.id,
        author_id=actor.id,
        kind=ANSWER,
        body=body,
        to_applicant=True,
        to_evaluators=question.to_evaluators,
        changes=changes,
        created_at=now,
    )
    for filename, content_type, data in checked:
        reply.files.append(
            MessageFile(filename=filename, content_type=content_type, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), data=data)  # fmt: skip
        )
    db.session.add(reply)
    db.session.flush()
    engine.record(idea, "message_answered", actor, message_id=reply.id, question_id=question.id, changes=changes)
    author = question.author
    staff = [(author.email, author.locale)] if author is not None and author.active else []
    staff = staff or [(admin.email, admin.locale) for admin in administrators()]
    queue_mails(staff, "message_answered", idea=idea, question=question, message=reply)
    if reply.to_evaluators:
        queue_mails(evaluator_addresses(idea), "message_shared", idea=idea, message=reply)
    db.session.commit()
    return reply
