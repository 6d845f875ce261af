import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from stdnum import iban as iban_number
from stdnum.exceptions import ValidationError as NumberError
from stdnum.lv import pvn
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, ValidationError

from grantflow.accounts.forms import MailAddress, at_most, email_field, strip
from grantflow.core.extensions import db
from grantflow.core.forms import Form
from grantflow.core.safety import small_int
from grantflow.organisations.models import LEGAL_FORM_LABELS, REGISTERED
from grantflow.territory.models import Municipality, Parish

NOT_IN_LIST = _l("Choose one of the options in the list.")
PHONE = re.compile(r"^\+?[0-9 ()\-]+$")


def as_id(value) -> int | None:
    return small_int(value)


def blank(label=_l("— choose —")) -> SelectChoice:
    return SelectChoice("", label)


class OrganisationForm(Form):
    name = StringField(
        _l("Name of the organisation"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the name of the organisation.")), at_most(300)],
    )
    legal_form = SelectField(
        _l("Legal form"),
        choices=[blank()] + [SelectChoice(code, label) for code, label in LEGAL_FORM_LABELS.items()],
        invalid_choice_message=NOT_IN_LIST,
        validators=[DataRequired(_l("Choose the legal form."))],
    )
    registration_number = StringField(
        _l("Registration number"),
        filters=[strip],
        validators=[at_most(20)],
        description=_l("11 digits, e.g. 40008012347. Needed for associations, foundations, schools and municipal institutions."),
    )
    iban = StringField(
        _l("Bank account (IBAN)"),
        filters=[strip],
        validators=[at_most(42)],
        description=_l("e.g. LV80 BANK 0000 4351 9500 1. An informal group may leave it empty for now."),
    )
    address = StringField(
        _l("Address"), filters=[strip], validators=[DataRequired(_l("Enter the address.")), at_most(300)]
    )
    municipality = SelectField(
        _l("Municipality"),
        invalid_choice_message=NOT_IN_LIST,
        validators=[DataRequired(_l("Choose the municipality."))],
    )
    parish = SelectField(
        _l("Parish or town"),
        invalid_choice_message=NOT_IN_LIST,
        description=_l("The list is grouped by municipality; choose one in the municipality chosen above."),
    )
    contact_person = StringField(
        _l("Contact person"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the name of the contact person.")), at_most(200)],
    )
    signatory_name = StringField(
        _l("Who signs agreements"),
        filters=[strip],
        validators=[Optional(), at_most(200)],
        description=_l("The name of the person who signs the cooperation agreement for the organisation."),
    )
    signatory_position = StringField(
        _l("Their position"),
        filters=[strip],
        validators=[Optional(), at_most(200)],
        description=_l("E.g. chair of the board; printed in the agreement."),
    )
    phone = StringField(
        _l("Phone"), filters=[strip], validators=[DataRequired(_l("Enter a phone number.")), at_most(40)]
    )
    email = EmailField(_l("E-mail of the organisation"), filters=[strip], validators=[Optional(), at_most(254), MailAddress()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        municipalities = db.session.scalars(select(Municipality).order_by(Municipality.name)).all()
        self.municipality.choices = [blank()] + [SelectChoice(str(m.id), m.name) for m in municipalities]
        parishes = db.session.scalars(select(Parish).join(Parish.municipality).order_by(Municipality.name, Parish.name)).all()
        names = {m.id: m.name for m in municipalities}
        self.parish.choices = [blank(_l("— none —"))] + [
            SelectChoice(str(p.id), p.name, optgroup=names[p.municipality_id]) for p in parishes
        ]
        self._parishes = {p.id: p for p in parishes}
        self._municipalities = {m.id: m for m in municipalities}

    def validate_registration_number(self, field):
        if not field.data:
            if self.legal_form.data in REGISTERED:
                raise ValidationError(_l("Enter the registration number: this legal form has one."))
            return
        try:
            number = pvn.validate(field.data)
        except NumberError:
            raise ValidationError(
                _l("This is not a valid Latvian registration number: it has 11 digits and a check digit.")
            ) from None
        if number[0] <= "3":  # a personal code, not an organisation's number
            raise ValidationError(_l("Enter the organisation's registration number, not a personal code."))
        field.data = number

    def validate_iban(self, field):
        if not field.data:
            return
        try:
            field.data = iban_number.validate(field.data)
        except NumberError:
            raise ValidationError(_l("This IBAN is not valid; check it against your bank statement.")) from None

    def validate_phone(self, field):
        if not PHONE.match(field.data) or not 7 <= sum(c.isdigit() for c in field.data) <= 15:
            raise ValidationError(_l("Enter a phone number of digits, e.g. +371 26123456."))

    def validate_parish(self, field):
        municipality = self._municipalities.get(as_id(self.municipality.data))
        parish = self._parishes.get(as_id(field.data))
        if parish is None:
            if municipality is not None and municipality.units and not field.errors:
                raise ValidationError(_l("Choose the parish or town (%(municipality)s).", municipality=municipality.name))
            return
        if municipality is not None and parish.municipality_id != municipality.id:
            raise ValidationError(_l("%(parish)s is not in the chosen municipality (%(municipality)s).", parish=parish.name, municipality=municipality.name))

    def values(self) -> dict:
        """The cleaned values, as the Organisation's attributes."""
        return {
            "name": self.name.data,
            "legal_form": self.legal_form.data,
            "registration_number": self.registration_number.data or None,
            "iban": self.iban.data or None,
            "address": self.address.data,
            "municipality_id": as_id(self.municipality.data),
            "parish_id": as_id(self.parish.data),
            "contact_person": self.contact_person.data,
            "signatory_name": self.signatory_name.data or "",
            "signatory_position": self.signatory_position.data or "",
            "phone": self.phone.data,
            "email": self.email.data or "",
        }


class InviteForm(Form):
    email = email_field(_l("E-mail of the person to invite"))
