"""Reading an idea's history, and firing a workflow step from the web."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from grantflow.extensions import db
from grantflow.workflow import engine
from grantflow.workflow.models import AuditEntry
from grantflow.workflow.registry import registry


def history(idea, for_applicant: bool = False) -> list[AuditEntry]:
    """The idea's audit trail; the applicant's view leaves out acts declared private."""
    query = (
        select(AuditEntry)
        .options(joinedload(AuditEntry.actor))
        .where(AuditEntry.idea_id == idea.id)
        .order_by(AuditEntry.created_at, AuditEntry.id)
    )
    if for_applicant and registry.private_kinds:
        query = query.where(AuditEntry.kind.not_in(registry.private_kinds))
    return db.session.scalars(query).all()


def take_step(idea, trigger: str, actor, comment: str = "", **params):
    """Fire a transition and commit; raises TransitionRefused or Conflict with nothing saved."""
    entry = engine.fire(idea, trigger, actor, comment, **params)
    db.session.commit()
    return entry
