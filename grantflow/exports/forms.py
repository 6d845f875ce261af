"""The export request form; its choices are filled by the view (competitions, municipalities)."""

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField
from wtforms.validators import InputRequired

from grantflow.core.forms import Form


class ExportForm(Form):
    kind = RadioField(_l("What to export"), validators=[InputRequired(_l("Choose what to export."))])
    competition = SelectField(_l("Competition"), default="")
    tag = SelectField(_l("Idea's state"), default="")
    municipality = SelectField(_l("Municipality"), default="")
    format = RadioField(_l("File format"), default="xlsx", validators=[InputRequired(_l("Choose the file format."))])
