"""The amendment request (one field per funded budget line and per activity's dates, so
the form is made for the idea) and the administrator's answer."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from grantflow.core.forms import Form, MoneyField
from grantflow.core.types import CENT


def whole_cents(form, field):
    if field.data is not None and field.data != field.data.quantize(CENT):
        raise ValidationError(_l("Use at most two decimals (whole cents)."))


class RequestForm(Form):
    reason = TextAreaField(
        _l("Why the change is needed"),
        validators=[DataRequired(_l("Give the reason for the change.")), Length(max=4000)],
        description=_l("The administrator decides on it; it is printed in the amendment."),
    )


def request_form(lines: list[dict], activities: list, **kwargs) -> RequestForm:
    """A RequestForm with `line_<id>` for each funded line and `starts_<id>`/`ends_<id>` for
    each activity."""

    class IdeaRequestForm(RequestForm):
        pass

    for row in lines:
        setattr(IdeaRequestForm, f"line_{row['id']}", MoneyField(
            row["item"] or _l("Budget line"),
            validators=[InputRequired(_l("Enter the amount in euros.")), whole_cents,
                        NumberRange(min=0, message=_l("The amount cannot be negative."))]))  # fmt: skip
    for activity in activities:
        setattr(IdeaRequestForm, f"starts_{activity.id}", DateField(_l("Starts"), validators=[Optional()]))
        setattr(IdeaRequestForm, f"ends_{activity.id}", DateField(_l("Ends"), validators=[Optional()]))
    return IdeaRequestForm(**kwargs)


class AnswerForm(Form):
    version = HiddenField(validators=[InputRequired()])
    answer = TextAreaField(_l("Reason for the decision"), validators=[Length(max=4000)],
                           description=_l("Required when refusing; the applicant sees it."))
