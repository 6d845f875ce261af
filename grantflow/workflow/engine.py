"""Firing transitions: role and guard checks, the state change, effects and the audit row,
all in the caller's database transaction. Knows nothing of views or requests."""

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from grantflow.core.database import Conflict, is_conflict
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.i18n import pick
from grantflow.core.types import utcnow
from grantflow.workflow.definition import TransitionDef
from grantflow.workflow.models import AuditEntry
from grantflow.workflow.registry import registry


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

    The state is written with the idea's version in the WHERE clause (SQLAlchemy's
    version_id_col), so of two concurrent requests only one passes: the other finds the
    version moved on and gets Conflict (or, if it loaded the idea after the first committed,
    is refused from the new state). Runs in a savepoint: on any failure everything the
    transition did (state, effects, audit) is undone and the caller's earlier work is kept.
    Does not commit: the caller's operation owns the transaction. `at` records a past moment
    instead of now (importing history)."""
    return _atomically(lambda: _fire_one(idea, trigger, actor, comment.strip(), params, at=at), idea, at)


def settle(idea, at: datetime | None = None) -> list[AuditEntry]:
    """Fire the automatic transitions whose guards hold, until none does. Call it after an
    operation that may have satisfied a guard (e.g. the last review submitted). Atomic, like fire."""
    return _atomically(lambda: None, idea, at)


def _atomically(step, idea, at):
    """Run `step` then the automatic transitions it enables, in a savepoint."""
    savepoint = db.session.begin_nested()
    try:
        result = step()
        automatic = _settle(idea, at)
        db.session.flush()
    except (StaleDataError, DBAPIError) as error:
        _undo(savepoint, idea)
        if is_conflict(error):
            raise Conflict(str(error)) from error
        raise
    except BaseException:
        _undo(savepoint, idea)
        raise
    savepoint.commit()
    return result if result is not None else automatic


def _undo(savepoint, idea) -> None:
    savepoint.rollback()
    db.session.expire(idea)  # its state was set as committed; reload what the database says


def _fire_one(idea, trigger, actor, comment, params, automatic=False, at=None) -> AuditEntry:
    workflow = idea.workflow
    source = idea.state
    t = workflow.transition(trigger, source)
    if t is None:
        raise Refused([_not_now(idea)])
    if automatic:
        role = "system"
    else:
        role = _role(t, idea, actor)
        if role is None:
            raise Refused([_l("You may not take this step.")])
        if t.comment == "required" and not comment:
            raise Refused([_l("Please give a reason (comment) for this step.")])
    ctx = Context(actor, comment, now=at or utcnow(), params=params, role=role)
    failures = _guard_failures(t, idea, ctx)
    if failures:
        raise Refused(failures)
    workflow.machine.events[trigger].trigger(_Firing(idea, ctx.now), ctx=ctx)
    row = {
        "idea_id": idea.id,
        "kind": "transition",
        "trigger": trigger,
        "from_state": source,
        "to_state": idea.state,
        "actor_id": None if automatic else getattr(actor, "id", None),
        "actor_role": role,
        "comment": comment,
        "created_at": ctx.now,
    }
    result = db.session.execute(_AUDIT_INSERT, row)
    # What was written, for the caller to read; not attached to the session (it is in the table).
    return AuditEntry(id=result.inserted_primary_key[0], **row)


# Built once: the two statements every transition sends.
_AUDIT_INSERT = insert(AuditEntry.__table__)


@lru_cache(maxsize=8)
def _state_update(table):
    return (
        update(table)
        .where(table.c.id == bindparam("idea_id"), table.c.version == bindparam("old_version"))
        .values(state=bindparam("new_state"), version=bindparam("new_version"), updated_at=bindparam("now"))
    )


class _Firing:
    """What the shared machine moves. Reading `state` reads the idea's; setting it writes the
    new state straight to the database, guarded by the idea's version, before the effects run."""

    def __init__(self, idea, now: datetime):
        self.idea = idea
        self.now = now

    @property
    def state(self) -> str:
        return self.idea.state

    @state.setter
    def state(self, new_state: str) -> None:
        idea = self.idea
        result = db.session.execute(
            _state_update(type(idea).__table__),
            {"idea_id": idea.id, "old_version": idea.version, "new_state": new_state,
             "new_version": idea.version + 1, "now": self.now},
        )  # fmt: skip
        if result.rowcount != 1:
            raise Conflict(f"idea {idea.id} changed meanwhile")
        set_committed_value(idea, "state", new_state)
        set_committed_value(idea, "version", idea.version + 1)
        set_committed_value(idea, "updated_at", self.now)


def _settle(idea, at: datetime | None, limit: int = 10) -> list[AuditEntry]:
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
