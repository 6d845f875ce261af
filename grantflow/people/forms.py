"""Forms of the people pages. Choices are checked here, with our own (translated) messages:
WTForms' own for multiple choices are English only."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from grantflow.accounts.forms import at_most, email_field, strip
from grantflow.core.forms import Form
from grantflow.reminders.operations import OPTIONAL_LABELS

LANGUAGES = [SelectChoice("lv", "Latviešu"), SelectChoice("en", "English")]


class Checkboxes(SelectMultipleField):
    """Several choices as checkboxes; values outside the choices are refused by `known`."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        pass  # checked by `known`, with a message in the reader's language


def known(form, field):
    allowed = {str(choice.value) for choice in field.choices}
    if any(str(value) not in allowed for value in field.data or ()):
        raise ValidationError(_l("Choose from the list."))


def ids(values) -> list[int]:
    """The ids of a checked Checkboxes field (its values were checked against the choices)."""
    return [int(v) for v in values or () if str(v).isascii() and str(v).isdigit()]


class InviteForm(Form):
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(_l("Enter the person's name.")), at_most(200)])
    email = email_field(_l("E-mail"))
    roles = Checkboxes(_l("Roles"), validators=[known])
    municipalities = Checkboxes(_l("Municipalities (for a municipality representative)"), validators=[known])
    locale = SelectField(_l("Language of the mail"), choices=LANGUAGES,
                         validate_choice=False)  # fmt: skip

    def validate_locale(self, field):
        if field.data not in ("lv", "en"):
            raise ValidationError(_l("Choose from the list."))


class RolesForm(Form):
    roles = Checkboxes(_l("Roles"), validators=[known])
    municipalities = Checkboxes(_l("Municipalities (for a municipality representative)"), validators=[known])


class ConflictForm(Form):
    scope = RadioField(
        _l("The conflict concerns"),
        choices=[SelectChoice("organisation", _l("an organisation")), SelectChoice("municipality", _l("a municipality")),
                 SelectChoice("person", _l("a person"))],  # fmt: skip
        validate_choice=False,
    )
    organisation = SelectField(_l("Organisation"), validate_choice=False)
    municipality = SelectField(_l("Municipality"), validate_choice=False)
    person_email = StringField(_l("The person's e-mail address"), filters=[strip], validators=[at_most(254)])
    reason = TextAreaField(_l("Why (what ties you)"), filters=[strip], validators=[at_most(2000)])


class WithdrawConflictForm(Form):
    conflict_id = HiddenField()


class ProfileForm(Form):
    name = StringField(_l("Your name"), filters=[strip], validators=[DataRequired(_l("Enter your name.")), at_most(200)])
    locale = SelectField(_l("Language"), choices=LANGUAGES, validate_choice=False)
    # Checked: turned off (a form without the field turns nothing off). Only the optional kinds.
    reminders_off = Checkboxes(
        _l("Reminders I do not want"), choices=[SelectChoice(k, label) for k, label in OPTIONAL_LABELS.items()],
        validators=[known],
    )

    def validate_locale(self, field):
        if field.data not in ("lv", "en"):
            raise ValidationError(_l("Choose from the list."))
