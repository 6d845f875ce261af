"""Reading an idea's history, and firing a workflow step from the web."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from grantflow.extensions import db
from grantflow.workflow import engine
from grantflow.workflow.models import AuditEntry


def history(idea) -> list[AuditEntry]:
    return db.session.scalars(
        select(AuditEntry)
        .options(joinedload(AuditEntry.actor))
        .where(AuditEntry.idea_id == idea.id)
        .order_by(AuditEntry.created_at, AuditEntry.id)
    ).all()


def take_step(idea, trigger: str, actor, comment: str = "", **params):
    """Fire a transition and commit; raises TransitionRefused or Conflict with nothing saved."""
    entry = engine.fire(idea, trigger, actor, comment, **params)
    db.session.commit()
    return entry
