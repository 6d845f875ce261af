"""Document batches on the task queue: an administrator starts "issue every due decision letter
and agreement" of a competition from its page; a worker issues them one by one, each document
stored and counted in one commit, so progress shows on the page and a worker killed in the
middle loses nothing and issues nothing twice (the sweep resumes the batch; documents issued
meanwhile are skipped). `flask documents render` keeps its own multi-process run for a
directory of PDFs."""

import logging
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from grantflow.accounts.models import User
from grantflow.competitions.models import Competition
from grantflow.core import queue
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.documents import operations as ops
from grantflow.documents.models import BatchStatus, Document, DocumentBatch
from grantflow.ideas.models import Idea

log = logging.getLogger(__name__)
RUN_TASK = "documents.batch"
UNFINISHED = (BatchStatus.QUEUED, BatchStatus.RUNNING)


def batches_of(competition_id: int, limit: int = 5) -> list[DocumentBatch]:
    """The competition's latest batches, newest first (for its page)."""
    return db.session.scalars(
        select(DocumentBatch)
        .options(selectinload(DocumentBatch.started_by))
        .where(DocumentBatch.competition_id == competition_id)
        .order_by(DocumentBatch.id.desc())
        .limit(limit)
    ).all()


def start_batch(competition: Competition, actor) -> tuple[int, int]:
    """Record a batch of the competition's due documents and commit it; returns its id and how
    many documents it will issue, read before the commit so that the caller touches the
    database no more (the write transaction is over) and then enqueues it (`enqueue_batch`).
    Refused when nothing is due or a batch is unfinished."""
    db.session.execute(select(Competition.id).where(Competition.id == competition.id).with_for_update())
    unfinished = db.session.scalar(
        select(DocumentBatch.id).where(DocumentBatch.competition_id == competition.id, DocumentBatch.status.in_(UNFINISHED))
    )
    if unfinished is not None:
        raise Refused(_("A batch of this competition is still running; wait until it finishes."))
    todo = ops.due(competition.id)
    if not todo.items:
        raise Refused(_("No decision letter or agreement is due: nothing to issue."))
    batch = DocumentBatch(
        competition_id=competition.id, total=len(todo.items), waiting=len(todo.waiting),
        started_by_id=getattr(actor, "id", None), status=BatchStatus.QUEUED,
    )
    db.session.add(batch)
    db.session.flush()
    started = (batch.id, batch.total)
    db.session.commit()
    return started


def enqueue_batch(batch_id: int) -> None:
    """Tell the worker (after start_batch committed)."""
    queue.enqueue(RUN_TASK, batch_id)


def _claim(batch_id: int) -> bool:
    """Take the batch for this worker: a queued one, or a running one whose worker stopped
    beating (died). With several workers only one wins it."""
    now = utcnow()
    stale = now - timedelta(seconds=current_app.config["BATCH_LEASE_SECONDS"])
    result = db.session.execute(
        update(DocumentBatch)
        .where(
            DocumentBatch.id == batch_id,
            or_(
                DocumentBatch.status == BatchStatus.QUEUED,
                (DocumentBatch.status == BatchStatus.RUNNING) & (DocumentBatch.heartbeat_at < stale),
            ),
        )
        .values(status=BatchStatus.RUNNING, heartbeat_at=now)
    )
    db.session.commit()
    return result.rowcount == 1


@queue.task(RUN_TASK)
def run_batch(batch_id: int) -> None:
    """On the worker: issue what is still due, one document per commit (with the count)."""
    if not _claim(batch_id):
        return
    batch = db.session.get(DocumentBatch, batch_id)
    batch.started_at = batch.started_at or utcnow()
    actor = db.session.get(User, batch.started_by_id) if batch.started_by_id else None
    db.session.commit()
    try:
        todo = ops.due(batch.competition_id)
        for idea, kind in todo.items:
            _issue_one(batch_id, idea.id, kind, actor)
        batch = db.session.get(DocumentBatch, batch_id)
        batch.waiting = len(todo.waiting)
        batch.status = BatchStatus.DONE
        batch.finished_at = utcnow()
        db.session.commit()
    except Exception as error:  # stop cleanly and say why on the competition's page
        db.session.rollback()
        log.exception("document batch %s stopped", batch_id)
        batch = db.session.get(DocumentBatch, batch_id)
        batch.status = BatchStatus.FAILED
        batch.error = (batch.error + f"{type(error).__name__}: {error}\n")[-4000:]
        batch.finished_at = utcnow()
        db.session.commit()


def _issue_one(batch_id: int, idea_id: int, kind: str, actor) -> None:
    """Issue one document and count it in the same commit; skip it when issued meanwhile (by
    hand, or by this batch before its worker died)."""
    already = db.session.scalar(select(Document.id).where(Document.idea_id == idea_id, Document.kind == kind).limit(1))
    batch = db.session.get(DocumentBatch, batch_id)
    if already is not None:
        batch.heartbeat_at = utcnow()
        db.session.commit()
        return
    idea = db.session.get(Idea, idea_id)
    try:
        draft = ops.draft(idea, kind)
        pdf = ops.to_pdf(draft.html)
    except Refused as refusal:
        db.session.rollback()
        batch = db.session.get(DocumentBatch, batch_id)
        batch.failed += 1
        batch.error = (batch.error + f"{idea.reference or idea.id} {kind}: {refusal}\n")[-4000:]
        batch.heartbeat_at = utcnow()
        db.session.commit()
        return
    ops.store(draft, pdf, actor)
    batch.done += 1
    batch.heartbeat_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:  # the same version issued by hand at this moment: that one stands
        db.session.rollback()


@queue.periodic("documents.sweep", minute="*")
def sweep() -> None:
    """Every minute on the worker: batches whose enqueue was lost, and batches whose worker
    died (no heartbeat within BATCH_LEASE_SECONDS), are put on the queue again; the claim lets
    only one worker run each."""
    stale = utcnow() - timedelta(seconds=current_app.config["BATCH_LEASE_SECONDS"])
    ids = db.session.scalars(
        select(DocumentBatch.id).where(
            or_(
                DocumentBatch.status == BatchStatus.QUEUED,
                (DocumentBatch.status == BatchStatus.RUNNING) & (DocumentBatch.heartbeat_at < stale),
            )
        )
    ).all()
    db.session.commit()
    for batch_id in ids:
        enqueue_batch(batch_id)
