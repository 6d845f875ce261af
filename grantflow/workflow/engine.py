"""Firing transitions: the role, comment and guard checks, the state change, the effects and
the audit row, all in the caller's database transaction. Knows nothing of views or requests.

A transition is followed through three files: the workflow file as loaded by `definition.py`
(a `TransitionDef`: sources, destination, roles, guards, effects, comment mode and audience),
`fire` and
`_step` below, read top to bottom, and `models.py` (`AuditEntry`, the row every step leaves).

The `transitions` library is not used here. Firing through it took a callback built in the
definition and a proxy object whose `state` setter wrote to the database; it added nothing
the steps below do not say plainly, and cost time on every step. What it does well is drawing
the workflow (`diagram.py`); which triggers leave which state is answered by the loaded
definition (`Workflow.transition`, `Workflow.leaving`), validated when the file is loaded.

One optimistic lock guards an idea's row: `bump_version`, a single prepared
`UPDATE ideas SET version = :old + 1 … WHERE id = :id AND version = :old`. A transition
writes its new state with it (on PostgreSQL in one statement with its audit row, `_move`);
the operations that change an idea's content (saving a draft, its rows) call it too. The idea has no SQLAlchemy `version_id_col`: that would be a second
lock, with a second version step, on every ORM flush of the row. Why this one is enough: the
UPDATE is atomic and takes the row's write lock until the transaction ends, so of two
requests that loaded the same version only the first passes. On PostgreSQL (read committed)
the second waits for the lock, then matches no row: Conflict. On SQLite a writing request
begins IMMEDIATE (core.database), so the second waits for the first to commit before it reads
at all, then sees the new state and is refused by the workflow itself; work outside requests
(a deferred BEGIN) that read before the other committed gets "database is locked": Conflict."""

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, select, update
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
from grantflow.workflow.registry import registry, staff_roles


@dataclass
class Context:
    """What guards and effects know of the firing: who, why, when, and extra parameters
    (e.g. the amount to fund)."""

    actor: object | None
    comment: str = ""
    now: datetime = field(default_factory=utcnow)
    params: dict = field(default_factory=dict)
    role: str = ""
    internal: bool = False  # the comment is for staff only (the transition's `comment_to: internal`)
    source: str = ""  # the state the transition leaves (effects run in the new one)

    @property
    def public_comment(self) -> str:
        """The comment as the applicant may read it (mails, documents): empty when internal."""
        return "" if self.internal else self.comment


def available(idea, actor) -> list[TransitionDef]:
    """Transitions `actor` may fire by hand on `idea` right now (for buttons)."""
    ctx = Context(actor)
    return [
        t
        for t in idea.workflow.leaving.get(idea.state, [])
        if not t.automatic and _role(t, idea, actor) and not _guard_failures(t, idea, ctx)
    ]


def fire(
    idea, trigger: str, actor, comment: str = "", at: datetime | None = None, savepoint: bool = True, **params
) -> AuditEntry:
    """Fire `trigger` on `idea` as `actor`, then any automatic transitions that follow; return
    the audit row of `trigger`. Each step is `_step`, just below.

    Runs in a savepoint: on any failure everything the transition did (state, effects, audit)
    is undone and the caller's earlier work is kept. Raises Refused (not allowed now) or
    Conflict (someone else changed the idea since it was loaded; see the module docstring).
    Does not commit: the caller's operation owns the transaction. `at` records a past moment
    instead of now (importing history).

    `savepoint=False` is for a caller whose whole transaction is the transition and that rolls
    it all back on Refused or Conflict (a submission: ideas.operations.save_and_submit). It
    spares the busiest request there is, the deadline's submit, the savepoint's two statements
    and an ORM flush."""
    with _savepoint(idea) if savepoint else _flushed():
        entry = _step(idea, trigger, actor, comment.strip(), params, at)
        _settle(idea, at)
    return entry


def settle(idea, at: datetime | None = None) -> list[AuditEntry]:
    """Fire the automatic transitions whose guards hold, until none does. Call it after an
    operation that may have satisfied a guard (e.g. the last review submitted). Atomic, like fire."""
    with _savepoint(idea):
        entries = _settle(idea, at)
    return entries


def _step(idea, trigger, actor, comment, params, at, automatic=False) -> AuditEntry:
    """One transition, in order: which transition, who may, the comment, the guards; then the
    state written with the version check, the audit row, the effects in the file's order."""
    t = idea.workflow.transition(trigger, idea.state)
    if t is None:
        raise Refused([_not_now(idea)])
    if automatic:
        role = "system"
    else:
        role = _role(t, idea, actor)
        if role is None:
            raise Refused([_l("You may not take this step.")])
        if t.comment_required and not comment:
            raise Refused([_l("Please give a reason (comment) for this step.")])
    ctx = Context(
        actor, comment, now=at or utcnow(), params=params, role=role, internal=t.comment_internal, source=idea.state
    )
    failures = _guard_failures(t, idea, ctx)
    if failures:
        raise Refused(failures)

    row = {
        "idea_id": idea.id,
        "kind": "transition",
        "trigger": trigger,
        "from_state": idea.state,
        "to_state": t.dest,
        "actor_id": None if automatic else getattr(actor, "id", None),
        "actor_role": role,
        "comment": comment,
        "internal": t.comment_internal,
        "created_at": ctx.now,
    }
    # The new state (version-checked) and the audit row before the effects: they see the new
    # state, and an effect that takes a shared lock (the submission's reference counter) then
    # holds it over as few statements as possible until the commit.
    audit_id = _move(idea, row)
    for name in t.effects:
        registry.effects[name].func(idea, ctx)
    # What was written, for the caller to read; not attached to the session (it is in the table).
    return AuditEntry(id=audit_id, **row)


def _move(idea, row: dict) -> int:
    """Write the transition `row` describes: the idea's new state with the version check
    (bump_version), then its audit row; returns the audit row's id. On PostgreSQL both are one
    statement (the UPDATE in a WITH, the INSERT taking its returned row, so no row is written
    when the check fails): one round trip less for every transition, the deadline's submit
    among them. SQLite cannot write inside a WITH: two statements."""
    if db.session.get_bind().dialect.name != "postgresql":
        bump_version(idea, row["created_at"], state=row["to_state"])
        return db.session.execute(_AUDIT_INSERT, row).inserted_primary_key[0]
    old = idea.version
    values = {f"audit_{name}": value for name, value in row.items()}
    values.update(idea_id=idea.id, old_version=old, new_version=old + 1, new_state=row["to_state"], now=row["created_at"])
    try:
        audit_id = db.session.execute(_versioned_audit(type(idea).__table__), values).scalar_one_or_none()
    except DBAPIError as error:  # as bump_version: a lock given up on is someone else's change
        if is_conflict(error):
            raise Conflict(str(error)) from error
        raise
    if audit_id is None:
        raise Conflict(f"idea {idea.id} changed meanwhile")
    set_committed_value(idea, "state", row["to_state"])
    set_committed_value(idea, "version", old + 1)
    set_committed_value(idea, "updated_at", row["created_at"])
    return audit_id


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
        entries.append(_step(idea, ready[0].trigger, None, "", {}, at, automatic=True))
    return entries


def _not_now(idea) -> str:
    return _l("This step is not possible while the idea is “%(state)s”.", state=pick(idea.state_def.label))


def _role(t: TransitionDef, idea, actor) -> str | None:
    """The role in which `actor` fires `t`: one the transition names, or a staff role whose
    capability covers a part the transition plays (PartDef.capability)."""
    roles = idea.roles_of(actor)
    held = roles & t.roles
    if held:
        return min(held)
    staff = staff_roles()
    for part_name, trigger in idea.workflow.parts.items():
        spec = registry.parts.get(part_name)
        if trigger != t.trigger or spec is None or spec.capability is None:
            continue
        for name in sorted(roles & staff.keys()):
            if spec.capability in staff[name].capabilities:
                return name
    return None


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


@contextmanager
def _savepoint(idea):
    """Everything inside happens in a savepoint, flushed at the end; on any failure it is
    rolled back and the idea reloaded, and a lost race becomes Conflict."""
    savepoint = db.session.begin_nested()
    try:
        yield
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


@contextmanager
def _flushed():
    """Everything inside flushed at the end, a lost race raised as Conflict; undoing is the
    caller's (fire's `savepoint=False`)."""
    try:
        yield
        db.session.flush()
    except (StaleDataError, DBAPIError) as error:
        if is_conflict(error):
            raise Conflict(str(error)) from error
        raise


def _undo(savepoint, idea) -> None:
    savepoint.rollback()
    db.session.expire(idea)  # its state was set as committed; reload what the database says


# --- the optimistic lock --------------------------------------------------------------------


def bump_version(idea, now: datetime | None = None, state: str | None = None) -> None:
    """Move the idea's version on with one version-checked UPDATE (and its state to `state`,
    for a transition), or raise Conflict if its row changed since it was loaded.

    Call it in every operation that changes an idea's content, so that a page or form showing
    an older version (a step button, the funding decision) is refused as stale, and a change
    racing a transition loses cleanly. Writes at once, not at the next flush; the in-memory
    idea is updated as if loaded again. Does not commit."""
    now = now or utcnow()
    old = idea.version
    new_state = idea.state if state is None else state
    try:
        result = db.session.execute(
            _versioned_update(type(idea).__table__),
            {"idea_id": idea.id, "old_version": old, "new_version": old + 1, "new_state": new_state, "now": now},
        )
    except DBAPIError as error:  # SQLite: another writer committed after this transaction read
        if is_conflict(error):
            raise Conflict(str(error)) from error
        raise
    if result.rowcount != 1:
        raise Conflict(f"idea {idea.id} changed meanwhile")
    set_committed_value(idea, "state", new_state)
    set_committed_value(idea, "version", old + 1)
    set_committed_value(idea, "updated_at", now)


# Built once: the two statements every transition sends (one, _versioned_audit, on PostgreSQL).
_AUDIT_INSERT = insert(AuditEntry.__table__)


@lru_cache(maxsize=8)
def _versioned_update(table):
    return (
        update(table)
        .where(table.c.id == bindparam("idea_id"), table.c.version == bindparam("old_version"))
        .values(state=bindparam("new_state"), version=bindparam("new_version"), updated_at=bindparam("now"))
    )


@lru_cache(maxsize=8)
def _versioned_audit(table):
    """PostgreSQL: WITH moved AS (the versioned UPDATE … RETURNING id) INSERT INTO audit_log …
    SELECT … FROM moved RETURNING id; the idea's id comes from the row the UPDATE changed."""
    moved = _versioned_update(table).returning(table.c.id).cte("moved")
    audit = AuditEntry.__table__
    columns = ["kind", "trigger", "from_state", "to_state", "actor_id", "actor_role", "comment", "internal", "created_at"]
    # Named apart from the idea's columns: an UPDATE would take a parameter named after one of
    # them (created_at) as a value to set.
    rows = select(moved.c.id, *(bindparam(f"audit_{name}", type_=audit.c[name].type) for name in columns))
    return insert(audit).from_select(["idea_id", *columns], rows).add_cte(moved).returning(audit.c.id)


# --- other audited acts ---------------------------------------------------------------------


def record(idea, kind: str, actor, comment: str = "", **data) -> AuditEntry:
    """Audit something that is not a transition (a document issued, a review submitted).
    `kind` must be declared with `registry.audit_kind` (by the area that records it), so that
    history pages show its label, never its key; an undeclared kind is a programming error."""
    if kind not in registry.kinds:
        raise LookupError(f"audit kind {kind!r} is not declared; declare it with registry.audit_kind")
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
