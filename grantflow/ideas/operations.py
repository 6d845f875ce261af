"""Changes an applicant makes to an idea, and the guards and effects of filing one."""

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, bindparam, cast, func, inspect, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from grantflow.accounts.models import ADMINISTRATOR, APPLICANT, EVALUATOR, User
from grantflow.accounts.operations import administrators
from grantflow.competitions import operations as competitions_ops
from grantflow.competitions.models import Competition
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.parsing import is_email
from grantflow.core.uploads import check_file
from grantflow.ideas import parsing
from grantflow.ideas.models import (
    PARTNER_KINDS,
    TARGET_GROUPS,
    Attachment,
    BudgetLine,
    Idea,
    IdeaActivity,
    IdeaRevision,
    Partner,
    line_total,
)
from grantflow.mail.operations import queue_mails
from grantflow.organisations.models import Membership
from grantflow.questionnaires import answers as form_answers
from grantflow.questionnaires import operations as forms_ops
from grantflow.questionnaires.definition import FormDef
from grantflow.territory.models import Municipality, Parish
from grantflow.workflow import engine
from grantflow.workflow.models import AuditEntry
from grantflow.workflow.registry import effect, guard, part, registry, staff_roles, workflow_for

log = logging.getLogger(__name__)
ZERO = Decimal("0.00")
MAX_ROWS = 50

# Field -> how its text is read. Rows are named "<list>.<field>"; form keys are
# "<list>-<index>-<field>" as WTForms names them.
TEXT_LIMITS = {
    "title": 300,
    "summary": 3000,
    "community_need": 5000,
    "goals": 5000,
    "less_active_reach": 5000,
    "coop_premises": 3000,
    "coop_inventory": 3000,
    "coop_upkeep": 3000,
    "sustainability": 5000,
    "contact_name": 200,
    "contact_email": 254,
    "contact_phone": 40,
    "place": 200,
    "activities.description": 2000,
    "partners.name": 300,
    "partners.contribution": 2000,
    "budget_lines.item": 300,
}
READERS = {name: (lambda text, limit=limit: parsing.text_of(text, limit)) for name, limit in TEXT_LIMITS.items()}
READERS.update(
    {
        "expected_participants": parsing.count,
        "activities.starts_on": parsing.day,
        "activities.ends_on": parsing.day,
        "budget_lines.quantity": lambda text: parsing.decimal_amount(text, 2, Decimal("99999999")),
        "budget_lines.unit_cost": parsing.money,
    }
)
ROW_KEY = re.compile(r"^(activities|partners|budget_lines)-(\d+)-(\w+)$")


reader_for = parsing.reader_lookup(READERS, ROW_KEY)


def raw_problems(raw: dict | None) -> dict[str, str]:
    return parsing.reread(raw, reader_for)


def recompute_budget(idea: Idea) -> None:
    """The requested grant and the own contribution are the server's sums of the lines (in a
    form that asks budget lines; a concept's form asks the amount itself)."""
    if not any(q.meaning == "budget_lines" for q in form_of(idea).questions):
        return
    lines = _records(idea, "budget_lines")
    _put(idea, "requested_amount", sum((l.total for l in lines if not l.own), ZERO))
    _put(idea, "own_contribution", sum((l.total for l in lines if l.own), ZERO))


# --- creating and saving a draft ----------------------------------------------------------
@competitions_ops.usage("ideas")
def competition_has_ideas(competition: Competition) -> bool:
    return db.session.scalar(select(Idea.id).where(Idea.competition_id == competition.id).limit(1)) is not None


def create_idea(competition: Competition, organisation, actor, now) -> Idea:
    """A new draft; the caller has checked that `actor` belongs to `organisation`."""
    if not competition.is_open(now):
        raise Refused([_l("The competition is not open for submissions.")])
    idea = Idea(
        competition=competition,
        organisation=organisation,
        created_by_id=actor.id,
        state=competition_workflow_initial(competition),
        contact_name=organisation.contact_person or actor.name,
        contact_email=actor.email,
        contact_phone=organisation.phone or "",
        municipality_id=organisation.municipality_id,
        parish_id=organisation.parish_id,
        draft_raw={},
        answers={},
        form_version=initial_form_version(competition),
    )
    idea.activities = [IdeaActivity(position=1)]
    idea.budget_lines = [BudgetLine(position=1)]
    sync_answers(idea)
    db.session.add(idea)
    db.session.commit()
    return idea


# --- the answers document --------------------------------------------------------------------
def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value) -> str:
    return f"{(value or ZERO).quantize(Decimal('0.01')):f}"


def _quantity(value) -> str:
    return f"{Decimal(1 if value is None else value).quantize(Decimal('0.01')):f}"


# What each meaning of an application form reads from the idea's typed columns and rows: the
# answers document holds the same value (sync_answers), in the JSON form of its question type.
IDEA_MEANINGS = {
    "title": lambda idea: idea.title or "",
    "summary": lambda idea: idea.summary or "",
    "place": lambda idea: idea.place or "",
    "contact_name": lambda idea: idea.contact_name or "",
    "contact_email": lambda idea: idea.contact_email or "",
    "contact_phone": lambda idea: idea.contact_phone or "",
    "target_groups": lambda idea: list(idea.target_groups or []),
    "expected_participants": lambda idea: idea.expected_participants,
    "publish_consent": lambda idea: bool(idea.publish_consent),
    "municipality": lambda idea: {"municipality": idea.municipality_id, "parish": idea.parish_id},
    "requested_amount": lambda idea: _money(idea.requested_amount),
    "own_contribution": lambda idea: _money(idea.own_contribution),
    "activities": lambda idea: [
        {"description": a.description or "", "starts_on": _iso(a.starts_on), "ends_on": _iso(a.ends_on)}
        for a in idea.activities
    ],
    "partners": lambda idea: [
        {"name": p.name or "", "kind": p.kind or None, "contribution": p.contribution or ""} for p in idea.partners
    ],
    "budget_lines": lambda idea: [
        {"item": l.item or "", "quantity": _quantity(l.quantity), "unit_cost": _money(l.unit_cost), "own": bool(l.own)}
        for l in idea.budget_lines
    ],
}


def initial_form_version(competition: Competition):
    """The form a new idea is answered under: its first stage's form file where the workflow
    declares stages, else the competition's application form."""
    stage = workflow_for(competition.workflow).stage_of(competition_workflow_initial(competition))
    if stage is not None:
        return forms_ops.file_version(stage.form)
    return forms_ops.version_for(competition, "application")


def current_stage(idea: Idea):
    """The application stage (workflow.definition.StageDef) the idea is at, or None where its
    workflow declares no stages."""
    return idea.workflow.stage_of(idea.state)


def submission_window(idea: Idea) -> tuple:
    """(opens, closes) of the submission window the idea is judged by: its current stage's
    in the competition, else the competition's."""
    stage = current_stage(idea)
    return idea.competition.window(stage.key if stage is not None else None)


def place_names_of(documents) -> dict:
    """{("municipality"|"parish", id): name} for every place the answers documents name (two
    queries at most), so a kept revision shows the place it named, not the idea's current one."""
    ids: dict[str, set] = {"municipality": set(), "parish": set()}
    for answers in documents:
        for value in (answers or {}).values():
            if isinstance(value, dict) and set(value) == {"municipality", "parish"}:
                for kind in ids:
                    if isinstance(value[kind], int):
                        ids[kind].add(value[kind])
    names = {}
    for kind, model in (("municipality", Municipality), ("parish", Parish)):
        if ids[kind]:
            names.update({(kind, i): n for i, n in db.session.execute(select(model.id, model.name).where(model.id.in_(ids[kind])))})
    return names


def form_of(idea: Idea) -> FormDef:
    """The application form the idea is answered under."""
    return idea.form_version.form if idea.form_version is not None else forms_ops.default_form("application")


def current_answers(idea: Idea) -> dict:
    """The idea's whole answers document as it stands: the answers kept only there, and the
    typed columns' and rows' values for questions with a meaning."""
    answers = dict(idea.answers or {})
    unloaded = inspect(idea).unloaded
    for question in form_of(idea).questions:
        read = IDEA_MEANINGS.get(question.meaning)
        if read is None or (question.meaning in ROW_MODELS and question.meaning in unloaded and question.key in answers):
            continue  # rows not loaded: the document holds them as they are (see _records)
        answers[question.key] = read(idea)
    return answers


# --- the rows, or the answers document in their place -----------------------------------------
# An idea's rows (activities, partners, budget lines) cost a query each to load. The answers
# document holds the same values (sync_answers writes it whenever they change), so a save or
# a submission whose typed rows are those the document holds leaves them unloaded
# (_apply_rows), and what the rules read of them (missing_fields, recompute_budget) is read
# from the document instead: the deadline's submit sends three statements fewer.
@dataclass(frozen=True)
class _StoredRow:
    """A row's values as the answers document holds them, typed as its record types them."""

    description: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    name: str = ""
    kind: str | None = None
    contribution: str = ""
    item: str = ""
    quantity: Decimal = Decimal("1")
    unit_cost: Decimal = ZERO
    own: bool = False

    @property
    def total(self) -> Decimal:
        return line_total(self.quantity, self.unit_cost)


def _answer_key(idea: Idea, which: str) -> str | None:
    """The key of the question of the idea's form whose answer the rows `which` are."""
    return next((q.key for q in form_of(idea).questions if q.meaning == which), None)


def _records(idea: Idea, which: str) -> list:
    """The idea's rows `which`: its records once loaded, else the answers document's values
    (_StoredRow), where the document holds them."""
    key = _answer_key(idea, which) if which in inspect(idea).unloaded else None
    stored = (idea.answers or {}).get(key) if key is not None else None
    try:
        return [_StoredRow(**{name: _typed(name, value) for name, value in row.items()}) for row in stored]
    except (TypeError, ValueError, ArithmeticError, AttributeError):  # not held there, or not as rows
        return getattr(idea, which)


def sync_answers(idea: Idea) -> None:
    """Write the answers of questions with a meaning into the idea's answers document, as the
    typed columns and rows hold them (answers without a meaning are written there directly)."""
    answers = current_answers(idea)
    if answers != idea.answers:
        idea.answers = answers


# --- a section of the form, on its own page ---------------------------------------------------
ROW_MODELS = {"activities": IdeaActivity, "partners": Partner, "budget_lines": BudgetLine}
ROW_DEFAULTS = {"quantity": Decimal("1"), "unit_cost": ZERO, "own": False, "kind": "organisation"}
SCALAR_COLUMNS = {
    "title": "title", "summary": "summary", "place": "place", "contact_name": "contact_name",
    "contact_email": "contact_email", "contact_phone": "contact_phone", "target_groups": "target_groups",
    "expected_participants": "expected_participants", "publish_consent": "publish_consent",
    "requested_amount": "requested_amount", "own_contribution": "own_contribution",
}  # fmt: skip


def _typed(column: str, value):
    """An answer's JSON value as the typed column holds it."""
    if value is None:
        return None
    if column in ("starts_on", "ends_on"):
        return date.fromisoformat(value)
    if column in ("quantity", "unit_cost", "requested_amount", "own_contribution"):
        return Decimal(str(value))
    return value


def save_section(idea: Idea, section: str, answers: dict, kept: dict[str, str], actor, commit: bool = True) -> None:
    """Save one section's answers as a draft (nothing needs to be complete): answers with a
    meaning into their columns and rows, the others into the answers document. An answer that
    could not be read (None, its typed text in `kept`) leaves what was saved before; the typed
    text is kept in draft_raw, as save_idea keeps it."""
    if not idea.can_edit(actor):
        raise Refused([_l("This idea can no longer be changed.")])
    engine.bump_version(idea)
    form = form_of(idea)
    questions = form.section(section).questions
    document = dict(idea.answers or {})
    for question in questions:
        if question.type == "file" or question.key not in answers:
            continue
        value = answers[question.key]
        if question.meaning == "municipality":
            _set_place(idea, (value or {}).get("municipality"), (value or {}).get("parish"), _Reader())
        elif question.meaning in ROW_MODELS:
            rows = getattr(idea, question.meaning)
            given = (value or [])[:MAX_ROWS]
            _resize(rows, len(given), ROW_MODELS[question.meaning])
            for i, (row, stored) in enumerate(zip(given, rows, strict=False)):
                stored.position = i + 1
                for column in question.columns:
                    if hasattr(stored, column.key) and row.get(column.key) is not None:
                        setattr(stored, column.key, _typed(column.key, row[column.key]))
                    elif f"{question.key}-{i}-{column.key}" not in kept and hasattr(stored, column.key):
                        setattr(stored, column.key, ROW_DEFAULTS.get(column.key, "" if column.type != "date" else None))
        elif question.meaning in SCALAR_COLUMNS:
            if value is not None or question.key not in kept:
                column = SCALAR_COLUMNS[question.meaning]
                if column == "target_groups":
                    value = [g for g in TARGET_GROUPS if g in (value or [])]
                setattr(idea, column, _typed(column, value) if value is not None else ("" if question.type in
                        ("short_text", "long_text", "email", "phone") else None))
        elif value is not None or question.key not in kept:
            document[question.key] = value
    idea.answers = {**document, "_saved": sorted({*document.get("_saved", []), section})}
    prefixes = tuple(q.key for q in questions)
    raw = {k: v for k, v in (idea.draft_raw or {}).items() if k.split("-", 1)[0] not in prefixes}
    raw.update({k: v[:100_000] for k, v in kept.items()})
    idea.draft_raw = raw
    recompute_budget(idea)
    sync_answers(idea)
    if commit:
        db.session.commit()
    else:
        db.session.flush()


def add_answer_row(idea: Idea, key: str, actor) -> int:
    """Add an empty row to a repeating question (rows with a meaning: add_row)."""
    question = form_of(idea).question(key)
    if question is None or question.type != "rows":
        raise Refused([_l("Unknown list.")])
    if question.meaning in ROW_MODELS:
        return add_row(idea, question.meaning, actor)
    if not idea.can_edit(actor):
        raise Refused([_l("This idea can no longer be changed.")])
    rows = list((idea.answers or {}).get(key) or [])
    if len(rows) >= question.limits.get("max_rows", MAX_ROWS):
        raise Refused([_l("At most %(count)d rows.", count=question.limits.get("max_rows", MAX_ROWS))])
    rows.append({c.key: None for c in question.columns})
    idea.answers = {**(idea.answers or {}), key: rows}
    db.session.commit()
    return len(rows) - 1


def remove_answer_row(idea: Idea, key: str, index: int, actor) -> None:
    question = form_of(idea).question(key)
    if question is None or question.type != "rows":
        raise Refused([_l("Unknown list.")])
    if question.meaning in ROW_MODELS:
        return remove_row(idea, question.meaning, index, actor)
    if not idea.can_edit(actor):
        raise Refused([_l("This idea can no longer be changed.")])
    rows = list((idea.answers or {}).get(key) or [])
    if 0 <= index < len(rows):
        engine.bump_version(idea)
        del rows[index]
        idea.answers = {**(idea.answers or {}), key: rows}
        idea.draft_raw = _shift_raw(idea.draft_raw or {}, key, index)
        db.session.commit()
    return None


def section_states(idea: Idea) -> list[tuple]:
    """(section, state) for the task list: not_started, in_progress or complete (every
    required question shown now answered, nothing kept that could not be read)."""
    form = form_of(idea)
    answers = current_answers(idea)
    for question in form.questions:
        if question.type == "file":  # a file question is answered by the files uploaded
            answers[question.key] = [a.id for a in idea.attachments] or None
        elif question.type == "rows" and answers.get(question.key):
            # A row holding only what a new row starts with (a new idea's blank budget line:
            # quantity 1, unit cost 0) answers nothing yet.
            answers[question.key] = [row for row in answers[question.key] if not _blank_row(row)]
    saved = set(answers.get("_saved") or [])
    raw_keys = {k.split("-", 1)[0] for k in (idea.draft_raw or {})}
    return form_answers.section_states(form, answers, saved, raw_keys)


def _blank_row(row: dict | None) -> bool:
    def blank(key, value) -> bool:
        if value in (None, "", False):
            return True
        default = ROW_DEFAULTS.get(key)
        if isinstance(default, Decimal):
            try:
                return Decimal(str(value)) == default
            except ArithmeticError:
                return False
        return default is not None and value == default

    return all(blank(key, value) for key, value in (row or {}).items())


def competition_workflow_initial(competition: Competition) -> str:

    return workflow_for(competition.workflow).initial


def _plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return str(value)


def form_data(idea: Idea) -> dict:
    """The idea as the form shows it, with any kept text in place of the stored value."""
    data = {name: getattr(idea, name) or "" for name in TEXT_LIMITS if "." not in name}
    data.update(
        expected_participants=_plain(idea.expected_participants),
        target_groups=list(idea.target_groups or []),
        publish_consent=bool(idea.publish_consent),
        municipality_id=_plain(idea.municipality_id),
        parish_id=_plain(idea.parish_id),
        activities=[
            {"description": a.description, "starts_on": _plain(a.starts_on), "ends_on": _plain(a.ends_on)}
            for a in idea.activities
        ],
        partners=[{"name": p.name, "kind": p.kind, "contribution": p.contribution} for p in idea.partners],
        budget_lines=[
            {"item": l.item, "quantity": _plain(l.quantity), "unit_cost": _plain(l.unit_cost), "own": l.own}
            for l in idea.budget_lines
        ],
    )
    for key, text in (idea.draft_raw or {}).items():
        match = ROW_KEY.match(key)
        if match:
            rows = data[match[1]]
            if int(match[2]) < len(rows):
                rows[int(match[2])][match[3]] = text
        elif key in data:
            data[key] = text
    return data


class _Reader:
    """Reads typed values one by one, collecting kept text and messages."""

    def __init__(self):
        self.raw: dict[str, str] = {}
        self.problems: dict[str, str] = {}

    def read(self, key: str, text, current):
        """The read value, or `current` (what was saved before) when the text cannot be read."""
        text = text if isinstance(text, str) else ("" if text is None else str(text))
        try:
            return reader_for(key)(text)
        except parsing.Unreadable as error:
            self.raw[key] = text[:100_000]
            self.problems[key] = error.message
            return current


def _rows(values) -> list[dict]:
    return [row if isinstance(row, dict) else {} for row in (values or [])][:MAX_ROWS]


def save_idea(idea: Idea, data: dict, actor) -> dict[str, str]:
    """Save a draft with whatever was typed. Values that cannot be read (a number that is not
    one, a text too long) are kept as typed in `draft_raw` while the last good value stays;
    returns field key -> message for them. Commits.

    Everything is read and parsed before anything is written; the first write is the version
    moving on (engine.bump_version), so a save racing a transition (the same idea submitted
    from another tab) raises Conflict instead of changing a filed idea, a step button drawn
    before the save is refused as stale, and on SQLite the write lock is taken only there
    (`core.database.reads_first`)."""
    if not idea.can_edit(actor):
        raise Refused([_l("This idea can no longer be changed.")])
    with db.session.no_autoflush:  # read and parse everything first: no write before the version check
        problems = _apply_form(idea, data)
        engine.bump_version(idea)
    db.session.commit()
    return problems


def _apply_form(idea: Idea, data: dict) -> dict[str, str]:
    """Put what was typed on the idea and its rows, in memory; returns the problems."""
    r = _Reader()
    for name in TEXT_LIMITS:
        if "." not in name and name in data:
            _put(idea, name, r.read(name, data[name], getattr(idea, name)))
    if "expected_participants" in data:
        _put(idea, "expected_participants", r.read("expected_participants", data["expected_participants"], idea.expected_participants))
    if "target_groups" in data:
        chosen = set(data.get("target_groups") or [])
        _put(idea, "target_groups", [g for g in TARGET_GROUPS if g in chosen])
    if "publish_consent" in data:
        _put(idea, "publish_consent", data["publish_consent"] is True or data["publish_consent"] in ("y", "yes", "true", "on"))
    if "municipality_id" in data:
        _set_place(idea, data.get("municipality_id"), data.get("parish_id"), r)

    for which, model in ROW_MODELS.items():
        if which in data:
            _apply_rows(idea, which, model, _rows(data[which]), r)
    recompute_budget(idea)
    _put(idea, "draft_raw", r.raw)
    sync_answers(idea)
    return r.problems


def _row_values(which: str, i: int, row: dict, r: _Reader, record) -> dict:
    """Row `i` of the list `which` as typed, in its record's columns; a value that cannot be
    read keeps `record`'s (the stored row; None: nothing, and `r` notes the problem)."""
    def read(name):
        return r.read(f"{which}-{i}-{name}", row.get(name), getattr(record, name, None))

    if which == "activities":
        return {"description": read("description") or "", "starts_on": read("starts_on"), "ends_on": read("ends_on")}
    if which == "partners":
        kind = row.get("kind") if row.get("kind") in PARTNER_KINDS else "organisation"
        return {"name": read("name") or "", "kind": kind, "contribution": read("contribution") or ""}
    quantity, unit_cost = read("quantity"), read("unit_cost")
    return {
        "item": read("item") or "",
        "quantity": Decimal("1") if quantity is None else quantity,
        "unit_cost": ZERO if unit_cost is None else unit_cost,
        "own": bool(row.get("own")),
    }


def _apply_rows(idea: Idea, which: str, model, rows: list[dict], r: _Reader) -> None:
    """Put the typed rows on the idea's records. Rows not loaded yet that are typed as the
    answers document holds them are left alone, unloaded: nothing of them changes."""
    if which in inspect(idea).unloaded:
        key, probe = _answer_key(idea, which), _Reader()
        typed = [_StoredRow(**_row_values(which, i, row, probe, None)) for i, row in enumerate(rows)]
        if key is not None and not probe.problems:
            as_answer = IDEA_MEANINGS[which](SimpleNamespace(**{which: typed}))
            if as_answer == (idea.answers or {}).get(key):
                return
    records = getattr(idea, which)
    _resize(records, len(rows), model)
    for i, (row, record) in enumerate(zip(rows, records, strict=False)):
        _put(record, "position", i + 1)
        for name, value in _row_values(which, i, row, r, record).items():
            _put(record, name, value)


# --- corrections to a filed idea, on request ------------------------------------------------
# The fields staff may reopen on a filed idea (with a question, in the messages area): the
# idea's texts and figures; budget lines are reopened one by one as "budget_line:<id>".
REOPENABLE = tuple(name for name in TEXT_LIMITS if "." not in name and name != "place") + ("expected_participants",)
LINE_FIELDS = ("item", "quantity", "unit_cost")


def reopenable(idea: Idea) -> list[str]:
    """The keys of what may be reopened on this idea: its fields, then each budget line."""
    return list(REOPENABLE) + [f"budget_line:{line.id}" for line in idea.budget_lines]


def correct_fields(idea: Idea, values: dict, open_fields: list[str], actor) -> tuple[dict[str, str], list[dict]]:
    """Write corrections to the reopened fields of a filed idea (the caller has checked that
    `actor` may: an open question names them). `values`: reader key -> typed text (fields by
    name, a budget line's as "budget_lines-<index>-<field>"). Returns (problems, changes):
    field key -> message for what cannot be read (the caller rolls back: nothing half-done),
    and what changed as [{"field", "line", "before", "after"}] for the audit. Moves the
    idea's version on (a stale form or a racing transition loses). Flushes, never commits."""
    engine.bump_version(idea)
    r = _Reader()
    changes: list[dict] = []

    def note(field: str, before, after, line: int | None = None) -> None:
        if _plain(before) != _plain(after):
            changes.append({"field": field, "line": line, "before": _plain(before), "after": _plain(after)})

    for key in open_fields:
        if key in REOPENABLE and key in values:
            before = getattr(idea, key)
            after = r.read(key, values[key], before)
            after = "" if after is None and key != "expected_participants" else after
            setattr(idea, key, after)
            note(key, before, after)
    lines = {line.id: (index, line) for index, line in enumerate(idea.budget_lines)}
    for key in open_fields:
        line_id = key.removeprefix("budget_line:")
        if not key.startswith("budget_line:") or not line_id.isdecimal() or int(line_id) not in lines:
            continue
        index, line = lines[int(line_id)]
        for name in LINE_FIELDS:
            form_key = f"budget_lines-{index}-{name}"
            if form_key not in values:
                continue
            before = getattr(line, name)
            after = r.read(form_key, values[form_key], before)
            after = {"item": "", "quantity": Decimal("1"), "unit_cost": ZERO}[name] if after is None else after
            setattr(line, name, after)
            note(f"budget_lines.{name}", before, after, line.position)
    before_total = idea.requested_amount
    recompute_budget(idea)
    if changes:
        note("requested_amount", before_total, idea.requested_amount)
    sync_answers(idea)
    db.session.flush()
    return r.problems, changes


def _put(record, name: str, value) -> None:
    """Set an attribute only when the value changes: an idea or row saved as it was stays out
    of the flush (the ORM otherwise takes every record with an attribute set into it)."""
    if getattr(record, name) != value:
        setattr(record, name, value)


def _resize(rows: list, size: int, model) -> None:
    del rows[size:]
    while len(rows) < size:
        rows.append(model(position=len(rows) + 1))


def _set_place(idea: Idea, municipality_id, parish_id, r: _Reader) -> None:
    """Only real municipalities, and only a parish of the chosen municipality. The place the
    idea already has was checked when it was chosen: sent again unchanged, it is not looked up."""
    if (str(municipality_id or ""), str(parish_id or "")) == (str(idea.municipality_id or ""), str(idea.parish_id or "")):
        return
    municipality = _by_id(Municipality, municipality_id)
    parish = _by_id(Parish, parish_id)
    idea.municipality_id = municipality.id if municipality else None
    if parish is not None and (municipality is None or parish.municipality_id != municipality.id):
        r.problems["parish_id"] = str(_l("Choose a parish or town of the chosen municipality."))
        parish = None
    idea.parish_id = parish.id if parish else None


def _by_id(model, value):
    value = str(value or "").strip()
    return db.session.get(model, int(value)) if value.isdecimal() and len(value) < 10 else None


def add_row(idea: Idea, which: str, actor) -> int:
    """Add an empty row to one of the idea's lists; returns its index."""
    if not idea.can_edit(actor):
        raise Refused([_l("This idea can no longer be changed.")])
    rows, model = _row_list(idea, which)
    if len(rows) >= MAX_ROWS:
        raise Refused([_l("At most %(count)d rows.", count=MAX_ROWS)])
    rows.append(model(position=len(rows) + 1))
    sync_answers(idea)
    db.session.commit()
    return len(rows) - 1


def remove_row(idea: Idea, which: str, index: int, actor) -> None:
    """Remove one row; kept texts of the rows after it move up with them."""
    if not idea.can_edit(actor):
        raise Refused([_l("This idea can no longer be changed.")])
    rows, _ = _row_list(idea, which)
    if not 0 <= index < len(rows):
        return
    engine.bump_version(idea)  # as in save_idea
    del rows[index]
    for i, row in enumerate(rows):
        row.position = i + 1
    idea.draft_raw = _shift_raw(idea.draft_raw or {}, which, index)
    recompute_budget(idea)
    sync_answers(idea)
    db.session.commit()


def _shift_raw(raw: dict, which: str, removed: int) -> dict:
    shifted = {}
    for key, text in raw.items():
        match = ROW_KEY.match(key)
        if not match or match[1] != which:
            shifted[key] = text
        elif int(match[2]) != removed:
            i = int(match[2])
            shifted[f"{which}-{i - 1 if i > removed else i}-{match[3]}"] = text
    return shifted


def _row_list(idea: Idea, which: str):
    models = {"activities": IdeaActivity, "partners": Partner, "budget_lines": BudgetLine}
    if which not in models:
        raise Refused([_l("Unknown list.")])
    return getattr(idea, which), models[which]


# --- submitting -----------------------------------------------------------------------------
def missing_fields(idea: Idea) -> dict[str, str]:
    """What must be put right before the idea can be submitted: field key -> message. Keys
    are the form's field names, so each message stands beside its field."""
    problems: dict[str, str] = dict(raw_problems(idea.draft_raw))
    required = {
        "title": _l("Give the idea a title."),
        "summary": _l("Write a short summary."),
        "community_need": _l("Describe the community and its need."),
        "goals": _l("State the goals."),
        "sustainability": _l("Say what lasts after the money is spent."),
        "contact_name": _l("Name the contact person."),
        "contact_email": _l("Give the contact person's e-mail."),
    }
    for name, message in required.items():
        if not (getattr(idea, name) or "").strip():
            problems.setdefault(name, str(message))
    if (idea.contact_email or "").strip() and "contact_email" not in problems:
        if not is_email(idea.contact_email):
            problems["contact_email"] = str(_l("This does not look like an e-mail address."))
    if not idea.target_groups:
        problems["target_groups"] = str(_l("Choose at least one target group."))
    if "less_active_youth" in (idea.target_groups or []) or "men_over_35" in (idea.target_groups or []):
        if not (idea.less_active_reach or "").strip():
            problems.setdefault("less_active_reach", str(_l("Say how you will reach the less active.")))
    if not idea.expected_participants:
        problems.setdefault("expected_participants", str(_l("Estimate how many people will take part.")))
    if idea.municipality_id is None:
        problems["municipality_id"] = str(_l("Choose the municipality where the idea takes place."))
    activities, partners, lines = (_records(idea, which) for which in ROW_MODELS)
    if not any(a.description.strip() for a in activities):
        problems["activities"] = str(_l("Plan at least one activity."))
    for i, a in enumerate(activities):
        if not a.description.strip():
            continue
        if a.starts_on is None:
            problems.setdefault(f"activities-{i}-starts_on", str(_l("Give the date of this activity.")))
        elif a.ends_on is not None and a.ends_on < a.starts_on:
            problems.setdefault(f"activities-{i}-ends_on", str(_l("The end cannot be before the start.")))
    for i, p in enumerate(partners):
        if p.name.strip() and not p.contribution.strip():
            problems.setdefault(f"partners-{i}-contribution", str(_l("Say what this partner contributes.")))
    for i, l in enumerate(lines):
        if l.total > 0 and not l.item.strip():
            problems.setdefault(f"budget_lines-{i}-item", str(_l("Name this item.")))
        if l.item.strip() and l.total <= 0:
            problems.setdefault(f"budget_lines-{i}-unit_cost", str(_l("Give the cost of this item.")))
    if not any(not l.own and l.total > 0 for l in lines):
        problems["budget_lines"] = str(_l("Add at least one budget line paid from the grant."))
    # The form's own questions without a meaning (an edited form's new ones too): required when
    # shown. The default form's give the same messages as the rules above.
    form = form_of(idea)
    answers = current_answers(idea)
    general = form_answers.missing(form, answers)
    for question in form.questions:
        if question.meaning is None and question.key in general:
            problems.setdefault(question.key, general[question.key])
    competition = idea.competition
    requested = idea.requested_amount or ZERO
    if requested and not (competition.min_grant <= requested <= competition.max_grant):
        problems["budget_lines"] = str(
            _l(
                "The grant asked (%(asked)s €) must be between %(min)s € and %(max)s €.",
                asked=requested,
                min=competition.min_grant,
                max=competition.max_grant,
            )
        )
    # A rule about a question the idea's form does not ask (an edited form without it) does not hold.
    asked = asked_fields(idea)
    return {key: message for key, message in problems.items() if _asked_by(key) in asked}


# What the fixed read-only details of an idea show (templates/ideas/_details.html, with the
# title, summary, amount and place in the page's header), by a question's key or meaning.
SHOWN_BY_DETAILS = frozenset({
    "title", "summary", "community_need", "goals", "activities", "target_groups", "less_active_reach",
    "expected_participants", "partners", "coop_premises", "coop_inventory", "coop_upkeep", "sustainability",
    "publish_consent", "budget_lines", "contact_name", "contact_email", "contact_phone", "municipality", "place",
    "requested_amount", "attachments",
})  # fmt: skip


@dataclass(frozen=True)
class OtherAnswers:
    """The answers to the questions of an idea's form that the fixed details do not show (a
    question an administrator added to a copied form), section by section in the form's order,
    with what showing them needs: staff, evaluators and the PDF copy read every answer."""

    sections: list  # [(section, [questions shown])]
    answers: dict
    places: dict


def other_answers(idea: Idea) -> OtherAnswers | None:
    """None when the details show every question of the idea's form (the shipped forms)."""
    form = form_of(idea)
    answers = current_answers(idea)
    sections = []
    for section in form.sections:
        questions = [
            q for q in section.questions
            if q.type != "file" and q.key not in SHOWN_BY_DETAILS and q.meaning not in SHOWN_BY_DETAILS
            and form.shown(q, answers)
        ]  # fmt: skip
        if questions:
            sections.append((section, questions))
    if not sections:
        return None
    return OtherAnswers(sections, answers, place_names_of([answers]))


def asked_fields(idea: Idea) -> set[str]:
    """The keys and meanings of the questions the idea's form asks: what its rules check and
    its read-only details show (a concept's form asks no goals, activities or budget)."""
    form = form_of(idea)
    return {q.meaning for q in form.questions if q.meaning} | {q.key for q in form.questions}


def _asked_by(key: str) -> str:
    """The question (its key or meaning) a problem's field key belongs to."""
    base = key.split("-", 1)[0]
    return "municipality" if base in ("municipality_id", "parish_id") else base


# The application form's submit button fires the transition the workflow names for it.
part("submit", _l("The applicant submits the idea from the application form"), tag="editable")


def submit_idea(idea: Idea, actor, received_at, checked: dict | None = None) -> str:
    """Submit through the workflow (its `submit` part); its guards check the e-mail is
    confirmed and judge the deadline by `received_at`, when the request arrived. Commits, and
    returns the reference number, read before the commit: reading it after would begin a new
    transaction, which in a SQLite request queues for the write lock a second time behind
    everyone else's submission.

    The transaction is the submission's: on Refused or Conflict the caller rolls it back
    (the transition runs without a savepoint of its own; see save_and_submit).

    `checked`: what missing_fields found on the idea just before, in this transaction, with
    nothing changed since (save_and_submit), so the idea_complete guard does not judge the
    whole form a second time."""
    params = {"received_at": received_at}
    if checked is not None:
        params["missing"] = checked  # read by idea_complete
    engine.fire(idea, idea.workflow.submit_trigger(idea.state), actor, "", savepoint=False, **params)
    reference = idea.reference
    db.session.commit()
    return reference


class Incomplete(Exception):
    """Not submitted: these fields (key -> message) need attention first. What was typed is saved."""

    def __init__(self, missing: dict[str, str]):
        super().__init__(f"{len(missing)} field(s) need attention")
        self.missing = missing


def save_and_submit(idea: Idea, data: dict, actor, received_at) -> str:
    """The one-page form's "Submit": what was typed is saved and submitted in one transaction,
    with one version check (the transition's) and one flush at its end. This is the request a
    deadline crowd sends all at once, so it writes little: the idea's version with its new
    state, then its reference (with the answers when they changed; on PostgreSQL the counter's
    statement writes the reference, and changed answers take one more), where a save followed
    by a submission in a savepoint wrote the row four times. It reads little too: rows typed
    as they were saved are not even loaded (_apply_rows).

    Commits and returns the reference number. Not submitted, what was typed is saved alone
    (committed) and then Incomplete is raised (fields that need attention; each is marked on
    the form) or the workflow's Refused (the deadline has passed …). Conflict (the idea
    changed since it was loaded: another tab submitted it) leaves nothing; the caller rolls
    back. Everything is read and parsed before the first write, as in save_idea."""
    if not idea.can_edit(actor):
        raise Refused([_l("This idea can no longer be changed.")])
    with db.session.no_autoflush:  # the first write is the transition's version check
        _apply_form(idea, data)
        missing = missing_fields(idea)
        if missing:
            engine.bump_version(idea)
            db.session.commit()
            raise Incomplete(missing)
        try:
            return submit_idea(idea, actor, received_at, checked=missing)
        except Refused as error:
            refused = error
            db.session.rollback()  # the typed answers too: saved again, alone, just below
    save_idea(idea, data, actor)
    raise refused


@guard("competition_open", _l("The competition is not open for submissions."),
       _l("The competition accepts submissions (before its deadline)"))
def competition_open(idea: Idea, ctx) -> bool:
    # `received_at` is when the request arrived, so a slow server does not refuse it.
    return idea.competition.is_open(ctx.params.get("received_at") or ctx.now)


@guard("stage_open", _l("The submission window of this stage is not open."),
       _l("The current stage accepts submissions (within its window, Riga time)"))
def stage_open(idea: Idea, ctx) -> bool:
    opens, closes = submission_window(idea)
    at = ctx.params.get("received_at") or ctx.now
    return opens <= at < closes


@effect("keep_revision", _l("Keeps the stage's submission as a frozen revision (its answers and form version)"))
def keep_revision(idea: Idea, ctx) -> None:
    """The answers as submitted, with their form version, kept unchanged: the concept stays
    readable after the proposal is written. Also freezes the form version."""
    stage = idea.workflow.stage_of(ctx.source) if ctx.source else None
    at = ctx.params.get("received_at") or ctx.now
    forms_ops.freeze(idea.form_version_id, at)
    idea.revisions.append(
        IdeaRevision(
            stage=stage.key if stage is not None else "",
            form_version_id=idea.form_version_id,
            answers=current_answers(idea),
            submitted_at=at,
            submitted_by_id=getattr(ctx.actor, "id", None),
        )
    )


@effect("open_stage", _l("Gives the idea the form of the stage it enters (its earlier answers stay)"))
def open_stage(idea: Idea, ctx) -> None:
    stage = idea.workflow.stage_of(idea.state)
    if stage is None:
        return
    idea.form_version = forms_ops.file_version(stage.form)
    sync_answers(idea)


@guard("idea_complete", description=_l("Every required part of the application is filled in"))
def idea_complete(idea: Idea, ctx):
    # What the submitting caller found missing on the idea a moment before (submit_idea).
    missing = ctx.params["missing"] if "missing" in ctx.params else missing_fields(idea)
    if missing:
        return str(_l("The idea is not complete: %(count)d field(s) need attention.", count=len(missing)))
    return True


@effect("assign_reference", _l("Gives the idea its reference number"))
def assign_reference(idea: Idea, ctx) -> None:
    """DK-2025-0042: the competition's code and its next number, taken with one atomic
    UPDATE … RETURNING of the competition's counter. No number is given twice or skipped,
    and the counter row is locked (PostgreSQL) only from here to the commit: the workflow
    runs this last among the submission's writes, and nothing slow follows it (the receipt's
    PDF is made after the commit)."""
    # The first submission under the form version freezes it (editing it is refused from now);
    # later ones find it frozen (the version is loaded with the idea) and write nothing.
    if idea.form_version is None or idea.form_version.frozen_at is None:
        forms_ops.freeze(idea.form_version_id, ctx.params.get("received_at") or ctx.now)
    if idea.reference:
        return  # returned for changes and submitted again: keeps its number
    submitted_at = ctx.params.get("received_at") or ctx.now
    values = {"the_competition": idea.competition_id, "the_idea": idea.id, "at": submitted_at, "now": ctx.now}
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement takes the number and writes it on the idea: the counter's row lock is
        # then held over one round trip less until the commit.
        reference = db.session.execute(_numbered(), values).scalar_one()
        set_committed_value(idea, "reference", reference)
        set_committed_value(idea, "submitted_at", submitted_at)
        return
    number = db.session.execute(_next_number(), values).one()
    reference = f"{number.code}-{number.references_given:04d}"
    if inspect(idea).modified:  # answers changed with the submission: one UPDATE with them, at the flush
        idea.reference, idea.submitted_at = reference, submitted_at
        return
    db.session.execute(_referenced(), {**values, "reference": reference})
    set_committed_value(idea, "reference", reference)
    set_committed_value(idea, "submitted_at", submitted_at)


# These statements are built once (plain Core statements with named parameters): building
# such a statement costs as much as running it, on the request a deadline crowd sends at once.
@lru_cache(maxsize=1)
def _next_number():
    """The competition's next number (UPDATE … RETURNING the counter and the code)."""
    competitions = Competition.__table__
    return (
        update(competitions)
        .where(competitions.c.id == bindparam("the_competition"))
        .values(references_given=competitions.c.references_given + 1)
        .returning(competitions.c.id, competitions.c.references_given, competitions.c.code)
    )


@lru_cache(maxsize=1)
def _referenced():
    """The reference written on the idea as a plain statement (SQLite, when nothing else of the
    idea changed): the caller puts it on the idea in memory, and the submission's flush has no
    idea to write."""
    ideas = Idea.__table__
    return (
        update(ideas)
        .where(ideas.c.id == bindparam("the_idea"))
        .values(reference=bindparam("reference"), submitted_at=bindparam("at"), updated_at=bindparam("now"))
    )


@lru_cache(maxsize=1)
def _numbered():
    """PostgreSQL: the competition's next number, written on the idea as its reference
    (CODE-0042, as assign_reference writes it), in one statement; returns the reference."""
    taken = _next_number().cte("taken")
    number = cast(taken.c.references_given, String)
    reference = taken.c.code + "-" + func.lpad(number, func.greatest(4, func.length(number)), "0")
    ideas = Idea.__table__  # a plain statement: the caller puts the values on the idea in memory
    return (
        update(ideas)
        .where(ideas.c.id == bindparam("the_idea"), ideas.c.competition_id == taken.c.id)
        .values(reference=reference, submitted_at=bindparam("at"), updated_at=bindparam("now"))
        .add_cte(taken)
        .returning(ideas.c.reference)
    )


def applicant_addresses(idea: Idea) -> list[tuple[str, str]]:
    """(e-mail, locale) of the organisation's active members with a confirmed address. The
    contact e-mail typed on the idea is shown to staff but gets no mail unless it is one of
    theirs: nobody confirmed it, and GrantFlow must not mail whomever an applicant names."""
    rows = db.session.execute(_addresses(), {"the_organisation": idea.organisation_id}).all()
    return list(dict.fromkeys((email, locale) for email, locale in rows))


def applicant_recipients(idea: Idea) -> tuple:
    """applicant_addresses as a query and its parameters, for mail queued without reading them
    (mail.operations.queue_composed: one INSERT … SELECT)."""
    return _addresses(), {"the_organisation": idea.organisation_id}


@lru_cache(maxsize=1)
def _addresses():
    return (
        select(User.email, User.locale)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organisation_id == bindparam("the_organisation"),
            User.active.is_(True),
            User.email_confirmed_at.is_not(None),
        )
        .order_by(User.id)
    )


# --- attachments ----------------------------------------------------------------------------
# Real type, judged by content -> (extension, content type).
ALLOWED_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS = 20


def store_attachment(idea: Idea, upload_name: str, data: bytes, purpose: str, actor, report=None) -> Attachment:
    """Keep an uploaded file after checking its size and its real type (by its first bytes,
    not its name). Raises Refused with a message for the person. Commits."""
    editable = report.can_edit(actor) if report is not None else idea.can_edit(actor)
    if not editable:
        raise Refused([_l("Files can no longer be added here.")])
    filename, content_type = check_upload(upload_name, data)
    existing = report.attachments if report is not None else idea.attachments
    if len(existing) >= MAX_ATTACHMENTS:
        raise Refused([_l("At most %(count)d files.", count=MAX_ATTACHMENTS)])
    attachment = Attachment(
        idea_id=idea.id,
        report_id=report.id if report is not None else None,
        purpose=purpose if purpose in PURPOSES else "other",
        filename=filename,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by_id=actor.id,
    )
    existing.append(attachment)
    db.session.commit()
    return attachment


def check_upload(upload_name: str, data: bytes) -> tuple[str, str]:
    """(safe file name, content type) of an attachment whose size and real type (judged by its
    first bytes, not its name) are acceptable; raises Refused with a message for the person."""
    return check_file(upload_name, data, tuple(ALLOWED_TYPES), MAX_ATTACHMENT_BYTES,
                      _l("This kind of file is not accepted. Upload a PDF, JPEG, PNG, DOCX or ODT file."))  # fmt: skip


PURPOSES = ("quote", "support_letter", "photo", "receipt", "other")


def delete_attachment(attachment: Attachment, actor) -> None:
    report = attachment.report
    editable = report.can_edit(actor) if report is not None else attachment.idea.can_edit(actor)
    if not editable:
        raise Refused([_l("Files can no longer be removed here.")])
    db.session.delete(attachment)
    db.session.commit()


@effect("notify_administrators", _l("Mails the administrators"))
def notify_administrators(idea: Idea, ctx) -> None:
    queue_mails([(admin.email, admin.locale) for admin in administrators()], "admin_notice", idea=idea, comment=ctx.comment)


@effect("notify_applicant", _l("Mails the applicant the new state (and the comment, unless it is internal)"))
def notify_applicant(idea: Idea, ctx) -> None:
    queue_mails(applicant_addresses(idea), "state_changed", idea=idea, comment=ctx.public_comment)


# --- the idea's history and steps from the web -------------------------------------------

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


@dataclass(frozen=True)
class HistoryLine:
    entry: AuditEntry
    show_actor: bool  # whether the page may name who did it
    show_comment: bool = True  # False: an internal comment this reader may not see

    @property
    def comment(self) -> str:
        return self.entry.comment if self.show_comment else ""


def reads_internal_comments(roles) -> bool:
    """Internal comments (`comment_to: internal`) are for the programme's staff: administrators,
    evaluators and the deployment's staff roles; never the applicant or the municipality."""
    return bool(roles & ({ADMINISTRATOR, EVALUATOR} | set(staff_roles())))


def history_for(idea, user, roles) -> list[HistoryLine]:
    """The history as `user` (holding `roles` on the idea) may see it. Administrators see every
    act and who did it. The applicant sees no evaluation steps, no names and no internal
    comments. Others (evaluators, the municipality) see the evaluation steps without names,
    except their own acts; an evaluator who has not submitted their own review sees no other
    evaluator's acts at all."""
    if ADMINISTRATOR in roles:
        return [HistoryLine(e, True) for e in history(idea)]
    if roles == {APPLICANT}:
        return [HistoryLine(e, False, not e.internal) for e in history(idea, for_applicant=True)]
    internal_ok = reads_internal_comments(roles)
    entries = history(idea)
    mine = lambda e: e.actor_id is not None and e.actor_id == user.id  # noqa: E731
    before_own_review = EVALUATOR in roles and not any(e.kind == "review_submitted" and mine(e) for e in entries)
    lines = []
    for entry in entries:
        private = entry.kind in registry.private_kinds
        if private and before_own_review and not mine(entry):
            continue
        lines.append(HistoryLine(entry, mine(entry) or not private, internal_ok or not entry.internal))
    return lines


def take_step(idea, trigger: str, actor, comment: str = "", **params):
    """Fire a transition and commit; raises Refused or Conflict with nothing saved."""
    entry = engine.fire(idea, trigger, actor, comment, **params)
    db.session.commit()
    return entry
