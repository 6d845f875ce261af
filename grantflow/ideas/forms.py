"""The idea form. Numbers and dates are text fields on purpose: whatever is typed comes back
to the server and is kept, even when it is not a number yet (see apply.parsing)."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from grantflow.core.forms import Form, RowList, Rows
from grantflow.ideas.models import PARTNER_KINDS

TARGET_GROUP_LABELS = {
    "families_with_children": _l("Families with children"),
    "youth": _l("Youth"),
    "less_active_youth": _l("Less active youth"),
    "men_over_35": _l("Men over 35"),
    "ethnic_minorities": _l("Ethnic minorities"),
    "seniors": _l("Seniors"),
    "special_needs": _l("People with special needs"),
    "other": _l("Other"),
}
ATTACHMENT_PURPOSES = {
    "quote": _l("Price quote"),
    "support_letter": _l("Letter of support"),
    "photo": _l("Photo"),
    "receipt": _l("Receipt"),
    "other": _l("Other document"),
}


def options(labels: dict) -> list[SelectChoice]:
    """A field's choices from a {value: label} mapping."""
    return [SelectChoice(value, label) for value, label in labels.items()]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActivityRow(Rows):
    description = TextAreaField(_l("What will happen"))
    starts_on = StringField(_l("From (date)"), render_kw={"type": "date", "inputmode": "numeric"})
    ends_on = StringField(_l("Until (date)"), render_kw={"type": "date", "inputmode": "numeric"})


class PartnerRow(Rows):
    name = StringField(_l("Partner"))
    kind = SelectField(_l("Kind of partner"), choices=options(PARTNER_KINDS), validate_choice=False)
    contribution = TextAreaField(_l("What the partner contributes"))


class BudgetRow(Rows):
    item = StringField(_l("Item"))
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "decimal"})
    unit_cost = StringField(_l("Unit cost, €"), render_kw={"inputmode": "decimal"})
    own = BooleanField(_l("Own or in-kind contribution (not paid from the grant)"))


class IdeaForm(Form):
    title = StringField(_l("Title of the idea"))
    summary = TextAreaField(_l("Summary"))
    community_need = TextAreaField(_l("The community and its need"))
    goals = TextAreaField(_l("Goals"))
    activities = RowList(FormField(ActivityRow))
    target_groups = CheckboxesField(_l("Target groups"), choices=options(TARGET_GROUP_LABELS), validate_choice=False)
    less_active_reach = TextAreaField(_l("How will you reach the less active?"))
    expected_participants = StringField(_l("Expected number of participants"), render_kw={"inputmode": "numeric"})
    partners = RowList(FormField(PartnerRow))
    coop_premises = TextAreaField(_l("Premises the municipality provides"))
    coop_inventory = TextAreaField(_l("Inventory the municipality provides"))
    coop_upkeep = TextAreaField(_l("Upkeep after the project"))
    sustainability = TextAreaField(_l("What lasts after the money is spent?"))
    budget_lines = RowList(FormField(BudgetRow))
    contact_name = StringField(_l("Contact person"))
    contact_email = StringField(_l("Contact person's e-mail"), render_kw={"type": "email", "autocomplete": "email"})
    contact_phone = StringField(_l("Contact person's phone"), render_kw={"type": "tel", "autocomplete": "tel"})
    municipality_id = SelectField(_l("Municipality"), validate_choice=False)
    parish_id = SelectField(_l("Parish or town"), validate_choice=False)
    place = StringField(_l("Village or place"))
    publish_consent = BooleanField(_l("The programme may publish the idea's summary and the results we report on its public pages"))


class NewIdeaForm(Form):
    competition_id = SelectField(_l("Competition"), validators=[InputRequired()], coerce=int)
    organisation_id = SelectField(_l("Applying organisation"), validators=[InputRequired()], coerce=int)


class AttachmentForm(Form):
    file = FileField(_l("File"))
    purpose = SelectField(_l("What is it?"), choices=options(ATTACHMENT_PURPOSES))




def attach_problems(form, problems: dict[str, str], row_key) -> dict[str, str]:
    """Put each message on its field (row fields named like `budget_lines-2-unit_cost`, as
    `row_key` matches them); return those that belong to a whole list or section."""
    loose = {}
    for key, message in problems.items():
        match = row_key.match(key)
        field = None
        if match:
            rows = getattr(form, match[1]).entries
            index = int(match[2])
            if index < len(rows):
                field = rows[index].form._fields.get(match[3])
        else:
            field = form._fields.get(key)
        if field is not None and field.type not in ("FieldList", "RowList", "FormField"):
            field.errors = list(field.errors or []) + [message]
        else:
            loose[key] = message
    return loose


class TransitionForm(Form):
    comment = TextAreaField(_l("Comment"), validators=[Length(max=5000)])
    # The idea's version when the page was drawn: a step chosen on a stale page is refused.
    version = HiddenField()
