"""The form editor: administrators see the form versions, copy one as a new version, and
edit an unfrozen version's questions (texts, order, adding and removing) in the interface."""

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from grantflow.accounts.access import role_required
from grantflow.accounts.models import ADMINISTRATOR
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.forms import ActionForm
from grantflow.core.i18n import pick
from grantflow.core.web import flash_refused
from grantflow.questionnaires import operations as ops
from grantflow.questionnaires.definition import CHOICE_TYPES, LANGS, REQUIRED_MEANINGS
from grantflow.questionnaires.forms import (
    COLUMN_KINDS,
    KINDS,
    NEW_SECTION,
    NewQuestionForm,
    choice_lines,
    column_lines,
    read_choices,
    read_columns,
)
from grantflow.questionnaires.models import FormVersion

bp = Blueprint("questionnaires", __name__)


def _version(version_id: int) -> FormVersion:
    version = db.session.get(FormVersion, version_id)
    if version is None:
        abort(404)
    return version


@bp.route("/admin/forms")
@role_required(ADMINISTRATOR)
def index():
    """Every stored version; a form file whose current text is not stored yet is listed too
    (it is stored when the first idea or report uses it: a GET writes nothing)."""
    versions = db.session.scalars(select(FormVersion).order_by(FormVersion.name, FormVersion.number)).all()
    stored = {(v.name, repr(v.definition)) for v in versions}
    defaults = {name: ops.loaded_default_form(kind) for kind, name in ops.DEFAULT_FORMS.items()}
    files = [
        (name, form) for name, form in defaults.items()
        if form is not None and (form.name, repr(form.as_json())) not in stored
    ]  # fmt: skip
    return render_template(
        "questionnaires/index.html", versions=versions, files=files, action=ActionForm(formdata=None),
        broken_forms=ops.broken_forms(),
    )  # fmt: skip


@bp.route("/admin/forms/<int:version_id>/copy", methods=["POST"])
@role_required(ADMINISTRATOR)
def copy(version_id: int):
    version = _version(version_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    new = ops.copy_version(version, current_user)
    db.session.commit()
    flash(_("Copied as version %(number)d; it can be edited until the first submission under it.", number=new.number), "success")
    return redirect(url_for("questionnaires.edit", version_id=new.id), code=303)


def _render(version, new_question, status=200, typed=None, problems=None):
    """The editor; `typed`: what was sent, shown again as typed when it was refused, with
    `problems` ({field name: [message]}) beside the fields they are about."""
    form = version.form
    shown = {}
    for s in form.sections:
        shown.update({f"title_{lang}-{s.key}": s.title[lang] for lang in LANGS})
    for q in form.questions:
        shown.update({f"label_{lang}-{q.key}": q.label[lang] for lang in LANGS})
        shown.update({f"help_{lang}-{q.key}": q.help[lang] if q.help else "" for lang in LANGS})
        if q.type in CHOICE_TYPES:
            shown[f"choices-{q.key}"] = choice_lines(q.choices)
        if q.type == "rows":
            shown[f"columns-{q.key}"] = column_lines(q.columns)
    shown.update({k: v for k, v in (typed or {}).items() if k in shown})
    problems = problems or {}
    return render_template(
        "questionnaires/edit.html",
        version=version,
        form_def=form,
        new_question=new_question,
        shown=shown,
        problems=problems,
        summary={name: messages[0] for name, messages in problems.items() if name},
        column_kinds=COLUMN_KINDS,
        kinds={**KINDS, "file": _("Files"), "municipality_parish": _("Municipality and parish"), "email": _("E-mail"), "phone": _("Phone")},
        action=ActionForm(formdata=None),
        needed={m for group in REQUIRED_MEANINGS.get(form.kind, ()) for m in group},
    ), status


def _new_question(version, **kwargs) -> NewQuestionForm:
    form = NewQuestionForm(**kwargs)
    form.section.choices = [SelectChoice(s.key, pick(s.title)) for s in version.form.sections] + [
        SelectChoice(NEW_SECTION, _("A new section (its key and titles below)"))
    ]
    form.shown_when.choices = [SelectChoice("", _("— always shown —"))] + [
        SelectChoice(q.key, pick(q.label)) for q in version.form.questions if q.type not in ("rows", "file")
    ]
    return form


QUESTION = re.compile(r"question \d+ \((\w+)\)|question '(\w+)'")
SECTION = re.compile(r"^section \d+ \((\w+)\)")
OFFERED = re.compile(r"that '(\w+)' does not offer")


def _problem_field(problem: str) -> str:
    """The editor's field a loader's problem with the whole form is about (its name), or ""."""
    offered = OFFERED.search(problem)
    if offered:  # a condition naming a choice no longer offered: the list that lost it
        return f"choices-{offered[1]}"
    question = QUESTION.search(problem)
    if question:
        key = question[1] or question[2]
        rest = problem[question.end():]
        if "choice" in rest:
            return f"choices-{key}"
        if "column" in rest:
            return f"columns-{key}"
        lang = "en" if "'en'" in rest else "lv"
        return f"{'help' if 'help' in rest else 'label'}_{lang}-{key}"
    section = SECTION.match(problem)
    if section:
        lang = "en" if "'en'" in problem else "lv"
        return f"title_{lang}-{section[1]}"
    return ""


def _place_problems(form: NewQuestionForm, problems: list) -> None:
    """Each problem the loader found with the new question on the field it is about (told by
    its English text; shown in the page's language)."""
    for problem in problems:
        if "choice" in problem:
            field = form.choices
        elif "column" in problem:
            field = form.columns
        elif "shown_when" in problem:
            field = form.shown_when
        elif problem.startswith("section key") or form.section.data == NEW_SECTION and "section" in problem and "question" not in problem:
            field = form.new_section_key
        else:
            field = form.key
        field.errors = [*field.errors, problem]


def _save_texts(version) -> dict[str, list[str]]:
    """The texts, titles, choice lists and columns as sent, in one change; what cannot be
    taken, by field name ({"": [...]} for what is about no one field). A frozen version
    refuses (Refused) with the way out."""
    form = version.form
    texts, choices, columns, problems = {}, {}, {}, {}
    for question in form.questions:
        if f"label_lv-{question.key}" in request.form:
            texts[question.key] = {
                "label": {lang: request.form.get(f"label_{lang}-{question.key}", "") for lang in LANGS},
                "help": {lang: request.form.get(f"help_{lang}-{question.key}", "") for lang in LANGS},
            }
        name = f"choices-{question.key}"
        if question.type in CHOICE_TYPES and name in request.form:
            choices[question.key], messages = read_choices(request.form[name])
            problems.update({name: messages} if messages else {})
        name = f"columns-{question.key}"
        if question.type == "rows" and name in request.form:
            raw = next(q for s in version.definition["sections"] for q in s["questions"] if q.get("key") == question.key)
            columns[question.key], messages = read_columns(request.form[name], raw.get("columns", []))
            problems.update({name: messages} if messages else {})
    titles = {
        s.key: {lang: request.form.get(f"title_{lang}-{s.key}", "") for lang in LANGS}
        for s in form.sections if f"title_lv-{s.key}" in request.form
    }  # fmt: skip
    if problems and not version.frozen:
        return problems
    try:
        ops.change_texts(version, texts, current_user, titles, choices=choices, columns=columns)
    except Refused as refused:
        if version.frozen:
            raise
        for message in refused.reasons:  # Translatable: matched by its English text, shown translated
            problems.setdefault(_problem_field(message), []).append(message)
    return problems


@bp.route("/admin/forms/<int:version_id>")
@role_required(ADMINISTRATOR)
def edit(version_id: int):
    version = _version(version_id)
    return _render(version, _new_question(version, formdata=None))


@bp.route("/admin/forms/<int:version_id>", methods=["POST"])
@role_required(ADMINISTRATOR)
def change(version_id: int):
    """One form, several buttons: save the texts, move a question, remove one, add one. A
    frozen version refuses every change with the way out (copy as a new version)."""
    version = _version(version_id)
    new_question = _new_question(version)
    if not ActionForm().validate_on_submit():
        flash(_("The form had expired or was sent from elsewhere. Please try again."), "error")
        return _render(version, new_question, 400)
    action = request.form.get("action", "texts")
    try:
        if action == "texts":
            problems = _save_texts(version)
            if problems:
                db.session.rollback()
                return _render(db.session.get(FormVersion, version_id), new_question, 200, request.form, problems)
        elif action.startswith(("up:", "down:")):
            direction, _sep, key = action.partition(":")
            ops.move_question(version, key, -1 if direction == "up" else 1, current_user)
        elif action.startswith(("section-up:", "section-down:")):
            direction, _sep, key = action.partition(":")
            ops.move_section(version, key, -1 if direction == "section-up" else 1, current_user)
        elif action.startswith("remove:"):
            ops.remove_question(version, action.removeprefix("remove:"), current_user)
        elif action == "add":
            if not new_question.validate():
                return _render(version, new_question, 200)
            q = new_question
            new_section = None
            if q.section.data == NEW_SECTION:
                new_section = {"key": q.new_section_key.data, "title": {"lv": q.new_section_lv.data.strip(), "en": q.new_section_en.data.strip()}}
            ops.add_question(
                version, q.section.data, q.key.data, q.kind.data,
                {"lv": q.label_lv.data, "en": q.label_en.data},
                {"lv": q.required_lv.data, "en": q.required_en.data}, current_user,
                choices=q.parsed_choices(), columns=q.parsed_columns(), shown_when=q.condition(), new_section=new_section,
            )  # fmt: skip
        else:
            abort(400)
    except Refused as refused:
        db.session.rollback()
        if action == "add" and not version.frozen:  # the loader's reasons, beside the fields they are about
            _place_problems(new_question, refused.reasons)
            return _render(db.session.get(FormVersion, version_id), new_question, 200)
        flash_refused(refused)
        return redirect(url_for("questionnaires.edit", version_id=version_id), code=303)
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("questionnaires.edit", version_id=version_id), code=303)
