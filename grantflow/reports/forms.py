"""The final report form; numbers are text fields so what is typed is never lost."""

from flask_babel import lazy_gettext as _l
from wtforms import FormField, StringField, TextAreaField

from grantflow.core.forms import Form, RowList, Rows


class ActivityHeld(Rows):
    held_on = StringField(_l("Date"), render_kw={"type": "date", "inputmode": "numeric"})
    description = TextAreaField(_l("What took place"))
    participants = StringField(_l("How many took part"), render_kw={"inputmode": "numeric"})


class Spent(Rows):
    actual = StringField(_l("Actually spent, €"), render_kw={"inputmode": "decimal"})


class Reached(Rows):
    people = StringField(_l("People reached"), render_kw={"inputmode": "numeric"})


class ReportForm(Form):
    activities = RowList(FormField(ActivityHeld))
    participants = StringField(_l("How many people took part in all"), render_kw={"inputmode": "numeric"})
    reach = RowList(FormField(Reached))
    organisations_count = StringField(_l("Number of organisations involved"), render_kw={"inputmode": "numeric"})
    organisations_names = TextAreaField(_l("Names of the organisations involved"))
    volunteers = StringField(_l("Number of volunteers"), render_kw={"inputmode": "numeric"})
    spending = RowList(FormField(Spent))
    changed = TextAreaField(_l("What changed in the community?"))
    continues = TextAreaField(_l("What continues after the project?"))
