"""Writing a message (staff) and answering a question (the applicant), and the names of the
idea's fields a question may reopen, as the idea's form calls them."""

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import Length

from grantflow.core.forms import Form
from grantflow.core.i18n import format_money, format_number
from grantflow.ideas import operations as ideas_ops
from grantflow.ideas.forms import BudgetRow, CheckboxesField, IdeaForm, options
from grantflow.messages.models import MAX_BODY, NOTE, QUESTION

KINDS = {QUESTION: _l("A question to the applicant"), NOTE: _l("A staff note (never shown to the applicant)")}
LINE_LABELS = {name: getattr(BudgetRow, name).args[0] for name in ideas_ops.LINE_FIELDS}


def _label(name: str):
    return getattr(IdeaForm, name).args[0]


def field_labels(idea, keys) -> list:
    """What each reopenable key is called: the form's label, or the budget line with its item."""
    lines = {f"budget_line:{line.id}": line for line in idea.budget_lines}
    labels = []
    for key in keys:
        if key in lines:
            labels.append(_l("Budget line %(n)d: %(item)s", n=lines[key].position, item=lines[key].item or "—"))
        elif key in ideas_ops.REOPENABLE:
            labels.append(_label(key))
    return labels


def change_label(change: dict):
    """The name of a corrected field as an answer's changes list it."""
    field = change.get("field", "")
    if field.startswith("budget_lines."):
        return _l("Budget line %(n)d: %(what)s", n=change.get("line") or 0, what=LINE_LABELS.get(field[13:], field))
    if field == "requested_amount":
        return _l("Requested grant")
    return _label(field) if field in ideas_ops.REOPENABLE else field


MONEY_FIELDS = ("budget_lines.unit_cost", "requested_amount")
NUMBER_FIELDS = ("budget_lines.quantity",)


def change_value(change: dict, side: str) -> str:
    """A corrected value as the idea page writes it: money as euros, numbers the locale's way."""
    value = change.get(side)
    if value in (None, ""):
        return "—"
    field = change.get("field", "")
    if field in MONEY_FIELDS or field in NUMBER_FIELDS:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        return format_money(number) if field in MONEY_FIELDS else format_number(number)
    return str(value)


class MessageForm(Form):
    kind = RadioField(_l("What is it?"), choices=options(KINDS), default=QUESTION, validate_choice=False)
    body = TextAreaField(_l("Message"), validators=[Length(max=MAX_BODY)])
    to_evaluators = BooleanField(_l("Share with the idea's evaluators"))
    open_fields = CheckboxesField(_l("Fields the applicant may correct while the question is open"), validate_choice=False)

    def offer(self, idea) -> None:
        keys = ideas_ops.reopenable(idea)
        self.open_fields.choices = options(dict(zip(keys, field_labels(idea, keys), strict=True)))


class AnswerForm(Form):
    body = TextAreaField(_l("Your answer"), validators=[Length(max=MAX_BODY)])
    files = MultipleFileField(_l("Files (optional)"))


def answer_form(question):
    """The answer form with a field for each reopened field and budget line's item, quantity
    and unit cost, named as the idea's form names them (so messages match), filled with the
    idea's current values unless the person typed something."""
    idea = question.idea
    current = ideas_ops.form_data(idea)
    lines = {f"budget_line:{line.id}": index for index, line in enumerate(idea.budget_lines)}

    class Answer(AnswerForm):
        pass

    defaults, groups = {}, []
    for key in question.open_fields or []:
        if key in ideas_ops.REOPENABLE:
            field_type = TextAreaField if getattr(IdeaForm, key).field_class is TextAreaField else StringField
            setattr(Answer, key, field_type(_label(key)))
            defaults[key] = current.get(key, "")
            groups.append((None, [key]))
        elif key in lines:
            index = lines[key]
            names = []
            for name in ideas_ops.LINE_FIELDS:
                form_key = f"budget_lines-{index}-{name}"
                setattr(Answer, form_key, StringField(LINE_LABELS[name]))
                defaults[form_key] = current["budget_lines"][index][name]
                names.append(form_key)
            groups.append((field_labels(idea, [key])[0], names))
    form = Answer(data=defaults)  # on a POST, what was typed
    form.groups = groups
    return form
