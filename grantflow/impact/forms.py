"""The form asking for a PDF programme summary."""

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField
from wtforms.validators import InputRequired

from grantflow.core.forms import Form

LANGUAGE_LABELS = {"lv": "Latviešu", "en": "English"}


class SummaryForm(Form):
    competition = SelectField(_l("Competition"), validate_choice=False)
    language = RadioField(_l("Language of the summary"), validators=[InputRequired(message=_l("Choose the summary's language."))],
                          validate_choice=False)  # fmt: skip
