"""The form editor's one fixed form: a new question (the texts of existing ones are fields
named by question, read by the view)."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Regexp

from grantflow.core.forms import Form

KINDS = {
    "short_text": _l("Short text"),
    "long_text": _l("Long text"),
    "number": _l("A number"),
    "money": _l("Amount in euros"),
    "date": _l("Date"),
    "yes_no": _l("Yes or no"),
}


class NewQuestionForm(Form):
    section = SelectField(_l("Section"), validate_choice=True)
    key = StringField(
        _l("Key (Latin lower-case letters, digits and _)"),
        validators=[InputRequired(), Length(max=60), Regexp(r"^[a-z][a-z0-9_]*$", message=_l("Use Latin lower-case letters, digits and _, starting with a letter."))],
    )
    kind = SelectField(_l("Kind of question"), choices=[SelectChoice(k, label) for k, label in KINDS.items()])
    label_lv = StringField(_l("Question in Latvian"), validators=[InputRequired(), Length(max=300)])
    label_en = StringField(_l("Question in English"), validators=[InputRequired(), Length(max=300)])
    required_lv = StringField(_l("If required: the message when it is left empty, in Latvian"), validators=[Length(max=300)])
    required_en = StringField(_l("If required: the message when it is left empty, in English"), validators=[Length(max=300)])
