"""Form versions: the default ones from the form files, freezing at the first submission,
and administrators' copies and edits (each in the administration log)."""

import copy
from functools import cache
from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from grantflow.adminlog.operations import log_kind, object_kind, record
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.questionnaires.definition import FormDef, FormError, load, parse
from grantflow.questionnaires.models import FormVersion

FORMS_DIR = Path(__file__).resolve().parents[2] / "workflows" / "forms"
# The form file each kind of form defaults to.
DEFAULT_FORMS = {"application": "community_idea.yaml", "report": "community_report.yaml"}

object_kind("form_version", _l("Form version"))
log_kind("form_copied", _l("Form copied as a new version"))
log_kind("form_edited", _l("Form edited"))


@cache
def _load(path: str) -> FormDef:
    return load(path)


def _forms_dir() -> Path:
    return Path(current_app.config.get("FORMS_DIR") or FORMS_DIR) if has_app_context() else FORMS_DIR


def file_form(filename: str) -> FormDef:
    """The form file `filename` in the forms folder (a stage's form), loaded once (a broken
    one raises FormError)."""
    return _load(str(_forms_dir() / filename))


def default_form(kind: str) -> FormDef:
    """The default form file of `kind` (in the app's FORMS_DIR), loaded once. A broken file
    (reported at start-up, see broken_forms) does not stop the competitions using it: they
    keep the last version of it stored; with none stored the FormError is raised."""
    try:
        return _load(str(_forms_dir() / DEFAULT_FORMS[kind]))
    except FormError:
        latest = db.session.scalars(
            select(FormVersion)
            .where(FormVersion.source == f"workflows/forms/{DEFAULT_FORMS[kind]}", FormVersion.kind == kind)
            .order_by(FormVersion.id.desc())
            .limit(1)
        ).first()
        if latest is None:
            raise
        return latest.form


def loaded_default_form(kind: str) -> FormDef | None:
    """default_form, or None when its file is broken and no version of it is stored."""
    try:
        return default_form(kind)
    except FormError:
        return None


def broken_forms() -> list:
    """The form files that did not load at start-up (workflow.definition.Broken: file, the
    name it declares, every problem), for administrators."""
    return list(current_app.extensions.get("grantflow.form_problems", []))


def file_version(filename: str) -> FormVersion:
    """The version of the form file `filename` as it is now: the latest stored version of its
    name when that says the same, else a new version (added to the session, not committed)."""
    form = file_form(filename)
    latest = db.session.scalars(
        select(FormVersion).where(FormVersion.name == form.name).order_by(FormVersion.number.desc()).limit(1)
    ).first()
    if latest is not None and latest.definition == form.as_json():
        return latest
    version = FormVersion(
        name=form.name,
        number=(latest.number + 1) if latest else 1,
        kind=form.kind,
        definition=copy.deepcopy(form.as_json()),
        source=f"workflows/forms/{filename}",
    )
    db.session.add(version)
    db.session.flush()
    return version


def default_version(kind: str) -> FormVersion:
    """The version of the default form file of `kind` as it is now (file_version)."""
    return file_version(DEFAULT_FORMS[kind])


def version_for(competition, kind: str) -> FormVersion:
    """The form version a competition asks for `kind` (application or report)."""
    chosen = competition.application_form_id if kind == "application" else competition.report_form_id
    if chosen is not None:
        version = db.session.get(FormVersion, chosen)
        if version is not None:
            return version
    return default_version(kind)


def freeze(version_id: int | None, now=None) -> None:
    """The first submission under a version freezes it (one conditional UPDATE: a second
    submission at the same moment changes nothing)."""
    if version_id is None:
        return
    db.session.execute(
        update(FormVersion)
        .where(FormVersion.id == version_id, FormVersion.frozen_at.is_(None))
        .values(frozen_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


# --- administrators' copies and edits --------------------------------------------------------
def copy_version(version: FormVersion, actor, name: str | None = None) -> FormVersion:
    """A new, editable version with the same questions (under the same name, next number,
    or under a new name as its version 1)."""
    name = name or version.name
    number = (db.session.scalar(select(func.max(FormVersion.number)).where(FormVersion.name == name)) or 0) + 1
    definition = copy.deepcopy(version.definition)
    definition["name"] = name
    new = FormVersion(
        name=name,
        number=number,
        kind=version.kind,
        definition=definition,
        source=f"{version.name} v{version.number}",
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(new)
    db.session.flush()
    record(
        "form_copied", "form_version", new.id, f"{name} v{number}",
        before={"from": f"{version.name} v{version.number}"}, after={"from": None}, actor=actor,
    )
    return new


def _refuse_frozen(version: FormVersion) -> None:
    if version.frozen:
        raise Refused(
            [_l("This form version has been submitted under and can no longer be changed. Copy it as a new version to change it.")]
        )


def edit_version(version: FormVersion, definition: dict, actor, what: str) -> FormDef:
    """Replace an unfrozen version's definition with `definition` (checked as a file is);
    refused for a frozen version or a definition with problems (every one named)."""
    _refuse_frozen(version)
    try:
        form = parse(definition, f"{version.name} v{version.number}")
    except FormError as error:
        raise Refused(error.problems) from None
    before = version.definition
    version.definition = copy.deepcopy(definition)
    record(
        "form_edited", "form_version", version.id, f"{version.name} v{version.number}",
        before={"change": "", "questions": [q.key for q in parse(before).questions]},
        after={"change": what, "questions": [q.key for q in form.questions]}, actor=actor,
    )
    return form


# --- the editor's changes: each builds the new definition and goes through edit_version -----
EDITABLE_TYPES = ("short_text", "long_text", "number", "money", "date", "yes_no", "single_choice", "multiple_choice", "rows")


def _located(definition: dict, key: str) -> tuple[list, int]:
    for section in definition.get("sections", []):
        for index, question in enumerate(section.get("questions", [])):
            if question.get("key") == key:
                return section["questions"], index
    raise Refused([_l("There is no such question in this form.")])


def change_texts(
    version: FormVersion, texts: dict[str, dict], actor, titles: dict[str, dict] | None = None,
    choices: dict[str, list[dict]] | None = None, columns: dict[str, list[dict]] | None = None,
) -> FormDef:
    """New labels and help of questions: {key: {"label": {lv, en}, "help": {lv, en}}} (empty
    help in both languages removes it), new section titles: {section key: {lv, en}}, the
    choice lists of choice questions {key: [{value, label}]} and the columns of repeating rows
    {key: [{key, type, label, ...}]}: added, removed, relabelled, of another kind. One change,
    checked as a file is. A question GrantFlow reads (with a meaning) keeps its choices'
    values and its columns' keys and kinds, since other pages count on them; their labels
    change."""
    _refuse_frozen(version)
    definition = copy.deepcopy(version.definition)
    for section in definition.get("sections", []):
        if section.get("key") in (titles or {}):
            section["title"] = {lang: titles[section["key"]].get(lang, "").strip() for lang in ("lv", "en")}
    for key, given in texts.items():
        questions, index = _located(definition, key)
        question = questions[index]
        question["label"] = {lang: given["label"].get(lang, "").strip() for lang in ("lv", "en")}
        help_text = {lang: given.get("help", {}).get(lang, "").strip() for lang in ("lv", "en")}
        if any(help_text.values()):
            question["help"] = help_text
        else:
            question.pop("help", None)
    problems = []
    for part, changes, same in (("choices", choices, _choice_shape), ("columns", columns, _column_shape)):
        for key, given in (changes or {}).items():
            questions, index = _located(definition, key)
            question = questions[index]
            if part not in question:
                raise Refused([_l("There is no such question in this form.")])
            if question.get("meaning") and same(question[part]) != same(given):
                message = (
                    _l("GrantFlow reads this answer: its choices keep their values; change their labels only.")
                    if part == "choices"
                    else _l("GrantFlow reads this answer: its columns keep their keys and kinds; change their labels only.")
                )
                problems.append(f"question {key!r}, {part}: {message}")
            question[part] = copy.deepcopy(given)
    if problems:
        raise Refused(problems)
    return edit_version(version, definition, actor, "texts")


def _choice_shape(choices: list[dict]) -> list:
    return sorted(str(c.get("value")) for c in choices)


def _column_shape(columns: list[dict]) -> list:
    return sorted((str(c.get("key")), str(c.get("type"))) for c in columns)


def move_question(version: FormVersion, key: str, step: int, actor) -> FormDef:
    """One place up (-1) or down (+1) within its section."""
    definition = copy.deepcopy(version.definition)
    questions, index = _located(definition, key)
    target = index + step
    if 0 <= target < len(questions):
        questions[index], questions[target] = questions[target], questions[index]
    return edit_version(version, definition, actor, f"{'up' if step < 0 else 'down'}: {key}")


def move_section(version: FormVersion, key: str, step: int, actor) -> FormDef:
    """A section one place up (-1) or down (+1)."""
    definition = copy.deepcopy(version.definition)
    sections = definition.get("sections", [])
    index = next((i for i, s in enumerate(sections) if s.get("key") == key), None)
    if index is None:
        raise Refused([_l("There is no such section in this form.")])
    target = index + step
    if 0 <= target < len(sections):
        sections[index], sections[target] = sections[target], sections[index]
    return edit_version(version, definition, actor, f"section {'up' if step < 0 else 'down'}: {key}")


def remove_question(version: FormVersion, key: str, actor) -> FormDef:
    """Refused (with the loader's reasons) when GrantFlow needs its meaning or another
    question's condition names it."""
    definition = copy.deepcopy(version.definition)
    questions, index = _located(definition, key)
    del questions[index]
    definition["sections"] = [s for s in definition["sections"] if s.get("questions")]
    return edit_version(version, definition, actor, f"removed: {key}")


def add_question(
    version: FormVersion, section: str, key: str, kind: str, label: dict, required: dict | None, actor,
    choices: list[dict] | None = None, columns: list[dict] | None = None, shown_when: dict | None = None,
    new_section: dict | None = None,
) -> FormDef:
    """A question at the end of `section`, or of a new section {key, title: {lv, en}} put last.
    A choice question takes `choices` [{value, label}], repeating rows `columns` [{key, type,
    label}], a conditional one `shown_when` {question, equals} or {question, answered: true}.
    Checked as a file is: every problem is named."""
    if kind not in EDITABLE_TYPES:
        raise Refused([_l("Choose the kind of question.")])
    definition = copy.deepcopy(version.definition)
    if new_section:
        target = {"key": new_section["key"], "title": new_section["title"], "questions": []}
        definition["sections"].append(target)
    else:
        target = next((s for s in definition["sections"] if s.get("key") == section), None)
    if target is None:
        raise Refused([_l("There is no such section in this form.")])
    question = {"key": key, "type": kind, "label": label}
    if required and any(required.values()):
        question["required"] = required
    if kind in ("single_choice", "multiple_choice"):
        question["choices"] = choices or []
    if kind == "rows":
        question["columns"] = columns or []
    if shown_when:
        question["shown_when"] = shown_when
    target["questions"].append(question)
    return edit_version(version, definition, actor, f"added: {key}" + (f" (section {target['key']})" if new_section else ""))
