"""Recording administrative changes, and reading them back.

The log sits just above core, so every area that changes the programme's set-up (accounts,
organisations, competitions, review's standing conflicts) can record into it; the page that
shows it is the people area's. Kinds of change and kinds of object are declared by the area
that records them, with their labels (translated in that area's catalogue), as audit kinds
are (workflow.registry.audit_kind): the page shows labels, never keys."""

import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import String, cast, or_, select, update

from grantflow.adminlog.models import CLI, WEB, AdminLogEntry
from grantflow.core.extensions import db

KINDS: dict[str, object] = {}  # kind of change -> label (a lazy string)
OBJECTS: dict[str, object] = {}  # kind of object -> label


def log_kind(name: str, label) -> None:
    """Declare a kind of change, with the label the log page shows."""
    KINDS[name] = label


def object_kind(name: str, label) -> None:
    """Declare a kind of object changes are recorded on, with its label."""
    OBJECTS[name] = label


def kind_label(name: str) -> str:
    return str(KINDS.get(name, name))


def object_label(name: str) -> str:
    return str(OBJECTS.get(name, name))


def plain(value):
    """A value as JSON holds it: money and numbers as text (no float rounding), times in ISO
    form (UTC), sets and tuples as sorted lists."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        # Money and weights have two places: 1000 typed and 1000.00 stored are one value.
        cents = value.quantize(Decimal("0.01")) if value.is_finite() else value
        return str(cents if cents == value else value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, set | frozenset | tuple | list):
        items = [plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return str(value)


def snapshot(obj, fields) -> dict:
    """The named attributes of `obj`, as plain values: taken before and after a change."""
    return {name: plain(getattr(obj, name)) for name in fields}


def _actor(actor):
    if actor is not None:
        return actor, WEB
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user._get_current_object(), WEB
    return None, CLI


def record(kind: str, obj_kind: str, obj_id: int | None, label: str = "", before: dict | None = None,
           after: dict | None = None, actor=None) -> AdminLogEntry | None:
    """Add a log row in the caller's transaction (committed or rolled back with the change it
    tells of). Only the fields that differ are kept; a change that changed nothing leaves no
    row (None). `actor` defaults to the logged-in person; outside a request (a `flask`
    command) it is None and the source is "cli". An undeclared kind is a programming error."""
    if kind not in KINDS:
        raise LookupError(f"log kind {kind!r} is not declared; declare it with adminlog.operations.log_kind")
    if obj_kind not in OBJECTS:
        raise LookupError(f"object kind {obj_kind!r} is not declared; declare it with object_kind")
    before = {k: plain(v) for k, v in (before or {}).items()}
    after = {k: plain(v) for k, v in (after or {}).items()}
    if before and after:
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        if not changed:
            return None
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    who, source = _actor(actor)
    entry = AdminLogEntry(
        kind=kind, object_kind=obj_kind, object_id=obj_id, object_label=(label or "")[:300],
        actor_id=getattr(who, "id", None), source=source, before=before or None, after=after or None,
    )  # fmt: skip
    db.session.add(entry)
    return entry


def query(kind=None, actor_id=None, object_kind=None, object_id=None, since=None, until=None):
    """The log's rows matching the filters, newest first (a select to paginate)."""
    stmt = select(AdminLogEntry).order_by(AdminLogEntry.created_at.desc(), AdminLogEntry.id.desc())
    if kind:
        stmt = stmt.where(AdminLogEntry.kind == kind)
    if actor_id is not None:
        stmt = stmt.where(AdminLogEntry.actor_id == actor_id)
    if object_kind:
        stmt = stmt.where(AdminLogEntry.object_kind == object_kind)
    if object_id is not None:
        stmt = stmt.where(AdminLogEntry.object_id == object_id)
    if since is not None:
        stmt = stmt.where(AdminLogEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(AdminLogEntry.created_at < until)
    return stmt


# --- erasure: the log keeps who did what, not what identified an erased person -------------------
PERSONAL_KEYS = ("email", "name")  # the values of an account's rows that identify the person


def identifiers_of(account_id: int) -> tuple[set[str], set[str]]:
    """(e-mail addresses, names) the log has held for the account: the labels of its rows (an
    account's rows are labelled with its address then) and their "email" and "name" values."""
    emails, names = set(), set()
    rows = db.session.scalars(
        select(AdminLogEntry).where(AdminLogEntry.object_kind == "account", AdminLogEntry.object_id == account_id)
    )
    for entry in rows:
        if "@" in entry.object_label:
            emails.add(entry.object_label)
        for side in (entry.before or {}, entry.after or {}):
            for key, found in (("email", emails), ("name", names)):
                if isinstance(side.get(key), str) and side[key].strip():
                    found.add(side[key])
    return emails, names


def _replace(value, texts: list[str], exact: set[str], pseudonym: str):
    """`value` (a JSON value) with every text in `texts` replaced inside strings, and every
    string equal to one in `exact` replaced whole."""
    if isinstance(value, str):
        if value in exact:
            return pseudonym
        for text in texts:
            value = value.replace(text, pseudonym)
        return value
    if isinstance(value, list):
        return [_replace(v, texts, exact, pseudonym) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, texts, exact, pseudonym) for k, v in value.items()}
    return value


def redact(label: str, before, after, emails: set[str], names: set[str], pseudonym: str, linked: bool):
    """A row's (label, before, after) with the person's identifiers replaced by `pseudonym`.
    E-mail addresses are replaced wherever they appear; names inside text only in rows
    `linked` to the person (on their account, or naming one of their addresses), and
    elsewhere only where a value is exactly the name, so "Anna" erased leaves the
    organisation "Annas biedrība" alone. Pure: the migration uses it on old rows too."""
    emails = {e for e in emails if e}
    names = {n for n in names if n and n.strip()}
    texts = sorted(emails | (names if linked else set()), key=len, reverse=True)
    exact = names | emails
    return (_replace(label or "", texts, exact, pseudonym), _replace(before, texts, exact, pseudonym),
            _replace(after, texts, exact, pseudonym))  # fmt: skip


def _mentions(column, text: str):
    """The JSON or text column holds `text` (as typed, or as JSON escapes non-ASCII letters)."""
    escaped = json.dumps(text)[1:-1]
    forms = {text, escaped}
    return or_(*(cast(column, String).contains(form, autoescape=True) for form in forms))


def pseudonymise(account_id: int, emails: set[str], names: set[str], pseudonym: str) -> list[int]:
    """Rewrite every log row that holds one of the person's e-mail addresses or names, in the
    caller's transaction; who, when, which kind of change and which record stay as they were,
    and the row's `redactions` goes up by one (the only UPDATE the triggers allow). Returns
    the ids of the rows rewritten (the erasure's own log row lists them)."""
    emails, names = {e for e in emails if e} - {pseudonym}, {n for n in names if n and n.strip()} - {pseudonym}
    table = AdminLogEntry.__table__
    conditions = [(AdminLogEntry.object_kind == "account") & (AdminLogEntry.object_id == account_id)]
    for text in emails | names:
        conditions += [_mentions(AdminLogEntry.object_label, text), _mentions(AdminLogEntry.before, text),
                       _mentions(AdminLogEntry.after, text)]  # fmt: skip
    rows = db.session.execute(
        select(table.c.id, table.c.object_kind, table.c.object_id, table.c.object_label, table.c.before, table.c.after)
        .where(or_(*conditions)).order_by(table.c.id)
    ).all()  # fmt: skip
    changed = []
    for row in rows:
        on_account = row.object_kind == "account" and row.object_id == account_id
        linked = on_account or any(e in json.dumps([row.object_label, row.before, row.after], ensure_ascii=False)
                                   for e in emails)  # fmt: skip
        new = dict(zip(("object_label", "before", "after"),
                       redact(row.object_label, row.before, row.after, emails, names, pseudonym, linked), strict=True))
        values = {k: v for k, v in new.items() if v != getattr(row, k)}  # an untouched JSON NULL stays NULL
        if not values:
            continue
        db.session.execute(update(table).where(table.c.id == row.id).values(**values, redactions=table.c.redactions + 1))
        changed.append(row.id)
    for entry in [e for e in db.session.identity_map.values() if isinstance(e, AdminLogEntry)]:
        db.session.expire(entry)
    return changed
