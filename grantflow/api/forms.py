"""The form that makes a personal access token."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

ACCESS = [SelectChoice("read", _l("Read only")), SelectChoice("write", _l("Read and write (may take workflow steps)"))]


class NewTokenForm(FlaskForm):
    name = StringField(_l("Name (what the token is for)"), validators=[DataRequired(), Length(max=100)])
    access = RadioField(_l("Access"), choices=ACCESS, default="read", validators=[DataRequired()])
