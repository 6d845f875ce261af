"""The form editor's one fixed form: a new question (the texts of existing ones are fields
named by question, read by the view). Choices and columns are typed a line each; what cannot
be read is said beside the field."""

import re

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from grantflow.core.forms import Form

KINDS = {
    "short_text": _l("Short text"),
    "long_text": _l("Long text"),
    "number": _l("A number"),
    "money": _l("Amount in euros"),
    "date": _l("Date"),
    "yes_no": _l("Yes or no"),
    "single_choice": _l("One choice of several"),
    "multiple_choice": _l("Several choices"),
    "rows": _l("Repeating rows (a table)"),
}
# A column's kind as typed in the editor (a short word) -> its question type.
COLUMN_KINDS = {"text": "short_text", "long": "long_text", "number": "number", "money": "money", "date": "date", "yesno": "yes_no"}
# A column's type as the editor writes it back (a type without a short word, e.g. a column
# with choices from a form file, is written as its type and may stay as it is).
COLUMN_WORDS = {qtype: word for word, qtype in COLUMN_KINDS.items()}
KEY = re.compile(r"^[a-z][a-z0-9_]*$")
KEY_MESSAGE = _l("Use Latin lower-case letters, digits and _, starting with a letter.")
NEW_SECTION = "_new"


def _lines(text: str) -> list[list[str]]:
    return [[part.strip() for part in line.split("|")] for line in (text or "").splitlines() if line.strip()]


def choice_lines(choices) -> str:
    """A question's choices as the editor shows them, one a line: value | Latvian | English."""
    return "\n".join(f"{c.value} | {c.label['lv']} | {c.label['en']}" for c in choices)


def column_lines(columns) -> str:
    """A rows question's columns as the editor shows them: key | kind | Latvian | English."""
    return "\n".join(f"{c.key} | {COLUMN_WORDS.get(c.type, c.type)} | {c.label['lv']} | {c.label['en']}" for c in columns)


def read_choices(text: str) -> tuple[list[dict], list[str]]:
    """Choices typed a line each, and what cannot be read (one message a line)."""
    lines = _lines(text)
    if not lines:
        return [], [str(_l("Give at least one choice."))]
    choices, problems = [], []
    for number, parts in enumerate(lines, 1):
        if len(parts) != 3 or not all(parts) or not KEY.match(parts[0]):
            problems.append(str(_l("Line %(n)d: write value | Latvian | English, the value in Latin lower-case letters.", n=number)))
            continue
        choices.append({"value": parts[0], "label": {"lv": parts[1], "en": parts[2]}})
    return choices, problems


def read_columns(text: str, existing: list[dict] = ()) -> tuple[list[dict], list[str]]:
    """Columns typed a line each, and what cannot be read. A column that was there before (by
    its key) keeps what the line does not say (limits, choices, help) while its kind stays;
    a new kind starts without limits."""
    lines = _lines(text)
    if not lines:
        return [], [str(_l("Give at least one column."))]
    before = {c.get("key"): c for c in existing}
    columns, problems = [], []
    for number, parts in enumerate(lines, 1):
        old = before.get(parts[0]) if parts else None
        kind = parts[1] if len(parts) == 4 else ""
        qtype = COLUMN_KINDS.get(kind) or (kind if old is not None and kind == old.get("type") else None)
        if len(parts) != 4 or not all(parts) or not KEY.match(parts[0]) or qtype is None:
            problems.append(str(_l("Line %(n)d: write key | kind | Latvian | English, with one of the kinds listed.", n=number)))
            continue
        column = dict(old) if old is not None and old.get("type") == qtype else {}
        column.update(key=parts[0], type=qtype, label={"lv": parts[2], "en": parts[3]})
        columns.append(column)
    return columns, problems


class NewQuestionForm(Form):
    section = SelectField(_l("Section"), validate_choice=True)
    new_section_key = StringField(_l("Key of the new section"), validators=[Optional(), Length(max=60), Regexp(KEY, message=KEY_MESSAGE)])
    new_section_lv = StringField(_l("Title of the new section in Latvian"), validators=[Length(max=300)])
    new_section_en = StringField(_l("Title of the new section in English"), validators=[Length(max=300)])
    key = StringField(
        _l("Key (Latin lower-case letters, digits and _)"),
        validators=[InputRequired(), Length(max=60), Regexp(KEY, message=KEY_MESSAGE)],
    )
    kind = SelectField(_l("Kind of question"), choices=[SelectChoice(k, label) for k, label in KINDS.items()])
    label_lv = StringField(_l("Question in Latvian"), validators=[InputRequired(), Length(max=300)])
    label_en = StringField(_l("Question in English"), validators=[InputRequired(), Length(max=300)])
    required_lv = StringField(_l("If required: the message when it is left empty, in Latvian"), validators=[Length(max=300)])
    required_en = StringField(_l("If required: the message when it is left empty, in English"), validators=[Length(max=300)])
    choices = TextAreaField(
        _l("Choices, one a line: value | Latvian | English"),
        description=_l("For example: youth | Jaunieši | Young people"),
        validators=[Length(max=10000)],
    )
    columns = TextAreaField(
        _l("Columns of the rows, one a line: key | kind | Latvian | English"),
        description=_l("Kinds: text (short text), long (long text), number, money (euros), date, yesno (yes or no). For example: item | text | Pozīcija | Item"),
        validators=[Length(max=10000)],
    )
    shown_when = SelectField(_l("Shown only when this question is answered"), validate_choice=False)
    shown_value = StringField(_l("… with exactly this answer (empty: any answer)"), validators=[Length(max=300)])

    def validate_shown_when(self, field):
        if field.data and field.data not in {c.value for c in field.choices}:
            raise ValidationError(_l("Choose a question of this form."))

    def validate_new_section_key(self, field):
        if self.section.data == NEW_SECTION and not field.data:
            raise ValidationError(_l("Give the new section a key."))

    def validate_new_section_lv(self, field):
        if self.section.data == NEW_SECTION and not ((field.data or "").strip() and (self.new_section_en.data or "").strip()):
            raise ValidationError(_l("Give the new section a title in Latvian and English."))

    def validate_choices(self, field):
        if self.kind.data not in ("single_choice", "multiple_choice"):
            return
        problems = read_choices(field.data)[1]
        if problems:
            raise ValidationError(problems[0])

    def validate_columns(self, field):
        if self.kind.data != "rows":
            return
        problems = read_columns(field.data)[1]
        if problems:
            raise ValidationError(problems[0])

    def parsed_choices(self) -> list[dict]:
        return read_choices(self.choices.data)[0]

    def parsed_columns(self) -> list[dict]:
        return read_columns(self.columns.data)[0]

    def condition(self) -> dict | None:
        if not self.shown_when.data:
            return None
        value = (self.shown_value.data or "").strip()
        return {"question": self.shown_when.data, **({"equals": value} if value else {"answered": True})}
