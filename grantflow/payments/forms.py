"""Forms of the payments pages: a payment file, marking it paid, a payment made another
way, and money returned. The plan's rows are read by the view (their number varies)."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from grantflow.core.forms import Form, MoneyField
from grantflow.core.types import CENT


def whole_cents(form, field):
    if field.data is not None and field.data != field.data.quantize(CENT):
        raise ValidationError(_l("Use at most two decimals (whole cents)."))


def money_field(label):
    return MoneyField(label, validators=[InputRequired(_l("Enter the amount in euros.")), whole_cents])


class RunForm(Form):
    execution_date = DateField(_l("Payment date requested from the bank"), validators=[InputRequired(_l("Enter a date."))])


class RunPaidForm(Form):
    paid_on = DateField(_l("Date the bank paid"), validators=[InputRequired(_l("Enter a date."))])


class PaymentForm(Form):
    amount = money_field(_l("Amount paid (€)"))
    paid_on = DateField(_l("Date paid"), validators=[InputRequired(_l("Enter a date."))])
    reference = StringField(_l("Reference (payment order number or note)"), validators=[Optional(), Length(max=140)])


class ReturnForm(Form):
    amount = money_field(_l("Amount returned (€)"))
    returned_on = DateField(_l("Date returned"), validators=[InputRequired(_l("Enter a date."))])
    reference = StringField(_l("Reference (bank statement entry)"), validators=[Optional(), Length(max=140)])
