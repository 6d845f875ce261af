"""Answers to a form: the WTForms form a definition makes, what a filled one reads as, and
what still stops a submission.

An answers document is plain JSON, one key per question: text as text, numbers as integers
(or decimal text with `places`), money as decimal text ("1234.50"), dates as "YYYY-MM-DD",
single choices as the value, multiple choices as a list, yes/no as true/false, repeating rows
as a list of {column: value}, a municipality and parish as {"municipality": id, "parish": id}.
Files are uploaded on their own (the attachments), so a file question has no field here.

Whatever a person typed that is not yet a valid answer (a date that is not one, a number
with letters) is not lost: the form keeps it beside the field with its message, and `read`
returns it in `kept` (field name -> text) for the draft to store, as ideas keep `draft_raw`."""

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, FormField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from grantflow.core.forms import Form, MoneyField, NumberField, RowList, Rows
from grantflow.core.i18n import pick
from grantflow.core.parsing import MAX_MONEY, is_email
from grantflow.core.parsing import day as _day
from grantflow.questionnaires.definition import FormDef, Question

TWO_PLACES = Decimal("0.01")
ROW_KEY = re.compile(r"^(\w+?)-(\d+)-(\w+)$")


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WholeNumberField(NumberField):
    """A count (participants, volunteers): a whole number, with the idea form's message, and
    shown back as one ("38", not "38,00", which it would then refuse)."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return str(int(self.data)) if self.data is not None else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = re.sub(r"[\s\u00a0\u202f]", "", valuelist[0] or "")
        if not text:
            self.data = None
            return
        if not (text.isascii() and text.isdecimal()):
            self.data = None
            raise ValueError(_l("Write a whole number, e.g. 40."))
        if int(text) > self.maximum:
            self.data = None
            raise ValueError(_l("This number is too large."))
        self.data = Decimal(int(text))


# --- checks of one value (the messages are the idea form's own) -----------------------------
def _text_limit(limit: int):
    def check(form, field):
        text = (field.data or "").replace("\x00", "").rstrip()
        field.data = text
        if len(text) > limit:
            raise StopValidation(
                _l("Too long: at most %(limit)d characters (now %(length)d).", limit=limit, length=len(text))
            )

    return check




def _date_check(form, field):
    try:
        _day(field.data)
    except ValueError as error:
        raise StopValidation(str(error.args[0])) from None


def _range_check(question: Question):
    low, high = question.limits.get("min"), question.limits.get("max")

    def check(form, field):
        if field.data is None or field.errors:
            return
        if low is not None and field.data < Decimal(str(low)):
            raise StopValidation(_l("Number must be at least %(min)s.", min=low))
        if high is not None and field.data > Decimal(str(high)):
            raise StopValidation(_l("Number must be at most %(max)s.", max=high))

    return check


def _email_check(form, field):
    if (field.data or "").strip() and not is_email(field.data.strip()):
        raise StopValidation(_l("This does not look like an e-mail address."))


# --- the form a definition makes ------------------------------------------------------------
def _field(question: Question, locale: str | None):
    label = pick(question.label, locale)
    description = pick(question.help, locale) if question.help else ""
    common = {"label": label, "description": description}
    kind = question.type
    if kind in ("short_text", "email", "phone"):
        checks = [_text_limit(question.max_length)]
        render = {}
        if kind == "email":
            checks.append(_email_check)
            render = {"type": "email", "autocomplete": "email"}
        elif kind == "phone":
            render = {"type": "tel", "autocomplete": "tel"}
        return StringField(validators=checks, render_kw=render, **common)
    if kind == "long_text":
        return TextAreaField(validators=[_text_limit(question.max_length)], **common)
    if kind == "number":
        places = int(question.limits.get("places", 0))
        high = question.limits.get("max")
        maximum = Decimal(str(high)) * 10 if high is not None else MAX_MONEY
        if not places:
            return WholeNumberField(
                places=0, maximum=maximum, validators=[_range_check(question)], render_kw={"inputmode": "numeric"}, **common
            )
        return NumberField(places=places, maximum=maximum, validators=[_range_check(question)], **common)
    if kind == "money":
        return MoneyField(validators=[_range_check(question)], **common)
    if kind == "date":
        return StringField(validators=[_date_check], render_kw={"type": "date", "inputmode": "numeric"}, **common)
    if kind == "single_choice":
        choices = [SelectChoice("", "")] + [SelectChoice(c.value, pick(c.label, locale)) for c in question.choices]
        return SelectField(choices=choices, **common)
    if kind == "multiple_choice":
        return CheckboxesField(choices=[SelectChoice(c.value, pick(c.label, locale)) for c in question.choices], **common)
    if kind == "yes_no":
        return BooleanField(**common)
    if kind == "rows":
        row_form = type(f"Row_{question.key}", (Rows,), {c.key: _field(c, locale) for c in question.columns})
        return RowList(FormField(row_form), label=label, description=description, max_entries=question.limits.get("max_rows"))
    return None  # files: uploaded on their own


def _choices(items) -> list[SelectChoice]:
    items = [c if isinstance(c, SelectChoice) else SelectChoice(str(c[0]), c[1]) for c in items]
    return items if items and items[0].value == "" else [SelectChoice("", ""), *items]


def build_form(definition: FormDef, section: str | None = None, locale: str | None = None, places=None) -> type[Form]:
    """The form class of a whole definition, or of one section. `places` are the choices of
    a municipality question: (municipalities, parishes), each a list of SelectChoice or of
    (id, name) pairs (a blank choice is put first)."""
    questions = definition.section(section).questions if section else definition.questions
    fields = {}
    for question in questions:
        if question.type == "municipality_parish":
            municipalities, parishes = places or ([], [])
            fields[question.key] = SelectField(pick(question.label, locale), choices=_choices(municipalities), validate_choice=False)
            fields[f"{question.key}_parish"] = SelectField(
                _l("Parish or town"), choices=_choices(parishes), validate_choice=False,
            )
            continue
        made = _field(question, locale)
        if made is not None:
            fields[question.key] = made
    return type(f"Form_{definition.name}_{section or 'all'}", (Form,), fields)


# --- reading a filled form into answers ------------------------------------------------------
def _value(question: Question, field):
    kind = question.type
    if kind in ("short_text", "long_text", "email", "phone"):
        return (field.data or "").replace("\x00", "").rstrip()
    if kind == "number":
        if field.data is None:
            return None
        return int(field.data) if not question.limits.get("places") else f"{field.data:f}"
    if kind == "money":
        return None if field.data is None else f"{field.data.quantize(TWO_PLACES):f}"
    if kind == "date":
        try:
            day = _day(field.data)
        except ValueError:
            return None
        return day.isoformat() if day else None
    if kind == "single_choice":
        return field.data or None
    if kind == "multiple_choice":
        return [v for v in (field.data or []) if v in {c.value for c in question.choices}]
    if kind == "yes_no":
        return bool(field.data)
    return None


def _id(text) -> int | None:
    text = str(text or "").strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) < 10 else None


def read(definition: FormDef, form, section: str | None = None) -> tuple[dict, dict[str, str], dict[str, str]]:
    """A validated form as (answers of its questions, kept text, messages). Every answer that
    could be read is in `answers`; each field that could not be keeps its typed text in
    `kept` and its message in `messages` (field name -> text), so nothing typed is lost."""
    answers: dict = {}
    kept: dict[str, str] = {}
    messages: dict[str, str] = {}

    def note(name: str, field) -> bool:
        if field.errors:
            messages[name] = str(field.errors[0])
            if field.raw_data:
                kept[name] = str(field.raw_data[0])
            return True
        return False

    questions = definition.section(section).questions if section else definition.questions
    for question in questions:
        if question.type == "file":
            continue
        if question.type == "municipality_parish":
            answers[question.key] = {
                "municipality": _id(form[question.key].data),
                "parish": _id(form[f"{question.key}_parish"].data),
            }
            continue
        field = form[question.key]
        if question.type == "rows":
            rows = []
            for index, entry in enumerate(field.entries):
                row = {}
                for column in question.columns:
                    sub = entry.form[column.key]
                    row[column.key] = None if note(f"{question.key}-{index}-{column.key}", sub) else _value(column, sub)
                rows.append(row)
            answers[question.key] = rows
            continue
        answers[question.key] = None if note(question.key, field) else _value(question, field)
    return answers, kept, messages


def form_data(definition: FormDef, answers: dict, kept: dict | None = None) -> dict:
    """The answers as the form shows them (`data=` of the form class), with kept text in
    place of the stored value."""
    data: dict = {}
    for question in definition.questions:
        value = answers.get(question.key)
        if question.type == "file":
            continue
        if question.type == "municipality_parish":
            value = value or {}
            data[question.key] = str(value.get("municipality") or "")
            data[f"{question.key}_parish"] = str(value.get("parish") or "")
        elif question.type == "rows":
            data[question.key] = [
                {c.key: _shown(c, (row or {}).get(c.key)) for c in question.columns} for row in (value or [])
            ]
        else:
            data[question.key] = _shown(question, value)
    for name, text in (kept or {}).items():
        match = ROW_KEY.match(name)
        if match and isinstance(data.get(match[1]), list) and int(match[2]) < len(data[match[1]]):
            data[match[1]][int(match[2])][match[3]] = text
        elif name in data:
            data[name] = text
    return data


def restore_kept(form, kept: dict[str, str] | None) -> None:
    """Put text kept as typed back in its fields, with the message it had (a page drawn again
    after the save that kept it)."""
    for name, text in (kept or {}).items():
        match = ROW_KEY.match(name)
        field = None
        if match and match[1] in form._fields and form[match[1]].type == "RowList":
            entries = form[match[1]].entries
            if int(match[2]) < len(entries):
                field = entries[int(match[2])].form._fields.get(match[3])
        else:
            field = form._fields.get(name)
        if field is None or field.type in ("RowList", "FormField"):
            continue
        field.process(MultiDict({field.name: text}))
        field.validate(form)


def _shown(question: Question, value):
    if question.type in ("money", "number"):
        return Decimal(str(value)) if value not in (None, "") else None
    if question.type == "multiple_choice":
        return list(value or [])
    if question.type == "yes_no":
        return bool(value)
    return "" if value is None else value


# --- what stops a submission ----------------------------------------------------------------
def _empty(question: Question, value) -> bool:
    if question.type == "rows":
        return not any(any(v not in (None, "", False) for v in (row or {}).values()) for row in (value or []))
    if question.type == "municipality_parish":
        return not (value or {}).get("municipality")
    if question.type == "yes_no":
        return not value
    return value in (None, "", [])


def grant_asked(question: Question, value) -> Decimal:
    """What a grant-range question asks: a money answer, or the sum of budget rows not marked
    as own contribution (quantity × unit cost, each to the cent)."""
    if question.type == "money":
        return Decimal(str(value or "0"))
    total = Decimal("0.00")
    for row in value or []:
        if row.get("own"):
            continue
        quantity = Decimal(str(row.get("quantity") or "0"))
        total += (quantity * Decimal(str(row.get("unit_cost") or "0"))).quantize(TWO_PLACES)
    return total


def missing(definition: FormDef, answers: dict, grant_range=None, locale: str | None = None) -> dict[str, str]:
    """What must be put right before submitting: field name -> message. Questions hidden by
    their condition are neither required nor checked."""
    problems: dict[str, str] = {}
    for question in definition.questions:
        if not definition.shown(question, answers):
            continue
        value = answers.get(question.key)
        if question.required and _empty(question, value):
            problems[question.key] = pick(question.required, locale)
            continue
        if question.limits.get("grant_range") and grant_range is not None:
            asked = grant_asked(question, value)
            low, high = grant_range
            if asked and not (low <= asked <= high):
                problems[question.key] = str(
                    _l("The grant asked (%(asked)s €) must be between %(min)s € and %(max)s €.", asked=asked, min=low, max=high)
                )
    return problems


def visible(definition: FormDef, answers: dict) -> dict:
    """The answers without those to questions their condition now hides (an answer given and
    then made irrelevant is not submitted)."""
    return {q.key: answers.get(q.key) for q in definition.questions if definition.shown(q, answers) and q.key in answers}


def section_state(definition: FormDef, section: str, answers: dict, visited: set | frozenset = frozenset()) -> str:
    """not_started / in_progress / complete: not started while nothing in it is answered and
    it was never saved (`visited`); complete once every required question it shows now is
    answered; in progress between."""
    questions = definition.section(section).questions
    answered = [q for q in questions if not _empty(q, answers.get(q.key))]
    if section not in visited and not answered:
        return "not_started"
    for question in questions:
        if question.required and definition.shown(question, answers) and _empty(question, answers.get(question.key)):
            return "in_progress"
    return "complete" if section in visited or answered else "not_started"


def section_states(definition: FormDef, answers: dict, visited, unsettled: set) -> list[tuple]:
    """(section, state) for a task list, in the form's order (section_state); a section that
    would be complete but holds a question in `unsettled` (a value kept as typed, a rule between
    answers not yet met) is still in progress."""
    states = []
    for section in definition.sections:
        state = section_state(definition, section.key, answers, visited)
        if state == "complete" and unsettled & {q.key for q in section.questions}:
            state = "in_progress"
        states.append((section, state))
    return states


def problems_by_question(definition: FormDef, missing: dict) -> dict[str, list]:
    """What still needs attention (field key -> message) under the question it is about: the
    question's own key, its `_id` (a municipality's), or one of its rows' fields (`key-0-...`)."""
    return {
        q.key: [m for k, m in missing.items() if k in (q.key, f"{q.key}_id") or k.startswith(f"{q.key}-")]
        for q in definition.questions
    }
