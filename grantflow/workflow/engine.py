"""Firing transitions: role and guard checks, the state change, effects and the audit row,
all in the caller's database transaction. Knows nothing of views or requests."""

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from grantflow.database import Conflict, is_conflict
from grantflow.extensions import db
from grantflow.i18n import pick
from grantflow.types import utcnow
from grantflow.workflow.definition import TransitionDef
from grantflow.workflow.models import AuditEntry
from grantflow.workflow.registry import registry


class TransitionRefused(Exception):
    """The transition may not fire now; `reasons` are meant for the person who tried."""

    def __init__(self, reasons: list[str]):
        self.reasons = [str(r) for r in reasons]
        super().__init__("; ".join(self.reasons))


@dataclass
class Context:
    """What guards and effects know of the firing: who, why, when, and extra parameters
    (e.g. the amount to fund)."""

    actor: object | None
    comment: str = ""
    now: datetime = field(default_factory=utcnow)
    params: dict = field(default_factory=dict)
    role: str = ""


def _not_now(idea) -> str:
    return _l("This step is not possible while the idea is “%(state)s”.", state=pick(idea.state_def.label))


def _guard_failures(t: TransitionDef, idea, ctx: Context) -> list[str]:
    failures = []
    for name in t.guards:
        named = registry.guards[name]
        result = named.func(idea, ctx)
        if result is False:
            failures.append(str(named.message or name))
        elif isinstance(result, str):
            failures.append(result)
    return failures


def _role(t: TransitionDef, idea, actor) -> str | None:
    held = idea.roles_of(actor) & t.roles
    return min(held) if held else None


def refusals(idea, trigger: str, actor, ctx: Context | None = None) -> list[str]:
    """Why `actor` cannot fire `trigger` on `idea` now; empty when they can."""
    t = idea.workflow.transition(trigger, idea.state)
    if t is None:
        return [_not_now(idea)]
    if _role(t, idea, actor) is None:
        return [_l("You may not take this step.")]
    return _guard_failures(t, idea, ctx or Context(actor))


def available(idea, actor) -> list[TransitionDef]:
    """Transitions `actor` may fire by hand on `idea` right now (for buttons)."""
    ctx = Context(actor)
    return [
        t
        for t in idea.workflow.leaving.get(idea.state, [])
        if not t.automatic and _role(t, idea, actor) and not _guard_failures(t, idea, ctx)
    ]


def fire(idea, trigger: str, actor, comment: str = "", at: datetime | None = None, **params) -> AuditEntry:
    """Fire `trigger` on `idea` as `actor`, then any automatic transitions that follow.

    Locks the idea's row first (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises
    writers), so of two concurrent requests only one passes; the other sees the new state
    and is refused, or gets Conflict. Runs in a savepoint: on any failure everything the
    transition did (state, effects, audit) is undone and the caller's earlier work is kept.
    Does not commit: the caller's operation owns the transaction. `at` records a past moment
    instead of now (importing history)."""
    savepoint = db.session.begin_nested()
    try:
        db.session.refresh(idea, with_for_update=True)
        entry = _fire_one(idea, trigger, actor, comment.strip(), params, at=at)
        settle(idea, at=at)
    except (StaleDataError, DBAPIError) as error:
        savepoint.rollback()
        if is_conflict(error):
            raise Conflict(str(error)) from error
        raise
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return entry


def _fire_one(idea, trigger, actor, comment, params, automatic=False, at=None) -> AuditEntry:
    workflow = idea.workflow
    source = idea.state
    t = workflow.transition(trigger, source)
    if t is None:
        raise TransitionRefused([_not_now(idea)])
    if automatic:
        role = "system"
    else:
        role = _role(t, idea, actor)
        if role is None:
            raise TransitionRefused([_l("You may not take this step.")])
        if t.comment == "required" and not comment:
            raise TransitionRefused([_l("Please give a reason (comment) for this step.")])
    ctx = Context(actor, comment, now=at or utcnow(), params=params, role=role)
    failures = _guard_failures(t, idea, ctx)
    if failures:
        raise TransitionRefused(failures)
    workflow.machine.events[trigger].trigger(idea, ctx=ctx)
    entry = AuditEntry(
        idea_id=idea.id,
        kind="transition",
        trigger=trigger,
        from_state=source,
        to_state=idea.state,
        actor_id=getattr(actor, "id", None) if not automatic else None,
        actor_role=role,
        comment=comment,
        created_at=ctx.now,
    )
    db.session.add(entry)
    return entry


def settle(idea, limit: int = 10, at: datetime | None = None) -> list[AuditEntry]:
    """Fire the automatic transitions whose guards hold, until none does. Call it after an
    operation that may have satisfied a guard (e.g. the last review submitted)."""
    entries = []
    for _ in range(limit):
        ctx = Context(None, role="system")
        ready = [
            t
            for t in idea.workflow.leaving.get(idea.state, [])
            if t.automatic and not _guard_failures(t, idea, ctx)
        ]
        if not ready:
            break
        entries.append(_fire_one(idea, ready[0].trigger, None, "", {}, automatic=True, at=at))
    db.session.flush()
    return entries


def record(idea, kind: str, actor, comment: str = "", **data) -> AuditEntry:
    """Audit something that is not a transition (a document issued, a review submitted)."""
    entry = AuditEntry(
        idea_id=idea.id if idea is not None else None,
        kind=kind,
        from_state=idea.state if idea is not None else "",
        to_state=idea.state if idea is not None else "",
        actor_id=getattr(actor, "id", None),
        comment=comment,
        data=data or None,
    )
    db.session.add(entry)
    return entry
